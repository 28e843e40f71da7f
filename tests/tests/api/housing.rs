//! The national housing platform: offers that break a court rule are never proposed (nothing
//! said about them, one answer to every refusal), the last bed goes to one operator
//! only, and the inventory adds up to the nights recorded.

use diesel::prelude::*;
use relais_tests::TestApp;
use relais_tests::line::spawn_line_app;
use serde_json::{Value, json};

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let reply = app.post(path).bearer(token).json(&body).send().await;
    assert_eq!(reply.status, 201, "{path}: {}", reply.text());
    reply.json()
}

/// An offer of the caller's organisation; `extra` overrides the defaults.
async fn offer(app: &TestApp, token: &str, name: &str, commune: &str, lat: f64, lon: f64, extra: Value) -> String {
    let mut body = json!({ "kind": "hotel", "name": name, "provider": "Hôtels Solidaires", "address": "1 rue de la Gare",
        "commune": commune, "latitude": lat, "longitude": lon, "capacity": 2, "price_cents": 5500, "available_from": "2026-01-01" });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    created(app, token, "/v1/housing/offers", body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn case(app: &TestApp, practitioner: &str) -> String {
    created(
        app,
        practitioner,
        "/v1/cases",
        json!({ "origin": "justice", "legal_basis": "court_ordered" }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn request(app: &TestApp, practitioner: &str, case: &str, first: &str, last: &str) -> String {
    created(
        app,
        practitioner,
        &format!("/v1/cases/{case}/housing-requests"),
        json!({ "first_night": first, "last_night": last, "urgency": "tonight" }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_offer_that_breaks_a_court_rule_is_never_proposed_and_every_refusal_says_one_thing() {
    let captured = relais_tests::logs::capture();
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let operator = app.token("housing").await;
    let c = case(&app, &practitioner).await;
    // The protected person lives in Paris (her alert distance: 2 km).
    created(
        &app,
        &practitioner,
        &format!("/v1/cases/{c}/protected-persons"),
        json!({ "label": "Mme V.", "location": { "address": "12 rue des Rosiers", "latitude": 48.8566, "longitude": 2.3522 }, "radius_km": 2 }),
    )
    .await;
    // Banned from Montreuil, the Val-de-Marne and an area around Lyon.
    created(
        &app,
        &practitioner,
        &format!("/v1/cases/{c}/measures"),
        json!({ "kind": "place_ban", "authority": "jaf", "decision_reference": "JAF-2026-12", "starts_on": "2026-01-01",
                "zone": { "communes": ["93048"], "departements": ["94"],
                          "polygon": { "type": "Polygon", "coordinates": [[[4.70, 45.60], [5.00, 45.60], [5.00, 45.90], [4.70, 45.90], [4.70, 45.60]]] } } }),
    )
    .await;

    let near = offer(&app, &operator, "Hôtel du Marais", "75056", 48.8700, 2.3522, json!({})).await; // 1.5 km
    let further = offer(&app, &operator, "Hôtel Montmartre", "75056", 48.8850, 2.3522, json!({})).await; // 3.2 km
    let montreuil = offer(
        &app,
        &operator,
        "Hôtel de Montreuil",
        "93048",
        48.8611,
        2.4437,
        json!({}),
    )
    .await;
    let creteil = offer(&app, &operator, "Hôtel de Créteil", "94028", 48.7900, 2.4550, json!({})).await;
    let lyon = offer(&app, &operator, "Hôtel Bellecour", "69123", 45.7600, 4.8400, json!({})).await;
    let shelter = offer(
        &app,
        &operator,
        "Foyer des Tilleuls",
        "78646",
        48.8000,
        2.1300,
        json!({ "kind": "shelter", "hosts_victims": true }),
    )
    .await;
    let versailles = offer(
        &app,
        &operator,
        "Hôtel de Versailles",
        "78646",
        48.8050,
        2.1200,
        json!({}),
    )
    .await;

    let r = request(&app, &practitioner, &c, "2026-12-10", "2026-12-12").await;
    // The platform sees the request, not the case.
    let queue = app.get("/v1/housing/requests").bearer(&operator).send().await;
    assert_eq!(queue.status, 200);
    assert!(queue.text().contains(&r) && !queue.text().contains(&c));

    let found = app
        .get(&format!("/v1/housing/requests/{r}/proposals"))
        .bearer(&operator)
        .send()
        .await;
    assert_eq!(found.status, 200, "{}", found.text());
    let body = found.json();
    let proposed: Vec<&str> = body["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["offer_id"].as_str().unwrap())
        .collect();
    assert_eq!(proposed, [versailles.as_str()]);
    // Compatible offers only: no excluded offer is named, no reason given, nothing counted
    // that moves when one offer moves.
    for id in [&near, &further, &montreuil, &creteil, &lyon, &shelter] {
        assert!(!found.text().contains(id.as_str()), "an excluded offer is named");
    }
    for word in ["exclusions", "examined", "protected_person_radius", "forbidden_"] {
        assert!(!found.text().contains(word), "{word} in the proposals");
    }
    assert_eq!(body["radius_factor"], 2.0, "the request's default step");
    assert_eq!(
        body["rules"],
        json!({ "protected_persons": 1, "communes": 1, "departements": 1, "areas": 1 })
    );
    // Nothing says where she is.
    for secret in ["48.8566", "2.3522", "Rosiers", "Mme V."] {
        assert!(!found.text().contains(secret), "{secret} in the proposals");
        assert!(!captured.read(5).contains(secret), "{secret} in the logs");
    }

    // No knob per call: the factor is the request's, set by the centre from fixed steps.
    for query in ["radius_factor=1", "radius_factor=0.5", "radius_factor=2"] {
        let knob = app
            .get(&format!("/v1/housing/requests/{r}/proposals?{query}"))
            .bearer(&operator)
            .send()
            .await;
        assert_eq!(knob.status, 400, "{query}: {}", knob.text());
    }

    // Choosing an excluded offer anyway is refused with one answer, whichever rule it breaks.
    let mut answers = std::collections::BTreeSet::new();
    for id in [&near, &further, &montreuil, &creteil, &lyon, &shelter] {
        let placed = app
            .post("/v1/housing/placements")
            .bearer(&operator)
            .json(&json!({ "request_id": r, "offer_id": id, "first_night": "2026-12-10", "last_night": "2026-12-12", "funding": "platform" }))
            .send()
            .await;
        assert_eq!(placed.status, 409, "{}", placed.text());
        let text = placed.text();
        assert!(
            text.contains("pas compatible avec cette demande") && text.contains("not compatible with this request")
        );
        answers.insert(text);
    }
    assert_eq!(answers.len(), 1, "one answer for every refusal: {answers:?}");
    // The operator cannot choose a factor at placement either.
    let knob = app
        .post("/v1/housing/placements")
        .bearer(&operator)
        .json(&json!({ "request_id": r, "offer_id": versailles, "first_night": "2026-12-10", "last_night": "2026-12-12", "funding": "platform", "radius_factor": 1 }))
        .send()
        .await;
    assert_eq!(knob.status, 400, "{}", knob.text());
    // Only the platform's operators match; another centre does not even see the request.
    let mine = app
        .get(&format!("/v1/housing/requests/{r}/proposals"))
        .bearer(&practitioner)
        .send()
        .await;
    assert_eq!(mine.status, 403);
    let other = app.token("practitioner.reunion").await;
    assert_eq!(
        app.get(&format!("/v1/housing/requests/{r}"))
            .bearer(&other)
            .send()
            .await
            .status,
        404
    );

    // Placed: the centre sees where the author is housed; the request is placed.
    let placed = created(
        &app,
        &operator,
        "/v1/housing/placements",
        json!({ "request_id": r, "offer_id": versailles, "first_night": "2026-12-10", "last_night": "2026-12-12", "funding": "platform" }),
    )
    .await;
    assert_eq!(placed["nights"].as_array().unwrap().len(), 3);
    assert_eq!(placed["cost_cents"], 3 * 5500);
    let housing = app
        .get(&format!("/v1/cases/{c}/housing"))
        .bearer(&practitioner)
        .send()
        .await
        .json();
    assert_eq!(housing["placements"][0]["offer_name"], "Hôtel de Versailles");
    assert_eq!(
        app.get(&format!("/v1/cases/{c}/housing"))
            .bearer(&other)
            .send()
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&format!("/v1/cases/{c}/housing"))
            .bearer(&operator)
            .send()
            .await
            .status,
        404
    );
    let after = app
        .get(&format!("/v1/housing/requests/{r}"))
        .bearer(&practitioner)
        .send()
        .await
        .json();
    assert_eq!(after["status"], "placed");
    assert_eq!(
        after["placement_ids"],
        json!([placed["id"]]),
        "the request names its placement"
    );
    let queue = app
        .get("/v1/housing/requests?status=placed")
        .bearer(&operator)
        .send()
        .await
        .json();
    assert_eq!(queue["items"][0]["placement_ids"], json!([placed["id"]]));
}

#[tokio::test]
async fn the_last_bed_goes_to_one_operator_only() {
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let operator = app.token("housing").await;
    let last_bed = offer(
        &app,
        &operator,
        "Hôtel du Dernier Lit",
        "78646",
        48.80,
        2.13,
        json!({ "capacity": 1 }),
    )
    .await;
    let mut requests = Vec::new();
    for _ in 0..6 {
        let c = case(&app, &practitioner).await;
        requests.push(request(&app, &practitioner, &c, "2026-12-20", "2026-12-21").await);
    }
    let attempts = requests.iter().map(|r| {
        let app = &app;
        let operator = operator.clone();
        let body = json!({ "request_id": r, "offer_id": last_bed, "first_night": "2026-12-20", "last_night": "2026-12-21", "funding": "platform" });
        async move { app.post("/v1/housing/placements").bearer(&operator).json(&body).send().await }
    });
    let replies = futures_util::future::join_all(attempts).await;
    let won = replies.iter().filter(|r| r.status == 201).count();
    let lost: Vec<_> = replies.iter().filter(|r| r.status == 409).collect();
    assert_eq!(
        (won, lost.len()),
        (1, 5),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(lost.iter().all(|r| r.text().contains("full")));
    let booked: Vec<i32> = relais_core::db::schema::housing_offer_nights::table
        .filter(relais_core::db::schema::housing_offer_nights::offer_id.eq(&last_bed))
        .select(relais_core::db::schema::housing_offer_nights::booked)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(booked, [1, 1], "never more than the capacity, night by night");
    // The losers' requests are still open, and nothing of theirs was written.
    let open = app.get("/v1/housing/requests").bearer(&operator).send().await.json();
    assert_eq!(open["items"].as_array().unwrap().len(), 5);

    // The booked offer keeps holding its guest: it cannot move or shrink under them.
    let moved = app
        .put(&format!("/v1/housing/offers/{last_bed}"))
        .bearer(&operator)
        .json(&json!({ "kind": "hotel", "name": "Hôtel du Dernier Lit", "provider": "Hôtels Solidaires", "address": "1 rue de la Gare",
                        "commune": "78646", "latitude": 48.81, "longitude": 2.14, "capacity": 1, "price_cents": 5500, "available_from": "2026-01-01" }))
        .send()
        .await;
    assert_eq!(moved.status, 409, "{}", moved.text());

    // Two operators ending the same placement at once: one ends it, the other is told, and the
    // nights are given back once.
    let winner = replies.iter().find(|r| r.status == 201).unwrap().json();
    let id = winner["id"].as_str().unwrap().to_owned();
    let ends = (0..4).map(|_| {
        let app = &app;
        let operator = operator.clone();
        let path = format!("/v1/housing/placements/{id}/end");
        async move {
            app.post(&path)
                .bearer(&operator)
                .json(&json!({ "last_night": "2026-12-20" }))
                .send()
                .await
        }
    });
    let ended = futures_util::future::join_all(ends).await;
    assert_eq!(ended.iter().filter(|r| r.status == 200).count(), 1);
    assert_eq!(ended.iter().filter(|r| r.status == 409).count(), 3);
    let booked: Vec<i32> = relais_core::db::schema::housing_offer_nights::table
        .filter(relais_core::db::schema::housing_offer_nights::offer_id.eq(&last_bed))
        .order(relais_core::db::schema::housing_offer_nights::night.asc())
        .select(relais_core::db::schema::housing_offer_nights::booked)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(booked, [1, 0], "the second night given back once");
}

#[tokio::test]
async fn the_inventory_adds_up_to_the_nights_recorded() {
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let operator = app.token("housing").await;
    let coordinator = app.token("coordinator").await;

    // A platform placement: 3 nights, then extended by 2, funded by the platform.
    let hotel = offer(
        &app,
        &operator,
        "Hôtel de Versailles",
        "78646",
        48.805,
        2.12,
        json!({ "price_cents": 6000 }),
    )
    .await;
    let c1 = case(&app, &practitioner).await;
    let r1 = request(&app, &practitioner, &c1, "2026-12-01", "2026-12-03").await;
    let p1 = created(
        &app,
        &operator,
        "/v1/housing/placements",
        json!({ "request_id": r1, "offer_id": hotel, "first_night": "2026-12-01", "last_night": "2026-12-03", "funding": "platform" }),
    )
    .await;
    let extended = app
        .post(&format!("/v1/housing/placements/{}/extend", p1["id"].as_str().unwrap()))
        .bearer(&operator)
        .json(&json!({ "last_night": "2026-12-05", "funding": "partner" }))
        .send()
        .await;
    assert_eq!(extended.status, 200, "{}", extended.text());
    assert_eq!(extended.json()["nights"].as_array().unwrap().len(), 5);
    // The centre cannot change the platform's placement.
    let theirs = app
        .post(&format!("/v1/housing/placements/{}/end", p1["id"].as_str().unwrap()))
        .bearer(&practitioner)
        .json(&json!({ "last_night": "2026-12-02" }))
        .send()
        .await;
    assert_eq!(theirs.status, 403);

    // A centre's own placement, declared: 4 nights, ended after 2.
    let own = offer(
        &app,
        &practitioner,
        "Studio du CPCA",
        "93048",
        48.86,
        2.44,
        json!({ "kind": "centre_place", "capacity": 1, "price_cents": 2000 }),
    )
    .await;
    let c2 = case(&app, &practitioner).await;
    let declared = created(
        &app,
        &practitioner,
        "/v1/housing/placements",
        json!({ "case_id": c2, "offer_id": own, "first_night": "2026-12-01", "last_night": "2026-12-04", "funding": "centre" }),
    )
    .await;
    let ended = app
        .post(&format!(
            "/v1/housing/placements/{}/end",
            declared["id"].as_str().unwrap()
        ))
        .bearer(&practitioner)
        .json(&json!({ "last_night": "2026-12-02" }))
        .send()
        .await;
    assert_eq!(ended.status, 200, "{}", ended.text());
    assert_eq!(ended.json()["status"], "ended");
    // A centre cannot declare into the platform's hotel, nor fund by the platform.
    let wrong = app
        .post("/v1/housing/placements")
        .bearer(&practitioner)
        .json(&json!({ "case_id": c2, "offer_id": hotel, "first_night": "2026-12-10", "last_night": "2026-12-10", "funding": "centre" }))
        .send()
        .await;
    assert_eq!(wrong.status, 400);

    // A request the platform could not meet.
    let c3 = case(&app, &practitioner).await;
    let r3 = request(&app, &practitioner, &c3, "2026-12-01", "2026-12-01").await;
    let unmet = app
        .post(&format!("/v1/housing/requests/{r3}/unmet"))
        .bearer(&operator)
        .json(&json!({ "reason": "no_capacity" }))
        .send()
        .await;
    assert_eq!(unmet.status, 200, "{}", unmet.text());

    let inventory = app.get("/v1/housing/inventory").bearer(&coordinator).send().await;
    assert_eq!(inventory.status, 200, "{}", inventory.text());
    let inv = inventory.json();
    let recorded: i64 = relais_core::db::schema::housing_placement_nights::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(recorded, 7);
    assert_eq!(
        inv["totals"],
        json!({ "placements": 2, "nights": 7, "cost_cents": 5 * 6000 + 2 * 2000 })
    );
    let by = |dimension: &str, key: &str| -> Value {
        inv[dimension]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == key)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        (
            by("by_source", "platform")["nights"].as_i64(),
            by("by_source", "centre")["nights"].as_i64()
        ),
        (Some(5), Some(2))
    );
    assert_eq!(
        ["platform", "partner", "centre"].map(|f| by("by_funding", f)["nights"].as_i64().unwrap()),
        [3, 2, 2]
    );
    let sources: i64 = inv["by_source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["nights"].as_i64().unwrap())
        .sum();
    assert_eq!(sources, inv["totals"]["nights"].as_i64().unwrap());
    // Fewer than five placements in a region: its figures are withheld in the national view.
    let idf = by("by_region", "11");
    assert_eq!(
        (idf["suppressed"].as_bool(), idf["nights"].is_null()),
        (Some(true), true)
    );
    assert_eq!(inv["requests"]["unmet"], json!({ "no_capacity": 1 }));
    assert_eq!(inv["durations"]["longest_nights"], 5);

    let csv = app
        .get("/v1/housing/inventory?format=csv")
        .bearer(&operator)
        .send()
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap_or_default().starts_with("text/csv"));
    assert!(
        csv.text().contains("total,all,Total,2,7,340.00,false"),
        "{}",
        csv.text()
    );
    assert!(csv.text().contains("region,11,Île-de-France,,,,true"), "{}", csv.text());
    assert_eq!(
        app.get("/v1/housing/inventory")
            .bearer(&practitioner)
            .send()
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn the_platform_funds_a_court_ordered_eviction_for_six_months_at_most() {
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let operator = app.token("housing").await;
    let c = case(&app, &practitioner).await;
    created(
        &app,
        &practitioner,
        &format!("/v1/cases/{c}/measures"),
        json!({ "kind": "eviction", "authority": "procureur", "decision_reference": "PR-2026-88", "starts_on": "2026-11-01", "ends_on": "2027-11-01" }),
    )
    .await;
    let hotel = offer(&app, &operator, "Hôtel Longue Durée", "78646", 48.805, 2.12, json!({})).await;
    let r = request(&app, &practitioner, &c, "2026-12-01", "2027-06-01").await;
    let seen = app
        .get(&format!("/v1/housing/requests/{r}"))
        .bearer(&operator)
        .send()
        .await
        .json();
    assert_eq!(seen["court_eviction"], true);
    let placed = created(
        &app,
        &operator,
        "/v1/housing/placements",
        json!({ "request_id": r, "offer_id": hotel, "first_night": "2026-12-01", "last_night": "2027-06-01", "funding": "platform" }),
    )
    .await;
    assert_eq!(placed["nights"].as_array().unwrap().len(), 183);
    let id = placed["id"].as_str().unwrap();
    let more = app
        .post(&format!("/v1/housing/placements/{id}/extend"))
        .bearer(&operator)
        .json(&json!({ "last_night": "2027-06-02", "funding": "platform" }))
        .send()
        .await;
    assert_eq!(more.status, 409, "{}", more.text());
    assert!(more.text().contains("183"));
    // Another funder may take over.
    let partner = app
        .post(&format!("/v1/housing/placements/{id}/extend"))
        .bearer(&operator)
        .json(&json!({ "last_night": "2027-06-02", "funding": "partner" }))
        .send()
        .await;
    assert_eq!(partner.status, 200, "{}", partner.text());
    // A no-show keeps the first night and gives the rest back.
    let c2 = case(&app, &practitioner).await;
    let r2 = request(&app, &practitioner, &c2, "2026-12-01", "2026-12-04").await;
    let p2 = created(
        &app,
        &operator,
        "/v1/housing/placements",
        json!({ "request_id": r2, "offer_id": hotel, "first_night": "2026-12-01", "last_night": "2026-12-04", "funding": "platform" }),
    )
    .await;
    let gone = app
        .post(&format!(
            "/v1/housing/placements/{}/no-show",
            p2["id"].as_str().unwrap()
        ))
        .bearer(&operator)
        .send()
        .await;
    assert_eq!(gone.status, 200);
    assert_eq!(
        (
            gone.json()["status"].as_str(),
            gone.json()["nights"].as_array().map(Vec::len)
        ),
        (Some("no_show"), Some(1))
    );
}

#[tokio::test]
async fn a_centre_withdraws_its_request_and_the_platform_orients_to_a_centre() {
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let operator = app.token("housing").await;
    let c = case(&app, &practitioner).await;
    let r = request(&app, &practitioner, &c, "2026-12-01", "2026-12-02").await;
    let referral = app
        .get(&format!("/v1/housing/requests/{r}"))
        .bearer(&practitioner)
        .send()
        .await
        .json()["referral_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The request is a referral to the platform, pending until the platform acts.
    let pending = app
        .get(&format!("/v1/referrals/{referral}"))
        .bearer(&operator)
        .send()
        .await;
    assert_eq!(pending.json()["status"], "pending");
    assert!(!pending.text().contains(&c), "the platform never sees the case");
    assert_eq!(
        app.post(&format!("/v1/housing/requests/{r}/withdraw"))
            .bearer(&operator)
            .send()
            .await
            .status,
        403
    );
    let withdrawn = app
        .post(&format!("/v1/housing/requests/{r}/withdraw"))
        .bearer(&practitioner)
        .send()
        .await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.text());
    assert_eq!(withdrawn.json()["status"], "withdrawn");
    assert_eq!(
        app.post(&format!("/v1/housing/requests/{r}/withdraw"))
            .bearer(&practitioner)
            .send()
            .await
            .status,
        409
    );
    let revoked = app
        .get(&format!("/v1/referrals/{referral}"))
        .bearer(&practitioner)
        .send()
        .await
        .json();
    assert_eq!(revoked["status"], "revoked");

    // The platform orients an author who reached it from outside the network to a centre.
    let centre = app.organisation_id("CPCA Île-de-France Est").await;
    let oriented = app
        .post("/v1/referrals")
        .bearer(&operator)
        .json(&json!({ "centre_id": centre, "subject_alias": "M. H.", "summary": "Hébergé par le 115, demande un suivi.", "legal_basis": "voluntary", "consent_at": "2026-11-20T10:00:00Z" }))
        .send()
        .await;
    assert_eq!(oriented.status, 201, "{}", oriented.text());
    let inbox = app.get("/v1/referrals").bearer(&practitioner).send().await;
    assert!(inbox.text().contains(oriented.json()["id"].as_str().unwrap()));
}

#[tokio::test]
async fn the_weekly_inventory_is_emailed_once_a_week() {
    use relais_core::db::schema::email_outbox;
    let app = spawn_line_app(&[]).await;
    let recipients = vec![
        "dgcs@ministere.example".to_owned(),
        "plateforme@hebergement.example".to_owned(),
    ];
    let monday = chrono::DateTime::parse_from_rfc3339("2026-11-30T08:00:00+01:00")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let geo = &app.app_state().geo;
    let mut conn = app.conn();
    assert!(relais_core::housing::inventory::send_weekly(&mut conn, geo, &recipients, monday).unwrap());
    // Another instance, or the next tick of the same week: nothing more.
    let later = monday + chrono::Duration::hours(5);
    assert!(!relais_core::housing::inventory::send_weekly(&mut conn, geo, &recipients, later).unwrap());
    let sent: Vec<(String, String)> = email_outbox::table
        .filter(email_outbox::subject.like("%inventory%"))
        .select((email_outbox::to_address, email_outbox::body))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter()
            .all(|(_, body)| body.contains("dimension,key,label,placements,nights,cost_eur,suppressed"))
    );
    // The next week, again.
    let next = monday + chrono::Duration::days(7);
    assert!(relais_core::housing::inventory::send_weekly(&mut conn, geo, &recipients, next).unwrap());
}

#[tokio::test]
async fn an_offer_lies_in_its_declared_commune_so_sweeping_communes_teaches_nothing() {
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let operator = app.token("housing").await;
    // A case banned from Montreuil.
    let c = case(&app, &practitioner).await;
    created(
        &app,
        &practitioner,
        &format!("/v1/cases/{c}/measures"),
        json!({ "kind": "residence_ban", "authority": "jaf", "decision_reference": "JAF-2026-14", "starts_on": "2026-01-01",
                "zone": { "communes": ["93048"] } }),
    )
    .await;
    // An offer in Lyon, where it says it is.
    let lyon = offer(&app, &operator, "Hôtel Bellecour", "69123", 45.7600, 4.8400, json!({})).await;

    // The commune sweep: identical offers in Lyon declaring other communes, the banned one
    // among them. Every one is refused at creation, with the same answer, which names the
    // commune field and no rule of any case.
    let mut answers = std::collections::BTreeSet::new();
    for declared in ["93048", "94028", "75056", "69381", "98714", "38185"] {
        let body = json!({ "kind": "hotel", "name": "Sonde", "provider": "Sonde", "address": "1 rue de la Sonde",
            "commune": declared, "latitude": 45.7600, "longitude": 4.8400, "capacity": 2, "price_cents": 5500,
            "available_from": "2026-01-01" });
        let reply = app
            .post("/v1/housing/offers")
            .bearer(&operator)
            .json(&body)
            .send()
            .await;
        assert_eq!(reply.status, 400, "{declared}: {}", reply.text());
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        let problem = reply.json();
        assert_eq!(problem["errors"][0]["pointer"], "/commune");
        answers.insert(problem["errors"].to_string());
        for word in ["ban", "interdi", "protect", "court", "measure", "93048"] {
            assert!(
                !reply.text().to_lowercase().contains(word),
                "{word} in {}",
                reply.text()
            );
        }
        // Moving the Lyon offer into another commune's name is refused the same way.
        let moved = app
            .put(&format!("/v1/housing/offers/{lyon}"))
            .bearer(&operator)
            .json(&body)
            .send()
            .await;
        assert_eq!(moved.status, 400, "{declared}: {}", moved.text());
        answers.insert(moved.json()["errors"].to_string());
    }
    assert_eq!(answers.len(), 1, "{answers:?}");
    let kept = app
        .get(&format!("/v1/housing/offers/{lyon}"))
        .bearer(&operator)
        .send()
        .await
        .json();
    assert_eq!(kept["commune"], "69123");

    // Near a border either side may be declared: this point in Paris 3e is 190 m from the
    // 11e's reference contour (the tolerance is 300 m).
    for declared in ["75103", "75111"] {
        let body = json!({ "kind": "hotel", "name": "Frontière", "provider": "Sonde", "address": "1 rue de la Sonde",
            "commune": declared, "latitude": 48.8584, "longitude": 2.3645, "capacity": 2, "price_cents": 5500,
            "available_from": "2026-01-01" });
        let reply = app
            .post("/v1/housing/offers")
            .bearer(&operator)
            .json(&body)
            .send()
            .await;
        assert_eq!(reply.status, 201, "{declared}: {}", reply.text());
    }
    // The ban is tested against the point: an offer in Montreuil is never proposed, and
    // nothing can declare it elsewhere to slip through.
    offer(
        &app,
        &operator,
        "Hôtel de Montreuil",
        "93048",
        48.8611,
        2.4437,
        json!({}),
    )
    .await;
    let r = request(&app, &practitioner, &c, "2026-12-10", "2026-12-12").await;
    let found = app
        .get(&format!("/v1/housing/requests/{r}/proposals?limit=50"))
        .bearer(&operator)
        .send()
        .await;
    assert_eq!(found.status, 200, "{}", found.text());
    assert!(!found.text().contains("Montreuil"));
    // The Paris offers next door are proposed (Lyon is outside the centre's région).
    assert!(found.text().contains("Frontière"), "{}", found.text());
    assert!(!found.text().contains("Bellecour"));
}

/// Issue 20: a Paris centre's request was offered a hotel in La Réunion, every distance was
/// "unknown" and offers showed INSEE codes. A request looks in its centre's région (or within
/// a configured radius), distances are measured from the centre's commune when it has no
/// coordinates, and communes come with their names.
#[tokio::test]
async fn a_request_is_matched_in_its_centres_region_with_distances_and_town_names() {
    let app = spawn_line_app(&[]).await;
    let operator = app.token("housing").await;
    let paris = app.token("practitioner").await;
    let reunion = app.token("practitioner.reunion").await;
    let creteil = offer(
        &app,
        &operator,
        "Hôtel de Créteil",
        "94028",
        48.77779,
        2.45316,
        json!({}),
    )
    .await;
    let melun = offer(&app, &operator, "Hôtel de Melun", "77288", 48.53998, 2.66085, json!({})).await;
    let saint_denis = offer(
        &app,
        &operator,
        "Hôtel du Barachois",
        "97411",
        -20.87897,
        55.44863,
        json!({}),
    )
    .await;

    let listed = app.get("/v1/housing/offers").bearer(&operator).send().await;
    assert_eq!(listed.status, 200);
    let listed = listed.json();
    let mine = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == creteil.as_str())
        .unwrap();
    assert_eq!(mine["commune_name"], "Créteil");
    assert_eq!(mine["departement_name"], "Val-de-Marne");
    assert_eq!(mine["region_name"], "Île-de-France");

    let proposals = |r: String| {
        let app = &app;
        let operator = operator.clone();
        async move {
            let found = app
                .get(&format!("/v1/housing/requests/{r}/proposals"))
                .bearer(&operator)
                .send()
                .await;
            assert_eq!(found.status, 200, "{}", found.text());
            found.json()
        }
    };
    let ids = |body: &Value| -> Vec<String> {
        body["proposals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["offer_id"].as_str().unwrap().to_owned())
            .collect()
    };

    // The Paris centre (demo: a postal code, no coordinates): Île-de-France only, nearest first,
    // distances from the town hall of Paris 11e.
    let c = case(&app, &paris).await;
    let body = proposals(request(&app, &paris, &c, "2026-12-10", "2026-12-12").await).await;
    let found = ids(&body);
    assert!(
        !found.contains(&saint_denis),
        "a Paris request offered La Réunion: {body}"
    );
    let (at_creteil, at_melun) = (
        found.iter().position(|id| *id == creteil).expect("Créteil proposed"),
        found.iter().position(|id| *id == melun).expect("Melun proposed"),
    );
    assert!(at_creteil < at_melun, "nearest first: {body}");
    assert_eq!(
        body["area"],
        json!({ "kind": "regions", "regions": [{ "code": "11", "name": "Île-de-France" }] })
    );
    assert_eq!(body["distance_from"], "commune");
    let p = &body["proposals"][at_creteil];
    assert_eq!(p["commune_name"], "Créteil");
    assert_eq!(p["departement_name"], "Val-de-Marne");
    let km = p["distance_km"].as_f64().expect("a known distance");
    // 75011 is a postal code of Paris: its point is the town hall of Paris (4e), 13 km away.
    assert!((10.0..16.0).contains(&km), "Paris to Créteil: {km} km");

    // The Réunion centre: La Réunion only.
    let c = case(&app, &reunion).await;
    let body = proposals(request(&app, &reunion, &c, "2026-12-10", "2026-12-12").await).await;
    assert_eq!(ids(&body), std::slice::from_ref(&saint_denis), "{body}");
    assert_eq!(body["proposals"][0]["commune_name"], "Saint-Denis");
    assert_eq!(body["area"]["regions"][0]["name"], "La Réunion");

    // A radius instead of the région, on another server: within 20 km of Paris.
    let app = spawn_line_app(&[("RELAIS_HOUSING_SEARCH_RADIUS_KM", "20")]).await;
    let operator = app.token("housing").await;
    let paris = app.token("practitioner").await;
    let creteil = offer(
        &app,
        &operator,
        "Hôtel de Créteil",
        "94028",
        48.77779,
        2.45316,
        json!({}),
    )
    .await;
    offer(&app, &operator, "Hôtel de Melun", "77288", 48.53998, 2.66085, json!({})).await;
    let c = case(&app, &paris).await;
    let r = request(&app, &paris, &c, "2026-12-10", "2026-12-12").await;
    let found = app
        .get(&format!("/v1/housing/requests/{r}/proposals"))
        .bearer(&operator)
        .send()
        .await
        .json();
    assert_eq!(found["area"], json!({ "kind": "radius", "km": 20.0 }));
    let near: Vec<&str> = found["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["offer_id"].as_str().unwrap())
        .collect();
    assert!(near.contains(&creteil.as_str()), "{found}");
    assert!(
        found["proposals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["distance_km"].as_f64().unwrap() <= 20.0),
        "Melun (about 40 km) is beyond the radius: {found}"
    );
}
