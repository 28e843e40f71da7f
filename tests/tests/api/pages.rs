//! Every list that grows goes by pages the same way (`limit`, `cursor` → `next_cursor`):
//! walked two items at a time, it gives the same items in the same order as one page of all
//! of them, none twice, none skipped, even where many items share their sort key (the id
//! breaks the tie) and on lists ordered as a queue (priority, waiting or not, time).

use chrono::DurationRound as _;
use diesel::connection::SimpleConnection as _;
use relais_tests::TestApp;
use relais_tests::webchat::WebChat;
use serde_json::{Value, json};

/// The ids of a list read whole (one page of 500), then walked two at a time; both must agree.
async fn walk(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let whole = app.get(&format!("{path}{sep}limit=500")).bearer(token).send().await;
    assert_eq!(whole.status, 200, "{path}: {}", whole.text());
    let whole = whole.json();
    assert!(whole["next_cursor"].is_null(), "{path}: all of it in one page");
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let everything = ids(&whole);
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit=2&cursor={c}"),
            None => format!("{path}{sep}limit=2"),
        };
        let page = app.get(&url).bearer(token).send().await;
        assert_eq!(page.status, 200, "{url}: {}", page.text());
        let page = page.json();
        let items = ids(&page);
        assert!(items.len() <= 2, "{url}");
        walked.extend(items);
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert!(walked.len() < everything.len() + 1, "{path}: the walk does not end");
                cursor = Some(next.to_owned());
            }
            None => break,
        }
    }
    assert_eq!(
        walked, everything,
        "{path}: pages of two give the same items in the same order"
    );
    let mut unique = everything.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), everything.len(), "{path}: no item twice");
    everything
}

/// `limit` out of range, a cursor that is not one, and a cursor from another list: 400
/// naming the parameter, nothing served.
async fn refuses_bad_pages(app: &TestApp, token: &str, path: &str, foreign_cursor: &str) {
    let sep = if path.contains('?') { '&' } else { '?' };
    for (query, parameter) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        (&format!("cursor={foreign_cursor}") as &str, "cursor"),
    ] {
        let reply = app.get(&format!("{path}{sep}{query}")).bearer(token).send().await;
        assert_eq!(reply.status, 400, "{path} {query}: {}", reply.text());
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        assert!(reply.text().contains(parameter), "{path} {query}: {}", reply.text());
    }
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn every_growing_list_walks_by_pages_in_its_own_order() {
    let app = relais_tests::spawn_app().await;
    let practitioner = app.token("practitioner").await;
    let listener = app.token("listener").await;
    let housing = app.token("housing").await;
    let admin = app.token("admin").await;

    // Cases: five, all made at the same instant (the id decides).
    for n in 0..5 {
        let made = app
            .post("/v1/cases")
            .bearer(&practitioner)
            .json(&json!({ "origin": "self", "legal_basis": "voluntary", "identity": { "name": format!("Personne {n}") } }))
            .send()
            .await;
        assert_eq!(made.status, 201, "{}", made.text());
    }
    app.conn()
        .batch_execute("UPDATE cases SET created_at = (SELECT MIN(created_at) FROM cases)")
        .unwrap();
    let cases = walk(&app, &practitioner, "/v1/cases").await;
    assert!(cases.len() >= 5);
    walk(&app, &practitioner, "/v1/cases?status=open").await;

    // Phone calls: three started at the same minute.
    let started = (chrono::Utc::now() - chrono::Duration::hours(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for n in 0..5 {
        let at = if n < 3 {
            started.clone()
        } else {
            (chrono::Utc::now() - chrono::Duration::minutes(n)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        };
        let logged = app
            .post("/v1/phone-calls")
            .bearer(&listener)
            .json(&json!({ "started_at": at, "duration_seconds": 600, "caller_kind": "author", "topics": ["violence_in_couple"], "outcome": "information_given" }))
            .send()
            .await;
        assert_eq!(logged.status, 201, "{}", logged.text());
    }
    assert!(walk(&app, &listener, "/v1/phone-calls").await.len() >= 5);

    // Conversations, as a queue: two priorities, waiting or not, with ties on every key.
    let mut chats = Vec::new();
    for _ in 0..7 {
        let mut chat = WebChat::open(&app).await;
        chat.say("bonjour").await;
        chats.push(chat);
    }
    let stored = || -> Vec<String> {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Text)]
            id: String,
        }
        diesel::sql_query("SELECT id FROM conversations ORDER BY id")
            .load::<Id>(&mut *app.conn())
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while stored().len() < 7 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let conversations = stored();
    assert!(conversations.len() >= 7, "{conversations:?}");
    let mut sql = String::from(
        "UPDATE conversations SET created_at = (SELECT MIN(created_at) FROM conversations), waiting_since = NULL, priority = 0;",
    );
    for (n, id) in conversations.iter().enumerate() {
        let (priority, waiting) = match n % 4 {
            0 => (2, true),
            1 => (2, false),
            2 => (0, true),
            _ => (0, false),
        };
        if waiting {
            sql += &format!(
                "UPDATE conversations SET priority = {priority}, waiting_since = created_at WHERE id = '{id}';"
            );
        } else {
            sql += &format!("UPDATE conversations SET priority = {priority} WHERE id = '{id}';");
        }
    }
    app.conn().batch_execute(&sql).unwrap();
    let queue = walk(&app, &listener, "/v1/conversations").await;
    assert_eq!(queue.len(), conversations.len());
    let whole = app
        .get("/v1/conversations?limit=500")
        .bearer(&listener)
        .send()
        .await
        .json();
    let keys: Vec<(i64, bool)> = whole["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["priority"].as_i64().unwrap(), c["waiting_since"].is_null()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_by_key(|(priority, not_waiting)| (-priority, *not_waiting));
    assert_eq!(
        keys, sorted,
        "the highest priority first, those waiting before the others"
    );
    walk(&app, &listener, "/v1/conversations?state=bot").await;

    // Housing offers, by name: two share theirs.
    for _ in 0..2 {
        let made = app
            .post("/v1/housing/offers")
            .bearer(&housing)
            .json(&json!({ "kind": "hotel", "name": "Foyer des Pages", "provider": "Hôtels Solidaires", "address": "1 rue de la Gare",
                "commune": "78646", "latitude": 48.7995, "longitude": 2.1290, "capacity": 2, "price_cents": 5500, "available_from": "2026-01-01" }))
            .send()
            .await;
        assert_eq!(made.status, 201, "{}", made.text());
    }
    let offers = walk(&app, &housing, "/v1/housing/offers").await;
    assert!(offers.len() >= 2);

    // Housing requests: tonight's first, then the others, the oldest first; ties on the time.
    for n in 0..4 {
        let case = crate::housing::case(&app, &practitioner).await;
        let made = app
            .post(&format!("/v1/cases/{case}/housing-requests"))
            .bearer(&practitioner)
            .json(&json!({ "first_night": "2026-12-10", "last_night": "2026-12-12", "urgency": if n % 2 == 0 { "tonight" } else { "within_days" } }))
            .send()
            .await;
        assert_eq!(made.status, 201, "{}", made.text());
    }
    app.conn()
        .batch_execute("UPDATE housing_requests SET created_at = (SELECT MIN(created_at) FROM housing_requests)")
        .unwrap();
    let requests = walk(&app, &housing, "/v1/housing/requests").await;
    assert!(requests.len() >= 4);
    let whole = app
        .get("/v1/housing/requests?limit=500")
        .bearer(&housing)
        .send()
        .await
        .json();
    let tonight: Vec<bool> = whole["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["urgency"] == "tonight")
        .collect();
    assert!(tonight.windows(2).all(|w| w[0] >= w[1]), "tonight's first: {tonight:?}");
    walk(&app, &practitioner, "/v1/housing/requests").await;

    // Security alerts: five raised at the same instant.
    let mut sql = String::new();
    for n in 0..5 {
        sql += &format!(
            "INSERT INTO security_alerts (id, kind, account_id, organisation_id, subject_id, count, threshold, suspended, created_at) \
             VALUES ('{}', 'offer_cluster', '{}', NULL, NULL, {}, 5, FALSE, CURRENT_TIMESTAMP);",
            uuid(),
            uuid(),
            6 + n
        );
    }
    app.conn().batch_execute(&sql).unwrap();
    assert!(walk(&app, &admin, "/v1/security/alerts").await.len() >= 5);

    // Appointments: three in one slot, two in the next (the same start time, the id decides).
    for days in [3, 4] {
        let start = (chrono::Utc::now() + chrono::Duration::days(days))
            .duration_trunc(chrono::Duration::hours(1))
            .unwrap();
        let published = app
            .post("/v1/availabilities")
            .bearer(&practitioner)
            .json(&json!({ "modality": "on_site", "location": "12 rue de la Paix, 75011 Paris", "starts_at": start,
                "duration_minutes": 60, "booking_notice_minutes": 60, "cancellation_notice_minutes": 1440, "seats": 3 }))
            .send()
            .await;
        assert_eq!(published.status, 201, "{}", published.text());
    }
    let slots = app.get("/v1/slots").bearer(&practitioner).send().await;
    assert_eq!(slots.status, 200, "{}", slots.text());
    let slots = slots.json();
    let slots: Vec<String> = slots["items"]
        .as_array()
        .unwrap()
        .iter()
        .take(2)
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(slots.len(), 2, "{slots:?}");
    let mut sql = String::new();
    for (n, slot) in [&slots[0], &slots[0], &slots[0], &slots[1], &slots[1]]
        .into_iter()
        .enumerate()
    {
        sql += &format!(
            "INSERT INTO appointments (id, slot_id, organisation_id, referral_id, conversation_id, subject_alias, status, \
             cancellation_reason, reminded_day_before, reminded_two_hours, created_by, created_at, updated_at) \
             SELECT '{}', id, organisation_id, NULL, NULL, 'Contact P{n}', 'booked', NULL, FALSE, FALSE, 'test', \
             CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM slots WHERE id = '{slot}';",
            uuid()
        );
    }
    app.conn().batch_execute(&sql).unwrap();
    assert!(walk(&app, &practitioner, "/v1/appointments").await.len() >= 5);

    // Bad pages are refused, on every list, and a cursor only works on the list that gave it.
    let from_cases = app.get("/v1/cases?limit=1").bearer(&practitioner).send().await.json()["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let from_offers = app
        .get("/v1/housing/offers?limit=1")
        .bearer(&housing)
        .send()
        .await
        .json()["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    refuses_bad_pages(&app, &listener, "/v1/conversations", &from_offers).await;
    refuses_bad_pages(&app, &housing, "/v1/housing/requests", &from_cases).await;
    refuses_bad_pages(&app, &housing, "/v1/housing/offers", &from_cases).await;
    for (token, path) in [
        (&practitioner, "/v1/cases"),
        (&practitioner, "/v1/appointments"),
        (&listener, "/v1/phone-calls"),
        (&admin, "/v1/security/alerts"),
    ] {
        // These sort by time and id: any cursor of that shape is one of theirs; the others refuse.
        refuses_bad_pages(&app, token, path, "bm90LWEtY3Vyc29y").await;
    }
    drop(chats);
}
