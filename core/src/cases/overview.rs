//! A centre manager's view of the centre: who follows how many open cases, what the coming
//! week holds, who did not come, and which care obligations are behind their schedule. Counts
//! and case ids only: no names, no notes (the manager opens a case to see more, and that read
//! is audited as any other).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;

use super::model::{CaseStatus, MeasureKind, SessionStatus};
use crate::access::Caller;
use crate::accounts::model::{Role, Roles};
use crate::audit::{self, Entry};
use crate::db::DbConn;
use crate::db::schema::{case_practitioners, case_sessions, cases, measures, users};
use crate::error::{Error, Result};
use crate::time;

/// A care obligation as read: case, measure, start, end, sessions required.
type ObligationRow = (String, String, NaiveDate, Option<NaiveDate>, Option<i32>);

/// Days ahead counted as "coming", and days back counted for absences.
pub const AHEAD_DAYS: i64 = 7;
pub const BACK_DAYS: i64 = 30;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PractitionerLoad {
    pub user_id: String,
    pub display_name: String,
    /// Open cases this practitioner follows.
    pub open_cases: i64,
    /// Sessions still planned in the coming [`AHEAD_DAYS`] days in those cases.
    pub sessions_ahead: i64,
    /// Sessions missed without excuse in the last [`BACK_DAYS`] days in those cases.
    pub unexcused_back: i64,
}

/// A care obligation attended less than its schedule wants by now.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ObligationBehind {
    pub case_id: String,
    pub measure_id: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub sessions_required: i64,
    pub sessions_attended: i64,
    /// What an even pace from start to end would have reached today (rounded down).
    pub expected_by_now: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Overview {
    pub as_of: DateTime<Utc>,
    pub ahead_days: i64,
    pub back_days: i64,
    pub open_cases: i64,
    /// Open cases no practitioner follows.
    pub unassigned_open_cases: i64,
    pub sessions_ahead: i64,
    pub unexcused_back: i64,
    /// Every active practitioner of the centre, the busiest first.
    pub practitioners: Vec<PractitionerLoad>,
    /// Behind the most first.
    pub obligations_behind: Vec<ObligationBehind>,
}

/// Whether an obligation attended `attended` times is behind an even pace of `required`
/// sessions from `starts` to `ends`, on `today`: returns what the pace expects by now.
pub fn expected_by_now(required: i64, starts: NaiveDate, ends: NaiveDate, today: NaiveDate) -> i64 {
    let total = (ends - starts).num_days();
    if total <= 0 || today >= ends {
        return required;
    }
    let elapsed = (today - starts).num_days().clamp(0, total);
    required * elapsed / total
}

/// The overview of the caller's centre `centre_id`, for its managers: another organisation
/// gets not found, the centre's practitioners forbidden. Audited as one read.
pub fn of_centre(conn: &mut DbConn, caller: &Caller, centre_id: &str, now: DateTime<Utc>) -> Result<Overview> {
    if caller.is_partner() || caller.organisation_id.to_string() != centre_id {
        return Err(Error::NotFound);
    }
    if !caller.has_role(Role::CentreManager) {
        return Err(Error::Forbidden("the centre's overview is for its managers".into()));
    }
    let open: Vec<String> = cases::table
        .filter(cases::organisation_id.eq(centre_id))
        .filter(cases::status.eq(CaseStatus::Open.as_str()))
        .select(cases::id)
        .load(conn)?;
    let open_set: HashSet<&str> = open.iter().map(String::as_str).collect();
    let followers: Vec<(String, String)> = case_practitioners::table
        .filter(case_practitioners::case_id.eq_any(&open))
        .select((case_practitioners::case_id, case_practitioners::user_id))
        .load(conn)?;
    let (from, to) = (now - Duration::days(BACK_DAYS), now + Duration::days(AHEAD_DAYS));
    let sessions: Vec<(String, chrono::NaiveDateTime, String)> = case_sessions::table
        .filter(case_sessions::case_id.eq_any(&open))
        .filter(case_sessions::planned_at.ge(time::to_db(from)))
        .filter(case_sessions::planned_at.le(time::to_db(to)))
        .select((case_sessions::case_id, case_sessions::planned_at, case_sessions::status))
        .load(conn)?;
    // Per case: sessions ahead (planned, from now), absences without excuse (before now).
    let mut per_case: HashMap<&str, (i64, i64)> = HashMap::new();
    let (mut ahead_all, mut unexcused_all) = (0, 0);
    for (case, at, status) in &sessions {
        let at = time::from_db(*at);
        let entry = per_case.entry(case.as_str()).or_default();
        if at >= now && status == SessionStatus::Planned.as_str() {
            entry.0 += 1;
            ahead_all += 1;
        } else if at < now && status == SessionStatus::Unexcused.as_str() {
            entry.1 += 1;
            unexcused_all += 1;
        }
    }
    let staff: Vec<(String, String, String)> = users::table
        .filter(users::organisation_id.eq(centre_id))
        .filter(users::active.eq(true))
        .select((users::id, users::display_name, users::roles))
        .load(conn)?;
    let mut loads: BTreeMap<String, PractitionerLoad> = staff
        .into_iter()
        .filter(|(_, _, roles)| Roles::from_db(roles).contains(Role::Practitioner))
        .map(|(id, name, _)| {
            (
                id.clone(),
                PractitionerLoad {
                    user_id: id,
                    display_name: name,
                    open_cases: 0,
                    sessions_ahead: 0,
                    unexcused_back: 0,
                },
            )
        })
        .collect();
    let mut followed: HashSet<&str> = HashSet::new();
    for (case, user) in &followers {
        if !open_set.contains(case.as_str()) {
            continue;
        }
        followed.insert(case.as_str());
        if let Some(load) = loads.get_mut(user) {
            let (ahead, unexcused) = per_case.get(case.as_str()).copied().unwrap_or_default();
            load.open_cases += 1;
            load.sessions_ahead += ahead;
            load.unexcused_back += unexcused;
        }
    }
    let mut practitioners: Vec<PractitionerLoad> = loads.into_values().collect();
    practitioners.sort_by(|a, b| {
        b.open_cases
            .cmp(&a.open_cases)
            .then_with(|| a.display_name.cmp(&b.display_name))
    });

    let today = now.date_naive();
    let obligations: Vec<ObligationRow> = measures::table
        .filter(measures::case_id.eq_any(&open))
        .filter(measures::kind.eq(MeasureKind::CareObligation.as_str()))
        .select((
            measures::case_id,
            measures::id,
            measures::starts_on,
            measures::ends_on,
            measures::sessions_required,
        ))
        .load(conn)?;
    let mut obligations_behind = Vec::new();
    for (case_id, measure_id, starts_on, ends_on, required) in obligations {
        let (Some(ends_on), Some(required)) = (ends_on, required) else {
            continue;
        };
        if today < starts_on {
            continue;
        }
        let attended: i64 = case_sessions::table
            .filter(case_sessions::measure_id.eq(&measure_id))
            .filter(case_sessions::status.eq(SessionStatus::Attended.as_str()))
            .count()
            .get_result(conn)?;
        let required = i64::from(required);
        let expected = expected_by_now(required, starts_on, ends_on, today);
        if attended < expected {
            obligations_behind.push(ObligationBehind {
                case_id,
                measure_id,
                starts_on,
                ends_on,
                sessions_required: required,
                sessions_attended: attended,
                expected_by_now: expected,
            });
        }
    }
    obligations_behind.sort_by(|a, b| {
        (b.expected_by_now - b.sessions_attended)
            .cmp(&(a.expected_by_now - a.sessions_attended))
            .then_with(|| a.ends_on.cmp(&b.ends_on))
    });
    audit::record(
        conn,
        &caller.actor(),
        Entry::new("centre.overview").object("organisation", centre_id),
    )?;
    Ok(Overview {
        as_of: now,
        ahead_days: AHEAD_DAYS,
        back_days: BACK_DAYS,
        open_cases: open.len() as i64,
        unassigned_open_cases: open.iter().filter(|c| !followed.contains(c.as_str())).count() as i64,
        sessions_ahead: ahead_all,
        unexcused_back: unexcused_all,
        practitioners,
        obligations_behind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_even_pace_expects_its_share_of_sessions_by_now() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // 10 sessions over 100 days: 5 expected at day 50, 0 at the start, all at the end.
        assert_eq!(
            expected_by_now(10, d("2026-01-01"), d("2026-04-11"), d("2026-02-20")),
            5
        );
        assert_eq!(
            expected_by_now(10, d("2026-01-01"), d("2026-04-11"), d("2026-01-01")),
            0
        );
        assert_eq!(
            expected_by_now(10, d("2026-01-01"), d("2026-04-11"), d("2026-05-01")),
            10
        );
        assert_eq!(
            expected_by_now(10, d("2026-01-01"), d("2026-01-01"), d("2026-01-01")),
            10
        );
    }
}
