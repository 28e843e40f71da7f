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
