#!/usr/bin/env python3
"""Builds corpus.tsv, the text line's measured corpus, from the hand-written rows below.

Every row below was written by hand for this corpus (origin "hand"). A row with a word in
[brackets] is also a template: the generator writes it again with that word (or the whole
message) disguised, the way people slip past a filter (origin "gen:<disguise>"). The
disguised rows keep the hand row's labels: a disguise never changes what a message says.

Three parts: "tune" rows (and their disguises) were read while the lexicon was tuned;
"heldout" rows (the latest blind round) were written before any tuning on them and are
measured once (docs/text-line-quality.md); "spent" rows are an earlier blind round, measured
once held out, then given to the statistical reader to learn from, but never tuned into the
lexicon (so the lexicon's thresholds, enforced on "tune", do not apply to them).

Columns of corpus.tsv: id, split (tune|spent|heldout), origin (hand|gen:<disguise>), lang (fr|en),
classes (comma-separated, "-" for none), text.

Labels: danger (danger to someone now, including a threat against the writer: when in
doubt, danger), suicide, victim (the writer is a victim, including threats against
themselves), author (the writer tells of their own violence), relative, professional,
court, postal_code, listener, centre, location (asks where a person is).

Run: python3 data/bot/corpus/generate.py  (deterministic; rewrites corpus.tsv).
"""

import os
import re
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))

# ------------------------------------------------------------------------------------------
# Disguises. Each takes (text, word) where word is the bracketed word, and returns the text.

CYRILLIC = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "p": "\u0440",
            "x": "\u0445", "y": "\u0443", "i": "\u0456"}
DIGITS = {"e": "3", "o": "0", "a": "4", "i": "1", "s": "5", "t": "7"}


def on_word(f):
    def apply(text, word):
        return text.replace("[" + word + "]", f(word), 1)
    return apply


def spaced(w):
    return " ".join(w)


def dotted(w):
    return ".".join(w)


def zero_width(w):
    mid = max(1, len(w) // 2)
    return w[:mid] + "\u200b" + w[mid:]


def soft_hyphen(w):
    mid = max(1, len(w) // 2)
    return w[:mid] + "\u00ad" + w[mid:]


def cyrillic(w):
    return "".join(CYRILLIC.get(c, c) for c in w)


def full_width(w):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in w)


def digits(w):
    out, done = [], 0
    for c in w:
        if c in DIGITS and done < 2:
            out.append(DIGITS[c])
            done += 1
        else:
            out.append(c)
    return "".join(out)


def repeated(w):
    return w + w[-1] * 4


def plain(text, word):
    return text.replace("[" + word + "]", word, 1)


def nfd(text, word):
    return unicodedata.normalize("NFD", plain(text, word))


def shouting(text, word):
    return plain(text, word).upper() + " !!!"


def no_accents(text, word):
    t = unicodedata.normalize("NFD", plain(text, word))
    return "".join(c for c in t if not unicodedata.combining(c))


SMS = [
    (r"\bje vais\b", "jvais"), (r"\bj'vais\b", "jvais"), (r"\bje suis\b", "chui"),
    (r"\bj'ai\b", "jai"), (r"\bje l'ai\b", "jlai"), (r"\bje t'\b", "jt'"),
    (r"\bqu'il\b", "qu il"), (r"\bqu'elle\b", "qu elle"), (r"\bpas\b", "pa"),
    (r"\bje ne\b", "je"), (r"\bI'm going to\b", "im gonna"), (r"\bgoing to\b", "gonna"),
    (r"\byou\b", "u"), (r"\bI'm\b", "im"), (r"\bI\b", "i"), (r"\bbecause\b", "coz"),
    (r"\bparce que\b", "pcq"), (r"\bquelqu'un\b", "qqn"), (r"\bbeaucoup\b", "bcp"),
]


def sms(text, word):
    t = plain(text, word)
    for pattern, repl in SMS:
        t = re.sub(pattern, repl, t)
    return t.lower()


def apostrophe_space(text, word):
    return plain(text, word).replace("'", " ").replace("\u2019", " ")


def curly_apostrophe(text, word):
    return plain(text, word).replace("'", "\u2019")


DISGUISES = [
    ("spaced", on_word(spaced)), ("dotted", on_word(dotted)),
    ("zero_width", on_word(zero_width)), ("soft_hyphen", on_word(soft_hyphen)),
    ("cyrillic", on_word(cyrillic)), ("full_width", on_word(full_width)),
    ("digits", on_word(digits)), ("repeated", on_word(repeated)), ("nfd", nfd),
    ("shouting", shouting), ("no_accents", no_accents), ("sms", sms),
    ("apostrophe_space", apostrophe_space), ("curly_apostrophe", curly_apostrophe),
]
PER_TEMPLATE = 3

CLASSES = {"danger", "suicide", "victim", "location", "author", "relative", "professional",
           "court", "postal_code", "listener", "centre"}


def read_hand():
    rows, lang, split = [], None, None
    with open(os.path.join(HERE, "hand.txt"), encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("## "):
                lang, split = line[3:].split()
                continue
            if not line.strip() or line.startswith("#"):
                continue
            labels, text = (part.strip() for part in line.split("|", 1))
            classes = [] if labels == "-" else labels.split(",")
            unknown = set(classes) - CLASSES
            assert not unknown, f"hand.txt:{number}: unknown class {unknown}"
            assert "\t" not in text, f"hand.txt:{number}: a tab"
            rows.append((lang, split, classes, text))
    return rows


def main():
    out, turn = [], 0
    for lang, split, classes, text in read_hand():
        m = re.search(r"\[([^\]]+)\]", text)
        word = m.group(1) if m else None
        out.append((split, "hand", lang, classes, plain(text, word) if word else text))
        if word is None:
            continue
        for _ in range(PER_TEMPLATE):
            name, disguise = DISGUISES[turn % len(DISGUISES)]
            turn += 1
            disguised = disguise(text, word)
            out.append((split, "gen:" + name, lang, classes, disguised))
    with open(os.path.join(HERE, "corpus.tsv"), "w", encoding="utf-8") as f:
        f.write("id\tsplit\torigin\tlang\tclasses\ttext\n")
        for i, (split, origin, lang, classes, text) in enumerate(out, 1):
            f.write(f"{i}\t{split}\t{origin}\t{lang}\t{','.join(classes) or '-'}\t{text}\n")
    hand = sum(1 for r in out if r[1] == "hand")
    held = sum(1 for r in out if r[0] == "heldout")
    print(f"{len(out)} rows: {hand} hand-written, {len(out) - hand} generated, {held} held out")


if __name__ == "__main__":
    main()
