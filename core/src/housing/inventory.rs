//! The national inventory (état des lieux) for the Government: placements and nights by
//! region, département, kind of place, source (platform or centre) and funding; how long
//! placements last; what they cost; requests not met and why. In the national views a row
//! counting fewer than five placements is suppressed (its figures withheld), so no one can be
//! singled out; the totals are exact.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;

use crate::access::Caller;
use crate::accounts::model::{OrganisationKind, Role};
use crate::audit::{self, Entry};
use crate::db::schema::{
    housing_offers, housing_placement_nights, housing_placements, housing_requests, inventory_reports,
};
use crate::db::{DbConn, write_tx};
use crate::error::{Error, Result};
use crate::geo::Geography;
use crate::time;

/// Rows counting fewer placements than this are suppressed in national views.
pub const SUPPRESS_BELOW: i64 = 5;

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Figures {
    pub placements: i64,
    pub nights: i64,
    pub cost_cents: i64,
}

/// One row of a breakdown; `None` figures when suppressed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Row {
    pub key: String,
    pub label: String,
    pub suppressed: bool,
    pub placements: Option<i64>,
    pub nights: Option<i64>,
    pub cost_cents: Option<i64>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Durations {
    pub placements: i64,
    pub mean_nights: f64,
    pub median_nights: i64,
    pub longest_nights: i64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Requests {
    pub total: i64,
    pub open: i64,
    pub placed: i64,
    pub withdrawn: i64,
    pub unmet: BTreeMap<String, i64>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Inventory {
    pub generated_at: DateTime<Utc>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub totals: Figures,
    pub by_source: Vec<Row>,
    pub by_funding: Vec<Row>,
    pub by_kind: Vec<Row>,
    pub by_region: Vec<Row>,
    pub by_departement: Vec<Row>,
    pub durations: Durations,
    pub requests: Requests,
}

/// The ministry, the platform's operators and administrators read the inventory.
pub fn reader(caller: &Caller) -> Result<()> {
    let national = caller.has_role(Role::NationalCoordinator) || caller.has_role(Role::Admin);
    let platform =
        caller.organisation_kind == OrganisationKind::HousingPlatform && caller.has_role(Role::HousingOperator);
    if national || platform {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "the inventory is for the ministry and the housing platform".into(),
        ))
    }
}

#[derive(Default)]
struct Acc {
    placements: std::collections::HashSet<String>,
    nights: i64,
    cost: i64,
}

impl Acc {
    fn add(&mut self, placement: &str, price: i64) {
        self.placements.insert(placement.to_owned());
        self.nights += 1;
        self.cost += price;
    }
}

fn rows(groups: BTreeMap<String, Acc>, label: impl Fn(&str) -> String, suppress: bool) -> Vec<Row> {
    let mut hidden_keys: std::collections::HashSet<String> = groups
        .iter()
        .filter(|(_, acc)| suppress && (acc.placements.len() as i64) < SUPPRESS_BELOW)
        .map(|(k, _)| k.clone())
        .collect();
    // One withheld row could be worked out from the total and the others: withhold the
    // smallest other row too.
    if hidden_keys.len() == 1
        && let Some((key, _)) = groups
            .iter()
            .filter(|(k, _)| !hidden_keys.contains(*k))
            .min_by_key(|(_, acc)| acc.placements.len())
    {
        hidden_keys.insert(key.clone());
    }
    groups
        .into_iter()
        .map(|(key, acc)| {
            let placements = acc.placements.len() as i64;
            let hidden = hidden_keys.contains(&key);
            Row {
                label: label(&key),
                suppressed: hidden,
                placements: (!hidden).then_some(placements),
                nights: (!hidden).then_some(acc.nights),
                cost_cents: (!hidden).then_some(acc.cost),
                key,
            }
        })
        .collect()
}

type NightRow = (String, NaiveDate, String, i64, String, String, String, String);

pub fn build(
    conn: &mut DbConn,
    geo: &Geography,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<Inventory> {
    let mut query = housing_placement_nights::table
        .inner_join(housing_placements::table.inner_join(housing_offers::table))
        .select((
            housing_placement_nights::placement_id,
            housing_placement_nights::night,
            housing_placement_nights::funding,
            housing_placement_nights::price_cents,
            housing_placements::source,
            housing_offers::kind,
            housing_offers::region,
            housing_offers::departement,
        ))
        .into_boxed();
    if let Some(from) = from {
        query = query.filter(housing_placement_nights::night.ge(from));
    }
    if let Some(to) = to {
        query = query.filter(housing_placement_nights::night.le(to));
    }
    let nights: Vec<NightRow> = query.load(conn)?;
    let mut totals = Acc::default();
    let (mut source, mut funding, mut kind, mut region, mut departement) = (
        BTreeMap::new(),
        BTreeMap::new(),
        BTreeMap::new(),
        BTreeMap::new(),
        BTreeMap::new(),
    );
    let mut per_placement: BTreeMap<String, i64> = BTreeMap::new();
    for (placement, _, fund, price, src, k, reg, dep) in &nights {
        totals.add(placement, *price);
        source
            .entry(src.clone())
            .or_insert_with(Acc::default)
            .add(placement, *price);
        funding
            .entry(fund.clone())
            .or_insert_with(Acc::default)
            .add(placement, *price);
        kind.entry(k.clone())
            .or_insert_with(Acc::default)
            .add(placement, *price);
        region
            .entry(reg.clone())
            .or_insert_with(Acc::default)
            .add(placement, *price);
        departement
            .entry(dep.clone())
            .or_insert_with(Acc::default)
            .add(placement, *price);
        *per_placement.entry(placement.clone()).or_insert(0) += 1;
    }
    let mut lengths: Vec<i64> = per_placement.into_values().collect();
    lengths.sort_unstable();
    let durations = Durations {
        placements: lengths.len() as i64,
        mean_nights: if lengths.is_empty() {
            0.0
        } else {
            (lengths.iter().sum::<i64>() as f64 / lengths.len() as f64 * 10.0).round() / 10.0
        },
        median_nights: lengths.get(lengths.len() / 2).copied().unwrap_or(0),
        longest_nights: lengths.last().copied().unwrap_or(0),
    };
    let statuses: Vec<(String, Option<String>)> = housing_requests::table
        .select((housing_requests::status, housing_requests::unmet_reason))
        .load(conn)?;
    let mut requests = Requests {
        total: statuses.len() as i64,
        open: 0,
        placed: 0,
        withdrawn: 0,
        unmet: BTreeMap::new(),
    };
    for (status, reason) in statuses {
        match status.as_str() {
            "open" => requests.open += 1,
            "placed" => requests.placed += 1,
            "withdrawn" => requests.withdrawn += 1,
            _ => {
                *requests
                    .unmet
                    .entry(reason.unwrap_or_else(|| "other".into()))
                    .or_insert(0) += 1
            }
        }
    }
    let same = |k: &str| k.to_owned();
    Ok(Inventory {
        generated_at: now,
        from,
        to,
        totals: Figures {
            placements: totals.placements.len() as i64,
            nights: totals.nights,
            cost_cents: totals.cost,
        },
        by_source: rows(source, same, false),
        by_funding: rows(funding, same, false),
        by_kind: rows(kind, same, false),
        by_region: rows(
            region,
            |k| geo.region(k).map(|r| r.name.clone()).unwrap_or_else(|| k.to_owned()),
            true,
        ),
        by_departement: rows(
            departement,
            |k| {
                geo.departement(k)
                    .map(|d| d.name.clone())
                    .unwrap_or_else(|| k.to_owned())
            },
            true,
        ),
        durations,
        requests,
    })
}

/// The inventory for a reader, audited.
pub fn read(
    conn: &mut DbConn,
    geo: &Geography,
    caller: &Caller,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<Inventory> {
    reader(caller)?;
    audit::record(conn, &caller.actor(), Entry::new("inventory.read"))?;
    build(conn, geo, from, to, now)
}

fn csv_field(value: &str) -> String {
    // A spreadsheet must not read a label as a formula.
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The inventory as CSV: one line per row of every breakdown, suppressed figures empty.
pub fn to_csv(inventory: &Inventory) -> String {
    let mut out = String::from("dimension,key,label,placements,nights,cost_eur,suppressed\n");
    let money = |c: i64| format!("{}.{:02}", c / 100, c % 100);
    let t = &inventory.totals;
    out.push_str(&format!(
        "total,all,Total,{},{},{},false\n",
        t.placements,
        t.nights,
        money(t.cost_cents)
    ));
    for (dimension, rows) in [
        ("source", &inventory.by_source),
        ("funding", &inventory.by_funding),
        ("kind", &inventory.by_kind),
        ("region", &inventory.by_region),
        ("departement", &inventory.by_departement),
    ] {
        for r in rows {
            out.push_str(&format!(
                "{dimension},{},{},{},{},{},{}\n",
                csv_field(&r.key),
                csv_field(&r.label),
                r.placements.map(|v| v.to_string()).unwrap_or_default(),
                r.nights.map(|v| v.to_string()).unwrap_or_default(),
                r.cost_cents.map(money).unwrap_or_default(),
                r.suppressed
            ));
        }
    }
    for (reason, count) in &inventory.requests.unmet {
        out.push_str(&format!("unmet_requests,{reason},{reason},,{count},,false\n"));
    }
    out
}

/// Claims this ISO week's report, once across instances: true when this caller sends it.
pub fn claim_weekly(conn: &mut DbConn, now: DateTime<Utc>) -> Result<bool> {
    write_tx(conn, |conn| {
        let week = now.iso_week();
        let key = format!("{}-W{:02}", week.year(), week.week());
        let sent: i64 = inventory_reports::table
            .filter(inventory_reports::week.eq(&key))
            .count()
            .get_result(conn)?;
        if sent > 0 {
            return Ok(false);
        }
        // Two instances racing here: one insert wins, the other fails on the key and sends nothing.
        diesel::insert_into(inventory_reports::table)
            .values((
                inventory_reports::week.eq(&key),
                inventory_reports::sent_at.eq(time::to_db(now)),
            ))
            .execute(conn)?;
        Ok(true)
    })
}

/// Queues the weekly report to each recipient (the CSV in the body: totals only, suppressed
/// rows empty), when this week's has not gone yet.
pub fn send_weekly(conn: &mut DbConn, geo: &Geography, recipients: &[String], now: DateTime<Utc>) -> Result<bool> {
    if recipients.is_empty() {
        return Ok(false);
    }
    crate::db::write_tx(conn, |conn| {
        if !claim_weekly(conn, now)? {
            return Ok(false);
        }
        let inventory = build(conn, geo, None, None, now)?;
        let body = format!(
            "Bonjour,\n\nVoici l'état des lieux hebdomadaire de l'hébergement des auteurs ({} placements, {} nuits).\n\nHello,\n\nHere is the weekly inventory of authors' housing ({} placements, {} nights).\n\n{}\n— Relais\n",
            inventory.totals.placements,
            inventory.totals.nights,
            inventory.totals.placements,
            inventory.totals.nights,
            to_csv(&inventory)
        );
        for to in recipients {
            crate::email::enqueue(conn, to, "État des lieux hebdomadaire / Weekly inventory", &body)?;
        }
        Ok(true)
    })
}
