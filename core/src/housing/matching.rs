//! Constraint-safe matching: only offers that respect every court ban are proposed. The
//! offers live in memory in an R-tree (3D positions on the Earth's sphere); a request walks
//! them nearest-first from the centre that follows the person. Matching is an oracle, so it
//! says as little as it can: an offer is first checked for being bookable (open every night,
//! needs met, not a victims' shelter, a place free every night), only then against the place
//! rules (protected persons' discs, banned communes, départements, areas), and the answer
//! lists compatible offers and nothing else: no excluded offer, no reason, no count that
//! moves when one offer moves.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rstar::RTree;
use rstar::primitives::GeomWithData;

use super::geometry::{LatLon, Polygon};
use super::model::OfferKind;
use super::protective_disc::Disc;

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
    /// Protected persons, each through her secret protective disc (never her location).
    pub protected: Vec<Disc>,
    pub communes: HashSet<String>,
    /// The banned communes' contours: a point within the border tolerance of one is banned,
    /// whatever commune its offer declares.
    pub commune_areas: Vec<crate::geo::contours::Area>,
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

    /// Whether a point respects every place rule at this factor step.
    pub fn allows_place(&self, at: LatLon, commune: &str, departement: &str, factor: f64) -> bool {
        !self.protected.iter().any(|disc| disc.excludes(at, factor))
            && !self.communes.contains(commune)
            && !self
                .commune_areas
                .iter()
                .any(|a| a.near(at.lat, at.lon, crate::geo::contours::BORDER_TOLERANCE_M))
            && !self.departements.contains(departement)
            && !self.polygons.iter().any(|p| p.contains(at))
    }
}

/// Where a request's offers are looked for. Not a secret: it says nothing of the court's
/// rules, so it may filter before them.
#[derive(Clone, Debug, PartialEq)]
pub enum SearchArea {
    /// Offers in these régions (codes): by default, the régions of the départements the
    /// following centre covers.
    Regions(HashSet<String>),
    /// Offers within this many km of the following centre.
    Radius(f64),
    /// Anywhere: the centre has neither coverage nor a place (and placements, which check
    /// one chosen offer).
    Anywhere,
}

impl SearchArea {
    /// Whether an offer lies in the area (`distance_km`: from the centre, when known).
    fn holds(&self, entry: &OfferEntry, distance_km: Option<f64>) -> bool {
        match self {
            Self::Regions(regions) => crate::geo::names::region_of_departement(&entry.departement)
                .is_some_and(|region| regions.contains(region)),
            Self::Radius(km) => distance_km.is_some_and(|d| d <= *km),
            Self::Anywhere => true,
        }
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
    /// The request's exclusion factor step, as the following centre set it.
    pub radius_factor: f64,
    /// The centre that follows the person, when its coordinates are known.
    pub near: Option<LatLon>,
    /// Where to look.
    pub area: SearchArea,
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
    /// The commune's name, for people (the code is for machines).
    pub commune_name: Option<&'static str>,
    pub departement: String,
    pub departement_name: Option<&'static str>,
    pub distance_km: Option<f64>,
    pub price_cents: i64,
    /// The fewest places free on any night wanted.
    pub free_places: i32,
}

/// The compatible offers, nearest first. Nothing about the others.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Outcome {
    pub proposals: Vec<Proposal>,
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

    /// Whether an offer could take the person on the nights wanted, leaving aside the places
    /// free and the place rules: open every night, what the person needs, not for victims.
    pub fn bookable(entry: &OfferEntry, q: &Query<'_>) -> bool {
        let n = q.needs;
        let needs_met = (entry.accessible || !n.accessible) && (entry.pets || !n.pets) && (entry.couples || !n.couple);
        let open = entry.available_from <= q.first_night && entry.available_until.is_none_or(|u| u >= q.last_night);
        !entry.hosts_victims && open && needs_met
    }

    /// Whether the offer lies where the request looks.
    pub fn in_area(entry: &OfferEntry, q: &Query<'_>) -> bool {
        q.area.holds(entry, q.near.map(|n| n.distance_km(entry.at)))
    }

    /// The place rules, asked only of an offer otherwise bookable.
    pub fn allowed_place(entry: &OfferEntry, q: &Query<'_>) -> bool {
        q.constraints
            .allows_place(entry.at, &entry.commune, &entry.departement, q.radius_factor)
    }

    /// Proposes up to `q.limit` offers. `booked` gives, for offer ids, the most places booked
    /// on any night wanted (absent: none).
    pub fn propose<E>(
        &self,
        q: &Query<'_>,
        mut booked: impl FnMut(&[&str]) -> Result<HashMap<String, i32>, E>,
    ) -> Result<Outcome, E> {
        let order: Box<dyn Iterator<Item = usize> + '_> = match (q.near, &q.area) {
            // Nearest first, and nothing beyond the radius.
            (Some(near), SearchArea::Radius(km)) => Box::new(
                self.tree
                    .nearest_neighbor_iter(near.xyz())
                    .map(|p| p.data)
                    .take_while(move |i| near.distance_km(self.entries[*i].at) <= *km),
            ),
            (Some(near), _) => Box::new(self.tree.nearest_neighbor_iter(near.xyz()).map(|p| p.data)),
            (None, _) => Box::new(0..self.entries.len()),
        };
        let mut out = Outcome::default();
        let mut batch: Vec<usize> = Vec::new();
        // The area is no secret: it is applied before the budget of offers looked at.
        let mut order = order
            .filter(|i| Self::in_area(&self.entries[*i], q))
            .take(q.examine.max(q.limit));
        loop {
            let next = order.next();
            if let Some(i) = next
                && Self::bookable(&self.entries[i], q)
            {
                batch.push(i);
            }
            if batch.len() >= 32 || (next.is_none() && !batch.is_empty()) {
                let ids: Vec<&str> = batch.iter().map(|i| self.entries[*i].id.as_str()).collect();
                let taken = booked(&ids)?;
                for i in batch.drain(..) {
                    let entry = &self.entries[i];
                    let free = entry.capacity - taken.get(&entry.id).copied().unwrap_or(0);
                    if free > 0 && out.proposals.len() < q.limit && Self::allowed_place(entry, q) {
                        out.proposals.push(Proposal {
                            offer_id: entry.id.clone(),
                            name: entry.name.clone(),
                            kind: entry.kind,
                            commune: entry.commune.clone(),
                            commune_name: crate::geo::names::commune(&entry.commune),
                            departement: entry.departement.clone(),
                            departement_name: crate::geo::names::departement(&entry.departement),
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
            .filter(|(_, e)| Self::in_area(e, q) && Self::bookable(e, q) && Self::allowed_place(e, q))
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
    use super::super::protective_disc::tests::Rng;
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
            area: SearchArea::Anywhere,
        }
    }

    fn ids(out: &Outcome) -> Vec<&str> {
        out.proposals.iter().map(|p| p.offer_id.as_str()).collect()
    }

    #[test]
    fn a_request_looks_in_its_area_only() {
        let c = Constraints::default();
        let paris = entry("paris", 48.86, 2.35);
        let creteil = OfferEntry {
            departement: "94".into(),
            commune: "94028".into(),
            ..entry("creteil", 48.79, 2.455)
        };
        let reunion = OfferEntry {
            departement: "974".into(),
            commune: "97411".into(),
            ..entry("reunion", -20.88, 55.45)
        };
        let lyon = OfferEntry {
            departement: "69".into(),
            commune: "69123".into(),
            ..entry("lyon", 45.76, 4.84)
        };
        let index = OfferIndex::new(vec![reunion, lyon, creteil, paris]);
        let ile_de_france = Query {
            area: SearchArea::Regions(["11".to_owned()].into()),
            ..query(&c)
        };
        let out = index
            .propose(&ile_de_france, |_| Ok::<_, ()>(HashMap::new()))
            .unwrap_or_default();
        assert_eq!(ids(&out), ["paris", "creteil"]);
        assert_eq!(index.propose_by_scan(&ile_de_france), ["paris", "creteil"]);
        assert_eq!(out.proposals[1].commune_name, Some("Créteil"));
        assert_eq!(out.proposals[1].departement_name, Some("Val-de-Marne"));
        // Without the centre's place, the region still holds.
        let unplaced = Query {
            near: None,
            ..ile_de_france
        };
        let out = index
            .propose(&unplaced, |_| Ok::<_, ()>(HashMap::new()))
            .unwrap_or_default();
        assert_eq!(ids(&out).len(), 2);
        assert!(out.proposals.iter().all(|p| p.distance_km.is_none()));
        // A radius: 12 km from the centre of Paris holds Créteil (about 10 km), not Lyon.
        let radius = Query {
            area: SearchArea::Radius(12.0),
            ..query(&c)
        };
        let out = index
            .propose(&radius, |_| Ok::<_, ()>(HashMap::new()))
            .unwrap_or_default();
        assert_eq!(ids(&out), ["paris", "creteil"]);
        let radius = Query {
            area: SearchArea::Radius(5.0),
            ..query(&c)
        };
        assert_eq!(
            ids(&index
                .propose(&radius, |_| Ok::<_, ()>(HashMap::new()))
                .unwrap_or_default()),
            ["paris"]
        );
        assert_eq!(index.propose_by_scan(&radius), ["paris"]);
        // Anywhere: all four, nearest first, La Réunion last.
        let anywhere = query(&c);
        let out = index
            .propose(&anywhere, |_| Ok::<_, ()>(HashMap::new()))
            .unwrap_or_default();
        assert_eq!(ids(&out), ["paris", "creteil", "lyon", "reunion"]);
    }

    #[test]
    fn a_protected_person_is_kept_clear_through_her_disc() {
        // A protected person 3 km north of hotel "a"; alert distance 2 km.
        let her = LatLon { lat: 48.877, lon: 2.35 };
        let mut n = 0.1;
        let disc = Disc::draw(her, 2, || {
            n = (n + 0.618) % 1.0;
            n
        })
        .expect("a disc");
        let index = OfferIndex::new(vec![entry("a", 48.85, 2.35), entry("b", 48.60, 2.35)]);
        let c = Constraints {
            protected: vec![disc],
            ..Constraints::default()
        };
        let none = |_: &[&str]| Ok::<_, ()>(HashMap::new());
        let out = index.propose(&query(&c), none).unwrap_or_default();
        assert_eq!(
            ids(&out),
            ["b"],
            "3 km is inside a disc of at least 2 × 2 + 1.1 + 0.5 km"
        );
    }

    #[test]
    fn only_compatible_offers_with_a_free_place_are_proposed() {
        let mut victims = entry("v", 48.86, 2.35);
        victims.hosts_victims = true;
        let mut closed = entry("x", 48.86, 2.36);
        closed.available_until = NaiveDate::from_ymd_opt(2026, 12, 2);
        let mut elsewhere = entry("d", 48.87, 2.35);
        elsewhere.departement = "93".into();
        let index = OfferIndex::new(vec![
            victims,
            closed,
            elsewhere,
            entry("full", 48.85, 2.35),
            entry("ok", 48.84, 2.35),
        ]);
        let c = Constraints {
            departements: ["93".to_owned()].into(),
            ..Constraints::default()
        };
        let out = index
            .propose(&query(&c), |_| Ok::<_, ()>(HashMap::from([("full".to_owned(), 2)])))
            .unwrap_or_default();
        assert_eq!(ids(&out), ["ok"]);
        let json = serde_json::to_value(&out).unwrap_or_default();
        assert_eq!(json.as_object().map(|o| o.len()), Some(1), "proposals only: {json}");
    }

    #[test]
    fn place_rules_are_asked_only_of_bookable_offers() {
        // An offer inside a banned département, closed on the nights wanted: the ban is never
        // evaluated for it (a closed offer must not answer a place question).
        let mut closed = entry("x", 48.86, 2.36);
        closed.available_until = NaiveDate::from_ymd_opt(2026, 11, 1);
        closed.departement = "93".into();
        let c = Constraints {
            departements: ["93".to_owned()].into(),
            ..Constraints::default()
        };
        let q = query(&c);
        assert!(!OfferIndex::bookable(&closed, &q));
        let index = OfferIndex::new(vec![closed]);
        let asked = std::cell::Cell::new(0);
        let out = index
            .propose(&q, |ids: &[&str]| {
                asked.set(asked.get() + ids.len());
                Ok::<_, ()>(HashMap::new())
            })
            .unwrap_or_default();
        assert!(out.proposals.is_empty());
        assert_eq!(
            asked.get(),
            0,
            "no night was even counted for an offer that cannot be booked"
        );
    }

    #[test]
    fn safety_never_weakens_over_thousands_of_random_cases() {
        // Every proposed offer is outside every true alert disc at the factor used, outside the
        // banned communes, départements and areas, and never a victims' shelter.
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut proposed_total = 0;
        for case in 0..2000 {
            let centre = LatLon {
                lat: 43.5 + 6.0 * rng.next(),
                lon: -1.0 + 7.0 * rng.next(),
            };
            let entries: Vec<OfferEntry> = (0..60)
                .map(|i| {
                    let mut e = entry(
                        &format!("o{i}"),
                        centre.lat + (rng.next() - 0.5) * 0.5,
                        centre.lon + (rng.next() - 0.5) * 0.7,
                    );
                    e.commune = format!("c{}", (rng.next() * 20.0) as u32);
                    e.departement = format!("d{}", (rng.next() * 6.0) as u32);
                    e.hosts_victims = rng.next() < 0.1;
                    e
                })
                .collect();
            let mut truths = Vec::new();
            let mut c = Constraints::default();
            for _ in 0..(1 + (rng.next() * 3.0) as usize) {
                let her = LatLon {
                    lat: centre.lat + (rng.next() - 0.5) * 0.3,
                    lon: centre.lon + (rng.next() - 0.5) * 0.4,
                };
                let alert = 1 + (rng.next() * 10.0) as i32;
                c.protected.push(Disc::draw(her, alert, || rng.next()).expect("a disc"));
                truths.push((her, f64::from(alert)));
            }
            c.communes.insert(format!("c{}", (rng.next() * 20.0) as u32));
            c.departements.insert(format!("d{}", (rng.next() * 6.0) as u32));
            let (x, y) = (
                centre.lon + (rng.next() - 0.5) * 0.4,
                centre.lat + (rng.next() - 0.5) * 0.3,
            );
            let square = serde_json::json!({ "type": "Polygon", "coordinates": [[
                [x, y], [x + 0.05, y], [x + 0.05, y + 0.05], [x, y + 0.05], [x, y]]] });
            c.polygons.push(Polygon::from_geojson(&square).expect("a polygon"));
            let index = OfferIndex::new(entries.clone());
            for factor in super::super::protective_disc::FACTOR_STEPS {
                let q = Query {
                    radius_factor: factor,
                    near: Some(centre),
                    limit: 50,
                    ..query(&c)
                };
                let out = index.propose(&q, |_| Ok::<_, ()>(HashMap::new())).unwrap_or_default();
                for p in &out.proposals {
                    let e = entries.iter().find(|e| e.id == p.offer_id).expect("an entry");
                    for (her, alert) in &truths {
                        assert!(
                            her.distance_km(e.at) >= factor * alert,
                            "case {case}: {} proposed {} km from a protected person (alert {alert} km, factor {factor})",
                            e.id,
                            her.distance_km(e.at)
                        );
                    }
                    assert!(!c.communes.contains(&e.commune) && !c.departements.contains(&e.departement));
                    assert!(!c.polygons[0].contains(e.at) && !e.hosts_victims);
                    proposed_total += 1;
                }
            }
        }
        assert!(
            proposed_total > 10_000,
            "the cases propose something ({proposed_total})"
        );
    }

    #[test]
    fn a_commune_ban_is_tested_against_the_point_not_the_declared_code() {
        // Banned: Paris 11e. "in" stands at its town hall but declares the 20e; "near" is in
        // the 3e, 190 m from the 11e's reference border (within the tolerance); "beyond" is
        // 510 m from it, and "out" is in the 20e, 1.1 km from it.
        let mut inside = entry("in", 48.8575, 2.3795);
        inside.commune = "75120".into();
        let mut near = entry("near", 48.8584, 2.3645);
        near.commune = "75103".into();
        let mut beyond = entry("beyond", 48.8584, 2.3600);
        beyond.commune = "75103".into();
        let mut out = entry("out", 48.8640, 2.4040);
        out.commune = "75120".into();
        let index = OfferIndex::new(vec![inside, near, beyond, out]);
        let c = Constraints {
            communes: ["75111".to_owned()].into(),
            commune_areas: vec![crate::geo::contours::area("75111").expect("a contour")],
            ..Constraints::default()
        };
        let none = |_: &[&str]| Ok::<_, ()>(HashMap::new());
        let got = index.propose(&query(&c), none).unwrap_or_default();
        let mut got = ids(&got);
        got.sort_unstable();
        assert_eq!(got, ["beyond", "out"]);
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
        let mut n = 0.5;
        let c = Constraints {
            protected: vec![
                Disc::draw(LatLon { lat: 48.8, lon: 2.3 }, 10, || {
                    n = (n + 0.414) % 1.0;
                    n
                })
                .expect("a disc"),
            ],
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
