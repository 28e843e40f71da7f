//! Housing matching speed: one request with three protected persons (their protective discs) and five forbidden areas
//! (two communes, two départements, one polygon) against 1,000, 10,000 and 100,000 offers
//! spread over metropolitan France, with the R-tree walk and with a plain scan of the same
//! offers, in the same run. Prints p50 and p99 per size. `cargo bench -p relais-core --bench
//! matching` (release profile); figures go to docs/benchmarks.md.

#![allow(clippy::print_stdout)] // a benchmark reports on standard output

use std::collections::HashMap;
use std::time::Instant;

use chrono::NaiveDate;
use relais_core::geo::Geography;
use relais_core::housing::geometry::{LatLon, Polygon};
use relais_core::housing::matching::{Constraints, Needs, OfferEntry, OfferIndex, Query, SearchArea};
use relais_core::housing::model::OfferKind;
use relais_core::housing::protective_disc::Disc;

/// A small deterministic generator (xorshift64*), so every run uses the same offers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn between(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.next()
    }
}

fn offers(n: usize, geo: &Geography, rng: &mut Rng) -> Vec<OfferEntry> {
    let communes = geo.communes();
    (0..n)
        .map(|i| {
            let commune = &communes[(rng.next() * communes.len() as f64) as usize % communes.len()];
            OfferEntry {
                id: format!("offer-{i}"),
                organisation_id: "platform".into(),
                kind: OfferKind::Hotel,
                name: format!("Offre {i}"),
                commune: commune.insee_code.clone(),
                departement: commune.departement_code.clone(),
                at: LatLon {
                    lat: rng.between(42.4, 51.0),
                    lon: rng.between(-4.7, 8.1),
                },
                capacity: 1 + (rng.next() * 20.0) as i32,
                price_cents: 3000 + (rng.next() * 9000.0) as i64,
                accessible: rng.next() < 0.3,
                pets: rng.next() < 0.2,
                couples: rng.next() < 0.5,
                hosts_victims: rng.next() < 0.05,
                available_from: NaiveDate::MIN,
                available_until: None,
            }
        })
        .collect()
}

fn constraints(centre: LatLon, rng: &mut Rng) -> Constraints {
    let mut c = Constraints::default();
    for _ in 0..3 {
        let her = LatLon {
            lat: centre.lat + rng.between(-0.2, 0.2),
            lon: centre.lon + rng.between(-0.2, 0.2),
        };
        let alert = 1 + (rng.next() * 9.0) as i32;
        c.protected
            .push(Disc::draw(her, alert, || rng.next()).unwrap_or_else(|| std::process::exit(1)));
    }
    c.communes.extend(["75056".to_owned(), "93048".to_owned()]);
    // The banned communes are tested by their contours too, as the server does.
    c.commune_areas.extend(
        ["75056", "93048"]
            .iter()
            .filter_map(|code| relais_core::geo::contours::area(code)),
    );
    assert_eq!(c.commune_areas.len(), 2, "both banned communes have a contour");
    c.departements.extend(["94".to_owned(), "92".to_owned()]);
    let (lat, lon) = (centre.lat + 0.3, centre.lon - 0.3);
    c.polygons.push(
        Polygon::from_geojson(&serde_json::json!({ "type": "Polygon", "coordinates": [[
            [lon, lat], [lon + 0.4, lat], [lon + 0.4, lat + 0.3], [lon + 0.1, lat + 0.4], [lon, lat]
        ]] }))
        .unwrap_or_else(|| std::process::exit(1)),
    );
    c
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let geo = Geography::load().unwrap_or_else(|_| std::process::exit(1));
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("machine: {cpu}, {cores} logical cores");
    // The machine's raw pace in the same run: great-circle distances per second, one core.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let points: Vec<LatLon> = (0..1_000_000)
        .map(|_| LatLon {
            lat: rng.between(42.4, 51.0),
            lon: rng.between(-4.7, 8.1),
        })
        .collect();
    let paris = LatLon {
        lat: 48.8566,
        lon: 2.3522,
    };
    let started = Instant::now();
    let total: f64 = points.iter().map(|p| paris.distance_km(*p)).sum();
    let per_second = points.len() as f64 / started.elapsed().as_secs_f64();
    println!(
        "raw: {:.1} million great-circle distances a second (checksum {:.0})",
        per_second / 1e6,
        total
    );
    println!();
    println!("| offers | index build | R-tree p50 | R-tree p99 | scan p50 | scan p99 | same answer |");
    println!("|---|---|---|---|---|---|---|");
    for n in [1_000, 10_000, 100_000] {
        let mut rng = Rng(0xA076_1D64_78BD_642F ^ n as u64);
        let entries = offers(n, &geo, &mut rng);
        let built = Instant::now();
        let index = OfferIndex::new(entries);
        let build_ms = built.elapsed().as_secs_f64() * 1000.0;
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        let mut agree = true;
        for _ in 0..300 {
            let centre = LatLon {
                lat: rng.between(43.0, 50.5),
                lon: rng.between(-4.0, 7.5),
            };
            let c = constraints(centre, &mut rng);
            let q = Query {
                constraints: &c,
                radius_factor: 2.0,
                near: Some(centre),
                first_night: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default(),
                last_night: NaiveDate::from_ymd_opt(2026, 12, 7).unwrap_or_default(),
                needs: Needs::default(),
                limit: 10,
                examine: 2000,
                area: SearchArea::Anywhere,
            };
            let t = Instant::now();
            let out = index.propose(&q, |_| Ok::<_, ()>(HashMap::new())).unwrap_or_default();
            fast.push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            let scanned = index.propose_by_scan(&q);
            slow.push(t.elapsed().as_secs_f64() * 1000.0);
            let mut a: Vec<String> = out.proposals.into_iter().map(|p| p.offer_id).collect();
            let mut b = scanned;
            a.sort();
            b.sort();
            agree &= a == b;
        }
        fast.sort_by(f64::total_cmp);
        slow.sort_by(f64::total_cmp);
        println!(
            "| {n} | {build_ms:.1} ms | {:.3} ms | {:.3} ms | {:.3} ms | {:.3} ms | {} |",
            percentile(&fast, 0.5),
            percentile(&fast, 0.99),
            percentile(&slow, 0.5),
            percentile(&slow, 0.99),
            if agree { "yes" } else { "NO" }
        );
    }
}
