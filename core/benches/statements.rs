//! What one indexed lookup costs through DbConn (diesel's MultiConnection) and through
//! a plain SqliteConnection, on the same database, and one UPDATE through the writer.
//! `cargo bench -p relais-core --bench statements`; figures in docs/benchmarks.md (issue 19).
#![allow(clippy::print_stdout, clippy::unwrap_used)] // a benchmark reports on standard output, and stops on any failure
use std::time::Instant;

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use relais_core::db::schema::contacts;
use relais_core::db::{DatabaseUrl, Db};

fn main() {
    let dir = std::env::temp_dir().join(format!("relais-statements-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bench.db").display().to_string();
    let db = Db::connect(&DatabaseUrl::Sqlite(path.clone()), 4).unwrap();
    db.migrate().unwrap();
    let mut raw = SqliteConnection::establish(&path).unwrap();
    raw.batch_execute("PRAGMA journal_mode=WAL; BEGIN").unwrap();
    for i in 0..10_000 {
        raw.batch_execute(&format!(
            "INSERT INTO contacts (id, channel, address_sealed, address_hmac, alias, kind, language, status, created_at, updated_at) \
             VALUES ('c{i}', 'telegram', x'00', 'k{i}', 'Contact {i}', 'unknown', 'fr', 'active', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        ))
        .unwrap();
    }
    raw.batch_execute("COMMIT").unwrap();
    let n = 50_000;
    let mut pooled = db.get().unwrap();
    let t = Instant::now();
    for i in 0..n {
        let key = format!("k{}", i % 10_000);
        let _: String = contacts::table
            .filter(contacts::address_hmac.eq(&key))
            .select(contacts::id)
            .first(&mut *pooled)
            .unwrap();
    }
    println!(
        "DbConn (MultiConnection): {:.2} µs per lookup",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t = Instant::now();
    for i in 0..n {
        let key = format!("k{}", i % 10_000);
        let _: String = contacts::table
            .filter(contacts::address_hmac.eq(&key))
            .select(contacts::id)
            .first(&mut raw)
            .unwrap();
    }
    println!(
        "SqliteConnection: {:.2} µs per lookup",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t = Instant::now();
    for i in 0..n / 10 {
        let key = format!("k{}", i % 10_000);
        relais_core::db::write_tx(&mut pooled, |c| {
            diesel::update(contacts::table.filter(contacts::address_hmac.eq(&key)))
                .set(contacts::kind.eq("author"))
                .execute(c)
        })
        .unwrap();
    }
    println!(
        "write_tx update via writer: {:.2} µs each",
        t.elapsed().as_secs_f64() * 1e6 / (n / 10) as f64
    );
}
