//! Centres: orientation through the person's channel (consent, slots, booking, reminders,
//! cancel by reply), referrals, the last-seat race, notices and buffers, idempotent creates,
//! emails to a real SMTP server, overseas local time, the calendar feed, need-to-know.

use std::time::Duration;

use chrono::{DurationRound as _, Utc};
use relais_tests::TestApp;
use relais_tests::line::spawn_line_app;
use relais_tests::smtp::SmtpSink;
use serde_json::{Value, json};

const PARIS_CENTRE: &str = "CPCA Île-de-France Est";
const REUNION_CENTRE: &str = "CPCA La Réunion";

/// The French wording of a local time, written here rather than taken from the production
/// `wording::local_time` (whose fixed cases, Paris summer and winter, La Réunion and Cayenne,
/// are written out by hand in its unit tests).
fn french_local_time(at: chrono::DateTime<Utc>, tz: chrono_tz::Tz, zone: &str) -> String {
    use chrono::{Datelike as _, Timelike as _};
    const DAYS: [&str; 7] = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let local = at.with_timezone(&tz);
    format!(
        "{} {} {} à {:02}:{:02} ({zone})",
        DAYS[local.weekday().num_days_from_monday() as usize],
        local.day(),
        MONTHS[local.month0() as usize],
        local.hour(),
        local.minute()
    )
}

/// A whole hour, `days` from now.
fn in_days(days: i64) -> chrono::DateTime<Utc> {
    (Utc::now() + chrono::Duration::days(days))
        .duration_trunc(chrono::Duration::hours(1))
        .unwrap()
}

async fn publish(app: &TestApp, token: &str, body: Value) -> Value {
    let reply = app.post("/v1/availabilities").bearer(token).json(&body).send().await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()
}

/// A person on Telegram reaches a listener, who takes the conversation and orients them.
async fn oriented(app: &TestApp, chat: i64, centre: &str) -> String {
    app.telegram_says(chat, "j'ai une arme").await;
    app.telegram_wait_text(chat, "prochaine personne dans la file")
        .await
        .expect("waited for");
    let listener = app.token("listener").await;
    let taken = app.post("/v1/queue/take-next").bearer(&listener).send().await;
    assert_eq!(taken.status, 200);
    let conversation = taken.json()["id"].as_str().unwrap().to_owned();
    let centre_id = app.organisation_id(centre).await;
    let orient = app
        .post(&format!("/v1/conversations/{conversation}/orientation"))
        .bearer(&listener)
        .json(&json!({ "centre_id": centre_id, "summary": "Violences verbales répétées, souhaite être aidé." }))
        .send()
        .await;
    assert_eq!(orient.status, 201, "{}", orient.text());
    assert_eq!(orient.json()["state"], "asking_consent");
    let asked = app.telegram_wait_text(chat, "Acceptez-vous").await.expect("waited for");
    assert_eq!(asked.len(), 1);
    assert!(asked[0].body["reply_markup"].to_string().contains("consent_yes"));
    conversation
}

#[tokio::test]
async fn a_person_is_oriented_books_through_telegram_and_is_reminded() {
    let captured = relais_tests::logs::capture();
    let smtp = SmtpSink::start().await;
    let app = spawn_line_app(&[("RELAIS_SMTP_URL", &smtp.url), ("RELAIS_REMINDER_SECONDS", "1")]).await;
    let practitioner = app.token("practitioner").await;
    let start = in_days(3);
    publish(
        &app,
        &practitioner,
        json!({ "modality": "on_site", "location": "12 rue de la Paix, 75011 Paris", "starts_at": start,
                "duration_minutes": 60, "booking_notice_minutes": 60, "cancellation_notice_minutes": 1440 }),
    )
    .await;

    oriented(&app, 50001, PARIS_CENTRE).await;
    app.telegram_presses(50001, "consent_yes").await;
    let offered = app
        .telegram_wait_text(50001, "Voici les prochains créneaux")
        .await
        .expect("waited for");
    let buttons = offered[0].body["reply_markup"].to_string();
    assert!(buttons.contains("slot:1") && buttons.contains("more"), "{buttons}");
    app.telegram_presses(50001, "slot:1").await;
    let confirmed = app
        .telegram_wait_text(50001, "Rendez-vous confirmé")
        .await
        .expect("waited for");
    let text = confirmed[0].body["text"].as_str().unwrap().to_owned();
    assert!(
        text.contains(&french_local_time(start, chrono_tz::Europe::Paris, "heure de Paris")),
        "{text}"
    );
    assert!(
        text.contains("12 rue de la Paix") && text.contains("À apporter"),
        "{text}"
    );

    // The centre sees the referral and the appointment, under the alias only.
    let referrals = app.get("/v1/referrals").bearer(&practitioner).send().await.json();
    let items = referrals["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], "pending");
    assert_eq!(items[0]["legal_basis"], "voluntary");
    assert!(items[0]["subject_alias"].as_str().unwrap().starts_with("Contact "));
    assert!(items[0]["summary"].as_str().unwrap().contains("Violences verbales"));
    let inbox = app.get("/v1/centre-inbox").bearer(&practitioner).send().await.json();
    assert_eq!(inbox["referrals_pending"].as_array().unwrap().len(), 1);
    let appointments = app.get("/v1/appointments").bearer(&practitioner).send().await.json();
    assert_eq!(appointments["items"][0]["status"], "booked");
    for seen in [referrals.to_string(), inbox.to_string(), appointments.to_string()] {
        assert!(!seen.contains("50001"), "the centre never sees a Telegram id");
    }

    // The centre is told by email: a referral and a booking, with an alias and a link only.
    let mails = smtp.wait_for(2).await.expect("waited for");
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(
        mails
            .iter()
            .all(|m| m.to == ["accueil.cpca-idf-est@demo.relais.example"])
    );
    assert!(mails.iter().any(|m| m.data.contains("Nouvelle orientation")));
    assert!(mails.iter().any(|m| m.data.contains("Nouveau rendez-vous")));
    assert!(
        mails
            .iter()
            .all(|m| !m.data.contains("50001") && !m.data.contains("Violences verbales"))
    );

    // The day before, then two hours before: reminders through Telegram, by the server's clock.
    let clock = app.app_state().clock.clone();
    clock.advance(start - Utc::now() - chrono::Duration::hours(23));
    assert_eq!(
        app.telegram_wait_text(50001, "Rappel : rendez-vous demain")
            .await
            .expect("waited for")
            .len(),
        1
    );
    clock.advance(chrono::Duration::hours(22));
    assert_eq!(
        app.telegram_wait_text(50001, "Rappel : votre rendez-vous")
            .await
            .expect("waited for")
            .len(),
        1
    );
    app.reminders_settled().await;
    let reminders = app
        .telegram_sent(50001)
        .iter()
        .filter(|c| c.body["text"].as_str().unwrap_or_default().starts_with("Rappel"))
        .count();
    assert_eq!(reminders, 2, "each reminder once");

    // An hour before, inside the day's cancellation notice: too late to cancel by message.
    app.telegram_says(50001, "ANNULER").await;
    let late = app.telegram_wait_text(50001, "trop tard").await.expect("waited for");
    assert!(late[0].body["text"].as_str().unwrap().contains("01 23 45 67 89"));
    // Access tokens end by the server's clock: a new one at the moved time.
    let practitioner = app.token("practitioner").await;
    let still = app.get("/v1/appointments").bearer(&practitioner).send().await.json();
    assert_eq!(still["items"][0]["status"], "booked");

    let logs = captured.read(5);
    for secret in ["50001", "Violences verbales", "12 rue de la Paix", "accueil.cpca"] {
        assert!(!logs.contains(secret), "{secret} must not be logged");
    }
}

#[tokio::test]
async fn a_person_who_declines_sends_nothing_to_the_centre() {
    let smtp = SmtpSink::start().await;
    let app = spawn_line_app(&[("RELAIS_SMTP_URL", &smtp.url)]).await;
    oriented(&app, 50101, PARIS_CENTRE).await;
    app.telegram_presses(50101, "consent_no").await;
    assert_eq!(
        app.telegram_wait_text(50101, "rien n'est transmis")
            .await
            .expect("waited for")
            .len(),
        1
    );
    let practitioner = app.token("practitioner").await;
    let referrals = app.get("/v1/referrals").bearer(&practitioner).send().await.json();
    assert_eq!(referrals["items"], json!([]));
    // Emails leave through the outbox, written with the referral: an empty outbox is the
    // positive sign that none is on its way.
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let queued = {
        use diesel::RunQueryDsl as _;
        diesel::sql_query("SELECT COUNT(*) AS n FROM email_outbox")
            .get_result::<Count>(&mut *app.conn())
            .unwrap()
            .n
    };
    assert_eq!(queued, 0, "no email queued");
    assert!(smtp.received().is_empty(), "no email either");
}

#[tokio::test]
async fn a_person_cancels_or_moves_by_replying_and_an_overseas_centre_speaks_local_time() {
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner.reunion").await;
    let first = in_days(4);
    // The last date is the centre's local date (UTC+4 at La Réunion): from 20:00 UTC the third
    // occurrence falls on the next local day, so the bound is the day after, in UTC, which still
    // leaves out a fourth occurrence a week later.
    publish(
        &app,
        &practitioner,
        json!({ "modality": "video", "location": "Lien envoyé par le centre", "starts_at": first,
                "duration_minutes": 45, "repeat_weekly_until": (first + chrono::Duration::days(15)).date_naive() }),
    )
    .await;
    oriented(&app, 50201, REUNION_CENTRE).await;
    app.telegram_says(50201, "oui").await;
    let offered = app
        .telegram_wait_text(50201, "Voici les prochains créneaux")
        .await
        .expect("waited for");
    assert_eq!(
        offered[0].body["reply_markup"]["inline_keyboard"]
            .as_array()
            .unwrap()
            .len(),
        4,
        "three slots and more"
    );
    app.telegram_says(50201, "2").await; // by number, as on SMS
    let confirmed = app
        .telegram_wait_text(50201, "Rendez-vous confirmé")
        .await
        .expect("waited for");
    let text = confirmed[0].body["text"].as_str().unwrap();
    let second = first + chrono::Duration::days(7);
    assert!(
        text.contains(&french_local_time(
            second,
            chrono_tz::Indian::Reunion,
            "heure de La Réunion"
        )),
        "{text}"
    );
    assert!(
        text.contains("(heure de La Réunion)") && text.contains("en visio"),
        "{text}"
    );
    // Telegram has buttons: cancel and move are buttons, not words to type.
    let buttons = confirmed[0].body["reply_markup"].to_string();
    assert!(
        buttons.contains("\"cancel\"") && buttons.contains("\"reschedule\"") && buttons.contains("Changer d'horaire"),
        "{buttons}"
    );
    assert!(!text.contains("ANNULER") && !text.contains("DÉPLACER"), "{text}");

    // Move it with its button: the seat is freed and new times are offered.
    app.telegram_presses(50201, "reschedule").await;
    app.telegram_wait_text(50201, "Votre rendez-vous est annulé")
        .await
        .expect("waited for");
    let centre = app.get("/v1/appointments").bearer(&practitioner).send().await.json();
    assert_eq!(centre["items"][0]["status"], "cancelled");
    assert_eq!(centre["items"][0]["cancellation_reason"], "moved by the person");
    app.telegram_presses(50201, "slot:1").await;
    let rebooked = app
        .telegram_fake()
        .recorder
        .wait_for(2, Duration::from_secs(10), |c| {
            c.body["chat_id"] == 50201
                && c.body["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("Rendez-vous confirmé"))
        })
        .await
        .expect("a second confirmation");
    assert_eq!(rebooked.len(), 2);
    app.telegram_says(50201, "annuler").await;
    app.telegram_wait_text(50201, "le centre est prévenu")
        .await
        .expect("waited for");
    let slots = app.get("/v1/slots").bearer(&practitioner).send().await.json();
    let slots = slots["items"].as_array().unwrap();
    assert_eq!(slots.len(), 3, "three weekly slots: {slots:?}");
    assert!(
        slots.iter().all(|s| s["booked"] == 0),
        "every seat is free again: {slots:?}"
    );
}

#[tokio::test]
async fn the_last_seat_goes_to_one_person_only() {
    let app = spawn_line_app(&[]).await;
    let manager = app.token("manager").await;
    let single = publish(
        &app,
        &manager,
        json!({ "modality": "on_site", "location": "Salle 1", "starts_at": in_days(2), "duration_minutes": 60 }),
    )
    .await;
    let group = publish(
        &app,
        &manager,
        json!({ "modality": "on_site", "location": "Salle 2", "starts_at": in_days(2), "duration_minutes": 120, "seats": 3 }),
    )
    .await;
    for (slot, seats) in [(&single, 1), (&group, 3)] {
        let slot_id = slot["slots"][0]["id"].as_str().unwrap().to_owned();
        let attempts = (0..8).map(|n| {
            let app = &app;
            let manager = &manager;
            let slot_id = slot_id.clone();
            async move {
                app.post("/v1/appointments")
                    .bearer(manager)
                    .json(&json!({ "slot_id": slot_id, "subject_alias": format!("Personne {n}") }))
                    .send()
                    .await
                    .status
            }
        });
        let statuses = futures_util::future::join_all(attempts).await;
        let booked = statuses.iter().filter(|s| **s == 201).count();
        let refused = statuses.iter().filter(|s| **s == 409).count();
        assert_eq!((booked, refused), (seats, 8 - seats), "{statuses:?}");
        let slots = app.get("/v1/slots").bearer(&manager).send().await.json();
        let seen = slots["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == slot_id.as_str())
            .unwrap()
            .clone();
        assert_eq!(seen["booked"], seats as i64);
        assert_eq!(seen["status"], "busy");
    }
}

#[tokio::test]
async fn notices_buffers_and_idempotency_keys_are_enforced() {
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    // Booking notice: a slot in 30 minutes that needs an hour's notice cannot be booked.
    let soon = publish(
        &app,
        &practitioner,
        json!({ "modality": "phone", "location": "Par téléphone", "starts_at": Utc::now() + chrono::Duration::minutes(30),
                "duration_minutes": 30, "booking_notice_minutes": 60 }),
    )
    .await;
    let late = app
        .post("/v1/appointments")
        .bearer(&practitioner)
        .json(&json!({ "slot_id": soon["slots"][0]["id"], "subject_alias": "Contact A1B2" }))
        .send()
        .await;
    assert_eq!(late.status, 409, "{}", late.text());

    // Buffers: 15 minutes around a slot keep the next one from starting right after it.
    let at = in_days(5);
    publish(
        &app,
        &practitioner,
        json!({ "modality": "on_site", "location": "Bureau 3", "starts_at": at, "duration_minutes": 60, "buffer_minutes": 15 }),
    )
    .await;
    let clash = app
        .post("/v1/availabilities")
        .bearer(&practitioner)
        .json(&json!({ "modality": "on_site", "location": "Bureau 3", "starts_at": at + chrono::Duration::minutes(70), "duration_minutes": 30 }))
        .send()
        .await;
    assert_eq!(clash.status, 409, "{}", clash.text());
    publish(
        &app,
        &practitioner,
        json!({ "modality": "on_site", "location": "Bureau 3", "starts_at": at + chrono::Duration::minutes(75), "duration_minutes": 30 }),
    )
    .await;
    let past = app
        .post("/v1/availabilities")
        .bearer(&practitioner)
        .json(&json!({ "modality": "on_site", "location": "Bureau 3", "starts_at": Utc::now() - chrono::Duration::hours(1), "duration_minutes": 30 }))
        .send()
        .await;
    assert_eq!(past.status, 400);

    // Idempotency-Key: a retried booking books once and answers the same.
    let slot = publish(
        &app,
        &practitioner,
        json!({ "modality": "on_site", "location": "Bureau 4", "starts_at": in_days(6), "duration_minutes": 60, "seats": 5 }),
    )
    .await;
    let body = json!({ "slot_id": slot["slots"][0]["id"], "subject_alias": "Contact Z9Y8" });
    let first = app
        .post("/v1/appointments")
        .bearer(&practitioner)
        .header("Idempotency-Key", "retry-123")
        .json(&body)
        .send()
        .await;
    let again = app
        .post("/v1/appointments")
        .bearer(&practitioner)
        .header("Idempotency-Key", "retry-123")
        .json(&body)
        .send()
        .await;
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(first.json()["id"], again.json()["id"]);
    let listed = app.get("/v1/appointments").bearer(&practitioner).send().await.json();
    let on_slot = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["slot"]["id"] == slot["slots"][0]["id"])
        .count();
    assert_eq!(on_slot, 1, "booked once");
}

#[tokio::test]
async fn referrals_follow_one_state_machine_and_stay_between_their_two_organisations() {
    let app = spawn_line_app(&[]).await;
    let centre = app.organisation_id(PARIS_CENTRE).await;
    let key = app.partner_key().await;
    let missing_end = app
        .post("/v1/referrals")
        .bearer(&key)
        .json(&json!({ "centre_id": centre, "subject_alias": "M. D.", "summary": "Obligation de soins.", "legal_basis": "court_ordered", "authority": "jap", "decision_reference": "JAP-2026-118" }))
        .send()
        .await;
    assert_eq!(missing_end.status, 400);
    // Court fields sent with a voluntary referral are still checked (found by schemathesis).
    let long_reference = app
        .post("/v1/referrals")
        .bearer(&key)
        .json(&json!({ "centre_id": centre, "subject_alias": "M. D.", "summary": "S.", "legal_basis": "voluntary", "consent_at": Utc::now(), "decision_reference": "0".repeat(101) }))
        .send()
        .await;
    assert_eq!(long_reference.status, 400);
    let created = app
        .post("/v1/referrals")
        .bearer(&key)
        .json(&json!({ "centre_id": centre, "subject_alias": "M. D.", "summary": "Obligation de soins.", "legal_basis": "court_ordered", "authority": "jap", "decision_reference": "JAP-2026-118", "order_ends_on": "2027-06-30" }))
        .send()
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let referral = created.json();
    assert_eq!(referral["authority"], "jap");
    assert_eq!(referral["source"]["name"], "SPIP de Paris");
    let id = referral["id"].as_str().unwrap().to_owned();

    let other_centre = app.token("practitioner.reunion").await;
    assert_eq!(
        app.get(&format!("/v1/referrals/{id}"))
            .bearer(&other_centre)
            .send()
            .await
            .status,
        404
    );
    assert_eq!(
        app.post(&format!("/v1/referrals/{id}/accept"))
            .bearer(&other_centre)
            .send()
            .await
            .status,
        404
    );
    assert_eq!(
        app.post(&format!("/v1/referrals/{id}/accept"))
            .bearer(&key)
            .send()
            .await
            .status,
        403,
        "the sender does not decide"
    );

    let manager = app.token("manager").await;
    let done_too_soon = app
        .post(&format!("/v1/referrals/{id}/done"))
        .bearer(&manager)
        .send()
        .await;
    assert_eq!(done_too_soon.status, 409);
    let accepted = app
        .post(&format!("/v1/referrals/{id}/accept"))
        .bearer(&manager)
        .send()
        .await;
    assert_eq!(accepted.status, 200);
    assert!(accepted.json()["decided"]["by"].as_str().unwrap().starts_with("user:"));
    let done = app
        .post(&format!("/v1/referrals/{id}/done"))
        .bearer(&manager)
        .send()
        .await;
    assert_eq!(done.json()["status"], "done");
    assert_eq!(
        app.post(&format!("/v1/referrals/{id}/revoke"))
            .bearer(&key)
            .send()
            .await
            .status,
        409
    );

    // Another one, revoked by its sender; a rejection needs a reason.
    let second = app
        .post("/v1/referrals")
        .bearer(&key)
        .json(&json!({ "centre_id": centre, "subject_alias": "M. E.", "summary": "Stage de responsabilisation.", "legal_basis": "court_ordered", "authority": "procureur", "decision_reference": "PR-77", "order_ends_on": "2027-01-31" }))
        .send()
        .await
        .json();
    let second_id = second["id"].as_str().unwrap();
    let no_reason = app
        .post(&format!("/v1/referrals/{second_id}/reject"))
        .bearer(&manager)
        .json(&json!({ "reason": "" }))
        .send()
        .await;
    assert_eq!(no_reason.status, 400);
    let revoked = app
        .post(&format!("/v1/referrals/{second_id}/revoke"))
        .bearer(&key)
        .send()
        .await;
    assert_eq!(revoked.json()["status"], "revoked");
    let outgoing = app
        .get("/v1/referrals?direction=outgoing")
        .bearer(&key)
        .send()
        .await
        .json();
    assert_eq!(outgoing["items"].as_array().unwrap().len(), 2);

    // Stalled: a pending referral untouched past the delay.
    let third = app
        .post("/v1/referrals")
        .bearer(&key)
        .json(&json!({ "centre_id": centre, "subject_alias": "M. F.", "summary": "Suivi.", "legal_basis": "voluntary", "consent_at": Utc::now() }))
        .send()
        .await
        .json();
    {
        use diesel::connection::SimpleConnection as _;
        app.conn()
            .batch_execute(&format!(
                "UPDATE referrals SET updated_at = '2020-01-01 00:00:00' WHERE id = '{}'",
                third["id"].as_str().unwrap()
            ))
            .unwrap();
    }
    let pending = app
        .get("/v1/referrals?status=pending")
        .bearer(&manager)
        .send()
        .await
        .json();
    assert_eq!(pending["items"][0]["stalled"], true);
}

#[tokio::test]
async fn a_practitioner_has_a_private_calendar_feed_without_names() {
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let slot = publish(
        &app,
        &practitioner,
        json!({ "modality": "on_site", "location": "12 rue de la Paix, 75011 Paris", "starts_at": in_days(2), "duration_minutes": 60 }),
    )
    .await;
    app.post("/v1/appointments")
        .bearer(&practitioner)
        .json(&json!({ "slot_id": slot["slots"][0]["id"], "subject_alias": "Contact Q4R5" }))
        .send()
        .await;
    let feed = app.post("/v1/me/calendar-feed").bearer(&practitioner).send().await;
    assert_eq!(feed.status, 201);
    let url = feed.json()["url"].as_str().unwrap().to_owned();
    let path = &url[url.find("/calendar/").unwrap()..];
    let ics = app.get(path).send().await;
    assert_eq!(ics.status, 200);
    let text = ics.text();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n") && text.contains("BEGIN:VEVENT") && text.contains("DTSTART:"));
    assert!(text.contains("12 rue de la Paix\\, 75011 Paris"));
    assert!(!text.contains("Q4R5"), "no alias or name in a calendar");
    // Reset: the old address stops working.
    app.post("/v1/me/calendar-feed").bearer(&practitioner).send().await;
    assert_eq!(app.get(path).send().await.status, 404);
    // The helpline has no schedule.
    let listener = app.token("listener").await;
    assert_eq!(app.get("/v1/slots").bearer(&listener).send().await.status, 404);
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next event frame on a live socket, or None after `wait`.
async fn next_event(socket: &mut Socket, wait: Duration) -> Option<Value> {
    use futures_util::StreamExt as _;
    use tokio_tungstenite::tungstenite::Message;
    let frame = async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    let frame: Value = serde_json::from_str(&text).unwrap();
                    if frame["type"] == "event" {
                        return Some(frame);
                    }
                }
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    };
    tokio::time::timeout(wait, frame).await.ok().flatten()
}

#[tokio::test]
async fn a_centre_hears_at_once_of_its_referrals_and_bookings_and_of_nobody_elses() {
    use futures_util::SinkExt as _;
    use tokio_tungstenite::tungstenite::Message;
    let app = spawn_line_app(&[]).await;
    let connect = |token: String| {
        let url = format!("{}/v1/live", app.address.replace("http://", "ws://"));
        async move {
            let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
            socket
                .send(Message::Text(json!({ "token": token }).to_string().into()))
                .await
                .unwrap();
            socket
        }
    };
    let practitioner = app.token("practitioner").await;
    let mut centre = connect(practitioner.clone()).await;
    let mut other_centre = connect(app.token("practitioner.reunion").await).await;
    let mut listener = connect(app.token("listener").await).await;
    publish(
        &app,
        &practitioner,
        json!({ "modality": "on_site", "location": "Salle 2", "starts_at": in_days(2), "duration_minutes": 60 }),
    )
    .await;

    oriented(&app, 50301, PARIS_CENTRE).await;
    app.telegram_presses(50301, "consent_yes").await;
    let referral = next_event(&mut centre, Duration::from_secs(10)).await.unwrap();
    assert_eq!(referral["kind"], "referral.new");
    app.telegram_wait_text(50301, "Voici les prochains créneaux")
        .await
        .expect("waited for");
    app.telegram_presses(50301, "slot:1").await;
    let booked = next_event(&mut centre, Duration::from_secs(10)).await.unwrap();
    assert_eq!(booked["kind"], "appointment.booked");
    let appointment = booked["object_id"].as_str().unwrap().to_owned();
    let seen = app
        .get(&format!("/v1/appointments/{appointment}"))
        .bearer(&practitioner)
        .send()
        .await;
    assert_eq!(seen.status, 200);

    assert!(
        next_event(&mut other_centre, Duration::from_millis(800))
            .await
            .is_none(),
        "another centre hears nothing"
    );
    // The helpline hears of its own conversation, never of the centre's referral or booking.
    while let Some(event) = next_event(&mut listener, Duration::from_millis(800)).await {
        let kind = event["kind"].as_str().unwrap();
        assert!(
            !kind.starts_with("referral.") && !kind.starts_with("appointment."),
            "{event}"
        );
    }
    // …until the centre decides: the helpline hears that its referral was accepted.
    let referral_id = referral["object_id"].as_str().unwrap();
    let manager = app.token("manager").await;
    let accepted = app
        .post(&format!("/v1/referrals/{referral_id}/accept"))
        .bearer(&manager)
        .send()
        .await;
    assert_eq!(accepted.status, 200);
    let heard = next_event(&mut listener, Duration::from_secs(10)).await.unwrap();
    assert_eq!(heard["kind"], "referral.updated");
    assert_eq!(heard["detail"], "accepted");
    assert_eq!(heard["object_id"], referral_id);
    assert!(
        heard["conversation_id"].is_string(),
        "the listener knows which conversation"
    );
    assert!(
        next_event(&mut other_centre, Duration::from_millis(500))
            .await
            .is_none(),
        "still nothing for another centre"
    );
}

#[tokio::test]
async fn the_demo_schedule_offers_slots_at_local_hours() {
    let app = spawn_line_app(&[]).await;
    let published = relais_core::demo::load_schedule(&mut app.conn()).unwrap();
    assert!(published >= 24, "eight weeks, three weekly slots: {published}");
    assert_eq!(
        relais_core::demo::load_schedule(&mut app.conn()).unwrap(),
        0,
        "a second run publishes nothing twice"
    );
    let reunion = app.token("practitioner.reunion").await;
    let slots = app.get("/v1/slots").bearer(&reunion).send().await.json();
    let first = slots["items"][0]["starts_at"].as_str().unwrap();
    let at: chrono::DateTime<Utc> = first.parse().unwrap();
    assert_eq!(
        chrono::Timelike::hour(&at.with_timezone(&chrono_tz::Indian::Reunion)),
        14
    );
}

/// `status` on an appointment by `token`: the reply.
async fn move_appointment(app: &TestApp, token: &str, id: &str, status: &str) -> relais_tests::Reply {
    app.post(&format!("/v1/appointments/{id}/status"))
        .bearer(token)
        .json(&json!({ "status": status }))
        .send()
        .await
}

#[tokio::test]
async fn attendance_waits_for_the_appointments_day_in_the_centres_zone_and_is_corrected_with_a_reason() {
    use chrono::{NaiveTime, TimeZone as _};
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner.reunion").await;
    let tz = chrono_tz::Indian::Reunion;
    // At 10:00 in La Réunion, three days from now there.
    let day = Utc::now().with_timezone(&tz).date_naive() + chrono::Duration::days(3);
    let starts = tz
        .from_local_datetime(&day.and_time(NaiveTime::from_hms_opt(10, 0, 0).unwrap()))
        .unwrap()
        .with_timezone(&Utc);
    let slot = publish(
        &app,
        &practitioner,
        json!({ "modality": "on_site", "location": "Bureau 1", "starts_at": starts, "duration_minutes": 60 }),
    )
    .await;
    let booked = app
        .post("/v1/appointments")
        .bearer(&practitioner)
        .json(&json!({ "slot_id": slot["slots"][0]["id"], "subject_alias": "Contact R4N1" }))
        .send()
        .await;
    assert_eq!(booked.status, 201, "{}", booked.text());
    let id = booked.json()["id"].as_str().unwrap().to_owned();

    // Ahead of time: arrival and no-show refused, in French first, and nothing changes.
    for status in ["arrived", "noshow"] {
        let early = move_appointment(&app, &practitioner, &id, status).await;
        assert_eq!(early.status, 409, "{status}: {}", early.text());
        assert_eq!(
            early.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        assert!(
            early.json()["detail"].as_str().unwrap().starts_with("Ce rendez-vous "),
            "{}",
            early.text()
        );
    }
    let seen = app
        .get(&format!("/v1/appointments/{id}"))
        .bearer(&practitioner)
        .send()
        .await;
    assert_eq!(seen.json()["status"], "booked");

    // The day begins at midnight in La Réunion, which is still the day before in Paris and in
    // UTC: a minute before, still refused; a minute after, the person may be received early.
    let midnight = tz
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .unwrap()
        .with_timezone(&Utc);
    let clock = app.app_state().clock.clone();
    clock.advance(midnight - Utc::now() - chrono::Duration::minutes(1));
    // Access tokens end by the server's clock: a new one at the moved time.
    let practitioner = app.token("practitioner.reunion").await;
    let early = move_appointment(&app, &practitioner, &id, "arrived").await;
    assert_eq!(early.status, 409, "{}", early.text());
    clock.advance(chrono::Duration::minutes(2));
    let noshow = move_appointment(&app, &practitioner, &id, "noshow").await;
    assert_eq!(noshow.status, 409, "a no-show is known once the slot has started");
    let arrived = move_appointment(&app, &practitioner, &id, "arrived").await;
    assert_eq!(arrived.status, 200, "{}", arrived.text());

    // A correction needs a reason and a status a correction leads to; another centre's staff
    // does not see the appointment; a no-show before the slot starts is still refused.
    let correct = |body: Value, token: String| {
        let app = &app;
        let id = id.clone();
        async move {
            app.post(&format!("/v1/appointments/{id}/corrections"))
                .bearer(&token)
                .json(&body)
                .send()
                .await
        }
    };
    for bad in [
        json!({ "status": "booked" }),
        json!({ "status": "booked", "reason": "" }),
        json!({ "status": "cancelled", "reason": "Erreur" }),
        json!({ "status": "unknown", "reason": "Erreur" }),
        json!({ "status": "booked", "reason": "Erreur", "by": "x" }),
    ] {
        let reply = correct(bad.clone(), practitioner.clone()).await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.text());
    }
    let elsewhere = correct(
        json!({ "status": "booked", "reason": "Erreur" }),
        app.token("practitioner").await,
    )
    .await;
    assert_eq!(elsewhere.status, 404);
    let too_soon = correct(
        json!({ "status": "noshow", "reason": "Pas venu" }),
        practitioner.clone(),
    )
    .await;
    assert_eq!(too_soon.status, 409, "{}", too_soon.text());
    let seen = app
        .get(&format!("/v1/appointments/{id}"))
        .bearer(&practitioner)
        .send()
        .await;
    assert_eq!(seen.json()["status"], "arrived", "refused corrections change nothing");

    // Marked by mistake: back to booked, with its reason kept and the step audited.
    let undone = correct(
        json!({ "status": "booked", "reason": "Enregistré par erreur sur le mauvais rendez-vous" }),
        practitioner.clone(),
    )
    .await;
    assert_eq!(undone.status, 201, "{}", undone.text());
    assert_eq!(undone.json()["appointment"]["status"], "booked");
    let again = correct(json!({ "status": "arrived", "reason": "Erreur" }), practitioner.clone()).await;
    assert_eq!(
        again.status,
        409,
        "only a recorded attendance is corrected: {}",
        again.text()
    );
    let steps = app
        .get(&format!("/v1/appointments/{id}/corrections"))
        .bearer(&practitioner)
        .send()
        .await;
    assert_eq!(steps.status, 200, "{}", steps.text());
    let steps = steps.json()["items"].as_array().unwrap().clone();
    assert_eq!(steps.len(), 1);
    assert_eq!(
        (&steps[0]["from_status"], &steps[0]["to_status"], &steps[0]["reason"]),
        (
            &json!("arrived"),
            &json!("booked"),
            &json!("Enregistré par erreur sur le mauvais rendez-vous")
        )
    );
    {
        use diesel::prelude::*;
        use relais_core::db::schema::audit_log;
        let entries: Vec<(String, String)> = audit_log::table
            .filter(audit_log::action.eq("appointment.correct"))
            .filter(audit_log::object_id.eq(&id))
            .select((audit_log::action, audit_log::details))
            .load(&mut *app.conn())
            .unwrap();
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert!(entries[0].1.contains("\"to\":\"booked\""), "{entries:?}");
        assert!(!entries[0].1.contains("erreur"), "the audit holds no free text");
    }
}

#[tokio::test]
async fn a_referral_stalls_by_the_server_clock() {
    let app = spawn_line_app(&[("RELAIS_REFERRAL_STALL_DAYS", "7")]).await;
    let centre = app.organisation_id(PARIS_CENTRE).await;
    let key = app.partner_key().await;
    let referral = app
        .post("/v1/referrals")
        .bearer(&key)
        .json(&json!({ "centre_id": centre, "subject_alias": "M. H.", "summary": "Suivi.", "legal_basis": "voluntary", "consent_at": Utc::now() }))
        .send()
        .await
        .json();
    let path = format!("/v1/referrals/{}", referral["id"].as_str().unwrap());
    // Access tokens end by the server's clock: a new one at each moved time.
    let stalled = async |app: &TestApp| {
        let manager = app.token("manager").await;
        app.get(&path).bearer(&manager).send().await.json()["stalled"].clone()
    };
    assert_eq!(stalled(&app).await, false);
    app.app_state().clock.advance(chrono::Duration::days(6));
    assert_eq!(stalled(&app).await, false, "six days untouched");
    app.app_state().clock.advance(chrono::Duration::days(2));
    assert_eq!(stalled(&app).await, true, "eight days untouched, by the server's clock");
}

/// Issue 18, fault 5 for reminders: the server's clock jumps forward an hour and back a minute
/// around each reminder's time; each reminder is still sent once, none early, none twice.
#[tokio::test]
async fn reminders_are_sent_once_across_clock_jumps() {
    let app = spawn_line_app(&[("RELAIS_REMINDER_SECONDS", "1")]).await;
    let practitioner = app.token("practitioner").await;
    let start = in_days(3);
    publish(
        &app,
        &practitioner,
        json!({ "modality": "on_site", "location": "12 rue de la Paix, 75011 Paris", "starts_at": start,
                "duration_minutes": 60, "booking_notice_minutes": 60, "cancellation_notice_minutes": 60 }),
    )
    .await;
    oriented(&app, 50101, PARIS_CENTRE).await;
    app.telegram_presses(50101, "consent_yes").await;
    app.telegram_wait_text(50101, "Voici les prochains créneaux")
        .await
        .expect("waited for");
    app.telegram_presses(50101, "slot:1").await;
    app.telegram_wait_text(50101, "Rendez-vous confirmé")
        .await
        .expect("waited for");
    // Each pressed button's spinner is stopped (answerCallbackQuery, posted to the Bot API).
    app.telegram_fake()
        .recorder
        .wait_for(2, std::time::Duration::from_secs(10), |c| {
            c.method == "answerCallbackQuery"
                && c.body["callback_query_id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with("cb"))
        })
        .await
        .expect("both presses answered");
    let reminders = |app: &TestApp| {
        app.telegram_sent(50101)
            .iter()
            .filter(|c| c.body["text"].as_str().unwrap_or_default().starts_with("Rappel"))
            .count()
    };
    let clock = app.app_state().clock.clone();

    // A minute before the day-before reminder is due: nothing yet.
    clock.advance(start - Utc::now() - chrono::Duration::hours(24) - chrono::Duration::minutes(1));
    app.reminders_settled().await;
    assert_eq!(reminders(&app), 0, "no reminder early");
    // Forward an hour: the day-before reminder, once; back a minute, forward again: no second.
    clock.advance(chrono::Duration::hours(1));
    app.telegram_wait_text(50101, "Rappel : rendez-vous demain")
        .await
        .expect("waited for");
    clock.advance(chrono::Duration::minutes(-1));
    app.reminders_settled().await;
    clock.advance(chrono::Duration::hours(1));
    app.reminders_settled().await;
    assert_eq!(reminders(&app), 1, "the day-before reminder once across the jumps");

    // To two hours before, jump past it by an hour, back a minute, forward again.
    clock.advance(start - clock.now() - chrono::Duration::hours(2) + chrono::Duration::hours(1));
    app.telegram_wait_text(50101, "Rappel : votre rendez-vous")
        .await
        .expect("waited for");
    clock.advance(chrono::Duration::minutes(-1));
    app.reminders_settled().await;
    clock.advance(chrono::Duration::minutes(30));
    app.reminders_settled().await;
    assert_eq!(reminders(&app), 2, "each reminder once, whatever the clock did");
}

/// A slot offered closes to booking while the person reads: the bot says so (it used to say
/// "someone else has just taken that time" for every refusal), and it never offers a slot
/// whose booking closes within the five minutes a person needs to choose.
#[tokio::test]
async fn the_bot_says_why_a_slot_cannot_be_booked_and_offers_none_about_to_close() {
    let app = spawn_line_app(&[]).await;
    let practitioner = app.token("practitioner").await;
    let start = in_days(3);
    for at in [start, start + chrono::Duration::hours(3)] {
        publish(
            &app,
            &practitioner,
            json!({ "modality": "on_site", "location": "12 rue de la Paix, 75011 Paris", "starts_at": at,
                    "duration_minutes": 60, "booking_notice_minutes": 60, "cancellation_notice_minutes": 1440 }),
        )
        .await;
    }
    oriented(&app, 50401, PARIS_CENTRE).await;
    app.telegram_presses(50401, "consent_yes").await;
    let offered = app
        .telegram_wait_text(50401, "Voici les prochains créneaux")
        .await
        .expect("waited for");
    let buttons = offered[0].body["reply_markup"].to_string();
    assert!(buttons.contains("slot:1") && buttons.contains("slot:2"), "{buttons}");

    // Three minutes before the first slot's booking closes, the list offered again leaves it out.
    let clock = app.app_state().clock.clone();
    clock.advance(start - Utc::now() - chrono::Duration::minutes(63));
    app.telegram_presses(50401, "more").await;
    let again = app
        .telegram_wait_text(50401, "Voici de nouveau les premiers")
        .await
        .expect("waited for");
    let buttons = again[0].body["reply_markup"].to_string();
    assert!(
        buttons.contains("slot:1") && !buttons.contains("slot:2"),
        "one slot left to offer: {buttons}"
    );

    // Past the remaining slot's booking notice, the person picks it: too close, said as such.
    clock.advance(chrono::Duration::minutes(200));
    app.telegram_presses(50401, "slot:1").await;
    let refused = app
        .telegram_wait_text(50401, "trop proche pour être réservé")
        .await
        .expect("waited for");
    let text = refused[0].body["text"].as_str().unwrap();
    assert!(!text.contains("quelqu'un d'autre"), "{text}");
    assert!(text.contains("pas de créneau libre"), "nothing left to offer: {text}");
    let practitioner = app.token("practitioner").await;
    let booked = app.get("/v1/appointments").bearer(&practitioner).send().await.json();
    assert_eq!(booked["items"].as_array().unwrap().len(), 0, "{booked}");
}

/// The manager's view: counts and case ids, for the centre's managers only.
#[tokio::test]
async fn a_centre_manager_sees_caseloads_the_week_ahead_absences_and_obligations_behind() {
    let app = relais_tests::spawn_app().await;
    let practitioner = app.token("practitioner").await;
    let manager = app.token("manager").await;
    let centre = app.organisation_id("CPCA Île-de-France Est").await;
    let day = |offset: i64| {
        (chrono::Utc::now() + chrono::Duration::days(offset))
            .format("%Y-%m-%d")
            .to_string()
    };
    let case = app
        .post("/v1/cases")
        .bearer(&practitioner)
        .json(&json!({ "origin": "self", "legal_basis": "court_ordered", "identity": { "name": "Paul Suivi" } }))
        .send()
        .await;
    assert_eq!(case.status, 201, "{}", case.text());
    let case = case.json()["id"].as_str().unwrap().to_owned();
    // Ten sessions over 120 days, half the time gone: five expected, one attended.
    let care = app
        .post(&format!("/v1/cases/{case}/measures"))
        .bearer(&practitioner)
        .json(
            &json!({ "kind": "care_obligation", "authority": "jap", "decision_reference": "JAP-OV-1",
                        "starts_on": day(-60), "ends_on": day(60), "sessions_required": 10 }),
        )
        .send()
        .await;
    assert_eq!(care.status, 201, "{}", care.text());
    let care = care.json()["id"].as_str().unwrap().to_owned();
    for (offset, status) in [(-20, Some("attended")), (-3, Some("unexcused")), (2, None)] {
        let s = app
            .post(&format!("/v1/cases/{case}/sessions"))
            .bearer(&practitioner)
            .json(&json!({ "kind": "individual", "planned_at": format!("{}T09:00:00Z", day(offset)), "measure_id": care }))
            .send()
            .await;
        assert_eq!(s.status, 201, "{}", s.text());
        if let Some(status) = status {
            let id = s.json()["id"].as_str().unwrap().to_owned();
            let r = app
                .patch(&format!("/v1/sessions/{id}"))
                .bearer(&practitioner)
                .json(&json!({ "status": status }))
                .send()
                .await;
            assert_eq!(r.status, 200, "{}", r.text());
        }
    }

    let reply = app
        .get(&format!("/v1/centres/{centre}/overview"))
        .bearer(&manager)
        .send()
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let o = reply.json();
    assert!(o["open_cases"].as_i64().unwrap() >= 1, "{o}");
    assert!(o["sessions_ahead"].as_i64().unwrap() >= 1, "{o}");
    assert!(o["unexcused_back"].as_i64().unwrap() >= 1, "{o}");
    let behind = o["obligations_behind"].as_array().unwrap();
    let ours = behind
        .iter()
        .find(|b| b["measure_id"] == care.as_str())
        .expect("our obligation is behind");
    assert_eq!(ours["case_id"], case.as_str());
    assert_eq!(ours["sessions_required"], 10);
    assert_eq!(ours["sessions_attended"], 1);
    assert_eq!(ours["expected_by_now"], 5);
    let me = app.get("/v1/me").bearer(&practitioner).send().await.json();
    let load = o["practitioners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["user_id"] == me["user"]["id"])
        .expect("the practitioner is listed")
        .clone();
    assert!(load["open_cases"].as_i64().unwrap() >= 1, "{load}");
    assert!(load["unexcused_back"].as_i64().unwrap() >= 1, "{load}");
    assert!(!reply.text().contains("Paul Suivi"), "no names of persons");

    // The centre's practitioners: 403; another organisation and its managers: 404.
    assert_eq!(
        app.get(&format!("/v1/centres/{centre}/overview"))
            .bearer(&practitioner)
            .send()
            .await
            .status,
        403
    );
    let listener = app.token("listener").await;
    assert_eq!(
        app.get(&format!("/v1/centres/{centre}/overview"))
            .bearer(&listener)
            .send()
            .await
            .status,
        404
    );
    let other = app.token("practitioner.reunion").await;
    assert_eq!(
        app.get(&format!("/v1/centres/{centre}/overview"))
            .bearer(&other)
            .send()
            .await
            .status,
        404
    );
    let key = app.partner_key().await;
    assert_eq!(
        app.get(&format!("/v1/centres/{centre}/overview"))
            .bearer(&key)
            .send()
            .await
            .status,
        403
    );
}
