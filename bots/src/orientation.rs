//! Orientation through the person's own channel: the listener proposes a centre; the bot
//! asks consent in the person's language; on yes the centre receives a referral and the
//! person is offered its next free slots, three at a time; a pick books the appointment and
//! the confirmation gives the date and time in the centre's zone, the place and what to
//! bring. On no, nothing reaches the centre. Later the person may cancel or move the
//! appointment by replying, and reminders come the day before and two hours before.

use chrono::{DateTime, Utc};
use relais_core::Error;
use relais_core::access::{Actor, Caller};
use relais_core::accounts::model::{Organisation, OrganisationKind};
use relais_core::accounts::{organisations, users};
use relais_core::audit::{self, Entry};
use relais_core::centres::appointments::{self, Booking, CancelledBy, Reminder};
use relais_core::centres::model::{AppointmentStatus, LegalBasis, Modality};
use relais_core::centres::referrals::{self, NewReferral};
use relais_core::centres::{profiles, slots, wording};
use relais_core::db::{DbConn, write_tx};
use relais_core::helpline::contacts::{self, Contact};
use relais_core::helpline::model::{Channel, Language};
use relais_core::helpline::orientations::{self, Orientation, OrientationState};
use relais_core::helpline::outbox::{Choice, Payload, Urgency};
use relais_core::helpline::{conversations, desk};
use relais_core::ids::{OrganisationId, UserId};

use crate::dialogue::{Input, fill};
use crate::ingest::TextLine;
use crate::script::Keyword;

const PAGE: usize = 3;

/// A message about a booked appointment, with the way to cancel or move it as the channel
/// allows: buttons where there are buttons (Telegram, the web chat), words to reply on SMS.
fn with_booking_actions(script: &crate::script::Script, text: String, channel: Channel, language: Language) -> Payload {
    match channel {
        Channel::Sms => say(format!("{text} {}", script.message("booking_actions_sms", language))),
        Channel::Telegram | Channel::WebChat => Payload {
            text,
            choices: script.choices("booking", language),
        },
    }
}

/// Time left to a person to choose among the slots offered: a slot whose booking closes
/// sooner is not offered (it would close while they read). One that closes anyway is refused
/// with the reason said (`orient_slot_too_late`).
const CHOOSING_MINUTES: i64 = 5;

fn say(text: String) -> Payload {
    Payload {
        text,
        choices: Vec::new(),
    }
}

impl TextLine {
    fn modality(&self, modality: Modality, language: Language) -> String {
        let key = match modality {
            Modality::OnSite => "modality_on_site",
            Modality::Phone => "modality_phone",
            Modality::Video => "modality_video",
        };
        self.script.message(key, language)
    }

    /// Queues messages to a contact in one of their conversations: with the listener's words
    /// when they answer the listener's or the person's own step in an orientation
    /// (`Urgency::Listener`), with the routine backlog for reminders (`Urgency::Routine`).
    fn send_to_contact(
        &self,
        conn: &mut DbConn,
        conversation_id: &str,
        contact: &Contact,
        replies: &[Payload],
        urgency: Urgency,
    ) -> Result<usize, Error> {
        let (key, sealed) = contacts::sealed_address(conn, &contact.id)?;
        let address = contacts::open_address(&self.secrets, &key, &sealed)?;
        self.queue_replies(conn, contact.channel, &key, &address, conversation_id, replies, urgency)
    }

    /// The listener proposes `centre` with a short summary; the bot asks the person's consent.
    pub fn orient(
        &self,
        conn: &mut DbConn,
        caller: &Caller,
        conversation_id: &str,
        centre: OrganisationId,
        summary: &str,
    ) -> Result<Orientation, Error> {
        let summary = summary.trim();
        if summary.is_empty() || summary.chars().count() > 2000 {
            return Err(Error::invalid("summary", "a summary has 1 to 2000 characters"));
        }
        let listener = caller.user_id().ok_or(Error::NotFound)?;
        write_tx(conn, |conn| {
            // Locked: the person may write meanwhile, and the save below writes the whole row.
            let mut conversation = desk::held_for_change(conn, caller, conversation_id)?;
            let centre = match organisations::find(conn, centre) {
                Ok(org) if org.kind == OrganisationKind::Centre => org,
                _ => return Err(Error::invalid("centre_id", "not a care centre")),
            };
            let orientation = orientations::create(
                conn,
                &self.secrets,
                &conversation.id,
                &conversation.contact_id,
                &centre.id.to_string(),
                &listener.to_string(),
                summary,
            )?;
            let contact = contacts::get(conn, &conversation.contact_id)?;
            let question = Payload {
                text: fill(
                    self.script.message("orient_consent", contact.language),
                    &[("centre", &centre.name)],
                ),
                choices: self.script.choices("consent", contact.language),
            };
            self.send_to_contact(conn, &conversation.id, &contact, &[question], Urgency::Listener)?;
            conversation.led_to_something = true;
            conversations::save(conn, &mut conversation)?;
            audit::record(
                conn,
                &caller.actor(),
                Entry::new("conversation.orient")
                    .object("conversation", &conversation.id)
                    .details(serde_json::json!({ "centre": centre.id })),
            )?;
            Ok(orientation)
        })
    }

    /// Offers a page of free slots (or says there is none), remembering what was offered.
    fn offer(
        &self,
        conn: &mut DbConn,
        o: &mut Orientation,
        centre: &Organisation,
        language: Language,
        now: DateTime<Utc>,
        lead: Option<&str>,
    ) -> Result<Vec<Payload>, Error> {
        let page = usize::try_from(o.page.max(0)).unwrap_or(0);
        let decided_by = now + chrono::Duration::minutes(CHOOSING_MINUTES);
        let mut free = slots::free(conn, &o.centre_id, decided_by, page * PAGE, PAGE)?;
        let mut lead = lead.map(|key| self.script.message(key, language));
        if free.is_empty() && page > 0 {
            o.page = 0;
            free = slots::free(conn, &o.centre_id, decided_by, 0, PAGE)?;
            lead = Some(self.script.message("orient_no_more", language));
        }
        o.offered = free.iter().map(|s| s.id.clone()).collect();
        if free.is_empty() {
            let none = fill(
                self.script.message("orient_no_slots", language),
                &[("centre", &centre.name)],
            );
            // The reason for offering again, if any, still comes first; its "here are the ones
            // left" then reads as a list that turned out empty.
            return Ok(vec![say(match lead {
                Some(lead) => format!("{lead}\n{none}"),
                None => none,
            })]);
        }
        let tz = centre.tz();
        let mut choices: Vec<Choice> = free
            .iter()
            .enumerate()
            .map(|(i, s)| Choice {
                key: format!("slot:{}", i + 1),
                label: format!(
                    "{} · {}",
                    wording::short_time(s.starts_at, tz, language),
                    self.modality(s.modality, language)
                ),
            })
            .collect();
        choices.push(Choice {
            key: "more".into(),
            label: self.script.message("orient_more", language),
        });
        let mut text = fill(
            self.script.message("orient_slots", language),
            &[("centre", &centre.name)],
        );
        if let Some(lead) = lead {
            text = format!("{lead}\n{text}");
        }
        Ok(vec![Payload { text, choices }])
    }

    fn booked_message(
        &self,
        conn: &mut DbConn,
        centre: &Organisation,
        slot: &slots::Slot,
        channel: Channel,
        language: Language,
    ) -> Result<Payload, Error> {
        let profile = profiles::get(conn, centre.id)?;
        let bring = match language {
            Language::French => profile.what_to_bring_fr,
            Language::English => profile.what_to_bring_en,
        };
        let bring = if bring.is_empty() {
            String::new()
        } else {
            fill(self.script.message("orient_bring", language), &[("bring", &bring)])
        };
        let text = fill(
            self.script.message("orient_booked", language),
            &[
                ("centre", &centre.name),
                ("when", &wording::local_time(slot.starts_at, centre.tz(), language)),
                ("modality", &self.modality(slot.modality, language)),
                ("location", &slot.location),
                ("bring", &bring),
            ],
        );
        Ok(with_booking_actions(&self.script, text, channel, language))
    }

    /// Reads a reply as part of the contact's orientation, if one is in play and the reply
    /// is one it expects (yes/no, a slot, "more", cancel, move). Anything else goes on to
    /// the listener as usual (None).
    pub(crate) fn orientation_input(
        &self,
        conn: &mut DbConn,
        contact: &Contact,
        input: &Input,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<Payload>>, Error> {
        let Some(mut o) = orientations::open_for_contact(conn, &contact.id)? else {
            return Ok(None);
        };
        let language = contact.language;
        let text = match input {
            Input::Text(t) => t.trim().to_owned(),
            Input::Choice(key) => key.clone(),
        };
        let keyword = self.script.keyword(&text);
        let digit: Option<usize> = text.parse().ok();
        let centre = organisations::find(conn, OrganisationId::from_db(&o.centre_id))?;
        match o.state {
            OrientationState::AskingConsent => {
                if text == "consent_yes" || keyword == Some(Keyword::Yes) || digit == Some(1) {
                    let listener: UserId = o
                        .listener_id
                        .parse()
                        .map_err(|_| Error::Internal("bad listener id".into()))?;
                    let source = users::organisation_of(conn, listener)?;
                    let summary = orientations::summary(conn, &self.secrets, &o.id)?;
                    let referral = referrals::create(
                        conn,
                        &self.secrets,
                        &Actor::user(listener, source),
                        NewReferral {
                            source,
                            target: centre.id,
                            subject_alias: contact.alias.clone(),
                            conversation_id: Some(o.conversation_id.clone()),
                            summary,
                            basis: LegalBasis::Voluntary { consent_at: now },
                            partner_reference: None,
                        },
                    )?;
                    o.referral_id = Some(referral);
                    o.state = OrientationState::ChoosingSlot;
                    o.page = 0;
                    let replies = self.offer(conn, &mut o, &centre, language, now, None)?;
                    orientations::save(conn, &o)?;
                    Ok(Some(replies))
                } else if text == "consent_no" || keyword == Some(Keyword::No) || digit == Some(2) {
                    o.state = OrientationState::Refused;
                    orientations::save(conn, &o)?;
                    Ok(Some(vec![say(self.script.message("orient_refused", language))]))
                } else {
                    Ok(None)
                }
            }
            OrientationState::ChoosingSlot => {
                let offered = o.offered.len();
                let pick = match text.strip_prefix("slot:") {
                    Some(n) => n.parse::<usize>().ok(),
                    None => digit.filter(|d| (1..=offered).contains(d)),
                }
                .filter(|n| (1..=offered).contains(n));
                let more =
                    text == "more" || keyword == Some(Keyword::More) || (offered > 0 && digit == Some(offered + 1));
                if let Some(n) = pick {
                    let booking = Booking {
                        slot_id: o.offered[n - 1].clone(),
                        organisation_id: o.centre_id.clone(),
                        subject_alias: contact.alias.clone(),
                        referral_id: o.referral_id.clone(),
                        conversation_id: Some(o.conversation_id.clone()),
                        created_by: "contact".into(),
                    };
                    match appointments::book(conn, booking, now) {
                        Ok(appointment) => {
                            o.state = OrientationState::Booked;
                            o.appointment_id = Some(appointment.id.clone());
                            orientations::save(conn, &o)?;
                            Ok(Some(vec![self.booked_message(
                                conn,
                                &centre,
                                &appointment.slot,
                                contact.channel,
                                language,
                            )?]))
                        }
                        Err(Error::Conflict(_)) => {
                            // Say why, as it is: taken by someone else, closed to booking, or
                            // withdrawn by the centre.
                            let why = match slots::load(conn, &o.offered[n - 1]) {
                                Ok(slot) if slot.withdrawn => "orient_slot_gone",
                                Ok(slot) if slot.booked < slot.seats => "orient_slot_too_late",
                                Ok(_) => "orient_slot_taken",
                                Err(_) => "orient_slot_gone",
                            };
                            let replies = self.offer(conn, &mut o, &centre, language, now, Some(why))?;
                            orientations::save(conn, &o)?;
                            Ok(Some(replies))
                        }
                        Err(e) => Err(e),
                    }
                } else if more {
                    o.page += 1;
                    let replies = self.offer(conn, &mut o, &centre, language, now, None)?;
                    orientations::save(conn, &o)?;
                    Ok(Some(replies))
                } else {
                    Ok(None)
                }
            }
            OrientationState::Booked => {
                let cancel = keyword == Some(Keyword::Cancel);
                let reschedule = keyword == Some(Keyword::Reschedule);
                if !cancel && !reschedule {
                    return Ok(None);
                }
                let Some(appointment_id) = o.appointment_id.clone() else {
                    return Ok(None);
                };
                let current = appointments::load(conn, &appointment_id)?;
                if current.status != AppointmentStatus::Booked.as_str() {
                    // Over, or cancelled by the centre: nothing left to act on.
                    o.state = OrientationState::Withdrawn;
                    orientations::save(conn, &o)?;
                    return Ok(Some(vec![say(self.script.message("booking_none", language))]));
                }
                let reason = if reschedule {
                    "moved by the person"
                } else {
                    "cancelled by the person"
                };
                match appointments::cancel(conn, &appointment_id, CancelledBy::Person, reason, now) {
                    Ok(_) => {
                        let mut replies = vec![say(self.script.message("booking_cancelled", language))];
                        if reschedule {
                            o.state = OrientationState::ChoosingSlot;
                            o.page = 0;
                            o.appointment_id = None;
                            replies.extend(self.offer(conn, &mut o, &centre, language, now, None)?);
                        } else {
                            o.state = OrientationState::Withdrawn;
                        }
                        orientations::save(conn, &o)?;
                        Ok(Some(replies))
                    }
                    Err(Error::Conflict(_)) => {
                        let phone = profiles::get(conn, centre.id)?.phone.unwrap_or_else(|| "—".into());
                        Ok(Some(vec![say(fill(
                            self.script.message("booking_too_late", language),
                            &[("phone", &phone)],
                        ))]))
                    }
                    Err(e) => Err(e),
                }
            }
            OrientationState::Refused | OrientationState::Withdrawn => Ok(None),
        }
    }

    /// Sends the reminders due at `now` through each person's own channel; returns how many.
    pub fn send_reminders(&self, conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, Error> {
        let due = appointments::due_reminders(conn, now)?;
        let mut sent = 0;
        for (appointment, slot, which) in due {
            let done = write_tx(conn, |conn| {
                if !appointments::mark_reminded(conn, &appointment.id, &which)? {
                    return Ok(false); // another instance sent it
                }
                let Some(conversation_id) = appointment.conversation_id.as_deref() else {
                    return Ok(false);
                };
                let Ok(conversation) = conversations::get(conn, conversation_id) else {
                    return Ok(false); // the person erased their data
                };
                let contact = contacts::get(conn, &conversation.contact_id)?;
                let centre = organisations::find(conn, OrganisationId::from_db(&appointment.organisation_id))?;
                let slot: slots::Slot = slot.clone().into();
                let key = match which {
                    Reminder::DayBefore => "reminder_day_before",
                    Reminder::TwoHours => "reminder_two_hours",
                };
                let text = fill(
                    self.script.message(key, contact.language),
                    &[
                        ("centre", &centre.name),
                        (
                            "when",
                            &wording::local_time(slot.starts_at, centre.tz(), contact.language),
                        ),
                        ("modality", &self.modality(slot.modality, contact.language)),
                        ("location", &slot.location),
                    ],
                );
                let message = match which {
                    Reminder::DayBefore => with_booking_actions(&self.script, text, contact.channel, contact.language),
                    Reminder::TwoHours => say(text),
                };
                self.send_to_contact(conn, conversation_id, &contact, &[message], Urgency::Routine)?;
                Ok::<_, Error>(true)
            })?;
            if done {
                sent += 1;
            }
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No SMS habits where there are buttons, and words to type where there are none.
    #[test]
    fn cancel_and_move_are_buttons_where_the_channel_has_them_and_words_on_sms() {
        let script = crate::script::Script::load().expect("script");
        for channel in [Channel::Telegram, Channel::WebChat] {
            let p = with_booking_actions(&script, "Rendez-vous confirmé.".into(), channel, Language::French);
            assert_eq!(p.text, "Rendez-vous confirmé.");
            let keys: Vec<&str> = p.choices.iter().map(|c| c.key.as_str()).collect();
            assert_eq!(keys, ["cancel", "reschedule"]);
            assert_eq!(p.choices[0].label, "Annuler le rendez-vous");
        }
        let sms = with_booking_actions(
            &script,
            "Appointment confirmed.".into(),
            Channel::Sms,
            Language::English,
        );
        assert!(sms.choices.is_empty());
        assert!(
            sms.text
                .ends_with("To cancel, reply CANCEL; to change the time, reply MOVE."),
            "{}",
            sms.text
        );
        // What the buttons send is read as the words are.
        assert_eq!(script.keyword("cancel"), Some(crate::script::Keyword::Cancel));
        assert_eq!(script.keyword("reschedule"), Some(crate::script::Keyword::Reschedule));
    }
}
