//! Probing has a shape. Offer creates and moves are limited per account and per offer, and
//! what an account does that probing is made of (offers created close together, one offer
//! moved again and again, one request's proposals asked while offers change, placements
//! refused) is counted. Past a threshold a security alert is stored, audited, published live
//! to the platform's administrators and national coordinators and emailed; past the hard
//! threshold (threshold × suspend factor) the account is suspended pending an administrator.
//! Counts and alerts carry ids only, never a person.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::access::{Actor, Caller};
use crate::accounts::model::Role;
use crate::audit::{self, Entry};
use crate::db::schema::{security_activity, security_alerts, users};
use crate::db::{DbConn, lock_for_sequence, write_tx};
use crate::error::{Error, Result};
use crate::housing::geometry::LatLon;
use crate::page::{Cursor, Page, PageRequest};
use crate::time;

/// The limits on offers and the thresholds of the alerts (configuration).
#[derive(Clone, Debug)]
pub struct Watch {
    /// Offers one account may create in an hour.
    pub offer_creates_per_hour: i64,
    /// Moves (position or commune) of one offer in a day.
    pub offer_moves_per_day: i64,
    /// Moves one account may make in an hour, all offers together.
    pub offer_moves_per_hour: i64,
    /// How far back the alerts count, in seconds.
    pub window_seconds: i64,
    /// Offers created by one account within `cluster_km` of each other that raise an alert.
    pub cluster_offers: i64,
    pub cluster_km: f64,
    /// Moves of one offer that raise an alert.
    pub offer_moves: i64,
    /// Times one request's proposals are asked, each after offers changed, that raise an alert.
    pub proposal_changes: i64,
    /// Refused placements or extensions that raise an alert.
    pub refusals: i64,
    /// Past threshold × this factor, the account is suspended.
    pub suspend_factor: i64,
    /// Who is emailed each alert.
    pub recipients: Vec<String>,
}

impl Default for Watch {
    fn default() -> Self {
        Self {
            offer_creates_per_hour: 30,
            offer_moves_per_day: 10,
            offer_moves_per_hour: 30,
            window_seconds: 7 * 24 * 3600,
            cluster_offers: 15,
            cluster_km: 5.0,
            offer_moves: 8,
            proposal_changes: 10,
            refusals: 5,
            suspend_factor: 3,
            recipients: Vec::new(),
        }
    }
}

string_enum!(AlertKind {
    OfferCluster => "offer_cluster",
    OfferMoves => "offer_moves",
    ProposalProbing => "proposal_probing",
    PlacementRefusals => "placement_refusals",
});

impl AlertKind {
    fn threshold(self, watch: &Watch) -> i64 {
        match self {
            Self::OfferCluster => watch.cluster_offers,
            Self::OfferMoves => watch.offer_moves,
            Self::ProposalProbing => watch.proposal_changes,
            Self::PlacementRefusals => watch.refusals,
        }
    }
    fn words(self) -> &'static str {
        match self {
            Self::OfferCluster => "de nombreuses offres créées au même endroit / many offers created close together",
            Self::OfferMoves => "une offre déplacée à répétition / one offer moved repeatedly",
            Self::ProposalProbing => {
                "les propositions d'une demande lues à répétition pendant que les offres changent / one request's proposals asked repeatedly while offers change"
            }
            Self::PlacementRefusals => "de nombreux placements refusés / many refused placements",
        }
    }
}

/// What is counted.
mod activity {
    pub const OFFER_CREATE: &str = "offer.create";
    pub const OFFER_MOVE: &str = "offer.move";
    pub const PROPOSALS: &str = "proposals.read";
    pub const REFUSAL: &str = "placement.refused";
}

#[derive(Clone, Debug, serde::Serialize, Queryable, Selectable)]
#[diesel(table_name = security_alerts)]
struct AlertRow {
    id: String,
    kind: String,
    account_id: String,
    organisation_id: Option<String>,
    subject_id: Option<String>,
    count: i64,
    threshold: i64,
    suspended: bool,
    created_at: chrono::NaiveDateTime,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Alert {
    pub id: String,
    pub kind: AlertKind,
    pub description: String,
    pub account_id: String,
    pub organisation_id: Option<String>,
    /// The offer or request the behaviour concerns, if one.
    pub subject_id: Option<String>,
    pub count: i64,
    pub threshold: i64,
    /// Whether the account was suspended by this alert.
    pub suspended: bool,
    pub created_at: DateTime<Utc>,
}

fn view(r: AlertRow) -> Result<Alert> {
    let kind: AlertKind = r.kind.parse()?;
    Ok(Alert {
        kind,
        description: kind.words().into(),
        id: r.id,
        account_id: r.account_id,
        organisation_id: r.organisation_id,
        subject_id: r.subject_id,
        count: r.count,
        threshold: r.threshold,
        suspended: r.suspended,
        created_at: time::from_db(r.created_at),
    })
}

/// The account counted: a staff user (partner keys do not manage offers).
fn account(caller: &Caller) -> Option<String> {
    caller.user_id().map(|u| u.to_string())
}

/// One account's counts at a time (PostgreSQL; SQLite holds the write lock already).
fn lock_account(conn: &mut DbConn, account: &str) -> Result<()> {
    let digest = crate::crypto::sha256_hex(format!("security:{account}").as_bytes());
    let key = i64::from_str_radix(&digest[..15], 16).unwrap_or(0);
    lock_for_sequence(conn, key)?;
    Ok(())
}

fn note(
    conn: &mut DbConn,
    account: &str,
    kind: &str,
    subject: Option<&str>,
    at: Option<LatLon>,
    version: Option<i64>,
) -> Result<()> {
    write_tx(conn, |conn| {
        diesel::insert_into(security_activity::table)
            .values((
                security_activity::id.eq(uuid::Uuid::new_v4().to_string()),
                security_activity::account_id.eq(account),
                security_activity::kind.eq(kind),
                security_activity::subject_id.eq(subject),
                security_activity::latitude.eq(at.map(|p| p.lat)),
                security_activity::longitude.eq(at.map(|p| p.lon)),
                security_activity::version.eq(version),
                security_activity::at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// The times of an account's (or an offer's) activity of one kind since `since`, oldest first.
fn times(
    conn: &mut DbConn,
    account: Option<&str>,
    subject: Option<&str>,
    kind: &str,
    since: DateTime<Utc>,
) -> Result<Vec<chrono::NaiveDateTime>> {
    let mut q = security_activity::table
        .filter(security_activity::kind.eq(kind))
        .filter(security_activity::at.ge(time::to_db(since)))
        .select(security_activity::at)
        .order(security_activity::at.asc())
        .into_boxed();
    if let Some(a) = account {
        q = q.filter(security_activity::account_id.eq(a.to_owned()));
    }
    if let Some(s) = subject {
        q = q.filter(security_activity::subject_id.eq(s.to_owned()));
    }
    Ok(q.load(conn)?)
}

/// Refuses with 429 when `limit` acts already happened in the last `period`; the retry
/// delay is when the oldest of them leaves the period.
fn limit(stamps: &[chrono::NaiveDateTime], limit: i64, period: Duration, now: DateTime<Utc>) -> Result<()> {
    if i64::try_from(stamps.len()).unwrap_or(i64::MAX) < limit.max(0) {
        return Ok(());
    }
    let oldest = stamps.first().map(|t| time::from_db(*t)).unwrap_or(now);
    let retry = (oldest + period - now).num_seconds().max(1);
    Err(Error::TooManyRequests {
        retry_after_secs: retry,
    })
}

/// Before an offer is created: the account's hourly limit. After it, in the same
/// transaction, [`offer_created`].
pub fn check_offer_create(conn: &mut DbConn, watch: &Watch, caller: &Caller) -> Result<()> {
    let Some(account) = account(caller) else { return Ok(()) };
    lock_account(conn, &account)?;
    let now = time::now();
    let hour = Duration::hours(1);
    let stamps = times(conn, Some(&account), None, activity::OFFER_CREATE, now - hour)?;
    limit(&stamps, watch.offer_creates_per_hour, hour, now)
}

/// Before an offer moves: the offer's daily limit and the account's hourly limit.
pub fn check_offer_move(conn: &mut DbConn, watch: &Watch, caller: &Caller, offer: &str) -> Result<()> {
    let Some(account) = account(caller) else { return Ok(()) };
    lock_account(conn, &account)?;
    let now = time::now();
    let day = Duration::days(1);
    let stamps = times(conn, None, Some(offer), activity::OFFER_MOVE, now - day)?;
    limit(&stamps, watch.offer_moves_per_day, day, now)?;
    let hour = Duration::hours(1);
    let stamps = times(conn, Some(&account), None, activity::OFFER_MOVE, now - hour)?;
    limit(&stamps, watch.offer_moves_per_hour, hour, now)
}

/// An offer was created at `at`: counted, and the account's offers created close to it
/// in the window looked at.
pub fn offer_created(conn: &mut DbConn, watch: &Watch, caller: &Caller, offer: &str, at: LatLon) -> Result<()> {
    let Some(account) = account(caller) else { return Ok(()) };
    write_tx(conn, |conn| {
        note(conn, &account, activity::OFFER_CREATE, Some(offer), Some(at), None)?;
        let since = time::now() - Duration::seconds(watch.window_seconds);
        let points: Vec<(Option<f64>, Option<f64>)> = security_activity::table
            .filter(security_activity::account_id.eq(&account))
            .filter(security_activity::kind.eq(activity::OFFER_CREATE))
            .filter(security_activity::at.ge(time::to_db(since)))
            .select((security_activity::latitude, security_activity::longitude))
            .load(conn)?;
        let close = points
            .into_iter()
            .filter_map(|(lat, lon)| Some(LatLon { lat: lat?, lon: lon? }))
            .filter(|p| p.distance_km(at) <= watch.cluster_km)
            .count();
        assess(
            conn,
            watch,
            caller,
            &account,
            AlertKind::OfferCluster,
            None,
            close as i64,
        )
    })
}

/// An offer moved (its position or commune): counted, and its moves in the window looked at.
pub fn offer_moved(conn: &mut DbConn, watch: &Watch, caller: &Caller, offer: &str, at: LatLon) -> Result<()> {
    let Some(account) = account(caller) else { return Ok(()) };
    write_tx(conn, |conn| {
        note(conn, &account, activity::OFFER_MOVE, Some(offer), Some(at), None)?;
        let since = time::now() - Duration::seconds(watch.window_seconds);
        let moves = security_activity::table
            .filter(security_activity::account_id.eq(&account))
            .filter(security_activity::kind.eq(activity::OFFER_MOVE))
            .filter(security_activity::subject_id.eq(offer))
            .filter(security_activity::at.ge(time::to_db(since)))
            .count()
            .get_result::<i64>(conn)?;
        assess(conn, watch, caller, &account, AlertKind::OfferMoves, Some(offer), moves)
    })
}

/// A request's proposals were asked: counted with how many offers the account had created
/// or moved so far. The number of different such states the account saw for this request is
/// what probing shows (asking again with nothing changed learns nothing, and other
/// accounts' changes are not the caller's probe).
pub fn proposals_read(conn: &mut DbConn, watch: &Watch, caller: &Caller, request: &str) -> Result<()> {
    let Some(account) = account(caller) else { return Ok(()) };
    write_tx(conn, |conn| {
        lock_account(conn, &account)?;
        let version: i64 = security_activity::table
            .filter(security_activity::account_id.eq(&account))
            .filter(security_activity::kind.eq_any([activity::OFFER_CREATE, activity::OFFER_MOVE]))
            .count()
            .get_result(conn)?;
        note(conn, &account, activity::PROPOSALS, Some(request), None, Some(version))?;
        let since = time::now() - Duration::seconds(watch.window_seconds);
        let mut versions: Vec<Option<i64>> = security_activity::table
            .filter(security_activity::account_id.eq(&account))
            .filter(security_activity::kind.eq(activity::PROPOSALS))
            .filter(security_activity::subject_id.eq(request))
            .filter(security_activity::at.ge(time::to_db(since)))
            .select(security_activity::version)
            .load(conn)?;
        versions.sort_unstable();
        versions.dedup();
        // The first read is not a change.
        let changes = versions.len() as i64 - 1;
        assess(
            conn,
            watch,
            caller,
            &account,
            AlertKind::ProposalProbing,
            Some(request),
            changes,
        )
    })
}

/// A placement or an extension was refused as not compatible: counted in its own
/// transaction (the refused one rolled back).
pub fn placement_refused(conn: &mut DbConn, watch: &Watch, caller: &Caller) -> Result<()> {
    let Some(account) = account(caller) else { return Ok(()) };
    write_tx(conn, |conn| {
        lock_account(conn, &account)?;
        note(conn, &account, activity::REFUSAL, None, None, None)?;
        let since = time::now() - Duration::seconds(watch.window_seconds);
        let refused = times(conn, Some(&account), None, activity::REFUSAL, since)?.len() as i64;
        assess(
            conn,
            watch,
            caller,
            &account,
            AlertKind::PlacementRefusals,
            None,
            refused,
        )
    })
}

/// Raises the alert when `count` reached the threshold (once per window and kind), and
/// suspends the account when it reached the hard threshold.
fn assess(
    conn: &mut DbConn,
    watch: &Watch,
    caller: &Caller,
    account: &str,
    kind: AlertKind,
    subject: Option<&str>,
    count: i64,
) -> Result<()> {
    let threshold = kind.threshold(watch).max(1);
    if count < threshold {
        return Ok(());
    }
    let hard = threshold.saturating_mul(watch.suspend_factor.max(1));
    let suspend = count >= hard && still_active(conn, account)?;
    let since = time::to_db(time::now() - Duration::seconds(watch.window_seconds));
    let already: i64 = security_alerts::table
        .filter(security_alerts::account_id.eq(account))
        .filter(security_alerts::kind.eq(kind.as_str()))
        .filter(security_alerts::created_at.ge(since))
        .count()
        .get_result(conn)?;
    if already > 0 && !suspend {
        return Ok(());
    }
    raise(conn, watch, caller, account, kind, subject, count, threshold, suspend)
}

fn still_active(conn: &mut DbConn, account: &str) -> Result<bool> {
    Ok(users::table
        .find(account)
        .select(users::active)
        .first::<bool>(conn)
        .optional()?
        .unwrap_or(false))
}

#[allow(clippy::too_many_arguments)]
fn raise(
    conn: &mut DbConn,
    watch: &Watch,
    caller: &Caller,
    account: &str,
    kind: AlertKind,
    subject: Option<&str>,
    count: i64,
    threshold: i64,
    suspend: bool,
) -> Result<()> {
    write_tx(conn, |conn| {
        let id = uuid::Uuid::new_v4().to_string();
        let organisation = caller.organisation_id.to_string();
        diesel::insert_into(security_alerts::table)
            .values((
                security_alerts::id.eq(&id),
                security_alerts::kind.eq(kind.as_str()),
                security_alerts::account_id.eq(account),
                security_alerts::organisation_id.eq(Some(&organisation)),
                security_alerts::subject_id.eq(subject),
                security_alerts::count.eq(count),
                security_alerts::threshold.eq(threshold),
                security_alerts::suspended.eq(suspend),
                security_alerts::created_at.eq(time::to_db(time::now())),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &Actor::SYSTEM,
            Entry::new("security.alert")
                .object("security_alert", &id)
                .details(serde_json::json!({
                    "kind": kind.as_str(), "account": account, "subject": subject, "count": count,
                    "threshold": threshold, "suspended": suspend,
                })),
        )?;
        if suspend {
            diesel::update(users::table.find(account))
                .set((users::active.eq(false), users::updated_at.eq(time::to_db(time::now()))))
                .execute(conn)?;
            if let Some(user) = caller.user_id() {
                crate::auth::sessions::revoke_all_for_user(conn, user, "suspended after a security alert")?;
            }
            audit::record(
                conn,
                &Actor::SYSTEM,
                Entry::new("user.suspend")
                    .object("user", account)
                    .details(serde_json::json!({
                        "alert": id, "kind": kind.as_str(),
                    })),
            )?;
        }
        crate::helpline::events::record_security(conn, &id, kind.as_str())?;
        let subject_line = if suspend {
            "Alerte de sécurité : compte suspendu / Security alert: account suspended"
        } else {
            "Alerte de sécurité / Security alert"
        };
        let body = format!(
            "Bonjour,\n\nAlerte de sécurité sur la plateforme d'hébergement : {words}.\nCompte : {account}\nNombre : {count} (seuil {threshold}){fr_suspended}\nDétails : {{base}}/app/security/alerts/{id}\n\nHello,\n\nSecurity alert on the housing platform (see above).\nAccount: {account}\nCount: {count} (threshold {threshold}){en_suspended}\n\n— Relais\n",
            words = kind.words(),
            fr_suspended = if suspend {
                "\nLe compte est suspendu en attendant un·e administrateur·rice."
            } else {
                ""
            },
            en_suspended = if suspend {
                "\nThe account is suspended pending an administrator."
            } else {
                ""
            },
        );
        for to in &watch.recipients {
            crate::email::enqueue(conn, to, subject_line, &body)?;
        }
        Ok(())
    })
}

/// Who reads the alerts: administrators and national coordinators.
pub fn reader(caller: &Caller) -> Result<()> {
    if caller.has_any_role(&[Role::Admin, Role::NationalCoordinator]) {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "administrators and national coordinators read security alerts".into(),
        ))
    }
}

/// Security alerts raised so far, by kind (for `/metrics`: a rise is what operators watch).
pub fn count_by_kind(conn: &mut DbConn) -> Result<Vec<(String, i64)>> {
    use diesel::dsl::count_star;
    Ok(crate::db::schema::security_alerts::table
        .group_by(crate::db::schema::security_alerts::kind)
        .select((crate::db::schema::security_alerts::kind, count_star()))
        .load(conn)?)
}

/// The alerts, newest first, one page at a time.
pub fn list(conn: &mut DbConn, caller: &Caller, page: &PageRequest) -> Result<Page<Alert>> {
    reader(caller)?;
    audit::record(conn, &caller.actor(), Entry::new("security_alert.list"))?;
    let query = crate::after_cursor!(
        security_alerts::table.into_boxed(),
        page,
        security_alerts::created_at,
        security_alerts::id,
        desc
    );
    let rows: Vec<AlertRow> = query
        .order((security_alerts::created_at.desc(), security_alerts::id.desc()))
        .limit(page.fetch())
        .select(AlertRow::as_select())
        .load(conn)?;
    Page::from_rows(rows, page, |r| Cursor::at(r.created_at, &r.id), view)
}

/// An offer's position as the audit keeps it: sealed with the field key, so that an
/// investigator holding the key can replay a probe and nobody else reads it.
pub fn sealed_position(secrets: &crate::crypto::Secrets, offer: &str, commune: &str, at: LatLon) -> serde_json::Value {
    use base64::Engine as _;
    let json = serde_json::json!({ "commune": commune, "latitude": at.lat, "longitude": at.lon }).to_string();
    let sealed = crate::crypto::seal(&secrets.field_key, &position_context(offer), json.as_bytes());
    serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(sealed))
}

fn position_context(offer: &str) -> String {
    format!("audit.offer_position:{offer}")
}

/// Opens a sealed position of the audit (an investigation): `(commune, latitude, longitude)`.
pub fn open_position(secrets: &crate::crypto::Secrets, offer: &str, sealed: &str) -> Option<(String, f64, f64)> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(sealed).ok()?;
    let plain = crate::crypto::open(&secrets.field_key, &position_context(offer), &bytes).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&plain).ok()?;
    Some((
        v["commune"].as_str()?.to_owned(),
        v["latitude"].as_f64()?,
        v["longitude"].as_f64()?,
    ))
}
