//! What the commune contours cost at start-up: resident memory and time to index them, and
//! the time to test a point. Linux only (reads /proc/self/status).
//!
//!     cargo run --release -p relais-core --example contours_cost

#![allow(clippy::print_stdout)] // a measurement reports on standard output

use std::time::Instant;

use relais_core::geo::{Geography, contours};

fn rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    ["VmRSS", "RssAnon", "RssFile"]
        .iter()
        .filter_map(|key| status.lines().find(|l| l.starts_with(key)))
        .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

fn main() {
    println!("start:                      {}", rss());
    let t = Instant::now();
    let Ok(geo) = Geography::load() else {
        std::process::exit(1);
    };
    println!("Geography::load  {:>8.1?}  {}", t.elapsed(), rss());
    let t = Instant::now();
    let n = contours::load();
    println!("contours::load   {:>8.1?}  {}  ({n} communes)", t.elapsed(), rss());
    // Every contour decoded once (what a worst case of checks would touch), then dropped.
    let t = Instant::now();
    let mut decoded = 0;
    for c in geo.communes() {
        if contours::area(&c.insee_code).is_some() {
            decoded += 1;
        }
    }
    println!(
        "decode all       {:>8.1?}  {}  ({decoded} contours)",
        t.elapsed(),
        rss()
    );
    // An offer's check: its commune's contour decoded and the point tested (town halls).
    let points: Vec<(String, (f64, f64))> = geo
        .communes()
        .iter()
        .filter_map(|c| Some((c.insee_code.clone(), contours::point(&c.insee_code)?)))
        .collect();
    let t = Instant::now();
    let inside = points
        .iter()
        .filter(|(code, (lat, lon))| contours::holds(code, *lat, *lon))
        .count();
    let per = t.elapsed() / u32::try_from(points.len().max(1)).unwrap_or(1);
    println!(
        "holds()          {per:>8.1?} each ({inside}/{} town halls inside)",
        points.len()
    );
}
