use relais_tests::spawn_app;

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    let health = app.get("/healthz").send().await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");

    let ready = app.get("/readyz").send().await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["database"], "ok");

    let metrics = app.get("/metrics").send().await;
    assert_eq!(metrics.status, 200);
    let text = metrics.text();
    assert!(text.contains("relais_database_up 1"), "{text}");
    assert!(
        text.contains(r#"relais_http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_label_routes_by_pattern_never_by_raw_path() {
    let app = spawn_app().await;
    app.get("/v1/geo/postal-codes/75011").send().await;
    let text = app.get("/metrics").send().await.text();
    assert!(text.contains(r#"route="/v1/geo/postal-codes/{code}""#), "{text}");
    assert!(!text.contains("75011"), "{text}");
}

/// The operator's alert rules and dashboard (deploy/alerts.yaml, deploy/grafana-dashboard.json)
/// name only metrics the server exposes, so a renamed metric cannot silently mute an alert; and
/// the partner, security and Redis gauges they rely on are there with their labels.
#[tokio::test]
async fn the_alert_rules_and_the_dashboard_name_metrics_the_server_exposes() {
    let app = spawn_app().await;
    let text = app.get("/metrics").send().await.text();
    let mut exposed: std::collections::BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_owned)
        .collect();
    for line in [
        r#"relais_webhook_deliveries{status="dead"} 0"#,
        r#"relais_security_alerts{kind="proposal_probing"} 0"#,
        "relais_outbox_oldest_age_seconds ",
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
    // Redis's gauge, only when Redis is configured (the PostgreSQL pass has one to try).
    assert!(!text.contains("relais_redis_up"), "no Redis, no gauge: {text}");
    if let Ok(redis) = std::env::var("TEST_REDIS_URL") {
        let with_redis = relais_tests::line::spawn_line_app(&[("RELAIS_REDIS_URL", &redis)]).await;
        let text = with_redis.get("/metrics").send().await.text();
        assert!(text.contains("relais_redis_up 1"), "{text}");
    }
    exposed.insert("relais_redis_up".to_owned());
    let deploy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy");
    for file in ["alerts.yaml", "grafana-dashboard.json"] {
        let content = std::fs::read_to_string(deploy.join(file)).unwrap();
        let mut named = 0;
        for (at, _) in content.match_indices("relais_") {
            let name: String = content[at..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            let family = ["_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s).filter(|f| exposed.contains(*f)))
                .unwrap_or(&name);
            assert!(
                exposed.contains(family),
                "{file} names {name}, which /metrics does not expose"
            );
            named += 1;
        }
        assert!(named >= 8, "{file} names {named} metrics");
    }
}
