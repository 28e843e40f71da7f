//! The triage dialogue as a pure function: from the conversation's step and one input, the
//! replies to send and the effects to apply. Storage and channels are elsewhere; this is
//! what the script says to do. Risk rules are checked on every message, at every step.

use relais_core::helpline::model::{ContactKind, Language};
use relais_core::helpline::outbox::Payload;

use crate::script::{Keyword, RiskCategory, Script};

/// Steps of the dialogue (stored on the conversation).
pub mod step {
    pub const NEW: &str = "new";
    pub const DANGER: &str = "danger";
    pub const WHO: &str = "who";
    pub const MENU: &str = "menu";
    pub const POSTAL_CODE: &str = "postal_code";
    /// Handed over: the person's messages are for the listener.
    pub const QUEUED: &str = "queued";
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Text(String),
    /// A button pressed (Telegram callback data): a choice key.
    Choice(String),
}

impl Input {
    fn text(&self) -> &str {
        match self {
            Self::Text(t) | Self::Choice(t) => t,
        }
    }
}

/// The centres covering a postal code: (the place, in words; the centres' names), or
/// `None` for an unknown postal code.
pub type CentreFinder<'a> = dyn FnMut(&str) -> Option<(String, Vec<String>)> + 'a;

/// What the dialogue needs to know of the world.
pub struct Context<'a> {
    pub language: Language,
    pub open_now: bool,
    pub hours: String,
    pub next_open: String,
    /// Whether the conversation has already acknowledged the person's waiting messages.
    pub acknowledged: bool,
    /// Finds the centres covering a postal code: (place, centre names); `None` if unknown.
    pub centres: &'a mut CentreFinder<'a>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    SetLanguage(Language),
    SetKind(ContactKind),
    /// Hand over to a listener; `urgent` puts the conversation first in the queue.
    Queue {
        urgent: bool,
    },
    /// Waiting messages have been acknowledged once.
    Acknowledge,
    Close {
        reason: &'static str,
    },
    /// The person asked to stop: close, and mark the contact stopped.
    Stop,
    /// The person asked to erase everything, now.
    Erase,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub replies: Vec<Payload>,
    pub effects: Vec<Effect>,
    pub next_step: Option<&'static str>,
}

impl Outcome {
    fn say(&mut self, text: String) {
        self.replies.push(Payload {
            text,
            choices: Vec::new(),
        });
    }
    fn ask(&mut self, script: &Script, question_text: &str, choices: &str, language: Language) {
        self.replies.push(Payload {
            text: script.message(question_text, language),
            choices: script.choices(choices, language),
        });
    }
    fn to(mut self, step: &'static str) -> Self {
        self.next_step = Some(step);
        self
    }
}

/// Fills `{key}` placeholders of a script message.
pub(crate) fn fill(template: String, pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .fold(template, |acc, (k, v)| acc.replace(&format!("{{{k}}}"), v))
}

/// Re-asks the question of a step (after help, or a change of language).
fn prompt(script: &Script, step: &str, lang: Language, out: &mut Outcome) {
    match step {
        step::DANGER => out.ask(script, "danger_question", "danger", lang),
        step::WHO => out.ask(script, "who_question", "who", lang),
        step::POSTAL_CODE => out.say(script.message("postal_code_question", lang)),
        step::QUEUED => {}
        _ => out.ask(script, "menu", "menu", lang),
    }
}

pub fn advance(script: &Script, ctx: &mut Context<'_>, current: &str, input: &Input) -> Outcome {
    let mut lang = ctx.language;
    let mut out = Outcome::default();
    let text = input.text();

    // Keywords, whatever the step.
    if let Input::Text(t) = input {
        match script.keyword(t) {
            Some(Keyword::Erase) => {
                out.effects.push(Effect::Erase);
                out.say(script.message("erased", lang));
                return out;
            }
            Some(Keyword::Stop) => {
                out.effects.push(Effect::Stop);
                out.say(script.message("stopped", lang));
                return out;
            }
            Some(Keyword::English) | Some(Keyword::French) => {
                lang = if script.keyword(t) == Some(Keyword::English) {
                    Language::English
                } else {
                    Language::French
                };
                out.effects.push(Effect::SetLanguage(lang));
                if current == step::NEW {
                    out.say(script.message("welcome", lang));
                    out.ask(script, "danger_question", "danger", lang);
                    return out.to(step::DANGER);
                }
                out.say(script.message("language_set", lang));
                prompt(script, current, lang, &mut out);
                return out;
            }
            Some(Keyword::Help) if current != step::QUEUED => {
                let back = if current == step::POSTAL_CODE {
                    step::MENU
                } else {
                    current
                };
                let back = if back == step::NEW { step::DANGER } else { back };
                prompt(
                    script,
                    if back == step::MENU { step::MENU } else { back },
                    lang,
                    &mut out,
                );
                return out.to(match back {
                    step::DANGER => step::DANGER,
                    step::WHO => step::WHO,
                    _ => step::MENU,
                });
            }
            _ => {}
        }
    }

    if current == step::NEW {
        out.say(script.message("welcome", lang));
    }

    // Risk rules, at every step, before anything else the step would say.
    let risks = script.risks(text);
    if let Some(risk) = risks.first() {
        match risk {
            RiskCategory::Danger | RiskCategory::Suicide => {
                let key = if *risk == RiskCategory::Danger {
                    "danger"
                } else {
                    "suicide"
                };
                out.say(script.message(key, lang));
                out.effects.push(Effect::Queue { urgent: true });
                if !ctx.open_now {
                    out.say(fill(
                        script.message("out_of_hours", lang),
                        &[("hours", &ctx.hours), ("next_open", &ctx.next_open)],
                    ));
                }
                return out.to(step::QUEUED);
            }
            RiskCategory::Victim => {
                out.effects.push(Effect::SetKind(ContactKind::Victim));
                out.say(script.message("victim", lang));
                out.effects.push(Effect::Close {
                    reason: "victim_redirected",
                });
                return out;
            }
            RiskCategory::Location => {
                out.say(script.message("location", lang));
                if current == step::QUEUED {
                    return out;
                }
                prompt(
                    script,
                    if current == step::NEW { step::DANGER } else { current },
                    lang,
                    &mut out,
                );
                return out.to(if current == step::NEW {
                    step::DANGER
                } else {
                    step_static(current)
                });
            }
        }
    }

    match current {
        step::NEW => {
            out.ask(script, "danger_question", "danger", lang);
            out.to(step::DANGER)
        }
        step::DANGER => {
            let picked = script.pick("danger", text).or_else(|| match script.keyword(text) {
                Some(Keyword::Yes) => Some("yes".into()),
                Some(Keyword::No) => Some("no".into()),
                _ => None,
            });
            match picked.as_deref() {
                Some("yes") => {
                    out.say(script.message("danger", lang));
                    out.effects.push(Effect::Queue { urgent: true });
                    if !ctx.open_now {
                        out.say(fill(
                            script.message("out_of_hours", lang),
                            &[("hours", &ctx.hours), ("next_open", &ctx.next_open)],
                        ));
                    }
                    out.to(step::QUEUED)
                }
                Some(_) => {
                    out.ask(script, "who_question", "who", lang);
                    out.to(step::WHO)
                }
                None => {
                    out.say(script.message("help", lang));
                    out.ask(script, "danger_question", "danger", lang);
                    out.to(step::DANGER)
                }
            }
        }
        step::WHO => match script.pick("who", text).as_deref() {
            Some("victim") => {
                out.effects.push(Effect::SetKind(ContactKind::Victim));
                out.say(script.message("victim", lang));
                out.effects.push(Effect::Close {
                    reason: "victim_redirected",
                });
                out
            }
            Some(key) => {
                let kind = key.parse().unwrap_or(ContactKind::Unknown);
                out.effects.push(Effect::SetKind(kind));
                out.ask(script, "menu", "menu", lang);
                out.to(step::MENU)
            }
            None => {
                out.say(script.message("help", lang));
                out.ask(script, "who_question", "who", lang);
                out.to(step::WHO)
            }
        },
        step::MENU => match script.pick("menu", text).as_deref() {
            Some("listener") => {
                out.effects.push(Effect::Queue { urgent: false });
                if ctx.open_now {
                    out.say(script.message("queued", lang));
                } else {
                    out.say(fill(
                        script.message("out_of_hours", lang),
                        &[("hours", &ctx.hours), ("next_open", &ctx.next_open)],
                    ));
                }
                out.to(step::QUEUED)
            }
            Some("centre") => {
                out.say(script.message("postal_code_question", lang));
                out.to(step::POSTAL_CODE)
            }
            Some("about") => {
                out.say(script.message("about", lang));
                out.ask(script, "menu", "menu", lang);
                out.to(step::MENU)
            }
            Some("hours") => {
                out.say(fill(script.message("hours", lang), &[("hours", &ctx.hours)]));
                out.ask(script, "menu", "menu", lang);
                out.to(step::MENU)
            }
            _ => {
                out.say(script.message("help", lang));
                out.ask(script, "menu", "menu", lang);
                out.to(step::MENU)
            }
        },
        step::POSTAL_CODE => {
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            let found = if digits.len() == 5 {
                (ctx.centres)(&digits)
            } else {
                None
            };
            match found {
                Some((place, centres)) if !centres.is_empty() => {
                    out.say(fill(
                        script.message("centres_found", lang),
                        &[("place", &place), ("centres", &centres.join(", "))],
                    ));
                    out.ask(script, "menu", "menu", lang);
                    out.to(step::MENU)
                }
                Some((place, _)) => {
                    out.say(fill(script.message("centres_none", lang), &[("place", &place)]));
                    out.ask(script, "menu", "menu", lang);
                    out.to(step::MENU)
                }
                None => {
                    out.say(script.message("postal_code_unknown", lang));
                    out.to(step::POSTAL_CODE)
                }
            }
        }
        _ => {
            // Handed over: the message is for the listener. Acknowledge once per wait, and
            // out of hours say when people are back.
            if !ctx.acknowledged {
                out.effects.push(Effect::Acknowledge);
                if ctx.open_now {
                    out.say(script.message("waiting_ack", lang));
                } else {
                    out.say(fill(
                        script.message("out_of_hours", lang),
                        &[("hours", &ctx.hours), ("next_open", &ctx.next_open)],
                    ));
                }
            }
            out.to(step::QUEUED)
        }
    }
}

fn step_static(current: &str) -> &'static str {
    match current {
        step::DANGER => step::DANGER,
        step::WHO => step::WHO,
        step::POSTAL_CODE => step::POSTAL_CODE,
        step::QUEUED => step::QUEUED,
        _ => step::MENU,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(script: &Script, step: &str, text: &str, open: bool) -> Outcome {
        let mut centres = |code: &str| {
            (code == "75011").then(|| ("Paris (75)".to_owned(), vec!["CPCA Île-de-France Est".to_owned()]))
        };
        let mut ctx = Context {
            language: Language::French,
            open_now: open,
            hours: "tous les jours de 9 h à 19 h".into(),
            next_open: "demain à 9 h".into(),
            acknowledged: false,
            centres: &mut centres,
        };
        advance(script, &mut ctx, step, &Input::Text(text.into()))
    }

    #[test]
    fn a_first_message_gets_the_welcome_and_the_danger_question() {
        let script = Script::load().expect("script");
        let out = run(&script, step::NEW, "Bonjour", true);
        assert_eq!(out.next_step, Some(step::DANGER));
        assert!(out.replies[0].text.contains("anonyme et confidentiel"));
        assert_eq!(out.replies[1].choices.len(), 2);
    }

    #[test]
    fn danger_words_queue_at_top_priority_at_any_step() {
        let script = Script::load().expect("script");
        for step in [step::NEW, step::WHO, step::MENU, step::POSTAL_CODE, step::QUEUED] {
            let out = run(&script, step, "j'ai un couteau", true);
            assert!(out.effects.contains(&Effect::Queue { urgent: true }), "{step}");
            assert!(
                out.replies
                    .iter()
                    .any(|r| r.text.contains("17") && r.text.contains("112") && r.text.contains("114"))
            );
        }
    }

    #[test]
    fn the_menu_finds_centres_by_postal_code() {
        let script = Script::load().expect("script");
        let out = run(&script, step::MENU, "2", true);
        assert_eq!(out.next_step, Some(step::POSTAL_CODE));
        let out = run(&script, step::POSTAL_CODE, "75011", true);
        assert!(out.replies[0].text.contains("CPCA Île-de-France Est"));
        let out = run(&script, step::POSTAL_CODE, "abc", true);
        assert_eq!(out.next_step, Some(step::POSTAL_CODE));
    }

    #[test]
    fn unexpected_input_gets_help_never_silence() {
        let script = Script::load().expect("script");
        for step in [step::DANGER, step::WHO, step::MENU, step::POSTAL_CODE] {
            let out = run(&script, step, "blablabla", true);
            assert!(!out.replies.is_empty(), "{step}");
        }
    }
}
