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

#[tokio::test]
async fn places_are_found_by_name_as_people_type_them() {
    let app = spawn_app().await;
    let body = app.get("/v1/geo/places?q=creteil&limit=3").send().await.json();
    assert_eq!(body["items"][0]["code"], "94028", "{body}");
    assert_eq!(body["items"][0]["kind"], "commune");
    assert_eq!(body["items"][0]["name"], "Créteil");
    assert_eq!(body["items"][0]["departement_name"], "Val-de-Marne");
    let body = app.get("/v1/geo/places?q=Val%20de%20Marne").send().await.json();
    assert_eq!(body["items"][0]["kind"], "departement", "{body}");
    assert_eq!(body["items"][0]["code"], "94");
    // Namesakes are told apart by their département, the most populous first.
    let body = app.get("/v1/geo/places?q=saint-denis&limit=5").send().await.json();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items[0]["code"], "97411", "{body}");
    assert_eq!(items[1]["code"], "93066", "{body}");
    assert_eq!(items[1]["departement_name"], "Seine-Saint-Denis", "{body}");
    for bad in [
        "/v1/geo/places?q=",
        "/v1/geo/places?q=creteil&limit=0",
        "/v1/geo/places?q=creteil&limit=21",
        "/v1/geo/places?q=creteil&x=1",
    ] {
        let reply = app.get(bad).send().await;
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(reply.problem(), "validation", "{bad}");
    }
}

#[tokio::test]
async fn staff_find_addresses_through_the_geocoder_and_nothing_asked_is_logged() {
    let captured = relais_tests::logs::capture();
    let ban = relais_tests::fakes::Fake::ban();
    let app = relais_tests::spawn_app_with(&[("RELAIS_GEOCODER_URL", &ban.url)]).await;
    let practitioner = app.token("practitioner").await;
    let reply = app
        .get("/v1/geo/addresses?q=1%20place%20salvador%20allende%20creteil&limit=5")
        .bearer(&practitioner)
        .send()
        .await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    let first = &body["items"][0];
    assert_eq!(first["label"], "1 Place Salvador Allende 94000 Créteil", "{body}");
    assert_eq!(first["precision"], "housenumber");
    assert_eq!(first["commune"], "94028");
    assert_eq!(first["commune_name"], "Créteil");
    assert_eq!(first["departement_name"], "Val-de-Marne");
    assert!((first["latitude"].as_f64().unwrap() - 48.7776).abs() < 1e-6);
    let sent = ban.recorder.calls();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["q"], "1 place salvador allende creteil");
    assert_eq!(sent[0].body["limit"], "5");
    let housing = app.token("housing").await;
    let body = app
        .get("/v1/geo/addresses?q=rivoli")
        .bearer(&housing)
        .send()
        .await
        .json();
    assert_eq!(body["items"].as_array().unwrap().len(), 2, "{body}");
    assert_eq!(body["items"][0]["commune_name"], "Paris 4e Arrondissement");

    // Not without an account, not for a partner key; a query the geocoder would refuse is
    // refused here, and never sent.
    assert_eq!(app.get("/v1/geo/addresses?q=rivoli").send().await.status, 401);
    let key = app.partner_key().await;
    assert_eq!(
        app.get("/v1/geo/addresses?q=rivoli").bearer(&key).send().await.status,
        403
    );
    for bad in [
        "/v1/geo/addresses?q=ab",
        "/v1/geo/addresses?q=%20%20-x",
        "/v1/geo/addresses?q=rivoli&limit=50",
    ] {
        let reply = app.get(bad).bearer(&practitioner).send().await;
        assert_eq!(reply.status, 400, "{bad}");
    }
    assert_eq!(
        ban.recorder.calls().len(),
        2,
        "refused queries never reach the geocoder"
    );

    // The geocoder down: a clear 503 in both languages, and the address in no log.
    ban.recorder.set_down(true);
    let reply = app
        .get("/v1/geo/addresses?q=12%20rue%20de%20rivoli%20paris")
        .bearer(&practitioner)
        .send()
        .await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.problem(), "dependency-unavailable");
    assert!(reply.json()["detail"].as_str().unwrap().contains("ne répond pas"));
    let text = captured.text();
    assert!(text.contains("address search failed"), "the capture works");
    for asked in ["salvador", "Salvador", "rivoli", "Rivoli"] {
        assert!(!text.contains(asked), "the log holds {asked:?}");
    }
}

#[tokio::test]
async fn without_a_geocoder_address_search_says_so() {
    let app = spawn_app().await;
    let practitioner = app.token("practitioner").await;
    let reply = app
        .get("/v1/geo/addresses?q=12%20rue%20de%20rivoli")
        .bearer(&practitioner)
        .send()
        .await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.problem(), "dependency-unavailable");
    assert!(
        reply.json()["detail"]
            .as_str()
            .unwrap()
            .contains("Aucun service d'adresses")
    );
}
