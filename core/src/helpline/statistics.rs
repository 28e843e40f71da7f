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
}

fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied()
}

/// (channel, outcome, priority, waiting since, assigned at, the contact's kind).
type ConversationFacts = (
    String,
    Option<String>,
    i32,
    Option<chrono::NaiveDateTime>,
    Option<chrono::NaiveDateTime>,
    String,
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
        ))
        .load(conn)?;
    let calls: Vec<(i32, String, String)> = phone_calls::table
        .filter(phone_calls::started_at.ge(time::to_db(from)))
        .filter(phone_calls::started_at.lt(time::to_db(to)))
        .select((
            phone_calls::duration_seconds,
            phone_calls::outcome,
            phone_calls::caller_kind,
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
    })
}
