//! A partner's webhook endpoint and the messages owed to it. A message is a row written in
//! the transaction of its cause; a worker on any instance claims it (compare-and-set and a
//! lease), posts it signed, logs the attempt, and retries on a schedule until it is
//! delivered or dead. A dead message waits for the partner to replay it.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::access::Caller;
use crate::accounts::model::OrganisationKind;
use crate::audit::{self, Entry};
use crate::crypto::{self, Secrets};
use crate::db::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::outbox::{self, Claim, Outcome, RetryPolicy, Table};
use crate::page::{Cursor, Page, PageRequest};
use crate::time;

/// Partners' messages in the one outbox protocol. A message waits while its partner has no
/// endpoint, and is purged with its delivery log, even unsent, after the delay.
pub const TABLE: Table = Table {
    sent: "delivered",
    dead: "dead",
    sent_at: Some("delivered_at"),
    purge_waiting: true,
    children: &[("webhook_attempts", "delivery_id")],
    ready: " AND organisation_id IN (SELECT organisation_id FROM webhook_endpoints)",
    ..Table::new("webhook_deliveries", "created_at")
};

// The statuses as partners read them: the table's spelling of the protocol's statuses.
string_enum!(DeliveryStatus {
    Pending => "pending",
    Sending => "sending",
    Delivered => "delivered",
    Dead => "dead",
});

fn secret_context(organisation: &str) -> String {
    format!("webhook_endpoints.secret:{organisation}")
}

/// Only a partner, by its own key, manages its endpoint and reads its deliveries.
fn partner_organisation(caller: &Caller) -> Result<String> {
    if !caller.is_partner() || caller.organisation_kind != OrganisationKind::Partner {
        return Err(Error::Forbidden("a partner's API key manages its webhooks".into()));
    }
    Ok(caller.organisation_id.to_string())
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Endpoint {
    pub url: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Sets (or replaces) the caller's endpoint with a new signing secret, shown this once.
/// `url` has been checked at the edge.
pub fn set_endpoint(conn: &mut DbConn, secrets: &Secrets, caller: &Caller, url: &str) -> Result<(Endpoint, String)> {
    let organisation = partner_organisation(caller)?;
    let secret = super::signature::new_secret();
    let sealed = crypto::seal(&secrets.field_key, &secret_context(&organisation), secret.as_bytes());
    let now = time::to_db(time::now());
    write_tx(conn, |conn| {
        let existing: Option<chrono::NaiveDateTime> = webhook_endpoints::table
            .find(&organisation)
            .select(webhook_endpoints::created_at)
            .first(conn)
            .optional()?;
        diesel::delete(webhook_endpoints::table.find(&organisation)).execute(conn)?;
        diesel::insert_into(webhook_endpoints::table)
            .values((
                webhook_endpoints::organisation_id.eq(&organisation),
                webhook_endpoints::url.eq(url),
                webhook_endpoints::secret_sealed.eq(&sealed),
                webhook_endpoints::created_at.eq(existing.unwrap_or(now)),
                webhook_endpoints::updated_at.eq(now),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("webhook.endpoint.set").object("organisation", &organisation),
        )?;
        Ok((
            Endpoint {
                url: url.to_owned(),
                created_at: time::from_db(existing.unwrap_or(now)),
                updated_at: time::from_db(now),
            },
            secret.clone(),
        ))
    })
}

pub fn endpoint(conn: &mut DbConn, caller: &Caller) -> Result<Endpoint> {
    let organisation = partner_organisation(caller)?;
    let (url, created_at, updated_at): (String, chrono::NaiveDateTime, chrono::NaiveDateTime) =
        webhook_endpoints::table
            .find(&organisation)
            .select((
                webhook_endpoints::url,
                webhook_endpoints::created_at,
                webhook_endpoints::updated_at,
            ))
            .first(conn)
            .optional()?
            .ok_or(Error::NotFound)?;
    Ok(Endpoint {
        url,
        created_at: time::from_db(created_at),
        updated_at: time::from_db(updated_at),
    })
}

/// Removes the endpoint; messages not yet delivered stay, and go nowhere until one is set.
pub fn remove_endpoint(conn: &mut DbConn, caller: &Caller) -> Result<()> {
    let organisation = partner_organisation(caller)?;
    write_tx(conn, |conn| {
        let removed = diesel::delete(webhook_endpoints::table.find(&organisation)).execute(conn)?;
        if removed == 0 {
            return Err(Error::NotFound);
        }
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("webhook.endpoint.remove").object("organisation", &organisation),
        )?;
        Ok(())
    })
}

/// Partner messages by delivery status, over all partners (for `/metrics`).
pub fn count_by_status(conn: &mut DbConn) -> Result<Vec<(String, i64)>> {
    use diesel::dsl::count_star;
    Ok(webhook_deliveries::table
        .group_by(webhook_deliveries::status)
        .select((webhook_deliveries::status, count_star()))
        .load(conn)?)
}

/// Owes `organisation` a message. Call inside the transaction of the cause. The payload
/// follows the Standard Webhooks shape: `type`, `timestamp`, `data`. Without an endpoint the
/// message waits for one (until the retention purge). `case_id` names the case it follows
/// from, so the case's erasure removes it.
pub fn enqueue(
    conn: &mut DbConn,
    organisation: &str,
    case_id: Option<&str>,
    event_type: &str,
    data: serde_json::Value,
) -> Result<()> {
    write_tx(conn, |conn| {
        let now = time::now();
        let payload = serde_json::json!({
            "type": event_type,
            "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "data": data,
        });
        diesel::insert_into(webhook_deliveries::table)
            .values((
                webhook_deliveries::id.eq(format!("msg_{}", uuid::Uuid::new_v4().simple())),
                webhook_deliveries::organisation_id.eq(organisation),
                webhook_deliveries::case_id.eq(case_id),
                webhook_deliveries::event_type.eq(event_type),
                webhook_deliveries::payload.eq(payload.to_string()),
                webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
                webhook_deliveries::attempts.eq(0),
                webhook_deliveries::next_attempt_at.eq(time::to_db(now)),
                webhook_deliveries::created_at.eq(time::to_db(now)),
            ))
            .execute(conn)?;
        outbox::mark_enqueued(&TABLE);
        Ok(())
    })
}

/// A message claimed for sending, with where and how to sign it.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub id: String,
    pub url: String,
    pub secret: String,
    pub payload: String,
    /// This attempt's number, from 1.
    pub attempt: i32,
    /// The claim: only it records the outcome.
    pub claim: Claim,
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
struct Row {
    id: String,
    organisation_id: String,
    event_type: String,
    payload: String,
    status: String,
    attempts: i32,
    next_attempt_at: chrono::NaiveDateTime,
    last_status: Option<i32>,
    last_error: Option<String>,
    created_at: chrono::NaiveDateTime,
    delivered_at: Option<chrono::NaiveDateTime>,
}

/// Claims up to `limit` due messages for `lease` (a crashed sender's come back after it).
/// Messages of a partner without an endpoint wait.
pub fn claim(
    conn: &mut DbConn,
    secrets: &Secrets,
    limit: i64,
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<Outgoing>> {
    write_tx(conn, |conn| {
        let mut claimed = Vec::new();
        for id in outbox::due_ids(conn, &TABLE, now, limit)? {
            let Some(claim) = outbox::claim(conn, &TABLE, &id, now, lease)? else {
                continue;
            };
            let found: Option<(Row, String, Vec<u8>)> = webhook_deliveries::table
                .inner_join(
                    webhook_endpoints::table
                        .on(webhook_endpoints::organisation_id.eq(webhook_deliveries::organisation_id)),
                )
                .filter(webhook_deliveries::id.eq(&id))
                .select((
                    Row::as_select(),
                    webhook_endpoints::url,
                    webhook_endpoints::secret_sealed,
                ))
                .first(conn)
                .optional()?;
            let Some((row, url, sealed)) = found else {
                // The endpoint went meanwhile: the message waits for the next one.
                outbox::release(conn, &TABLE, &claim)?;
                continue;
            };
            let Ok(secret) = crypto::open(&secrets.field_key, &secret_context(&row.organisation_id), &sealed) else {
                // One unreadable secret must not stop every partner's messages.
                tracing::error!(delivery = %row.id, "webhook: the endpoint's secret cannot be opened; dead letter");
                let dead = Outcome::Dead("the signing secret cannot be opened".into());
                outbox::settle(conn, &TABLE, &claim, &dead, now)?;
                continue;
            };
            claimed.push(Outgoing {
                id: row.id,
                url,
                secret: String::from_utf8(secret).map_err(|e| Error::Internal(e.to_string()))?,
                payload: row.payload,
                attempt: claim.attempts + 1,
                claim,
            });
        }
        Ok(claimed)
    })
}

/// What one attempt gave.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}

/// Logs an attempt; the message is delivered, retried as `policy` says, or dead when its
/// attempts are spent.
pub fn record(
    conn: &mut DbConn,
    outgoing: &Outgoing,
    attempt: &Attempt,
    policy: &RetryPolicy,
    now: DateTime<Utc>,
) -> Result<DeliveryStatus> {
    write_tx(conn, |conn| {
        let error = attempt
            .error
            .as_deref()
            .map(|e| e.chars().take(300).collect::<String>());
        diesel::insert_into(webhook_attempts::table)
            .values((
                webhook_attempts::id.eq(uuid::Uuid::new_v4().to_string()),
                webhook_attempts::delivery_id.eq(&outgoing.id),
                webhook_attempts::attempted_at.eq(time::to_db(now)),
                webhook_attempts::status_code.eq(attempt.status_code.map(i32::from)),
                webhook_attempts::error.eq(&error),
                webhook_attempts::duration_ms.eq(attempt.duration_ms),
            ))
            .execute(conn)?;
        let outcome = if attempt.succeeded() {
            Outcome::Sent
        } else {
            policy.failed(&outgoing.claim, now, error.as_deref().unwrap_or("failed"))
        };
        if !outbox::settle(conn, &TABLE, &outgoing.claim, &outcome, now)? {
            // Another claim owns the message now (our lease ran out, or it was replayed):
            // the attempt is logged, its outcome is not ours to record.
            return Ok(DeliveryStatus::Sending);
        }
        diesel::update(webhook_deliveries::table.find(&outgoing.id))
            .set((
                webhook_deliveries::last_status.eq(attempt.status_code.map(i32::from)),
                webhook_deliveries::last_error.eq(&error),
            ))
            .execute(conn)?;
        Ok(match outcome {
            Outcome::Sent => DeliveryStatus::Delivered,
            Outcome::Dead(_) => {
                tracing::warn!(delivery = %outgoing.id, "webhook: dead letter after the last retry");
                DeliveryStatus::Dead
            }
            Outcome::Retry { .. } | Outcome::Defer { .. } => DeliveryStatus::Pending,
        })
    })
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct AttemptView {
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Delivery {
    pub id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub payload: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<Vec<AttemptView>>,
}

fn view(row: Row, log: Option<Vec<AttemptView>>) -> Result<Delivery> {
    let status: DeliveryStatus = row.status.parse()?;
    Ok(Delivery {
        next_attempt_at: (status == DeliveryStatus::Pending).then(|| time::from_db(row.next_attempt_at)),
        status,
        id: row.id,
        event_type: row.event_type,
        attempts: row.attempts,
        last_status: row.last_status,
        last_error: row.last_error,
        created_at: time::from_db(row.created_at),
        delivered_at: row.delivered_at.map(time::from_db),
        payload: serde_json::from_str(&row.payload).map_err(|e| Error::Internal(e.to_string()))?,
        log,
    })
}

/// The caller's messages, newest first, by pages (keyset on the creation time and the id).
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    status: Option<DeliveryStatus>,
    page: &PageRequest,
) -> Result<Page<Delivery>> {
    let organisation = partner_organisation(caller)?;
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::organisation_id.eq(&organisation))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(webhook_deliveries::status.eq(status.as_str()));
    }
    query = crate::after_cursor!(
        query,
        page,
        webhook_deliveries::created_at,
        webhook_deliveries::id,
        desc
    );
    let rows: Vec<Row> = query
        .order((webhook_deliveries::created_at.desc(), webhook_deliveries::id.desc()))
        .limit(page.fetch())
        .select(Row::as_select())
        .load(conn)?;
    Page::from_rows(rows, page, |r| Cursor::at(r.created_at, &r.id), |r| view(r, None))
}

fn load_own(conn: &mut DbConn, organisation: &str, id: &str) -> Result<Row> {
    webhook_deliveries::table
        .find(id)
        .filter(webhook_deliveries::organisation_id.eq(organisation))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)
}

/// One message with its delivery log.
pub fn get(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<Delivery> {
    let organisation = partner_organisation(caller)?;
    let row = load_own(conn, &organisation, id)?;
    let log = webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq(id))
        .order(webhook_attempts::attempted_at.asc())
        .select((
            webhook_attempts::attempted_at,
            webhook_attempts::status_code,
            webhook_attempts::error,
        ))
        .load::<(chrono::NaiveDateTime, Option<i32>, Option<String>)>(conn)?
        .into_iter()
        .map(|(at, status_code, error)| AttemptView {
            attempted_at: time::from_db(at),
            status_code,
            error,
        })
        .collect();
    view(row, Some(log))
}

/// Sends a dead (or delivered) message again, with the same id so the partner can tell a
/// replay from a new event; its schedule starts over.
pub fn replay(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<Delivery> {
    let organisation = partner_organisation(caller)?;
    write_tx(conn, |conn| {
        let row = load_own(conn, &organisation, id)?;
        let status: DeliveryStatus = row.status.parse()?;
        if !matches!(status, DeliveryStatus::Dead | DeliveryStatus::Delivered) {
            return Err(Error::Conflict(format!(
                "a {} message is already on its way",
                status.as_str()
            )));
        }
        let updated = diesel::update(
            webhook_deliveries::table
                .find(id)
                .filter(webhook_deliveries::status.eq(status.as_str())),
        )
        .set((
            webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(time::to_db(time::now())),
            webhook_deliveries::locked_until.eq(None::<chrono::NaiveDateTime>),
            webhook_deliveries::claim_token.eq(None::<String>),
            webhook_deliveries::delivered_at.eq(None::<chrono::NaiveDateTime>),
        ))
        .execute(conn)?;
        if updated == 0 {
            return Err(Error::Conflict("the message is already on its way again".into()));
        }
        audit::record(
            conn,
            &caller.actor(),
            Entry::new("webhook.replay").object("webhook_delivery", id),
        )?;
        view(load_own(conn, &organisation, id)?, None)
    })
}

/// Removes messages (and their delivery logs) older than `before`, except those being sent.
pub fn purge(conn: &mut DbConn, before: DateTime<Utc>) -> Result<usize> {
    outbox::purge(conn, &TABLE, before)
}

fn erase_rows(conn: &mut DbConn, ids: &[String]) -> Result<usize> {
    write_tx(conn, |conn| {
        diesel::delete(webhook_attempts::table.filter(webhook_attempts::delivery_id.eq_any(ids))).execute(conn)?;
        Ok(diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(ids))).execute(conn)?)
    })
}

/// Removes the messages that follow from a case, at its erasure.
pub(crate) fn erase_for_case(conn: &mut DbConn, case_id: &str) -> Result<usize> {
    write_tx(conn, |conn| {
        let ids: Vec<String> = webhook_deliveries::table
            .filter(webhook_deliveries::case_id.eq(case_id))
            .select(webhook_deliveries::id)
            .load(conn)?;
        erase_rows(conn, &ids)
    })
}
