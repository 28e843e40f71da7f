//! Each practitioner's private calendar feed (iCalendar, RFC 5545): their booked slots,
//! behind a secret token that can be reset (only its hash is stored). No person's name or
//! alias is in it: a calendar app on a phone is not the place for them.

use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc};
use diesel::prelude::*;

use super::slots::SlotRow;
use crate::access::Caller;
use crate::audit::{self, Entry};
use crate::crypto;
use crate::db::schema::{calendar_feeds, slots};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::time;

/// The instant a local day starts in `tz`.
pub fn local_midnight(day: NaiveDate, tz: chrono_tz::Tz) -> DateTime<Utc> {
    let naive = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| naive.and_utc())
}

/// A new secret token for the caller's feed; the previous one stops working.
pub fn reset_feed(conn: &mut DbConn, caller: &Caller, user: UserId) -> Result<String> {
    let token = crypto::random_token();
    let hash = crypto::sha256_hex(token.as_bytes());
    write_tx(conn, |conn| {
        diesel::delete(calendar_feeds::table.find(user.to_string())).execute(conn)?;
        diesel::insert_into(calendar_feeds::table)
            .values((
                calendar_feeds::user_id.eq(user.to_string()),
                calendar_feeds::token_hash.eq(&hash),
                calendar_feeds::created_at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        audit::record(conn, &caller.actor(), Entry::new("calendar.reset").object("user", user))
    })?;
    Ok(token)
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn text(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
        .replace('\r', "")
}

/// Folds a content line at 75 octets, never inside a UTF-8 character (§3.1).
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The feed for a token: booked slots from a month ago to a year ahead.
pub fn feed(conn: &mut DbConn, token: &str, now: DateTime<Utc>) -> Result<String> {
    if token.len() != 43 {
        return Err(Error::NotFound);
    }
    let hash = crypto::sha256_hex(token.as_bytes());
    let user: String = calendar_feeds::table
        .filter(calendar_feeds::token_hash.eq(hash))
        .select(calendar_feeds::user_id)
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    // The feed ends with the account and with its organisation: a deactivated practitioner's
    // link, or one of a deactivated centre, answers as unknown.
    use crate::db::schema::{organisations, users};
    let active: Option<(bool, bool)> = users::table
        .inner_join(organisations::table)
        .filter(users::id.eq(&user))
        .select((users::active, organisations::active))
        .first(conn)
        .optional()?;
    if active != Some((true, true)) {
        return Err(Error::NotFound);
    }
    let rows: Vec<SlotRow> = slots::table
        .filter(slots::practitioner_id.eq(&user))
        .filter(slots::booked.gt(0))
        .filter(slots::withdrawn.eq(false))
        .filter(slots::starts_at.ge(time::to_db(now - Duration::days(31))))
        .filter(slots::starts_at.lt(time::to_db(now + Duration::days(366))))
        .order(slots::starts_at.asc())
        .select(SlotRow::as_select())
        .load(conn)?;
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Relais//Agenda des rendez-vous//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Relais – rendez-vous",
    ] {
        out.push_str(&fold(line));
    }
    for slot in rows {
        let modality = match slot.modality.as_str() {
            "phone" => "par téléphone",
            "video" => "en visio",
            _ => "sur place",
        };
        let summary = if slot.seats > 1 {
            format!(
                "Séance de groupe ({} / {} inscrits), {modality}",
                slot.booked, slot.seats
            )
        } else {
            format!("Rendez-vous Relais, {modality}")
        };
        for line in [
            "BEGIN:VEVENT".to_owned(),
            format!("UID:{}@relais", slot.id),
            format!("DTSTAMP:{}", stamp(now)),
            format!("DTSTART:{}", stamp(time::from_db(slot.starts_at))),
            format!("DTEND:{}", stamp(time::from_db(slot.ends_at))),
            format!("SUMMARY:{}", text(&summary)),
            format!("LOCATION:{}", text(&slot.location)),
            "STATUS:CONFIRMED".to_owned(),
            "END:VEVENT".to_owned(),
        ] {
            out.push_str(&fold(&line));
        }
    }
    out.push_str(&fold("END:VCALENDAR"));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_escaped_and_folded() {
        assert_eq!(text("a, b; c\\d\ne"), "a\\, b\\; c\\\\d\\ne");
        let long = format!("LOCATION:{}", "é".repeat(60));
        let folded = fold(&long);
        assert!(folded.split("\r\n").all(|l| l.len() <= 75));
        assert_eq!(folded.replace("\r\n ", ""), format!("{long}\r\n"));
    }
}
