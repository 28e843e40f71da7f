//! A fresh PostgreSQL database per test, dropped at the end.

use diesel::Connection as _;
use diesel::connection::SimpleConnection as _;
use diesel::pg::PgConnection;

pub struct TestDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl TestDatabase {
    pub fn create(admin_url: &str) -> Self {
        let name = format!("relais_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(admin_url).expect("TEST_DATABASE_URL is reachable");
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create test database");
        let url = with_database(admin_url, &name);
        Self {
            admin_url: admin_url.to_owned(),
            name,
            url,
        }
    }
}

/// Replaces the database name in a `postgres://…/name?params` URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}
