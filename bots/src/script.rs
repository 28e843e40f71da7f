//! The bot's script, loaded from `data/bot/script.toml` (compiled in): messages in French
//! and English, the choices of each question, keywords, and the reviewed risk rules.

use std::collections::HashMap;

use relais_core::helpline::model::Language;
use relais_core::helpline::outbox::Choice;

#[cfg(test)]
use crate::lexicon::Class;
use crate::lexicon::{Lexicon, Reading};

const SCRIPT_TOML: &str = include_str!("../../data/bot/script.toml");

#[derive(Debug, serde::Deserialize)]
struct Text {
    fr: String,
    en: String,
}

#[derive(Debug, serde::Deserialize)]
struct ChoiceText {
    key: String,
    fr: String,
    en: String,
}

#[derive(Debug, serde::Deserialize)]
struct Keywords {
    stop: Vec<String>,
    erase: Vec<String>,
    help: Vec<String>,
    english: Vec<String>,
    french: Vec<String>,
    yes: Vec<String>,
    no: Vec<String>,
    cancel: Vec<String>,
    reschedule: Vec<String>,
    more: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    keywords: Keywords,
    messages: HashMap<String, Text>,
    choices: HashMap<String, Vec<ChoiceText>>,
}

/// A keyword class the bot reacts to wherever the person is in the dialogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    Stop,
    Erase,
    Help,
    English,
    French,
    Yes,
    No,
    Cancel,
    Reschedule,
    More,
}

pub struct Script {
    file: File,
    /// What free text says (danger, suicide, victim, …), from `data/bot/lexicon.toml`.
    lexicon: Lexicon,
}

#[derive(Debug, thiserror::Error)]
#[error("the bot script is not valid: {0}")]
pub struct ScriptError(String);

/// Lower case, accents removed, every run of non-alphanumeric characters one space.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' => 'a',
            'ç' => 'c',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' | 'ì' => 'i',
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ÿ' => 'y',
            'œ' => 'o',
            other => other,
        };
        if c.is_alphanumeric() {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    out.trim_end().to_owned()
}

impl Script {
    pub fn load() -> Result<Self, ScriptError> {
        Self::parse(SCRIPT_TOML)
    }

    pub fn parse(text: &str) -> Result<Self, ScriptError> {
        let file: File = toml::from_str(text).map_err(|e| ScriptError(e.to_string()))?;
        for needed in REQUIRED_MESSAGES {
            if !file.messages.contains_key(*needed) {
                return Err(ScriptError(format!("message {needed:?} is missing")));
            }
        }
        for needed in ["danger", "who", "menu"] {
            if !file.choices.contains_key(needed) {
                return Err(ScriptError(format!("choices {needed:?} are missing")));
            }
        }
        let mut keys: Vec<&str> = file.choices.values().flatten().map(|c| c.key.as_str()).collect();
        keys.sort_unstable();
        if let Some(twice) = keys.windows(2).find(|w| w[0] == w[1]) {
            return Err(ScriptError(format!(
                "the choice key {:?} is used twice: a pressed button must say which it was",
                twice[0]
            )));
        }
        let lexicon = Lexicon::load().map_err(|e| ScriptError(e.to_string()))?;
        Ok(Self { file, lexicon })
    }

    pub fn has_message(&self, key: &str) -> bool {
        self.file.messages.contains_key(key)
    }

    pub fn message(&self, key: &str, language: Language) -> String {
        match self.file.messages.get(key) {
            Some(t) => match language {
                Language::French => t.fr.clone(),
                Language::English => t.en.clone(),
            },
            None => String::new(),
        }
    }

    pub fn choices(&self, question: &str, language: Language) -> Vec<Choice> {
        self.file
            .choices
            .get(question)
            .map(|list| {
                list.iter()
                    .map(|c| Choice {
                        key: c.key.clone(),
                        label: match language {
                            Language::French => c.fr.clone(),
                            Language::English => c.en.clone(),
                        },
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The label a person saw on the button they pressed, in their language: what the
    /// listener reads ("Je suis un proche", not `relative`). The key itself for a button the
    /// script does not hold (an orientation's slot). Keys are unique across questions
    /// (checked when the script loads).
    pub fn label_of(&self, key: &str, language: Language) -> String {
        self.file.choices.values().flatten().find(|c| c.key == key).map_or_else(
            || key.to_owned(),
            |c| match language {
                Language::French => c.fr.clone(),
                Language::English => c.en.clone(),
            },
        )
    }

    /// The choice of `question` the person picked: by number, key, or label, in any language.
    pub fn pick(&self, question: &str, input: &str) -> Option<String> {
        let list = self.file.choices.get(question)?;
        let n = normalise(input);
        if let Ok(index) = n.parse::<usize>() {
            return list.get(index.checked_sub(1)?).map(|c| c.key.clone());
        }
        list.iter()
            .find(|c| normalise(&c.key) == n || normalise(&c.fr) == n || normalise(&c.en) == n)
            .map(|c| c.key.clone())
    }

    /// The keyword the whole message is, if it is one.
    pub fn keyword(&self, input: &str) -> Option<Keyword> {
        let n = normalise(input);
        if n.is_empty() {
            return None;
        }
        let k = &self.file.keywords;
        let classes: [(&Vec<String>, Keyword); 10] = [
            (&k.erase, Keyword::Erase),
            (&k.stop, Keyword::Stop),
            (&k.help, Keyword::Help),
            (&k.english, Keyword::English),
            (&k.french, Keyword::French),
            (&k.yes, Keyword::Yes),
            (&k.no, Keyword::No),
            (&k.cancel, Keyword::Cancel),
            (&k.reschedule, Keyword::Reschedule),
            (&k.more, Keyword::More),
        ];
        classes
            .into_iter()
            .find(|(list, _)| list.iter().any(|w| normalise(w) == n))
            .map(|(_, kw)| kw)
    }

    /// What a free-text message says: its classes, most serious first. The last reading of
    /// this thread is kept: ingestion reads a message before it takes the write connection
    /// (see `TextLine::ingest`), so that the dialogue, inside the write transaction, finds the
    /// reading done rather than holding every other writer while it reads.
    pub fn read(&self, input: &str) -> Reading {
        thread_local! {
            static LAST: std::cell::RefCell<Option<(String, Reading)>> = const { std::cell::RefCell::new(None) };
        }
        if let Some(reading) = LAST.with(|last| {
            last.borrow()
                .as_ref()
                .filter(|(text, _)| text == input)
                .map(|(_, reading)| reading.clone())
        }) {
            return reading;
        }
        let reading = self.lexicon.read(input);
        LAST.with(|last| *last.borrow_mut() = Some((input.to_owned(), reading.clone())));
        reading
    }
}

const REQUIRED_MESSAGES: &[&str] = &[
    "welcome",
    "danger_question",
    "danger",
    "suicide",
    "victim",
    "victim_also",
    "relative",
    "story",
    "safety_danger",
    "safety_suicide",
    "safety_victim",
    "professional",
    "court",
    "other_language",
    "not_understood_again",
    "location",
    "who_question",
    "menu",
    "queued",
    "queued_urgent",
    "out_of_hours",
    "waiting_ack",
    "queue_position",
    "queue_next",
    "orient_consent",
    "orient_refused",
    "orient_slots",
    "orient_no_slots",
    "orient_no_more",
    "orient_slot_taken",
    "orient_slot_too_late",
    "orient_slot_gone",
    "orient_booked",
    "booking_actions_sms",
    "orient_bring",
    "orient_more",
    "reminder_day_before",
    "reminder_two_hours",
    "booking_cancelled",
    "booking_too_late",
    "booking_none",
    "modality_on_site",
    "modality_phone",
    "modality_video",
    "postal_code_question",
    "postal_code_unknown",
    "centres_found",
    "centres_none",
    "about",
    "hours",
    "help",
    "stopped",
    "erased",
    "language_set",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_script_is_complete() {
        let script = Script::load().expect("the shipped script parses");
        for key in REQUIRED_MESSAGES {
            assert!(!script.message(key, Language::French).is_empty(), "{key} fr");
            assert!(!script.message(key, Language::English).is_empty(), "{key} en");
        }
    }

    #[test]
    fn the_script_reads_free_text_with_the_lexicon() {
        let script = Script::load().expect("script");
        assert_eq!(
            script.read("J'ai un COUTEAU dans la main").classes,
            vec![Class::Danger, Class::Author],
            "a weapon in the writer's hand: danger, and the writer's own violence"
        );
        assert!(
            script
                .read("She is next to me, I'm going to kill her")
                .has(Class::Danger)
        );
        assert!(script.read("je veux en finir").has(Class::Suicide));
        assert!(script.read("Où est-elle ?").has(Class::Location));
        assert!(
            script.read("j'ai des larmes, un charme").classes.is_empty(),
            "no match inside words"
        );
        assert!(script.read("bonjour").classes.is_empty());
    }

    #[test]
    fn keywords_and_choices_are_recognised() {
        let script = Script::load().expect("script");
        assert_eq!(script.keyword(" Effacer "), Some(Keyword::Erase));
        assert_eq!(script.keyword("STOP"), Some(Keyword::Stop));
        assert_eq!(script.keyword("arrêt"), Some(Keyword::Stop));
        assert_eq!(script.keyword("stop it please"), None);
        assert_eq!(script.pick("menu", "2").as_deref(), Some("centre"));
        assert_eq!(script.pick("menu", "9"), None);
        assert_eq!(script.pick("danger", "no").as_deref(), Some("no"));
        assert_eq!(script.pick("who", "Je suis un proche").as_deref(), Some("relative"));
    }
}
