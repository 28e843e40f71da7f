//! Telling people who wait their place in the queue: once when they are queued, then again
//! only when it changed a lot (they are next, it halved, or it moved by five or more), so a
//! busy queue does not turn into a stream of messages. Out of the listeners' hours nobody is
//! told a place: the bot has said when humans are back.

use chrono::{DateTime, Utc};
use relais_core::Error;
use relais_core::db::{DbConn, write_tx};
use relais_core::helpline::model::Channel;
use relais_core::helpline::outbox::{Payload, Urgency};
use relais_core::helpline::{contacts, conversations};

use crate::ingest::TextLine;

/// Whether a person told `told` should now be told `now`.
pub fn worth_telling(told: Option<i32>, now: i32) -> bool {
    let Some(told) = told else { return true };
    if now == told {
        return false;
    }
    let better = now < told;
    if better {
        now == 1 || told - now >= 5 || now * 2 <= told
    } else {
        now - told >= 5
    }
}

impl TextLine {
    /// The message that tells a place, in the person's language.
    pub(crate) fn place_message(&self, position: i32, language: relais_core::helpline::model::Language) -> Payload {
        let text = if position == 1 {
            self.script.message("queue_next", language)
        } else {
            self.script
                .message("queue_position", language)
                .replace("{position}", &position.to_string())
        };
        Payload {
            text,
            choices: Vec::new(),
        }
    }

    /// Tells every waiting person whose place changed a lot; returns how many were told.
    pub fn tell_queue_places(&self, conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, Error> {
        if !self.hours.is_open(now) {
            return Ok(0);
        }
        write_tx(conn, |conn| {
            let queue = conversations::waiting_in_order(conn)?;
            let mut told = 0;
            for (index, conversation) in queue.iter().enumerate() {
                let position = i32::try_from(index + 1).unwrap_or(i32::MAX);
                if !worth_telling(conversation.told_position, position) {
                    continue;
                }
                if !conversations::set_told_position(conn, &conversation.id, conversation.told_position, position)? {
                    continue; // another instance told this change
                }
                let contact = contacts::get(conn, &conversation.contact_id)?;
                let (key, sealed) = contacts::sealed_address(conn, &contact.id)?;
                let address = contacts::open_address(&self.secrets, &key, &sealed)?;
                let channel: Channel = conversation.channel.parse()?;
                let message = self.place_message(position, contact.language);
                self.queue_replies(
                    conn,
                    channel,
                    &key,
                    &address,
                    &conversation.id,
                    &[message],
                    Urgency::Routine,
                )?;
                told += 1;
            }
            Ok(told)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::worth_telling;

    #[test]
    fn only_changes_that_matter_are_told() {
        assert!(worth_telling(None, 7), "never told: tell");
        assert!(!worth_telling(Some(7), 7));
        assert!(!worth_telling(Some(7), 6), "one place is not worth a message");
        assert!(worth_telling(Some(7), 2), "moved by five");
        assert!(worth_telling(Some(4), 2), "halved");
        assert!(!worth_telling(Some(3), 2));
        assert!(worth_telling(Some(2), 1), "next in line");
        assert!(!worth_telling(Some(2), 5), "pushed back a little by urgent ones");
        assert!(worth_telling(Some(2), 7), "pushed back a lot");
    }
}
