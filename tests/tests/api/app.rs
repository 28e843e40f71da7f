//! The practitioner app at `/app`: every built file of `clients/practitioner/dist` is served as it
//! is on disk (so the binary holds what CI proved matches the sources), under a strict
//! Content-Security-Policy, with validators; nothing else is served under `/app`.

use std::path::Path;

use relais_tests::spawn_app;

fn dist() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../clients/practitioner/dist")
}

#[tokio::test]
async fn every_built_file_is_served_as_built() {
    let app = spawn_app().await;
    let mut names: Vec<String> = std::fs::read_dir(dist())
        .expect("clients/practitioner/dist")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(names.len() >= 8, "{names:?}");
    for name in &names {
        let on_disk = std::fs::read(dist().join(name)).unwrap();
        let served = app.get(&format!("/app/{name}")).send().await;
        assert_eq!(served.status, 200, "{name}");
        assert_eq!(served.body, on_disk, "{name} is served as built");
        assert_eq!(served.header("cache-control").as_deref(), Some("no-cache"), "{name}");
        assert!(served.header("etag").is_some(), "{name}");
    }
    for path in ["/app", "/app/"] {
        let page = app.get(path).send().await;
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(page.body, std::fs::read(dist().join("index.html")).unwrap(), "{path}");
        assert!(page.header("content-type").unwrap().starts_with("text/html"));
        assert!(page.header("content-security-policy").is_some(), "{path}");
    }
    let js = app.get("/app/app.js").send().await;
    assert!(js.header("content-type").unwrap().starts_with("text/javascript"));
    let manifest = app.get("/app/manifest.webmanifest").send().await;
    assert_eq!(
        manifest.header("content-type").as_deref(),
        Some("application/manifest+json")
    );
    assert_eq!(manifest.json()["start_url"], "/app");
    assert_eq!(manifest.json()["lang"], "fr");
}

#[tokio::test]
async fn the_page_allows_only_its_own_origin_and_revalidates() {
    let app = spawn_app().await;
    let page = app.get("/app").send().await;
    let csp = page.header("content-security-policy").expect("a CSP on the page");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    assert!(
        !page.text().contains("http://") && !page.text().contains("https://"),
        "no third-party resource"
    );
    let tag = page.header("etag").unwrap();
    let again = app.get("/app").header("If-None-Match", &tag).send().await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let weak = app
        .get("/app")
        .header("If-None-Match", &format!("W/{tag}"))
        .send()
        .await;
    assert_eq!(weak.status, 304, "a weakened tag still matches");
    let other = app.get("/app").header("If-None-Match", "\"0000\"").send().await;
    assert_eq!(other.status, 200);

    // The worker may control the whole app, and caches nothing but the shell.
    let worker = app.get("/app/sw.js").send().await;
    assert_eq!(worker.header("service-worker-allowed").as_deref(), Some("/app"));
    assert!(!worker.text().contains("__VERSION__"), "the build names the cache");
    assert!(!worker.text().contains("/v1/"), "no API answer is cached");
}

#[tokio::test]
async fn nothing_else_is_served_under_app() {
    let app = spawn_app().await;
    for path in [
        "/app/secret.key",
        "/app/..%2FCargo.toml",
        "/app/index.htm",
        "/app/sw.js.map",
    ] {
        let reply = app.get(path).send().await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("application/problem+json"),
            "{path}"
        );
    }
    let post = app.post("/app").send_unchecked().await;
    assert_eq!(post.status, 405);
}
