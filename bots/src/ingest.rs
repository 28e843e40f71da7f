//! Ingestion: one transaction stores an inbound message and advances its conversation,
//! replies included (in the outbox), before the webhook answers 2xx. Events of one chat are
//! handled one at a time: a lock on the chat's key (PostgreSQL advisory lock; SQLite holds
//! the database write lock for the whole transaction).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use relais_core::accounts::organisations;
use relais_core::crypto::Secrets;
use relais_core::db::{DbConn, lock_for_sequence, write_tx};
use relais_core::geo::{Geography, PostalCode};
use relais_core::helpline::model::{Author, Channel, ContactStatus, ConversationState, Direction, PRIORITY_URGENT};
use relais_core::helpline::outbox::{NewOutbound, Payload, Urgency};
use relais_core::helpline::{contacts, conversations, events, messages, outbox, receipts};
use relais_core::{Error, time};

use crate::dialogue::{self, Context, Effect, Input, step};
use crate::hours::Hours;
use crate::metrics::{Stage, StageMetrics};
use crate::render;
use crate::script::{Keyword, Script};

/// One message from a person, as an adapter hands it over: already verified, with nothing
/// but the address, the provider's id for deduplication, and the input.
#[derive(Clone, Debug)]
pub struct Inbound {
    pub channel: Channel,
    /// The channel address (chat id, phone number, web chat session). Sealed at once.
    pub address: String,
    /// The provider's id of this message (Telegram update id, Twilio MessageSid, …).
    pub provider_id: String,
    pub input: Input,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ingested {
    /// Stored; the conversation advanced and `replies` outbound rows were queued.
    /// `live`: listeners have something new to hear about.
    Stored {
        conversation_id: String,
        replies: usize,
        live: bool,
    },
    /// This provider id was already received: nothing changed.
    Duplicate,
    /// The contact is blocked: dropped at the door, nobody told.
    Dropped,
    /// The person asked to be erased: done.
    Erased,
}

/// Everything ingestion needs besides a connection.
pub struct TextLine {
    pub script: Script,
    pub hours: Hours,
    pub secrets: Secrets,
    pub geo: Arc<Geography>,
    pub sms_max_segments: usize,
    /// Time spent in each stage of ingestion (`/metrics`).
    pub stages: Arc<StageMetrics>,
}

/// How serious a listener's flag is: a more serious one is never replaced by a lesser.
fn flag_rank(flag: &str) -> u8 {
    match flag {
        "danger" => 5,
        "suicide" => 4,
        "possible_danger" => 3,
        "possible_suicide" => 2,
        "victim_words" => 1,
        _ => 0,
    }
}

/// Words that announce a place: "près de Lyon", "near Lille", "j'habite à Nantes".
const PLACE_CUES: &[&[&str]] = &[
    &["pres", "de"],
    &["pres", "d"],
    &["near"],
    &["vers"],
    &["autour", "de"],
    &["around"],
    &["cote", "de"],
    &["region", "de"],
    &["habite", "a"],
    &["habite", "sur"],
    &["live", "in"],
    &["living", "in"],
    &["based", "in"],
    &["sur"],
    &["a"],
    &["au"],
    &["in"],
];

/// Cues that are ordinary words ("à", "in"): only a town of this size is read after them.
const TOWN_AFTER_A_WEAK_CUE: u64 = 20_000;

/// The postal code of a commune named after a place cue, the most populous when several
/// share the name; `None` when no place is named.
pub(crate) fn place_code(geo: &Geography, text: &str) -> Option<String> {
    // The communes' names in matching form, once (the geography is compiled in).
    static NAMES: std::sync::OnceLock<Vec<(String, u64, String)>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        geo.communes()
            .iter()
            .filter_map(|c| {
                let code = c.postal_codes.first()?.clone();
                Some((
                    crate::normalise::words(&c.name).join(" "),
                    c.population.unwrap_or(0),
                    code,
                ))
            })
            .collect()
    });
    let words = crate::normalise::words(text);
    let mut best: Option<(u64, String)> = None;
    for (i, _) in words.iter().enumerate() {
        for cue in PLACE_CUES {
            if !words[i..].starts_with(&cue.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>()) {
                continue;
            }
            let weak = cue.len() == 1 && ["sur", "a", "au", "in"].contains(&cue[0]);
            let after = &words[i + cue.len()..];
            for length in 1..=after.len().min(4) {
                let name = after[..length].join(" ");
                for (commune, population, code) in names {
                    if (weak && *population < TOWN_AFTER_A_WEAK_CUE) || *commune != name {
                        continue;
                    }
                    if best.as_ref().is_none_or(|(p, _)| population > p) {
                        best = Some((*population, code.clone()));
                    }
                }
            }
        }
    }
    best.map(|(_, code)| code)
}

/// A 63-bit lock key from a hex HMAC.
fn lock_key(chat_key: &str) -> i64 {
    i64::from_str_radix(&chat_key[..15.min(chat_key.len())], 16).unwrap_or(0)
}

/// Texts longer than this are cut before storage: nobody types more in one message.
const MAX_TEXT_CHARS: usize = 4000;

impl TextLine {
    /// Stores one inbound message and runs the dialogue, at `now` (the server's clock).
    pub fn ingest(&self, conn: &mut DbConn, inbound: &Inbound, now: DateTime<Utc>) -> Result<Ingested, Error> {
        let chat_key = contacts::address_key(&self.secrets, inbound.channel, &inbound.address);
        // Read the words now, outside the write transaction (kept for the dialogue, below).
        if let Input::Text(t) = &inbound.input {
            let text: String = t.chars().take(MAX_TEXT_CHARS).collect();
            self.stages.time(Stage::Read, || self.script.read(&text));
        }
        self.stages.time(Stage::Transaction, || {
            write_tx(conn, |conn| {
                lock_for_sequence(conn, lock_key(&chat_key))?;
                if !receipts::first_time(conn, inbound.channel, &inbound.provider_id)? {
                    return Ok(Ingested::Duplicate);
                }
                if let Some(existing) = contacts::find_by_key(conn, &chat_key)?
                    && existing.is_blocked(now)
                {
                    return Ok(Ingested::Dropped);
                }
                let (contact, _) = contacts::find_or_create(conn, &self.secrets, inbound.channel, &inbound.address)?;
                if contact.status == ContactStatus::Stopped {
                    // Writing again after STOP starts afresh.
                    contacts::set_status(conn, &contact.id, ContactStatus::Active)?;
                }
                let (mut conversation, _) =
                    conversations::open_for_contact(conn, &contact.id, inbound.channel, step::NEW)?;
                // A button pressed is kept as the person saw it (its label in their language), so
                // the listener reads "Je suis un proche", not `relative`.
                let text: String = match &inbound.input {
                    Input::Text(t) => t.chars().take(MAX_TEXT_CHARS).collect(),
                    Input::Choice(key) => self.script.label_of(key, contact.language),
                };
                let state_before = conversation.state();
                let inbound_id = messages::store(
                    conn,
                    &self.secrets,
                    &conversation.id,
                    Direction::In,
                    Author::Contact,
                    &text,
                    0,
                )?;

                let language = contact.language;
                let open_now = self.hours.is_open(now);
                let input = match &inbound.input {
                    Input::Text(_) => Input::Text(text.clone()),
                    other => other.clone(),
                };
                // An orientation in play reads the replies it expects first (consent, a slot,
                // cancel, move); keywords such as STOP and EFFACER always win.
                let keyword_first = matches!(
                    &input,
                    Input::Text(t) if matches!(
                        self.script.keyword(t),
                        Some(Keyword::Stop | Keyword::Erase | Keyword::English | Keyword::French | Keyword::Help)
                    )
                );
                let oriented = if keyword_first {
                    None
                } else {
                    self.orientation_input(conn, &contact, &input, now)?
                };
                let geo = self.geo.clone();
                let geo_for_places = self.geo.clone();
                let mut centres = |code: &str| -> Option<(String, Vec<String>)> {
                    let code = PostalCode::parse(code).ok()?;
                    let area = geo.postal_code(&code)?;
                    let departements: Vec<String> = area.departements.iter().map(|d| d.code.clone()).collect();
                    let place = area
                        .departements
                        .iter()
                        .map(|d| format!("{} ({})", d.name, d.code))
                        .collect::<Vec<_>>()
                        .join(", ");
                    // A lookup failure reads as "no centre listed", never as silence.
                    let names = organisations::centres_covering(conn, &departements)
                        .and_then(|list| relais_core::centres::directory::nearest_first(conn, &area, list))
                        .map(|list| list.into_iter().map(|o| o.name).collect())
                        .unwrap_or_default();
                    Some((place, names))
                };
                let mut places = |text: &str| place_code(&geo_for_places, text);
                let hours_text = self.hours.describe(language);
                let mut ctx = Context {
                    kind: contact.kind,
                    not_understood: conversation.not_understood,
                    places: &mut places,
                    language,
                    open_now,
                    hours: hours_text,
                    next_open: self.hours.describe_next_open(now, language),
                    acknowledged: conversation.acknowledged,
                    centres: &mut centres,
                    channel: inbound.channel,
                };
                // A centre hears of a referral or a booking made by this reply.
                let centre_news = oriented.is_some();
                let outcome = match oriented {
                    Some(replies) => dialogue::Outcome {
                        replies,
                        ..Default::default()
                    },
                    None => self.stages.time(Stage::Dialogue, || {
                        dialogue::advance(&self.script, &mut ctx, &conversation.step, &input)
                    }),
                };

                let mut erase = false;
                let mut flagged = None;
                conversation.not_understood = if outcome.effects.contains(&Effect::NotUnderstood) {
                    conversation.not_understood.saturating_add(1)
                } else {
                    0
                };
                for effect in &outcome.effects {
                    match effect {
                        Effect::Flag(flag) => {
                            if flag_rank(flag) > conversation.flag.as_deref().map_or(0, flag_rank) {
                                conversation.flag = Some((*flag).to_owned());
                            }
                            // The event names the most serious flag of this message.
                            if flagged.is_none_or(|f| flag_rank(flag) > flag_rank(f)) {
                                flagged = Some(*flag);
                            }
                        }
                        Effect::ForgetWords => {
                            messages::forget_words(conn, &conversation.id)?;
                        }
                        Effect::NotUnderstood => {}
                        Effect::SetLanguage(l) => {
                            contacts::set_language(conn, &contact.id, *l)?;
                        }
                        Effect::SetKind(k) => contacts::set_kind(conn, &contact.id, *k)?,
                        Effect::Queue { urgent } => {
                            if conversation.state() != ConversationState::Active {
                                conversation.set_state(ConversationState::Waiting, now);
                            }
                            if *urgent {
                                conversation.priority = PRIORITY_URGENT;
                            }
                            conversation.led_to_something = true;
                        }
                        Effect::Acknowledge => conversation.acknowledged = true,
                        Effect::Close { reason } => {
                            conversation.set_state(ConversationState::Closed, now);
                            conversation.close_reason = Some((*reason).to_owned());
                        }
                        Effect::Stop => {
                            contacts::set_status(conn, &contact.id, ContactStatus::Stopped)?;
                            conversation.set_state(ConversationState::Closed, now);
                            conversation.close_reason = Some("stopped".to_owned());
                        }
                        Effect::Erase => erase = true,
                    }
                }

                if erase {
                    contacts::erase(conn, &contact.id)?;
                    // The confirmation travels alone, tied to nothing that remains.
                    for (position, reply) in outcome.replies.iter().enumerate() {
                        for part in render::for_channel(inbound.channel, reply, self.sms_max_segments) {
                            outbox::enqueue(
                                conn,
                                &self.secrets,
                                NewOutbound {
                                    channel: inbound.channel,
                                    chat_key: &chat_key,
                                    destination_sealed: contacts::seal_address(
                                        &self.secrets,
                                        &chat_key,
                                        &inbound.address,
                                    ),
                                    conversation_id: None,
                                    message_id: None,
                                    payload: &part,
                                    position: position as i32,
                                    urgency: Urgency::Routine,
                                },
                            )?;
                        }
                    }
                    return Ok(Ingested::Erased);
                }

                if let Some(next) = outcome.next_step {
                    conversation.step = next.to_owned();
                }
                conversation.last_message_at = time::to_db(now);
                conversations::save(conn, &mut conversation)?;

                // Listeners hear of the queue and of the messages of handed-over conversations.
                let handed_over = matches!(
                    conversation.state(),
                    ConversationState::Waiting | ConversationState::Active
                );
                if handed_over {
                    if state_before == ConversationState::Bot {
                        events::record(conn, events::kind::QUEUE, Some(&conversation.id), None, None)?;
                    }
                    let listener = conversation.listener_id.clone();
                    if let Some(flag) = flagged {
                        // The listener's app hears the flag at once; the words stay in the message.
                        events::record_with_detail(
                            conn,
                            events::kind::FLAGGED,
                            Some(&conversation.id),
                            None,
                            listener.as_deref(),
                            Some(flag),
                        )?;
                    }
                    events::record(
                        conn,
                        events::kind::MESSAGE,
                        Some(&conversation.id),
                        Some(&inbound_id),
                        listener.as_deref(),
                    )?;
                }

                // Newly queued while listeners are on duty: tell the person their place.
                let mut replies_to_send = outcome.replies.clone();
                if handed_over
                    && state_before == ConversationState::Bot
                    && open_now
                    && let Some(position) = relais_core::helpline::desk::queue_position(conn, &conversation.id)?
                {
                    let language = contacts::get(conn, &contact.id).map(|c| c.language).unwrap_or(language);
                    let position = i32::try_from(position).unwrap_or(i32::MAX);
                    conversations::set_told_position(conn, &conversation.id, conversation.told_position, position)?;
                    replies_to_send.push(self.place_message(position, language));
                }
                let replies = self.stages.time(Stage::Enqueue, || {
                    self.queue_replies(
                        conn,
                        inbound.channel,
                        &chat_key,
                        &inbound.address,
                        &conversation.id,
                        &replies_to_send,
                        // The answer to danger, suicide or a victim's words goes before the
                        // backlog of routine answers.
                        if flagged.is_some() {
                            Urgency::Safety
                        } else {
                            Urgency::Routine
                        },
                    )
                })?;
                Ok(Ingested::Stored {
                    conversation_id: conversation.id.clone(),
                    replies,
                    live: handed_over || centre_news,
                })
            })
        })
    }

    /// Stores each reply as an outbound message and queues its parts for delivery.
    #[allow(clippy::too_many_arguments)]
    pub fn queue_replies(
        &self,
        conn: &mut DbConn,
        channel: Channel,
        chat_key: &str,
        address: &str,
        conversation_id: &str,
        replies: &[Payload],
        urgency: Urgency,
    ) -> Result<usize, Error> {
        let mut queued = 0;
        let mut position = 1;
        for reply in replies {
            for part in render::for_channel(channel, reply, self.sms_max_segments) {
                let message_id = messages::store(
                    conn,
                    &self.secrets,
                    conversation_id,
                    Direction::Out,
                    Author::Bot,
                    &part.text,
                    position,
                )?;
                outbox::enqueue(
                    conn,
                    &self.secrets,
                    NewOutbound {
                        channel,
                        chat_key,
                        destination_sealed: contacts::seal_address(&self.secrets, chat_key, address),
                        conversation_id: Some(conversation_id),
                        message_id: Some(&message_id),
                        payload: &part,
                        position,
                        urgency,
                    },
                )?;
                position += 1;
                queued += 1;
            }
        }
        Ok(queued)
    }
}
