//! The helpline's statistics over a period: conversations and phone calls together, by
//! channel, kind of person, outcome; waiting times. Counts only, never a person. In the
//! national view, counts under 5 are suppressed (shown as null).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{contacts, conversations, phone_calls};
use crate::error::Result;
use crate::time;

/// A count that may be suppressed.
pub type Count = Option<i64>;

#[derive(Clone, Debug, serde::Serialize)]
pub struct Statistics {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub suppressed_below: Option<i64>,
    pub conversations: Count,
    pub conversations_by_channel: BTreeMap<String, Count>,
    pub conversations_by_outcome: BTreeMap<String, Count>,
    pub urgent_conversations: Count,
    pub handed_to_listener: Count,
    /// Median and 90th percentile of the wait before a listener took the conversation.
    pub wait_seconds_median: Option<i64>,
    pub wait_seconds_p90: Option<i64>,
    pub phone_calls: Count,
    pub phone_call_minutes: Option<i64>,
    pub phone_calls_by_outcome: BTreeMap<String, Count>,
    /// Texts and calls together, by who was writing or calling.
    pub by_person_kind: BTreeMap<String, Count>,
    /// Texts and calls together, by hour of the day ("00" to "23", Paris time).
    pub by_hour: BTreeMap<String, Count>,
    /// Texts and calls together, by day of the week ("1" Monday to "7" Sunday, Paris time).
    pub by_weekday: BTreeMap<String, Count>,
    /// Conversations handed over that ended before a listener answered.
    pub abandoned_before_answer: Count,
    /// Texts and calls that ended oriented to a centre or with an appointment booked.
    pub orientations: Count,
}

fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied()
}

/// (channel, outcome, priority, waiting since, assigned at, the contact's kind, state, created at).
type ConversationFacts = (
    String,
    Option<String>,
    i32,
    Option<chrono::NaiveDateTime>,
    Option<chrono::NaiveDateTime>,
    String,
    String,
    chrono::NaiveDateTime,
);

pub fn compute(
    conn: &mut DbConn,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    suppress_below: Option<i64>,
) -> Result<Statistics> {
    let rows: Vec<ConversationFacts> = conversations::table
        .inner_join(contacts::table)
        .filter(conversations::created_at.ge(time::to_db(from)))
        .filter(conversations::created_at.lt(time::to_db(to)))
        .select((
            conversations::channel,
            conversations::outcome,
            conversations::priority,
            conversations::waiting_since,
            conversations::assigned_at,
            contacts::kind,
            conversations::state,
            conversations::created_at,
        ))
        .load(conn)?;
    let calls: Vec<(i32, String, String, chrono::NaiveDateTime)> = phone_calls::table
        .filter(phone_calls::started_at.ge(time::to_db(from)))
        .filter(phone_calls::started_at.lt(time::to_db(to)))
        .select((
            phone_calls::duration_seconds,
            phone_calls::outcome,
            phone_calls::caller_kind,
            phone_calls::started_at,
        ))
        .load(conn)?;

    let suppress = |n: i64| -> Count {
        if suppress_below.is_some_and(|k| n > 0 && n < k) {
            None
        } else {
            Some(n)
        }
    };
    let tally = |items: Vec<String>| -> BTreeMap<String, Count> {
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        for i in items {
            *counts.entry(i).or_default() += 1;
        }
        counts.into_iter().map(|(k, n)| (k, suppress(n))).collect()
    };
    let mut waits: Vec<i64> = rows
        .iter()
        .filter_map(|r| match (r.3, r.4) {
            (Some(waiting), Some(assigned)) if assigned >= waiting => Some((assigned - waiting).num_seconds()),
            _ => None,
        })
        .collect();
    waits.sort_unstable();
    let enough = suppress_below.is_none_or(|k| waits.len() as i64 >= k);
    let handed = rows.iter().filter(|r| r.3.is_some()).count() as i64;
    let mut kinds: Vec<String> = rows.iter().map(|r| r.5.clone()).collect();
    kinds.extend(calls.iter().map(|c| c.2.clone()));
    let paris = chrono_tz::Europe::Paris;
    let moments: Vec<DateTime<chrono_tz::Tz>> = rows
        .iter()
        .map(|r| time::from_db(r.7).with_timezone(&paris))
        .chain(calls.iter().map(|c| time::from_db(c.3).with_timezone(&paris)))
        .collect();
    let oriented = |outcome: &str| matches!(outcome, "oriented_to_centre" | "appointment_booked");
    let minutes: i64 = calls.iter().map(|c| i64::from(c.0)).sum::<i64>() / 60;
    Ok(Statistics {
        from,
        to,
        suppressed_below: suppress_below,
        conversations: suppress(rows.len() as i64),
        conversations_by_channel: tally(rows.iter().map(|r| r.0.clone()).collect()),
        conversations_by_outcome: tally(rows.iter().filter_map(|r| r.1.clone()).collect()),
        urgent_conversations: suppress(rows.iter().filter(|r| r.2 > 0).count() as i64),
        handed_to_listener: suppress(handed),
        wait_seconds_median: if enough { percentile(&waits, 0.5) } else { None },
        wait_seconds_p90: if enough { percentile(&waits, 0.9) } else { None },
        phone_calls: suppress(calls.len() as i64),
        phone_call_minutes: if suppress(calls.len() as i64).is_some() {
            Some(minutes)
        } else {
            None
        },
        phone_calls_by_outcome: tally(calls.iter().map(|c| c.1.clone()).collect()),
        by_person_kind: tally(kinds),
        by_hour: tally(moments.iter().map(|t| t.format("%H").to_string()).collect()),
        by_weekday: tally(moments.iter().map(|t| t.format("%u").to_string()).collect()),
        abandoned_before_answer: suppress(
            rows.iter()
                .filter(|r| r.3.is_some() && r.4.is_none() && r.6 == "closed")
                .count() as i64,
        ),
        orientations: suppress(
            rows.iter().filter(|r| r.1.as_deref().is_some_and(oriented)).count() as i64
                + calls.iter().filter(|c| oriented(&c.1)).count() as i64,
        ),
    })
}

impl Statistics {
    /// One line per figure: `metric,key,value` (an empty value is suppressed).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("metric,key,value\n");
        let cell = |c: &Count| c.map(|n| n.to_string()).unwrap_or_default();
        let plain = |c: &Option<i64>| c.map(|n| n.to_string()).unwrap_or_default();
        let mut line = |metric: &str, key: &str, value: String| out.push_str(&format!("{metric},{key},{value}\n"));
        line("period", "from", self.from.to_rfc3339());
        line("period", "to", self.to.to_rfc3339());
        line("conversations", "", cell(&self.conversations));
        line("urgent_conversations", "", cell(&self.urgent_conversations));
        line("handed_to_listener", "", cell(&self.handed_to_listener));
        line("abandoned_before_answer", "", cell(&self.abandoned_before_answer));
        line("orientations", "", cell(&self.orientations));
        line("wait_seconds_median", "", plain(&self.wait_seconds_median));
        line("wait_seconds_p90", "", plain(&self.wait_seconds_p90));
        line("phone_calls", "", cell(&self.phone_calls));
        line("phone_call_minutes", "", plain(&self.phone_call_minutes));
        for (metric, map) in [
            ("conversations_by_channel", &self.conversations_by_channel),
            ("conversations_by_outcome", &self.conversations_by_outcome),
            ("phone_calls_by_outcome", &self.phone_calls_by_outcome),
            ("by_person_kind", &self.by_person_kind),
            ("by_hour", &self.by_hour),
            ("by_weekday", &self.by_weekday),
        ] {
            for (key, value) in map {
                line(metric, key, cell(value));
            }
        }
        out
    }
}
