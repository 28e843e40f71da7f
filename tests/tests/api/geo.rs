use relais_tests::spawn_app;

#[tokio::test]
async fn a_postal_code_answers_its_communes_departement_and_region() {
    let app = spawn_app().await;
    let reply = app.get("/v1/geo/postal-codes/69001").send().await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["postal_code"], "69001");
    assert!(
        body["communes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "Lyon 1er Arrondissement")
    );
    assert_eq!(body["departements"][0]["code"], "69");
    assert_eq!(body["regions"][0]["name"], "Auvergne-Rhône-Alpes");
}

#[tokio::test]
async fn overseas_postal_codes_resolve_to_their_departement() {
    let app = spawn_app().await;
    let body = app.get("/v1/geo/postal-codes/97200").send().await.json();
    assert_eq!(body["departements"][0]["code"], "972");
    assert_eq!(body["departements"][0]["zone"], "drom");
}

#[tokio::test]
async fn unknown_and_malformed_postal_codes_are_problems() {
    let app = spawn_app().await;
    let unknown = app.get("/v1/geo/postal-codes/00000").send().await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    let malformed = app.get("/v1/geo/postal-codes/7501").send().await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.problem(), "validation");
}
