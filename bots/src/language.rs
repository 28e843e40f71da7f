//! The language of a person's first words, detected with `whatlang` (trigram statistics,
//! no model to load). French is the line's language: English is chosen only when the text
//! reads as English; a text that reads reliably as a third language gets both.

use whatlang::{Detector, Lang};

use crate::normalise;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    French,
    English,
    /// Neither: the answer comes in French and English, with the numbers.
    Other,
}

/// Greetings too short for statistics.
const ENGLISH_GREETINGS: &[&str] = &[
    "hello",
    "hi",
    "hey",
    "good",
    "morning",
    "evening",
    "afternoon",
    "please",
];

pub fn detect(text: &str) -> Detected {
    let words = normalise::words(text);
    let letters: Vec<&String> = words.iter().filter(|w| w.chars().any(char::is_alphabetic)).collect();
    if letters.is_empty() {
        return Detected::French;
    }
    // Repeated letters are collapsed by normalisation ("hello" reads "helo").
    let greeting = |w: &str| ENGLISH_GREETINGS.iter().any(|g| normalise::collapse_repeats(g) == w);
    if letters.iter().all(|w| greeting(w)) {
        return Detected::English;
    }
    // Short, misspelt messages defeat statistics: the most common words decide first.
    let count = |list: &[&str]| letters.iter().filter(|w| list.contains(&w.as_str())).count();
    let french = count(FRENCH_WORDS);
    let english = count(ENGLISH_WORDS);
    if english > french {
        return Detected::English;
    }
    if french > 0 {
        return Detected::French;
    }
    match whatlang::detect(text) {
        Some(info) if info.lang() == Lang::Eng => Detected::English,
        Some(info) if info.lang() == Lang::Fra => Detected::French,
        Some(info) if letters.len() >= 3 && info.confidence() >= 0.2 => {
            // A third language, unless French or English reads as well.
            match Detector::with_allowlist(vec![Lang::Fra, Lang::Eng, info.lang()]).detect_lang(text) {
                Some(Lang::Eng) => Detected::English,
                Some(Lang::Fra) => Detected::French,
                _ => Detected::Other,
            }
        }
        _ => Detected::French,
    }
}

/// Common French words, SMS spellings included (after normalisation).
const FRENCH_WORDS: &[&str] = &[
    "je", "j", "suis", "ai", "est", "pas", "mon", "ma", "mes", "et", "vous", "tu", "il", "elle", "vais", "veux",
    "avec", "pour", "que", "qui", "bonjour", "bonsoir", "salut", "chui", "jvais", "jai", "femme", "mari", "oui", "non",
    "merci", "peur", "fait", "sa", "son", "au", "aux", "des", "les", "une", "un", "ne", "plus", "moi", "copine", "mec",
    "besoin", "aide", "parler", "quelqu", "ca", "cest", "c", "mais", "hier", "soir",
];

/// Common English words.
const ENGLISH_WORDS: &[&str] = &[
    "i",
    "my",
    "the",
    "is",
    "you",
    "she",
    "he",
    "and",
    "to",
    "her",
    "him",
    "am",
    "im",
    "me",
    "it",
    "wife",
    "husband",
    "partner",
    "want",
    "need",
    "talk",
    "someone",
    "help",
    "please",
    "what",
    "with",
    "of",
    "this",
    "have",
    "was",
    "not",
    "dont",
    "can",
    "will",
    "going",
    "gona",
    "kil",
    "hit",
    "girlfriend",
    "boyfriend",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_french_and_others() {
        assert_eq!(detect("Hello"), Detected::English);
        assert_eq!(
            detect("Hi, I need to talk to someone about my anger"),
            Detected::English
        );
        assert_eq!(
            detect("I hit my wife last night and I want it to stop"),
            Detected::English
        );
        assert_eq!(detect("Bonjour"), Detected::French);
        assert_eq!(detect("jvais la tuer"), Detected::French);
        assert_eq!(
            detect("J'ai frappé ma femme hier soir, je veux que ça s'arrête"),
            Detected::French
        );
        assert_eq!(detect("75011"), Detected::French);
        assert_eq!(
            detect("Hola, necesito hablar con alguien sobre mi violencia"),
            Detected::Other
        );
        assert_eq!(
            detect("Ich habe meine Frau geschlagen und brauche Hilfe"),
            Detected::Other
        );
    }
}
