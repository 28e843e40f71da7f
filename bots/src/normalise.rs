//! Normalisation of a message before any rule reads it. People type fast, in SMS spelling,
//! with emojis, look-alike letters, spacing and invisible characters, sometimes to slip past
//! a filter. Every step below undoes one disguise; the lexicon's phrases go through the same
//! steps, so a rule and a message always meet in the same form.
//!
//! The order: emojis that carry a threat or self-harm become words; invisible characters go;
//! NFKC (full-width and compatibility forms) and case folding; accents removed (NFD, marks
//! dropped); look-alike letters of other scripts mapped to Latin through Unicode's
//! confusables data (`unicode-security`'s skeleton); then words: spaced or dotted letters
//! joined, digits inside words read as letters, repeated letters collapsed, and SMS
//! spellings and contractions expanded (the table is data, in the lexicon).

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

/// Emojis that carry a threat, a weapon, death or self-harm, and the word each becomes.
/// The lexicon names these words (or the emojis themselves) with its reasons.
const EMOJI_WORDS: &[(char, &str)] = &[
    ('🔪', "emojiknife"),
    ('🗡', "emojiknife"),
    ('⚔', "emojiknife"),
    ('🔫', "emojigun"),
    ('💣', "emojibomb"),
    ('🪓', "emojiaxe"),
    ('💀', "emojiskull"),
    ('☠', "emojiskull"),
    ('⚰', "emojicoffin"),
    ('🪦', "emojicoffin"),
    ('🩸', "emojiblood"),
    ('🪢', "emojirope"),
    ('💊', "emojipills"),
    ('🤜', "emojifist"),
    ('👊', "emojifist"),
];

/// Characters that show nothing: zero-width spaces and joiners, the soft hyphen, the word
/// joiner, the byte-order mark, variation selectors, the combining grapheme joiner.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{E0000}'..='\u{E007F}')
}

/// Threat and self-harm emojis become words, each on its own.
pub fn emoji_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match EMOJI_WORDS.iter().find(|(e, _)| *e == c) {
            Some((_, word)) => {
                out.push(' ');
                out.push_str(word);
                out.push(' ');
            }
            None => out.push(c),
        }
    }
    out
}

/// Zero-width characters, soft hyphens and other invisible characters removed.
pub fn remove_invisible(text: &str) -> String {
    text.chars().filter(|c| !invisible(*c)).collect()
}

/// NFKC (full-width letters, ligatures, superscripts become plain ones) and lower case.
pub fn fold_case(text: &str) -> String {
    text.nfkc().flat_map(char::to_lowercase).collect()
}

/// Accents removed: decomposed (NFD), combining marks dropped; a few letters that do not
/// decompose spelled out.
pub fn strip_accents(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        match c {
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            'ß' => out.push_str("ss"),
            'ø' => out.push('o'),
            'ł' => out.push('l'),
            'đ' => out.push('d'),
            'ı' => out.push('i'),
            other => out.push(other),
        }
    }
    out
}

/// Letters of other scripts that look like Latin ones (Cyrillic "а", Greek "ο", …) mapped to
/// the Latin letter, through Unicode's confusables data. ASCII is left alone: the data maps
/// some Latin letters to others ("m" to "rn"), which would only add noise.
pub fn latin_lookalikes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut buffer = [0u8; 4];
    for c in text.chars() {
        if c.is_ascii() || !c.is_alphabetic() {
            out.push(c);
            continue;
        }
        let skeleton: String = unicode_security::confusable_detection::skeleton(c.encode_utf8(&mut buffer)).collect();
        let latin: String = strip_accents(&skeleton).to_lowercase();
        if !latin.is_empty() && latin.chars().all(|l| l.is_ascii_alphanumeric()) {
            out.push_str(&latin);
        } else {
            out.push(c);
        }
    }
    out
}

/// The message split into words: every run of characters that are neither letters nor
/// digits separates words ("@" and "$" inside a word are letters: "@rme", "a$$").
pub fn split_words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, c) in chars.iter().enumerate() {
        let inside = |d: Option<&char>| d.is_some_and(|d| d.is_alphanumeric());
        let letter_sign = matches!(c, '@' | '$')
            && (inside(chars.get(i + 1)) || (i > 0 && inside(chars.get(i - 1))))
            && !(i > 0 && chars[i - 1] == *c && *c == '@');
        if c.is_alphanumeric() {
            word.push(*c);
        } else if letter_sign {
            word.push(if *c == '@' { 'a' } else { 's' });
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Runs of three or more one-character words ("t u e r", "t.u.e.r", "k-i-l-l") joined into
/// one word, when at least two of them are letters.
pub fn join_spaced(words: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut run: Vec<String> = Vec::new();
    let flush = |run: &mut Vec<String>, out: &mut Vec<String>| {
        let letters = run.iter().filter(|w| w.chars().all(char::is_alphabetic)).count();
        if run.len() >= 3 && letters >= 2 {
            out.push(run.concat());
        } else {
            out.append(run);
        }
        run.clear();
    };
    for w in words {
        if w.chars().count() == 1 {
            run.push(w);
        } else {
            flush(&mut run, &mut out);
            out.push(w);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Digits inside a word that has letters read as the letters they stand for ("tu3r",
/// "c0uteau", "k1ll", "m0rt"). Numbers alone (a postal code, a menu choice) stay numbers.
pub fn letters_for_digits(word: &str) -> String {
    let has_letter = word.chars().any(char::is_alphabetic);
    let has_digit = word.chars().any(|c| c.is_ascii_digit());
    if !has_letter || !has_digit {
        return word.to_owned();
    }
    word.chars()
        .map(|c| match c {
            '0' => 'o',
            '1' => 'i',
            '3' => 'e',
            '4' => 'a',
            '5' => 's',
            '7' => 't',
            '8' => 'b',
            '9' => 'g',
            other => other,
        })
        .collect()
}

/// Repeated letters collapsed to one ("tuerrr", "aiiide", "kill" → "kil"). Applied to the
/// lexicon too, so "frappe" and "frape" meet. Digits are left alone.
pub fn collapse_repeats(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut last = None;
    for c in word.chars() {
        if Some(c) == last && c.is_alphabetic() {
            continue;
        }
        out.push(c);
        last = Some(c);
    }
    out
}

/// The runs of one-character words that [`join_spaced`] joins, as (start, end) indices.
fn spaced_runs(words: &[String]) -> Vec<(usize, usize)> {
    let joinable = |run: &[String]| {
        let letters = run.iter().filter(|w| w.chars().all(char::is_alphabetic)).count();
        run.len() >= 3 && letters >= 2
    };
    let mut runs = Vec::new();
    let mut start = 0;
    while start < words.len() {
        let mut end = start;
        while end < words.len() && words[end].chars().count() == 1 {
            end += 1;
        }
        if end > start && joinable(&words[start..end]) {
            runs.push((start, end));
        }
        start = end.max(start + 1);
    }
    runs
}

/// The other ways to read spaced letters: a spaced word often stands next to an elided
/// one-letter word ("m'a c a s s é", "l'e.m.p.o.i.s.o.n.n.e.r", "p.o.r.t.e, j'ai"), which
/// [`join_spaced`] swallows. For each run, one or two one-letter words are peeled off its
/// start, or one off its end, when three letters or more remain joined.
pub fn peeled_readings(words: &[String]) -> Vec<Vec<String>> {
    let runs = spaced_runs(words);
    let mut readings = Vec::new();
    for (r, &(start, end)) in runs.iter().enumerate() {
        for (lead, trail) in [(1, 0), (2, 0), (0, 1), (1, 1), (2, 1)] {
            if end - start < lead + trail + 3 {
                continue;
            }
            let mut out = Vec::with_capacity(words.len());
            let mut i = 0;
            for (k, &(s, e)) in runs.iter().enumerate() {
                out.extend(words[i..s].iter().cloned());
                if k == r {
                    out.extend(words[s..s + lead].iter().cloned());
                    out.push(words[s + lead..e - trail].concat());
                    out.extend(words[e - trail..e].iter().cloned());
                } else {
                    out.push(words[s..e].concat());
                }
                i = e;
            }
            out.extend(words[i..].iter().cloned());
            readings.push(out);
        }
    }
    readings
}

/// Every reading of a message's words: [`words`] first, then the [`peeled_readings`] of its
/// spaced letters, each with every word-level disguise undone. A rule that matches any
/// reading matches the message: in doubt, the reading that finds more.
pub fn readings(text: &str) -> Vec<Vec<String>> {
    let split = split_words(&clean(text));
    let finish = |words: Vec<String>| -> Vec<String> {
        words
            .into_iter()
            .map(|w| collapse_repeats(&letters_for_digits(&w)))
            .collect()
    };
    let mut all = vec![finish(join_spaced(split.clone()))];
    for reading in peeled_readings(&split) {
        let reading = finish(reading);
        if !all.contains(&reading) {
            all.push(reading);
        }
    }
    all
}

/// The characters of a message, disguises undone, before it is split into words.
pub fn clean(text: &str) -> String {
    let text = emoji_words(text);
    let text = remove_invisible(&text);
    let text = fold_case(&text);
    let text = strip_accents(&text);
    latin_lookalikes(&text)
}

/// The words of a message, every character-level and word-level disguise undone, before
/// SMS spellings (which are data: see [`crate::lexicon`]).
pub fn words(text: &str) -> Vec<String> {
    join_spaced(split_words(&clean(text)))
        .into_iter()
        .map(|w| collapse_repeats(&letters_for_digits(&w)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threat_and_self_harm_emojis_become_words() {
        assert_eq!(words("je vais 🔪 la"), ["je", "vais", "emojiknife", "la"]);
        assert_eq!(words("☠️☠️"), ["emojiskul", "emojiskul"]);
        assert_eq!(words("🔫🔫🔫"), ["emojigun", "emojigun", "emojigun"]);
        assert_eq!(words("bonjour 🙂"), ["bonjour"]);
    }

    #[test]
    fn invisible_characters_and_soft_hyphens_are_removed() {
        assert_eq!(remove_invisible("tu\u{200B}er"), "tuer");
        assert_eq!(remove_invisible("tu\u{00AD}er"), "tuer");
        assert_eq!(remove_invisible("k\u{2060}i\u{FEFF}ll\u{200D}"), "kill");
        assert_eq!(words("cou\u{200C}teau"), ["couteau"]);
    }

    #[test]
    fn full_width_letters_and_capitals_fold() {
        assert_eq!(fold_case("ＴＵＥＲ"), "tuer");
        assert_eq!(fold_case("KILL Her"), "kill her");
        assert_eq!(fold_case("ﬁn"), "fin");
    }

    #[test]
    fn accents_go_whether_composed_or_decomposed() {
        assert_eq!(strip_accents("tué"), "tue");
        assert_eq!(strip_accents("tue\u{0301}"), "tue");
        assert_eq!(strip_accents("arrête, cœur"), "arrete, coeur");
        assert_eq!(clean("TUÉ"), "tue");
    }

    #[test]
    fn cyrillic_and_greek_look_alikes_become_latin() {
        // "tuer" with a Cyrillic "е"; "kill" with a Cyrillic "і"; "couteau" with Cyrillic
        // "о", "е", "а", "с".
        assert_eq!(clean("tu\u{0435}r"), "tuer");
        assert_eq!(clean("k\u{0456}ll"), "kill");
        assert_eq!(clean("\u{0441}\u{043E}ut\u{0435}\u{0430}u"), "couteau");
        assert_eq!(clean("\u{03BF}k"), "ok", "Greek omicron");
        assert_eq!(latin_lookalikes("mariage"), "mariage", "ASCII untouched");
    }

    #[test]
    fn spaced_and_dotted_letters_are_joined() {
        assert_eq!(words("t u e r"), ["tuer"]);
        assert_eq!(words("je vais la t.u.e.r"), ["je", "vais", "la", "tuer"]);
        assert_eq!(words("k-i-l-l her"), ["kil", "her"]);
        assert_eq!(words("il y a"), ["il", "y", "a"], "two one-letter words stay apart");
    }

    #[test]
    fn spaced_letters_next_to_an_elided_word_are_read_both_ways() {
        let all = readings("il m'a c a s s é le bras");
        assert_eq!(all[0], ["il", "macase", "le", "bras"], "first, the whole run joined");
        assert!(all.contains(&vec![
            "il".into(),
            "m".into(),
            "a".into(),
            "case".into(),
            "le".into(),
            "bras".into()
        ]));
        let all = readings("il tape a la p.o.r.t.e, j'ai peur");
        assert!(all.iter().any(|r| r.contains(&"porte".to_owned())), "{all:?}");
        let all = readings("he'd k.i.l.l me");
        assert!(all.iter().any(|r| r.contains(&"kil".to_owned())), "{all:?}");
        assert_eq!(readings("t u e r")[0], ["tuer"], "the whole run first");
        assert_eq!(readings("il y a"), [["il", "y", "a"]]);
    }

    #[test]
    fn digits_inside_words_are_letters_and_numbers_stay() {
        assert_eq!(letters_for_digits("tu3r"), "tuer");
        assert_eq!(letters_for_digits("c0uteau"), "couteau");
        assert_eq!(letters_for_digits("k1ll"), "kill");
        assert_eq!(letters_for_digits("75011"), "75011");
        assert_eq!(words("@rme"), ["arme"]);
        assert_eq!(words("t u 3 r"), ["tuer"]);
    }

    #[test]
    fn repeated_letters_collapse() {
        assert_eq!(collapse_repeats("tuerrrr"), "tuer");
        assert_eq!(collapse_repeats("frappe"), "frape");
        assert_eq!(collapse_repeats("75011"), "75011");
        assert_eq!(words("TUERRRR!!!"), ["tuer"]);
    }

    #[test]
    fn every_disguise_at_once() {
        assert_eq!(
            words("Ｊe vais la t\u{200B}u\u{0435}\u{0301}rrr 🔪"),
            ["je", "vais", "la", "tuer", "emojiknife"]
        );
    }
}
