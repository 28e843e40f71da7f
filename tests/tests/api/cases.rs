//! Case files: the access matrix (generated from a table), protected persons' locations that
//! never leave the server, measures, sessions and the progress of a care obligation.

use diesel::prelude::*;
use relais_tests::TestApp;
use relais_tests::line::spawn_line_app;
use serde_json::{Value, json};

/// Everything one case has: ids to aim the matrix at.
struct Fixture {
    case: String,
    session: String,
    task: String,
    certificate: String,
}

async fn fixture(app: &TestApp, practitioner: &str) -> Fixture {
    let case = app
        .post("/v1/cases")
        .bearer(practitioner)
        .json(&json!({ "origin": "self", "legal_basis": "voluntary", "identity": { "name": "Marc Dupont", "date_of_birth": "1980-04-02" } }))
        .send()
        .await;
    assert_eq!(case.status, 201, "{}", case.text());
    let case = case.json()["id"].as_str().unwrap().to_owned();
    let session = app
        .post(&format!("/v1/cases/{case}/sessions"))
        .bearer(practitioner)
        .json(&json!({ "kind": "individual", "planned_at": "2026-01-05T09:00:00Z" }))
        .send()
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let attended = app
        .patch(&format!("/v1/sessions/{session}"))
        .bearer(practitioner)
        .json(&json!({ "status": "attended" }))
        .send()
        .await;
    assert_eq!(attended.status, 200);
    let certificate = app
        .post(&format!("/v1/cases/{case}/certificates"))
        .bearer(practitioner)
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(certificate.status, 201, "{}", certificate.text());
    let certificate = certificate.json()["id"].as_str().unwrap().to_owned();
    let task = app
        .post(&format!("/v1/cases/{case}/tasks"))
        .bearer(practitioner)
        .json(&json!({ "title": "Appeler le SPIP", "due_on": "2026-12-15" }))
        .send()
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Fixture {
        case,
        session,
        task,
        certificate,
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    /// The owning centre's practitioners and managers: served.
    Served,
    /// Anyone else: as if the case did not exist.
    NotFound,
}

#[tokio::test]
async fn every_case_endpoint_serves_the_owning_centre_and_no_one_else() {
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let f = fixture(&app, &practitioner).await;
    let partner_key = app.partner_key().await;

    // Who calls, and what they should get. Generated below for every endpoint.
    let mut callers: Vec<(&str, String, Expect)> = Vec::new();
    for (who, expect) in [
        ("practitioner", Expect::Served),
        ("manager", Expect::Served),
        ("practitioner.reunion", Expect::NotFound),
        ("listener", Expect::NotFound),
        ("supervisor", Expect::NotFound),
        ("housing", Expect::NotFound),
        ("coordinator", Expect::NotFound),
        ("admin", Expect::NotFound),
    ] {
        callers.push((who, app.token(who).await, expect));
    }
    callers.push(("partner key", partner_key, Expect::NotFound));

    let (c, s, t) = (&f.case, &f.session, &f.task);
    let endpoints: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/v1/cases/{c}"), None),
        ("PATCH", format!("/v1/cases/{c}"), Some(json!({ "status": "open" }))),
        ("GET", format!("/v1/cases/{c}/measures"), None),
        (
            "POST",
            format!("/v1/cases/{c}/measures"),
            Some(
                json!({ "kind": "eviction", "authority": "procureur", "decision_reference": "PR-1", "starts_on": "2026-11-01" }),
            ),
        ),
        ("GET", format!("/v1/cases/{c}/protected-persons"), None),
        (
            "POST",
            format!("/v1/cases/{c}/protected-persons"),
            Some(json!({ "label": "Mme A.", "location": { "latitude": 48.85, "longitude": 2.35 }, "radius_km": 2 })),
        ),
        ("GET", format!("/v1/cases/{c}/sessions"), None),
        (
            "POST",
            format!("/v1/cases/{c}/sessions"),
            Some(json!({ "kind": "group", "planned_at": "2026-02-01T09:00:00Z" })),
        ),
        (
            "PATCH",
            format!("/v1/sessions/{s}"),
            Some(json!({ "status": "attended" })),
        ),
        ("GET", format!("/v1/cases/{c}/notes"), None),
        (
            "POST",
            format!("/v1/cases/{c}/notes"),
            Some(json!({ "body": "Entretien calme." })),
        ),
        ("GET", format!("/v1/cases/{c}/tasks"), None),
        (
            "POST",
            format!("/v1/cases/{c}/tasks"),
            Some(json!({ "title": "Relancer", "due_on": "2026-12-20" })),
        ),
        ("PATCH", format!("/v1/tasks/{t}"), Some(json!({ "done": true }))),
        ("GET", format!("/v1/cases/{c}/certificates"), None),
        ("POST", format!("/v1/cases/{c}/certificates"), Some(json!({}))),
        ("GET", format!("/v1/certificates/{}/pdf", f.certificate), None),
        ("GET", format!("/v1/cases/{c}/export"), None),
    ];
    assert_eq!(endpoints.len(), 18, "every endpoint of a case is in the table");
    assert_eq!(callers.len(), 9, "two who are served, seven who are not");
    let (mut served, mut hidden) = (0, 0);
    for (method, path, body) in &endpoints {
        for (who, token, expect) in &callers {
            let mut call = app.call(method, path).bearer(token);
            if let Some(body) = body {
                call = call.json(body);
            }
            let status = call.send().await.status;
            match expect {
                Expect::Served => {
                    assert!((200..300).contains(&status), "{who} {method} {path}: {status}");
                    served += 1;
                }
                Expect::NotFound => {
                    assert_eq!(status, 404, "{who} {method} {path}");
                    hidden += 1;
                }
            }
        }
    }
    assert_eq!(
        (served, hidden),
        (2 * 18, 7 * 18),
        "each endpoint served to two, hidden from seven"
    );

    // Erasure is the manager's act, and only once the case is closed and its retention over:
    // the manager hears 409 (still open), a practitioner 403, anyone else 404.
    for (who, token, _) in &callers {
        let status = app.delete(&format!("/v1/cases/{c}")).bearer(token).send().await.status;
        let expected = match *who {
            "manager" => 409,
            "practitioner" => 403,
            _ => 404,
        };
        assert_eq!(status, expected, "{who} DELETE /v1/cases/{c}");
    }

    // The list: the owning centre sees the case; others see none of it (or 404).
    for (who, token, expect) in &callers {
        let reply = app.get("/v1/cases").bearer(token).send().await;
        match (expect, *who) {
            (Expect::Served, _) => assert!(reply.text().contains(c.as_str()), "{who}"),
            // Another centre lists its own cases: none of ours.
            (Expect::NotFound, "practitioner.reunion") => {
                assert_eq!(reply.status, 200);
                assert!(!reply.text().contains(c.as_str()));
            }
            (Expect::NotFound, _) => assert_eq!(reply.status, 404, "{who}"),
        }
    }
    // Reads are audited.
    let mut conn = app.conn();
    let reads: i64 = relais_core::db::schema::audit_log::table
        .filter(relais_core::db::schema::audit_log::action.eq("case.read"))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(
        reads, 4,
        "one read each for the practitioner and the manager, and one within each export"
    );
}

#[tokio::test]
async fn a_protected_persons_location_never_leaves_the_server() {
    let captured = relais_tests::logs::capture();
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let f = fixture(&app, &practitioner).await;
    let c = &f.case;
    let added = app
        .post(&format!("/v1/cases/{c}/protected-persons"))
        .bearer(&practitioner)
        .json(&json!({ "label": "Mme B.", "location": { "address": "7 impasse des Lilas, 93100 Montreuil", "latitude": 48.861234, "longitude": 2.443321 }, "radius_km": 3 }))
        .send()
        .await;
    assert_eq!(added.status, 201, "{}", added.text());
    let person = added.json();
    assert_eq!(person["radius_km"], 3);
    let contact_ban = app
        .post(&format!("/v1/cases/{c}/measures"))
        .bearer(&practitioner)
        .json(&json!({ "kind": "contact_ban", "authority": "jap", "decision_reference": "JAP-7", "starts_on": "2026-11-01", "ends_on": "2027-11-01", "protected_person_ids": [person["id"]] }))
        .send()
        .await;
    assert_eq!(contact_ban.status, 201, "{}", contact_ban.text());

    let mut seen = String::new();
    for path in [
        format!("/v1/cases/{c}"),
        format!("/v1/cases/{c}/protected-persons"),
        format!("/v1/cases/{c}/measures"),
        format!("/v1/cases/{c}/export"),
        "/v1/cases".to_owned(),
    ] {
        let reply = app.get(&path).bearer(&practitioner).send().await;
        assert_eq!(reply.status, 200);
        seen.push_str(&reply.text());
    }
    seen.push_str(&person.to_string());
    for secret in ["Lilas", "48.861", "2.443", "Montreuil"] {
        assert!(!seen.contains(secret), "{secret} in a response");
        assert!(!captured.read(5).contains(secret), "{secret} in the logs");
        let stored = app.stored_text();
        // Positive control: the case's id is stored in clear, so the read saw the case's rows.
        assert!(
            stored.contains(c.as_str()),
            "the stored text does not hold the case {c}"
        );
        assert!(!stored.contains(secret), "{secret} in clear in the database");
    }
    // The identity and the notes are sealed too.
    app.post(&format!("/v1/cases/{c}/notes"))
        .bearer(&practitioner)
        .json(&json!({ "body": "Évoque une rupture récente." }))
        .send()
        .await;
    let stored = app.stored_text();
    assert!(
        stored.contains(c.as_str()),
        "the stored text does not hold the case {c}"
    );
    assert!(!stored.contains("Marc Dupont") && !stored.contains("rupture récente"));

    // The server itself can still use the location for exclusion checks.
    let (location, radius) = relais_core::cases::protected::location_for_exclusion(
        &mut app.conn(),
        &app.app_state().secrets,
        person["id"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!((location.latitude, radius), (48.861234, 3));
}

#[tokio::test]
async fn measures_and_sessions_follow_the_courts_rules() {
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let f = fixture(&app, &practitioner).await;
    let c = &f.case;
    let post = |path: String, body: Value| {
        let app = &app;
        let token = practitioner.clone();
        async move { app.post(&path).bearer(&token).json(&body).send().await }
    };

    let care = post(
        format!("/v1/cases/{c}/measures"),
        json!({ "kind": "care_obligation", "authority": "jap", "decision_reference": "JAP-2026-9", "starts_on": "2026-01-01", "ends_on": "2027-01-01", "sessions_required": 3 }),
    )
    .await;
    assert_eq!(care.status, 201, "{}", care.text());
    let care = care.json()["id"].as_str().unwrap().to_owned();
    for bad in [
        json!({ "kind": "care_obligation", "authority": "jap", "decision_reference": "X", "starts_on": "2026-01-01" }),
        json!({ "kind": "place_ban", "authority": "jap", "decision_reference": "X", "starts_on": "2026-01-01" }),
        json!({ "kind": "place_ban", "authority": "jap", "decision_reference": "X", "starts_on": "2026-01-01", "zone": { "departements": ["99"] } }),
        json!({ "kind": "place_ban", "authority": "jap", "decision_reference": "X", "starts_on": "2026-01-01", "zone": { "polygon": { "type": "Polygon", "coordinates": [[[2.3, 48.8], [2.4, 48.8], [2.4, 48.9]]] } } }),
        json!({ "kind": "eviction", "authority": "jap", "decision_reference": "X", "starts_on": "2026-02-01", "ends_on": "2026-01-01" }),
        json!({ "kind": "eviction", "authority": "maire", "decision_reference": "X", "starts_on": "2026-02-01" }),
    ] {
        let reply = post(format!("/v1/cases/{c}/measures"), bad.clone()).await;
        assert_eq!(reply.status, 400, "{bad}");
    }
    let ban = post(
        format!("/v1/cases/{c}/measures"),
        json!({ "kind": "place_ban", "authority": "jaf", "decision_reference": "JAF-3", "starts_on": "2026-01-01",
                "zone": { "communes": ["93048"], "departements": ["94"], "polygon": { "type": "Polygon", "coordinates": [[[2.3, 48.8], [2.4, 48.8], [2.4, 48.9], [2.3, 48.8]]] } } }),
    )
    .await;
    assert_eq!(ban.status, 201, "{}", ban.text());
    assert_eq!(ban.json()["zone"]["communes"], json!(["93048"]));
    assert_eq!(
        ban.json()["place_names"],
        json!({ "93048": "Montreuil", "94": "Val-de-Marne" }),
        "codes come with their names"
    );

    // Two sessions toward the care obligation, one attended, one excused; one in the future.
    let mut past = Vec::new();
    for day in ["2026-03-02", "2026-03-09"] {
        let s = post(
            format!("/v1/cases/{c}/sessions"),
            json!({ "kind": "individual", "planned_at": format!("{day}T09:00:00Z"), "measure_id": care }),
        )
        .await;
        assert_eq!(s.status, 201, "{}", s.text());
        past.push(s.json()["id"].as_str().unwrap().to_owned());
    }
    let future = post(
        format!("/v1/cases/{c}/sessions"),
        json!({ "kind": "group", "planned_at": "2199-01-01T09:00:00Z", "measure_id": care }),
    )
    .await
    .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (id, status) in [(&past[0], "attended"), (&past[1], "excused")] {
        let reply = app
            .patch(&format!("/v1/sessions/{id}"))
            .bearer(&practitioner)
            .json(&json!({ "status": status }))
            .send()
            .await;
        assert_eq!(reply.status, 200);
    }
    let early = app
        .patch(&format!("/v1/sessions/{future}"))
        .bearer(&practitioner)
        .json(&json!({ "status": "attended" }))
        .send()
        .await;
    assert_eq!(early.status, 409, "attendance before the session took place");
    let measures = app
        .get(&format!("/v1/cases/{c}/measures"))
        .bearer(&practitioner)
        .send()
        .await
        .json();
    let progress = measures["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == care.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (
            progress["sessions_required"].as_i64(),
            progress["sessions_attended"].as_i64()
        ),
        (Some(3), Some(1))
    );

    // A contact ban covers protected persons of this case only.
    let other = fixture(&app, &practitioner).await;
    let theirs = post(
        format!("/v1/cases/{}/protected-persons", other.case),
        json!({ "label": "Mme C.", "location": { "latitude": 45.0, "longitude": 5.0 }, "radius_km": 1 }),
    )
    .await
    .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let crossed = post(
        format!("/v1/cases/{c}/measures"),
        json!({ "kind": "contact_ban", "authority": "jap", "decision_reference": "JAP-8", "starts_on": "2026-01-01", "protected_person_ids": [theirs] }),
    )
    .await;
    assert_eq!(crossed.status, 400);
    let far = post(
        format!("/v1/cases/{c}/protected-persons"),
        json!({ "label": "Mme D.", "location": { "latitude": 45.0, "longitude": 5.0 }, "radius_km": 11 }),
    )
    .await;
    assert_eq!(far.status, 400, "radius from 1 to 10 km");

    // Closing needs a reason; the identity is rectified as a whole.
    let long_reason = app
        .patch(&format!("/v1/cases/{c}"))
        .bearer(&practitioner)
        .json(&json!({ "status": "open", "close_reason": "x".repeat(301) }))
        .send()
        .await;
    assert_eq!(long_reason.status, 400, "checked even when unused");
    let no_reason = app
        .patch(&format!("/v1/cases/{c}"))
        .bearer(&practitioner)
        .json(&json!({ "status": "closed" }))
        .send()
        .await;
    assert_eq!(no_reason.status, 400);
    let closed = app
        .patch(&format!("/v1/cases/{c}"))
        .bearer(&practitioner)
        .json(&json!({ "status": "closed", "close_reason": "Fin de la mesure", "identity": { "name": "Marc Dupond" } }))
        .send()
        .await;
    assert_eq!(closed.status, 200);
    assert_eq!(closed.json()["identity"]["name"], "Marc Dupond");
    assert_eq!(closed.json()["identity"]["date_of_birth"], Value::Null);
}

#[tokio::test]
async fn a_case_opened_from_a_court_referral_keeps_the_link() {
    let app = spawn_line_app(&[]).await;
    let centre = app.organisation_id("CPCA Île-de-France Est").await;
    let key = app.partner_key().await;
    let referral = app
        .post("/v1/referrals")
        .bearer(&key)
        .json(&json!({ "centre_id": centre, "subject_alias": "M. D.", "summary": "Obligation de soins.", "legal_basis": "court_ordered", "authority": "jap", "decision_reference": "JAP-1", "order_ends_on": "2027-06-30" }))
        .send()
        .await
        .json();
    let manager = app.token("manager").await;
    let case = app
        .post("/v1/cases")
        .bearer(&manager)
        .header("Idempotency-Key", "open-case-1")
        .json(&json!({ "referral_id": referral["id"] }))
        .send()
        .await;
    assert_eq!(case.status, 201, "{}", case.text());
    let case = case.json();
    assert_eq!(case["origin"], "justice");
    assert_eq!(case["legal_basis"], "court_ordered");
    assert_eq!(case["referral_id"], referral["id"]);
    let again = app
        .post("/v1/cases")
        .bearer(&manager)
        .header("Idempotency-Key", "open-case-1")
        .json(&json!({ "referral_id": referral["id"] }))
        .send()
        .await;
    assert_eq!(again.json()["id"], case["id"], "a retry opens the same case");
    // Another centre cannot open a case on this referral.
    let other = app.token("practitioner.reunion").await;
    let stolen = app
        .post("/v1/cases")
        .bearer(&other)
        .json(&json!({ "referral_id": referral["id"] }))
        .send()
        .await;
    assert_eq!(stolen.status, 400);
}

/// A note is corrected by its author, with a reason, never overwritten: its earlier texts and
/// the reasons stay (sealed, shown with the note), each correction is audited, the centre's
/// other staff are told to add a note of their own (403), and anyone else finds no note (404).
#[tokio::test]
async fn a_note_is_corrected_by_its_author_with_a_reason_and_its_history_kept() {
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let f = fixture(&app, &practitioner).await;
    let c = &f.case;
    let note = app
        .post(&format!("/v1/cases/{c}/notes"))
        .bearer(&practitioner)
        .json(&json!({ "body": "Premier entretien : accepte le groupe de parole." }))
        .send()
        .await;
    assert_eq!(note.status, 201, "{}", note.text());
    assert_eq!(note.json()["corrections"], json!([]));
    let id = note.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/case-notes/{id}/corrections");

    // Anyone outside the centre: no such note. The centre's manager: not theirs to correct.
    let partner_key = app.partner_key().await;
    let mut outsiders = vec![("partner key", partner_key)];
    for who in [
        "practitioner.reunion",
        "listener",
        "supervisor",
        "housing",
        "coordinator",
        "admin",
    ] {
        outsiders.push((who, app.token(who).await));
    }
    let attempt = json!({ "body": "Texte réécrit par un tiers.", "reason": "essai" });
    for (who, token) in &outsiders {
        let reply = app.post(&path).bearer(token).json(&attempt).send().await;
        assert_eq!(reply.status, 404, "{who}: {}", reply.text());
    }
    let manager = app.token("manager").await;
    let reply = app.post(&path).bearer(&manager).json(&attempt).send().await;
    assert_eq!(reply.status, 403, "{}", reply.text());
    assert!(reply.text().contains("author"), "{}", reply.text());
    // Bad input changes nothing.
    for bad in [
        json!({ "body": "Texte", "reason": "  " }),
        json!({ "body": "", "reason": "Une raison" }),
        json!({ "body": "Texte", "reason": "Une raison", "author_id": "x" }),
        json!({ "body": "Texte" }),
    ] {
        let reply = app.post(&path).bearer(&practitioner).json(&bad).send().await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.text());
    }
    let unknown = app
        .post(&format!("/v1/case-notes/{}/corrections", uuid::Uuid::new_v4()))
        .bearer(&practitioner)
        .json(&attempt)
        .send()
        .await;
    assert_eq!(unknown.status, 404);

    // The author corrects it twice.
    let first = app
        .post(&path)
        .bearer(&practitioner)
        .json(
            &json!({ "body": "Premier entretien : accepte le groupe de parole du jeudi.", "reason": "Jour précisé." }),
        )
        .send()
        .await;
    assert_eq!(first.status, 201, "{}", first.text());
    let second = app
        .post(&path)
        .bearer(&practitioner)
        .json(&json!({ "body": "Premier entretien : accepte le groupe de parole du mardi.", "reason": "Erreur de jour : c'est le mardi." }))
        .send()
        .await;
    assert_eq!(second.status, 201, "{}", second.text());
    let notes = app
        .get(&format!("/v1/cases/{c}/notes"))
        .bearer(&manager)
        .send()
        .await
        .json();
    let shown = &notes["items"][0];
    assert_eq!(
        shown["body"],
        "Premier entretien : accepte le groupe de parole du mardi."
    );
    let history = shown["corrections"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{shown}");
    assert_eq!(
        history[0]["replaced"],
        "Premier entretien : accepte le groupe de parole."
    );
    assert_eq!(history[0]["reason"], "Jour précisé.");
    assert_eq!(
        history[1]["replaced"],
        "Premier entretien : accepte le groupe de parole du jeudi."
    );
    assert_eq!(history[1]["reason"], "Erreur de jour : c'est le mardi.");
    // The person's right of access shows the same note, with its history.
    let export = app
        .get(&format!("/v1/cases/{c}/export"))
        .bearer(&practitioner)
        .send()
        .await
        .json();
    assert_eq!(
        export["notes"][0]["corrections"].as_array().map(Vec::len),
        Some(2),
        "{export}"
    );

    // Audited, once per correction; sealed at rest.
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let audited: Count =
        diesel::sql_query("SELECT count(*) AS n FROM audit_log WHERE action = 'case_note.correct' AND object_id = $1")
            .bind::<diesel::sql_types::Text, _>(&id)
            .get_result(&mut *app.conn())
            .unwrap();
    assert_eq!(audited.n, 2);
    let stored = app.stored_text();
    assert!(stored.contains(id.as_str()), "the stored text holds the note's id");
    for secret in [
        "groupe de parole du jeudi",
        "groupe de parole du mardi",
        "Erreur de jour",
    ] {
        assert!(!stored.contains(secret), "{secret} in clear in the database");
    }
}

/// Search by name or number: names are sealed, opened within the caller's centre only; another
/// centre's search for a name answers as a search for a name nobody has; what was typed is in
/// no audit entry.
#[tokio::test]
async fn cases_are_searched_by_name_or_number_within_the_centre_only() {
    let app = relais_tests::spawn_app().await;
    let practitioner = app.token("practitioner").await;
    let mut ids = Vec::new();
    for name in ["Marc Dupont", "Nguyễn Văn Đức", "Jeanne Martin", "Marc-Antoine Leroy"] {
        let reply = app
            .post("/v1/cases")
            .bearer(&practitioner)
            .json(&json!({ "origin": "self", "legal_basis": "voluntary", "identity": { "name": name } }))
            .send()
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text());
        ids.push(reply.json()["id"].as_str().unwrap().to_owned());
    }
    let names = |body: Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["identity"]["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let search = |q: &str| {
        format!(
            "/v1/cases?q={}",
            form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        )
    };
    let found = app.get(&search("dupont")).bearer(&practitioner).send().await;
    assert_eq!(found.status, 200, "{}", found.text());
    assert_eq!(names(found.json()), vec!["Marc Dupont"]);
    assert!(found.json()["next_cursor"].is_null());
    assert_eq!(
        names(app.get(&search("nguyen duc")).bearer(&practitioner).send().await.json()),
        vec!["Nguyễn Văn Đức"]
    );
    assert_eq!(
        names(app.get(&search("MARC")).bearer(&practitioner).send().await.json()),
        vec!["Marc-Antoine Leroy", "Marc Dupont"],
        "newest first"
    );
    let number = ids[2][..8].to_uppercase();
    assert_eq!(
        names(app.get(&search(&number)).bearer(&practitioner).send().await.json()),
        vec!["Jeanne Martin"]
    );
    assert_eq!(
        names(
            app.get(&format!("{}&limit=1", search("marc")))
                .bearer(&practitioner)
                .send()
                .await
                .json()
        )
        .len(),
        1
    );

    // Another centre: the same answer as for a name nobody has.
    let other = app.token("practitioner.reunion").await;
    let theirs = app.get(&search("dupont")).bearer(&other).send().await;
    assert_eq!(theirs.status, 200);
    let nobody = app.get(&search("zzyzx")).bearer(&practitioner).send().await;
    assert_eq!(theirs.json(), nobody.json());
    assert_eq!(theirs.json()["items"], json!([]));
    // Not the helpline, not a partner key.
    let listener = app.token("listener").await;
    assert_eq!(app.get(&search("dupont")).bearer(&listener).send().await.status, 404);
    // Bad searches are problems.
    for bad in [
        search(" "),
        search(&"x".repeat(101)),
        format!("{}&cursor=abc", search("marc")),
    ] {
        let reply = app.get(&bad).bearer(&practitioner).send().await;
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(reply.problem(), "validation", "{bad}");
    }

    // Audited by count, never by what was typed.
    let mut conn = app.conn();
    let details: Vec<String> = relais_core::db::schema::audit_log::table
        .filter(relais_core::db::schema::audit_log::action.eq("case.search"))
        .select(relais_core::db::schema::audit_log::details)
        .load(&mut *conn)
        .unwrap();
    assert!(details.len() >= 6, "{details:?}");
    for d in &details {
        for typed in ["dupont", "nguyen", "marc", "zzyzx", &number.to_lowercase()] {
            assert!(!d.to_lowercase().contains(typed), "{d}");
        }
    }
}
