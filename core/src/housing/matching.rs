//! Constraint-safe matching: only offers that respect every court ban are proposed. The
//! offers live in memory in an R-tree (3D positions on the Earth's sphere); a request walks
//! them nearest-first from the centre that follows the person, checks each rule, and asks the
//! database for the nights booked only for the survivors. Each excluded offer says which rule
//! excluded it, never where a protected person is.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rstar::RTree;
use rstar::primitives::GeomWithData;

use super::geometry::{LatLon, Polygon, chord_km, great_circle_km};
use super::model::OfferKind;

/// An offer as the index holds it.
#[derive(Clone, Debug)]
pub struct OfferEntry {
    pub id: String,
    pub organisation_id: String,
    pub kind: OfferKind,
    pub name: String,
    pub commune: String,
    pub departement: String,
    pub at: LatLon,
    pub capacity: i32,
    pub price_cents: i64,
    pub accessible: bool,
    pub pets: bool,
    pub couples: bool,
    pub hosts_victims: bool,
    pub available_from: NaiveDate,
    pub available_until: Option<NaiveDate>,
}

/// What the court forbids, for one person. Built on the server from the case; never sent.
#[derive(Clone, Debug, Default)]
pub struct Constraints {
    /// Protected persons: where, and their exclusion radius (the alert distance), in km.
    pub protected: Vec<(LatLon, i32)>,
    pub communes: HashSet<String>,
    pub departements: HashSet<String>,
    pub polygons: Vec<Polygon>,
}

impl Constraints {
    /// The number of rules, for the request's summary (no detail of any).
    pub fn counts(&self) -> serde_json::Value {
        serde_json::json!({
            "protected_persons": self.protected.len(),
            "communes": self.communes.len(),
            "departements": self.departements.len(),
            "areas": self.polygons.len(),
        })
    }
}

/// Why an offer is not proposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Within a protected person's exclusion radius.
    ProtectedPersonRadius,
    ForbiddenCommune,
    ForbiddenDepartement,
    ForbiddenArea,
    /// A place that shelters victims is never proposed to an author.
    HostsVictims,
    /// Not open on every night wanted.
    NotAvailable,
    /// Full on at least one night wanted.
    NoCapacity,
    /// Lacks what the person needs (accessibility, pets, a couple).
    Needs,
}

impl Rule {
    /// Rules that say where someone must not be (a protected person's radius, banned
    /// communes, départements, areas): told per offer only in the operators' proposals.
    pub fn is_about_places(self) -> bool {
        matches!(
            self,
            Rule::ProtectedPersonRadius | Rule::ForbiddenCommune | Rule::ForbiddenDepartement | Rule::ForbiddenArea
        )
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Needs {
    pub accessible: bool,
    pub pets: bool,
    pub couple: bool,
}

pub struct Query<'a> {
    pub constraints: &'a Constraints,
    /// The exclusion radius is the alert distance times this: 2 by default; an operator may
    /// narrow it down to 1 (never below).
    pub radius_factor: f64,
    /// The centre that follows the person, when its coordinates are known.
    pub near: Option<LatLon>,
    pub first_night: NaiveDate,
    pub last_night: NaiveDate,
    pub needs: Needs,
    pub limit: usize,
    /// How many offers to look at, nearest first, at most.
    pub examine: usize,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Proposal {
    pub offer_id: String,
    pub name: String,
    pub kind: OfferKind,
    pub commune: String,
    pub departement: String,
    pub distance_km: Option<f64>,
    pub price_cents: i64,
    /// The fewest places free on any night wanted.
    pub free_places: i32,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Exclusion {
    pub offer_id: String,
    pub name: String,
    pub rule: Rule,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Outcome {
    pub proposals: Vec<Proposal>,
    pub exclusions: Vec<Exclusion>,
    pub examined: usize,
}

/// The exclusion radius factor an operator may choose: from 1 (the alert distance) to 2 (the
/// default); anything else, or not a number, counts as 2.
pub fn sane_factor(factor: f64) -> f64 {
    if factor.is_finite() {
        factor.clamp(1.0, 2.0)
    } else {
        2.0
    }
}

type Point = GeomWithData<[f64; 3], usize>;

/// The offers, indexed by position.
pub struct OfferIndex {
    entries: Vec<OfferEntry>,
    tree: RTree<Point>,
}

impl OfferIndex {
    pub fn new(entries: Vec<OfferEntry>) -> Self {
        let points = entries
            .iter()
            .enumerate()
            .map(|(i, e)| GeomWithData::new(e.at.xyz(), i))
            .collect();
        Self {
            tree: RTree::bulk_load(points),
            entries,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The rule an offer breaks before its nights are counted, if any.
    pub fn static_rule(entry: &OfferEntry, q: &Query<'_>) -> Option<Rule> {
        let c = q.constraints;
        if entry.hosts_victims {
            return Some(Rule::HostsVictims);
        }
        let here = entry.at.xyz();
        let factor = sane_factor(q.radius_factor);
        if c.protected
            .iter()
            .any(|(at, radius)| great_circle_km(chord_km(here, at.xyz())) < f64::from(*radius) * factor)
        {
            return Some(Rule::ProtectedPersonRadius);
        }
        if c.communes.contains(&entry.commune) {
            return Some(Rule::ForbiddenCommune);
        }
        if c.departements.contains(&entry.departement) {
            return Some(Rule::ForbiddenDepartement);
        }
        if c.polygons.iter().any(|p| p.contains(entry.at)) {
            return Some(Rule::ForbiddenArea);
        }
        if entry.available_from > q.first_night || entry.available_until.is_some_and(|u| u < q.last_night) {
            return Some(Rule::NotAvailable);
        }
        let n = q.needs;
        if (n.accessible && !entry.accessible) || (n.pets && !entry.pets) || (n.couple && !entry.couples) {
            return Some(Rule::Needs);
        }
        None
    }

    /// Proposes up to `q.limit` offers. `booked` gives, for offer ids, the most places booked
    /// on any night wanted (absent: none).
    pub fn propose<E>(
        &self,
        q: &Query<'_>,
        mut booked: impl FnMut(&[&str]) -> Result<HashMap<String, i32>, E>,
    ) -> Result<Outcome, E> {
        let order: Box<dyn Iterator<Item = usize> + '_> = match q.near {
            Some(near) => Box::new(self.tree.nearest_neighbor_iter(near.xyz()).map(|p| p.data)),
            None => Box::new(0..self.entries.len()),
        };
        let mut out = Outcome::default();
        let mut batch: Vec<usize> = Vec::new();
        let mut order = order.take(q.examine.max(q.limit));
        loop {
            let next = order.next();
            if let Some(i) = next {
                out.examined += 1;
                let entry = &self.entries[i];
                match Self::static_rule(entry, q) {
                    Some(rule) => out.exclusions.push(Exclusion {
                        offer_id: entry.id.clone(),
                        name: entry.name.clone(),
                        rule,
                    }),
                    None => batch.push(i),
                }
            }
            if batch.len() >= 32 || (next.is_none() && !batch.is_empty()) {
                let ids: Vec<&str> = batch.iter().map(|i| self.entries[*i].id.as_str()).collect();
                let taken = booked(&ids)?;
                for i in batch.drain(..) {
                    let entry = &self.entries[i];
                    let free = entry.capacity - taken.get(&entry.id).copied().unwrap_or(0);
                    if free <= 0 {
                        out.exclusions.push(Exclusion {
                            offer_id: entry.id.clone(),
                            name: entry.name.clone(),
                            rule: Rule::NoCapacity,
                        });
                    } else if out.proposals.len() < q.limit {
                        out.proposals.push(Proposal {
                            offer_id: entry.id.clone(),
                            name: entry.name.clone(),
                            kind: entry.kind,
                            commune: entry.commune.clone(),
                            departement: entry.departement.clone(),
                            distance_km: q.near.map(|n| (n.distance_km(entry.at) * 10.0).round() / 10.0),
                            price_cents: entry.price_cents,
                            free_places: free,
                        });
                    }
                }
            }
            if next.is_none() || out.proposals.len() >= q.limit {
                break;
            }
        }
        // Nearest first (by whole kilometres), then cheaper, then more room.
        out.proposals.sort_by(|a, b| {
            let km = |p: &Proposal| p.distance_km.map(|d| d.round() as i64).unwrap_or(0);
            km(a)
                .cmp(&km(b))
                .then(a.price_cents.cmp(&b.price_cents))
                .then(b.free_places.cmp(&a.free_places))
        });
        Ok(out)
    }

    /// The same answer by looking at every offer, for the benchmark's comparison.
    pub fn propose_by_scan(&self, q: &Query<'_>) -> Vec<String> {
        let mut passing: Vec<(f64, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| Self::static_rule(e, q).is_none())
            .map(|(i, e)| (q.near.map(|n| n.distance_km(e.at)).unwrap_or(0.0), i))
            .collect();
        passing.sort_by(|a, b| a.0.total_cmp(&b.0));
        passing
            .into_iter()
            .take(q.limit)
            .map(|(_, i)| self.entries[i].id.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, lat: f64, lon: f64) -> OfferEntry {
        OfferEntry {
            id: id.into(),
            organisation_id: "platform".into(),
            kind: OfferKind::Hotel,
            name: format!("Hôtel {id}"),
            commune: "75111".into(),
            departement: "75".into(),
            at: LatLon { lat, lon },
            capacity: 2,
            price_cents: 6000,
            accessible: false,
            pets: false,
            couples: false,
            hosts_victims: false,
            available_from: NaiveDate::MIN,
            available_until: None,
        }
    }

    fn query(c: &Constraints) -> Query<'_> {
        Query {
            constraints: c,
            radius_factor: 2.0,
            near: Some(LatLon { lat: 48.85, lon: 2.35 }),
            first_night: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default(),
            last_night: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap_or_default(),
            needs: Needs::default(),
            limit: 10,
            examine: 1000,
        }
    }

    #[test]
    fn the_radius_is_twice_the_alert_distance_unless_narrowed() {
        // A protected person 3 km north of hotel "a"; alert distance 2 km.
        let index = OfferIndex::new(vec![entry("a", 48.85, 2.35), entry("b", 48.60, 2.35)]);
        let c = Constraints {
            protected: vec![(LatLon { lat: 48.877, lon: 2.35 }, 2)],
            ..Constraints::default()
        };
        let none = |_: &[&str]| Ok::<_, ()>(HashMap::new());
        let out = index.propose(&query(&c), none).unwrap_or_default();
        assert_eq!(
            out.proposals.iter().map(|p| p.offer_id.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
        assert_eq!(out.exclusions[0].rule, Rule::ProtectedPersonRadius);
        let narrowed = Query {
            radius_factor: 1.0,
            ..query(&c)
        };
        let out = index.propose(&narrowed, none).unwrap_or_default();
        assert_eq!(out.proposals.len(), 2, "3 km is beyond the 2 km alert distance");
        let too_narrow = Query {
            radius_factor: 0.1,
            ..query(&c)
        };
        assert_eq!(index.propose(&too_narrow, none).unwrap_or_default().proposals.len(), 2);
    }

    #[test]
    fn full_nights_and_every_other_rule_exclude() {
        let mut victims = entry("v", 48.86, 2.35);
        victims.hosts_victims = true;
        let mut closed = entry("x", 48.86, 2.36);
        closed.available_until = NaiveDate::from_ymd_opt(2026, 12, 2);
        let mut elsewhere = entry("d", 48.87, 2.35);
        elsewhere.departement = "93".into();
        let index = OfferIndex::new(vec![victims, closed, elsewhere, entry("full", 48.85, 2.35)]);
        let c = Constraints {
            departements: ["93".to_owned()].into(),
            ..Constraints::default()
        };
        let out = index
            .propose(&query(&c), |_| Ok::<_, ()>(HashMap::from([("full".to_owned(), 2)])))
            .unwrap_or_default();
        assert!(out.proposals.is_empty());
        let rules: HashMap<&str, Rule> = out.exclusions.iter().map(|e| (e.offer_id.as_str(), e.rule)).collect();
        assert_eq!(rules["v"], Rule::HostsVictims);
        assert_eq!(rules["x"], Rule::NotAvailable);
        assert_eq!(rules["d"], Rule::ForbiddenDepartement);
        assert_eq!(rules["full"], Rule::NoCapacity);
    }

    #[test]
    fn the_index_and_a_scan_agree() {
        let entries: Vec<OfferEntry> = (0..500)
            .map(|i| {
                let f = f64::from(i);
                entry(&format!("o{i}"), 43.0 + (f * 0.37) % 7.0, -1.0 + (f * 0.53) % 8.0)
            })
            .collect();
        let index = OfferIndex::new(entries);
        let c = Constraints {
            protected: vec![(LatLon { lat: 48.8, lon: 2.3 }, 10)],
            ..Constraints::default()
        };
        let q = query(&c);
        let fast = index.propose(&q, |_| Ok::<_, ()>(HashMap::new())).unwrap_or_default();
        let mut fast_ids: Vec<String> = fast.proposals.into_iter().map(|p| p.offer_id).collect();
        let mut slow = index.propose_by_scan(&q);
        fast_ids.sort();
        slow.sort();
        assert_eq!(fast_ids, slow);
    }
}
