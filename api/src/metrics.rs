//! Prometheus metrics, kept by hand: request counts and durations by method, route
//! pattern (never the raw path) and status.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// (method, route pattern, status) → (count, total seconds).
type RequestTable = BTreeMap<(String, String, u16), (u64, f64)>;

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<RequestTable>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut map) = self.requests.lock() {
            let entry = map
                .entry((method.to_owned(), route.to_owned(), status))
                .or_insert((0, 0.0));
            entry.0 += 1;
            entry.1 += seconds;
        }
    }

    pub fn render(&self, database_up: bool, backend: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP relais_build_info Version of the running server.");
        let _ = writeln!(out, "# TYPE relais_build_info gauge");
        let _ = writeln!(
            out,
            "relais_build_info{{version=\"{}\",database=\"{backend}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        let _ = writeln!(
            out,
            "# HELP relais_database_up Whether the database answered the last probe."
        );
        let _ = writeln!(out, "# TYPE relais_database_up gauge");
        let _ = writeln!(out, "relais_database_up {}", u8::from(database_up));
        let _ = writeln!(out, "# HELP relais_http_requests_total HTTP requests handled.");
        let _ = writeln!(out, "# TYPE relais_http_requests_total counter");
        let snapshot: Vec<_> = self
            .requests
            .lock()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default();
        for ((method, route, status), (count, _)) in &snapshot {
            let _ = writeln!(
                out,
                "relais_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {count}",
                escape(route)
            );
        }
        let _ = writeln!(
            out,
            "# HELP relais_http_request_duration_seconds Time spent handling requests."
        );
        let _ = writeln!(out, "# TYPE relais_http_request_duration_seconds summary");
        for ((method, route, status), (count, sum)) in &snapshot {
            let labels = format!("method=\"{method}\",route=\"{}\",status=\"{status}\"", escape(route));
            let _ = writeln!(out, "relais_http_request_duration_seconds_sum{{{labels}}} {sum}");
            let _ = writeln!(out, "relais_http_request_duration_seconds_count{{{labels}}} {count}");
        }
        out
    }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
