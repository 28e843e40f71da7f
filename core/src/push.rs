//! Notifications when the app is closed (Web Push): staff devices' subscriptions, and the
//! notifications owed to them.
//!
//! - **A subscription** is a device's push endpoint and keys (RFC 8030, RFC 8291), given by
//!   the browser to the signed-in user's app. Whoever holds an endpoint can wake the device,
//!   so the endpoint and keys are sealed as one value. A user keeps at most
//!   [`MAX_PER_USER`] devices (the oldest goes); a device subscribing again replaces its row.
//!   Only its owner lists or removes it (anyone else: 404).
//! - **What is pushed** comes from the live events ([`crate::helpline::events`]), in the
//!   transaction that records them: a conversation waiting for a listener, a new referral to
//!   a centre, a new housing request to the platform. A notification names no one and quotes
//!   nothing: its [`Topic`] chooses fixed words, in French then English.
//! - **Who gets it:** the active users of the event's organisation whose roles hear it
//!   ([`Topic::roles`]), as the live socket decides, on devices whose session is alive: a
//!   subscription belongs to the session that made it, and is woken only while that session
//!   is not revoked and can still be renewed (an unused, unexpired refresh token). Logout,
//!   suspension, a password change or twelve hours away end it; the app subscribes again at
//!   login. A stolen token's device is thus woken no longer than the stolen session lives.
//! - **One unsent notification per device and topic:** a second event coalesces into the one
//!   waiting (the push service would replace it anyway: the topic is sent as its `Topic`).
//! - The rows are drained through the one outbox protocol ([`crate::outbox`]).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::access::Caller;
use crate::accounts::model::{OrganisationKind, Role, Roles};
use crate::crypto::{Secrets, open, seal};
use crate::db::schema::{organisations, push_outbox, push_subscriptions, refresh_tokens, sessions, users};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::helpline::events::kind;
use crate::outbox::{self, Claim, Outcome, Status, Table};
use crate::time;

pub const TABLE: Table = Table::new("push_outbox", "created_at");

/// Devices a user may keep subscribed at once.
pub const MAX_PER_USER: i64 = 10;

/// What happened, as a notification says it: fixed words, no name, no quote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// A conversation waits for a listener.
    Queue,
    /// A centre received a referral.
    Referral,
    /// The housing platform received a housing request.
    Housing,
}

impl Topic {
    pub const ALL: [Self; 3] = [Self::Queue, Self::Referral, Self::Housing];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queue => "queue",
            Self::Referral => "referral",
            Self::Housing => "housing",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The notification's words: French, then English.
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            Self::Queue => ("Nouvelle conversation en attente", "A new conversation is waiting"),
            Self::Referral => ("Nouvelle orientation", "A new referral"),
            Self::Housing => ("Nouvelle demande d'hébergement", "A new housing request"),
        }
    }

    /// Where the app opens when the notification is touched (the app routes by its hash).
    pub fn path(self) -> &'static str {
        match self {
            Self::Queue => "/app#/queue",
            Self::Referral => "/app#/inbox",
            Self::Housing => "/app#/housing/requests",
        }
    }

    /// The roles that hear it, within its organisation.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Self::Queue => &[Role::Listener, Role::HelplineSupervisor],
            Self::Referral => &[Role::Practitioner, Role::CentreManager],
            Self::Housing => &[Role::HousingOperator],
        }
    }

    /// The kind of organisation whose staff hear it.
    fn organisation_kind(self) -> OrganisationKind {
        match self {
            Self::Queue => OrganisationKind::Helpline,
            Self::Referral => OrganisationKind::Centre,
            Self::Housing => OrganisationKind::HousingPlatform,
        }
    }
}

/// A device's push subscription as the browser gives it (`PushSubscription.toJSON()`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Endpoint {
    /// The push service's URL for this device.
    pub url: String,
    /// The device's P-256 public key, base64url (65 bytes, uncompressed).
    pub p256dh: String,
    /// The device's authentication secret, base64url (16 bytes).
    pub auth: String,
}

/// A subscription as its owner sees it: which device, since when, last used when. Never the
/// endpoint nor its keys.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Subscription {
    pub id: String,
    pub device: String,
    pub created_at: DateTime<Utc>,
    pub last_sent_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = push_subscriptions)]
struct Row {
    id: String,
    user_id: String,
    organisation_id: String,
    session_id: String,
    subscription_sealed: Vec<u8>,
    device: String,
    created_at: chrono::NaiveDateTime,
    last_sent_at: Option<chrono::NaiveDateTime>,
}

impl Row {
    fn view(&self) -> Subscription {
        Subscription {
            id: self.id.clone(),
            device: self.device.clone(),
            created_at: time::from_db(self.created_at),
            last_sent_at: self.last_sent_at.map(time::from_db),
        }
    }
}

fn context(id: &str) -> String {
    format!("push_subscriptions.subscription:{id}")
}

fn open_endpoint(secrets: &Secrets, row: &Row) -> Result<Endpoint> {
    let plain = open(&secrets.field_key, &context(&row.id), &row.subscription_sealed)
        .map_err(|e| Error::Internal(e.to_string()))?;
    serde_json::from_slice(&plain).map_err(|e| Error::Internal(format!("a push subscription: {e}")))
}

fn seal_endpoint(secrets: &Secrets, id: &str, endpoint: &Endpoint) -> Result<Vec<u8>> {
    let plain = serde_json::to_vec(endpoint).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(seal(&secrets.field_key, &context(id), &plain))
}

fn owner(caller: &Caller) -> Result<String> {
    caller
        .user_id()
        .map(|u| u.to_string())
        .ok_or_else(|| Error::Forbidden("a device subscribes for a signed-in person, not a partner key".into()))
}

fn mine(conn: &mut DbConn, user: &str) -> Result<Vec<Row>> {
    Ok(push_subscriptions::table
        .filter(push_subscriptions::user_id.eq(user))
        .order(push_subscriptions::created_at.asc())
        .select(Row::as_select())
        .load(conn)?)
}

/// Subscribes the caller's device for the caller's session (the endpoint is checked by the
/// edge). The same endpoint again replaces its keys and label and moves to this session; an
/// eleventh device replaces the oldest. Audited.
pub fn subscribe(
    conn: &mut DbConn,
    secrets: &Secrets,
    caller: &Caller,
    session: &str,
    endpoint: &Endpoint,
    device: &str,
    now: DateTime<Utc>,
) -> Result<(Subscription, bool)> {
    let user = owner(caller)?;
    write_tx(conn, |conn| {
        // One subscribe at a time per person (two tabs, two taps): on PostgreSQL the user's
        // row is locked before their devices are read, so the same endpoint is never added
        // twice and the cap holds. SQLite has one writer at a time already.
        if let DbConn::Pg(pg) = conn {
            users::table
                .find(&user)
                .select(users::id)
                .for_update()
                .first::<String>(pg)?;
        }
        let rows = mine(conn, &user)?;
        let same = rows
            .iter()
            .find(|r| open_endpoint(secrets, r).is_ok_and(|e| e.url == endpoint.url));
        let stamp = time::to_db(now);
        let (row, created) = match same {
            Some(existing) => {
                let sealed = seal_endpoint(secrets, &existing.id, endpoint)?;
                diesel::update(push_subscriptions::table.find(&existing.id))
                    .set((
                        push_subscriptions::subscription_sealed.eq(&sealed),
                        push_subscriptions::device.eq(device),
                        push_subscriptions::session_id.eq(session),
                    ))
                    .execute(conn)?;
                let mut row = existing.clone();
                row.subscription_sealed = sealed;
                session.clone_into(&mut row.session_id);
                device.clone_into(&mut row.device);
                (row, false)
            }
            None => {
                let extra = usize::try_from(MAX_PER_USER - 1).unwrap_or(0);
                for oldest in rows.iter().take(rows.len().saturating_sub(extra)) {
                    remove_row(conn, &oldest.id)?;
                }
                let id = uuid::Uuid::new_v4().to_string();
                let row = Row {
                    subscription_sealed: seal_endpoint(secrets, &id, endpoint)?,
                    id,
                    user_id: user.clone(),
                    organisation_id: caller.organisation_id.to_string(),
                    session_id: session.to_owned(),
                    device: device.to_owned(),
                    created_at: stamp,
                    last_sent_at: None,
                };
                diesel::insert_into(push_subscriptions::table)
                    .values(&row)
                    .execute(conn)?;
                (row, true)
            }
        };
        crate::audit::record(
            conn,
            &caller.actor(),
            crate::audit::Entry::new(if created { "push.subscribe" } else { "push.renew" })
                .object("push_subscription", &row.id),
        )?;
        Ok((row.view(), created))
    })
}

/// The caller's devices, oldest first.
pub fn list(conn: &mut DbConn, caller: &Caller) -> Result<Vec<Subscription>> {
    let user = owner(caller)?;
    Ok(mine(conn, &user)?.iter().map(Row::view).collect())
}

/// Removes one of the caller's devices; anyone else's, or none: 404. Audited.
pub fn unsubscribe(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<()> {
    let user = owner(caller)?;
    write_tx(conn, |conn| {
        let found = push_subscriptions::table
            .find(id)
            .filter(push_subscriptions::user_id.eq(&user))
            .select(push_subscriptions::id)
            .first::<String>(conn)
            .optional()?
            .ok_or(Error::NotFound)?;
        remove_row(conn, &found)?;
        crate::audit::record(
            conn,
            &caller.actor(),
            crate::audit::Entry::new("push.unsubscribe").object("push_subscription", &found),
        )?;
        Ok(())
    })
}

/// Removes a subscription and what is still owed to it.
fn remove_row(conn: &mut DbConn, id: &str) -> Result<()> {
    diesel::delete(push_outbox::table.filter(push_outbox::subscription_id.eq(id))).execute(conn)?;
    diesel::delete(push_subscriptions::table.find(id)).execute(conn)?;
    Ok(())
}

/// The topic a live event pushes, if any: the queue for the helpline's queue events, a
/// referral to a centre, a housing request (a referral to the housing platform).
fn topic_of(
    conn: &mut DbConn,
    event_kind: &str,
    organisation_id: Option<&str>,
) -> Result<Option<(Topic, Option<String>)>> {
    Ok(match (event_kind, organisation_id) {
        (kind::QUEUE | kind::REQUEUED, None) => Some((Topic::Queue, None)),
        (kind::REFERRAL_NEW, Some(org)) => {
            let kind_text: Option<String> = organisations::table
                .find(org)
                .select(organisations::kind)
                .first(conn)
                .optional()?;
            match kind_text.as_deref() {
                Some(k) if k == OrganisationKind::Centre.as_str() => Some((Topic::Referral, Some(org.to_owned()))),
                Some(k) if k == OrganisationKind::HousingPlatform.as_str() => {
                    Some((Topic::Housing, Some(org.to_owned())))
                }
                _ => None,
            }
        }
        _ => None,
    })
}

/// Called in the transaction that records a live event: owes each device that hears it one
/// notification (coalesced with one still waiting for the same device and topic).
pub(crate) fn on_event(
    conn: &mut DbConn,
    event_kind: &str,
    organisation_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    if !matches!(event_kind, kind::QUEUE | kind::REQUEUED | kind::REFERRAL_NEW) {
        return Ok(());
    }
    let Some((topic, organisation)) = topic_of(conn, event_kind, organisation_id)? else {
        return Ok(());
    };
    let stamp = time::to_db(now);
    let renewable = refresh_tokens::table
        .filter(refresh_tokens::session_id.eq(push_subscriptions::session_id))
        .filter(refresh_tokens::used_at.is_null())
        .filter(refresh_tokens::expires_at.gt(stamp));
    let mut query = push_subscriptions::table
        .inner_join(users::table.on(users::id.eq(push_subscriptions::user_id)))
        .inner_join(organisations::table.on(organisations::id.eq(push_subscriptions::organisation_id)))
        .inner_join(sessions::table.on(sessions::id.eq(push_subscriptions::session_id)))
        .filter(sessions::revoked_at.is_null())
        .filter(diesel::dsl::exists(renewable))
        .filter(users::active.eq(true))
        .filter(organisations::active.eq(true))
        .filter(organisations::kind.eq(topic.organisation_kind().as_str()))
        .filter(users::organisation_id.eq(push_subscriptions::organisation_id))
        .select((push_subscriptions::id, users::roles))
        .into_boxed();
    if let Some(org) = &organisation {
        query = query.filter(push_subscriptions::organisation_id.eq(org));
    }
    let devices: Vec<(String, String)> = query.load(conn)?;
    for (subscription, roles) in devices {
        let roles = Roles::from_db(&roles);
        if !topic.roles().iter().any(|r| roles.contains(*r)) {
            continue;
        }
        let waiting: i64 = push_outbox::table
            .filter(push_outbox::subscription_id.eq(&subscription))
            .filter(push_outbox::topic.eq(topic.as_str()))
            .filter(push_outbox::status.eq(TABLE.spell(Status::Pending)))
            .count()
            .get_result(conn)?;
        if waiting > 0 {
            continue;
        }
        diesel::insert_into(push_outbox::table)
            .values(&Owed {
                id: uuid::Uuid::new_v4().to_string(),
                subscription_id: subscription,
                topic: topic.as_str().to_owned(),
                status: TABLE.spell(Status::Pending).to_owned(),
                attempts: 0,
                next_attempt_at: stamp,
                locked_until: None,
                claim_token: None,
                last_error: None,
                created_at: stamp,
                sent_at: None,
            })
            .execute(conn)?;
        outbox::mark_enqueued(&TABLE);
    }
    Ok(())
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = push_outbox)]
struct Owed {
    id: String,
    subscription_id: String,
    topic: String,
    status: String,
    attempts: i32,
    next_attempt_at: chrono::NaiveDateTime,
    locked_until: Option<chrono::NaiveDateTime>,
    claim_token: Option<String>,
    last_error: Option<String>,
    created_at: chrono::NaiveDateTime,
    sent_at: Option<chrono::NaiveDateTime>,
}

/// A notification a worker holds: where it goes (opened) and what it says. `endpoint` is
/// None when the device unsubscribed meanwhile.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub claim: Claim,
    pub subscription_id: String,
    pub topic: Topic,
    pub endpoint: Option<Endpoint>,
}

/// How long a notification is worth sending (the push services are asked to keep it as
/// long, and no longer).
pub const TTL: Duration = Duration::hours(1);

/// Whether a device may still be woken: its owner active, in an active organisation, its
/// session not revoked and still renewable. Checked when a notification is owed, and again
/// when it is sent (a logout or a suspension in between stops it).
fn alive(conn: &mut DbConn, subscription: &str, now: DateTime<Utc>) -> Result<bool> {
    let stamp = time::to_db(now);
    let renewable = refresh_tokens::table
        .filter(refresh_tokens::session_id.eq(push_subscriptions::session_id))
        .filter(refresh_tokens::used_at.is_null())
        .filter(refresh_tokens::expires_at.gt(stamp));
    let found: i64 = push_subscriptions::table
        .inner_join(users::table.on(users::id.eq(push_subscriptions::user_id)))
        .inner_join(organisations::table.on(organisations::id.eq(push_subscriptions::organisation_id)))
        .inner_join(sessions::table.on(sessions::id.eq(push_subscriptions::session_id)))
        .filter(push_subscriptions::id.eq(subscription))
        .filter(sessions::revoked_at.is_null())
        .filter(diesel::dsl::exists(renewable))
        .filter(users::active.eq(true))
        .filter(organisations::active.eq(true))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

/// Claims up to `limit` due notifications for `lease`. A notification older than [`TTL`], or
/// for a device that may no longer be woken (or is gone), is dropped instead: deleted, not
/// counted as failed.
pub fn claim(
    conn: &mut DbConn,
    secrets: &Secrets,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> Result<Vec<Outgoing>> {
    write_tx(conn, |conn| {
        let claims = outbox::claim_due(conn, &TABLE, now, lease, limit)?;
        let mut claimed = Vec::with_capacity(claims.len());
        for claim in claims {
            let owed = push_outbox::table
                .find(&claim.id)
                .select(Owed::as_select())
                .first(conn)?;
            let row = push_subscriptions::table
                .find(&owed.subscription_id)
                .select(Row::as_select())
                .first(conn)
                .optional()?;
            let endpoint = row.as_ref().and_then(|r| open_endpoint(secrets, r).ok());
            let stale = time::from_db(owed.created_at) + TTL < now;
            if stale || endpoint.is_none() || !alive(conn, &owed.subscription_id, now)? {
                diesel::delete(push_outbox::table.find(&claim.id)).execute(conn)?;
                continue;
            }
            claimed.push(Outgoing {
                claim,
                topic: Topic::parse(&owed.topic).unwrap_or(Topic::Queue),
                endpoint,
                subscription_id: owed.subscription_id,
            });
        }
        Ok(claimed)
    })
}

/// What the push service answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Accepted (201).
    Accepted,
    /// The subscription is gone (404, 410): it is removed, with what it was owed.
    Gone,
    /// Failed: retried by the outbox's policy, or given up.
    Failed(Outcome),
}

/// Records a notification's fate; false when the claim no longer holds it.
pub fn record(conn: &mut DbConn, message: &Outgoing, delivery: &Delivery, now: DateTime<Utc>) -> Result<bool> {
    write_tx(conn, |conn| {
        let outcome = match delivery {
            Delivery::Accepted => Outcome::Sent,
            Delivery::Gone => Outcome::Dead("the device is no longer subscribed".into()),
            Delivery::Failed(outcome) => outcome.clone(),
        };
        let settled = outbox::settle(conn, &TABLE, &message.claim, &outcome, now)?;
        if settled {
            match delivery {
                Delivery::Accepted => {
                    diesel::update(push_subscriptions::table.find(&message.subscription_id))
                        .set(push_subscriptions::last_sent_at.eq(Some(time::to_db(now))))
                        .execute(conn)?;
                }
                // A device that unsubscribed is an ordinary event, not a failure: it goes, with
                // everything owed to it (this notification included).
                Delivery::Gone => remove_row(conn, &message.subscription_id)?,
                Delivery::Failed(_) => {}
            }
        }
        Ok(settled)
    })
}

/// Notifications by status (`pending`, `sending`, `sent`, `failed`), for the metrics.
pub fn count_by_status(conn: &mut DbConn) -> Result<Vec<(String, i64)>> {
    use diesel::dsl::count_star;
    Ok(push_outbox::table
        .group_by(push_outbox::status)
        .select((push_outbox::status, count_star()))
        .load(conn)?)
}

/// Erases the notifications sent or given up before `before`, and the devices of sessions
/// that were revoked (logout, suspension, a password change) or of people no longer active:
/// their sealed endpoints are kept no longer than they can be used.
pub fn purge(conn: &mut DbConn, before: DateTime<Utc>) -> Result<usize> {
    let revoked = sessions::table
        .filter(sessions::revoked_at.is_not_null())
        .select(sessions::id);
    let inactive = users::table.filter(users::active.eq(false)).select(users::id);
    let dead: Vec<String> = push_subscriptions::table
        .filter(
            push_subscriptions::session_id
                .eq_any(revoked)
                .or(push_subscriptions::user_id.eq_any(inactive)),
        )
        .select(push_subscriptions::id)
        .load(conn)?;
    for id in &dead {
        remove_row(conn, id)?;
    }
    Ok(outbox::purge(conn, &TABLE, before)? + dead.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_reads_back_and_names_no_one() {
        for topic in Topic::ALL {
            assert_eq!(Topic::parse(topic.as_str()), Some(topic));
            let (fr, en) = topic.words();
            assert!(!fr.is_empty() && !en.is_empty());
            assert!(topic.path().starts_with("/app#/"));
            assert!(!topic.roles().is_empty());
        }
        assert_eq!(Topic::parse("other"), None);
    }
}
