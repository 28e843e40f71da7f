//! Discovery: the server serves the contract it was built with at `/openapi.yaml`, and a
//! reference page at `/docs` rendered by the vendored Redoc bundle (every file of
//! `clients/docs/dist`, as built), under a Content-Security-Policy that lets nothing come from
//! elsewhere; deprecated operations are exactly those the contract marks.

use std::path::Path;

use relais_tests::{Contract, spawn_app};

fn dist() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../clients/docs/dist")
}

#[tokio::test]
async fn the_contract_is_served_as_built_and_revalidates() {
    let app = spawn_app().await;
    let on_disk = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml")).unwrap();
    let served = app.get("/openapi.yaml").send().await;
    assert_eq!(served.status, 200);
    assert_eq!(served.body, on_disk, "the contract is served byte for byte");
    assert_eq!(served.header("content-type").as_deref(), Some("application/yaml"));
    let spec: serde_json::Value = serde_norway::from_slice(&served.body).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    for path in ["/openapi.yaml", "/docs"] {
        assert!(spec["paths"].get(path).is_some(), "{path} is in the contract it serves");
    }
    let tag = served.header("etag").unwrap();
    let again = app.get("/openapi.yaml").header("If-None-Match", &tag).send().await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
}

#[tokio::test]
async fn the_reference_page_loads_only_from_this_origin() {
    let app = spawn_app().await;
    let page = app.get("/docs").send().await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body, std::fs::read(dist().join("index.html")).unwrap());
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    let csp = page.header("content-security-policy").expect("a CSP on the page");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "worker-src blob:",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    let scripts = csp.split(';').find(|d| d.trim().starts_with("script-src")).unwrap();
    assert!(!scripts.contains("unsafe"), "no inline or evaluated script: {csp}");
    assert!(!csp.contains("http"), "no other origin: {csp}");
    let text = page.text();
    assert!(text.contains(r#"src="/docs/redoc.standalone.js""#), "{text}");
    assert!(text.contains(r#"spec-url="/openapi.yaml""#), "{text}");
    assert!(
        !text.contains("http://") && !text.contains("https://"),
        "no third-party resource"
    );

    let mut names: Vec<String> = std::fs::read_dir(dist())
        .expect("clients/docs/dist")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "index.html")
        .collect();
    names.sort();
    assert_eq!(names, ["LICENSE.redoc.txt", "redoc.standalone.js"]);
    for name in &names {
        let served = app.get(&format!("/docs/{name}")).send().await;
        assert_eq!(served.status, 200, "{name}");
        assert_eq!(
            served.body,
            std::fs::read(dist().join(name)).unwrap(),
            "{name} is served as built"
        );
        assert!(served.header("etag").is_some(), "{name}");
    }
    let script = app.get("/docs/redoc.standalone.js").send().await;
    assert!(script.header("content-type").unwrap().starts_with("text/javascript"));
    for path in [
        "/docs/index.html",
        "/docs/redoc.standalone.js.map",
        "/docs/..%2Fopenapi.yaml",
    ] {
        let reply = app.get(path).send().await;
        assert_eq!(reply.status, 404, "{path}");
    }
}

/// The deprecation table the server announces from (RFC 9745 and RFC 8594 headers) is the
/// contract's list: each operation marked `deprecated: true`, with its `x-deprecated-at` and an
/// `x-sunset` at least six months later, and no other.
#[test]
fn the_deprecated_operations_are_the_contracts() {
    let spec = Contract::raw();
    let mut marked = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op.get("deprecated") == Some(&serde_json::Value::Bool(true)) {
                let date = |key: &str| {
                    let text = op[key]
                        .as_str()
                        .unwrap_or_else(|| panic!("{method} {path} is deprecated without {key}"));
                    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
                };
                let (since, sunset) = (date("x-deprecated-at"), date("x-sunset"));
                assert!(
                    sunset >= since + chrono::Months::new(6),
                    "{method} {path}: a sunset six months after the deprecation at least"
                );
                marked.push((method.to_uppercase(), path.clone(), since, sunset));
            }
        }
    }
    let mut table: Vec<_> = relais_api::deprecation::DEPRECATED
        .iter()
        .map(|d| {
            let date = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
            (
                d.method.to_owned(),
                d.path.to_owned(),
                date(d.deprecated_at),
                date(d.sunset),
            )
        })
        .collect();
    marked.sort();
    table.sort();
    assert_eq!(
        marked, table,
        "openapi.yaml and relais_api::deprecation::DEPRECATED differ"
    );
}
