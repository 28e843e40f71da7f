//! The anonymous text line end to end: providers' webhooks through the real HTTP stack, the
//! bot's replies arriving at the fake providers, verification, replays, the danger, erase
//! and out-of-hours paths in French and English, delivery under 429, and anonymity.

use std::time::Duration;

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use relais_tests::TestApp;
use relais_tests::fakes::Scripted;
use relais_tests::line::{PUBLIC_URL, form_body, spawn_line_app, twilio_signature};
use serde_json::json;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(app: &TestApp, table: &str) -> i64 {
    let mut conn = app.conn();
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<Count>(&mut *conn)
        .unwrap()
        .n
}

fn texts(calls: &[relais_tests::fakes::Call], field: &str) -> Vec<String> {
    calls
        .iter()
        .map(|c| c.body[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn listener_queue(app: &TestApp) -> serde_json::Value {
    let token = app.token("listener").await;
    let reply = app.get("/v1/conversations").bearer(&token).send().await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

#[tokio::test]
async fn a_telegram_message_gets_the_bots_reply_at_the_provider() {
    let app = spawn_line_app(&[]).await;
    app.telegram_says(5001, "Bonjour").await;
    let sent = app.telegram_received(5001, 2).await.expect("waited for");
    assert_eq!(sent.len(), 2, "welcome and the danger question");
    let said = texts(&sent, "text");
    assert!(said[0].contains("anonyme et confidentiel"), "{said:?}");
    assert!(said[1].contains("danger immédiat"), "{said:?}");
    let keyboard = &sent[1].body["reply_markup"]["inline_keyboard"];
    assert_eq!(keyboard.as_array().map(Vec::len), Some(2), "two buttons: {keyboard}");

    // Pressing "no" leads to "who is writing", then the menu.
    app.telegram_presses(5001, "no").await;
    let sent = app.telegram_received(5001, 3).await.expect("waited for");
    assert!(sent[2].body["text"].as_str().unwrap().contains("Qui nous écrit"));
    app.telegram_presses(5001, "author").await;
    let sent = app.telegram_received(5001, 4).await.expect("waited for");
    assert_eq!(sent.len(), 4, "{:?}", texts(&sent, "text"));
    assert_eq!(
        sent[3].body["reply_markup"]["inline_keyboard"].as_array().map(Vec::len),
        Some(4)
    );
    // The menu: find a centre by postal code.
    app.telegram_presses(5001, "centre").await;
    app.telegram_says(5001, "75011").await;
    let sent = app.telegram_received(5001, 7).await.expect("waited for");
    let all = texts(&sent, "text").join("\n");
    assert!(all.contains("CPCA Île-de-France Est"), "{all}");
}

#[tokio::test]
async fn forged_or_missing_telegram_secrets_are_refused_and_store_nothing() {
    let app = spawn_line_app(&[]).await;
    let update = TestApp::telegram_update(5002, "Bonjour");
    let missing = app.post("/webhooks/telegram").json(&update).send().await;
    assert_eq!(missing.status, 401);
    let forged = app
        .post("/webhooks/telegram")
        .header("X-Telegram-Bot-Api-Secret-Token", "guess")
        .json(&update)
        .send()
        .await;
    assert_eq!(forged.status, 403);
    for table in ["contacts", "conversations", "messages", "inbound_receipts", "outbox"] {
        assert_eq!(count(&app, table), 0, "{table}");
    }
}

#[tokio::test]
async fn a_replayed_update_is_processed_once() {
    let app = spawn_line_app(&[]).await;
    let update = TestApp::telegram_update(5003, "Bonjour");
    assert_eq!(app.telegram_post(&update).await.status, 200);
    assert_eq!(app.telegram_post(&update).await.status, 200);
    app.telegram_received(5003, 2).await.expect("waited for");
    app.outbox_drained().await;
    assert_eq!(app.telegram_sent(5003).len(), 2, "replies sent once");
    assert_eq!(count(&app, "contacts"), 1);
    let mut conn = app.conn();
    let inbound = diesel::sql_query("SELECT COUNT(*) AS n FROM messages WHERE direction = 'in'")
        .get_result::<Count>(&mut *conn)
        .unwrap();
    assert_eq!(inbound.n, 1);
}

#[tokio::test]
async fn an_unreadable_update_is_acknowledged_and_blocks_nothing() {
    let app = spawn_line_app(&[]).await;
    let reply = app
        .post("/webhooks/telegram")
        .header("X-Telegram-Bot-Api-Secret-Token", relais_tests::line::TELEGRAM_SECRET)
        .raw("application/json", "{\"update_id\": \"not a number\", \"message\": 3}")
        .send()
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(count(&app, "messages"), 0);
    app.telegram_says(5004, "Bonjour").await;
    assert_eq!(app.telegram_received(5004, 2).await.expect("waited for").len(), 2);
}

#[tokio::test]
async fn a_signed_sms_gets_numbered_choices_and_forged_signatures_store_nothing() {
    let app = spawn_line_app(&[]).await;
    let params = [
        ("MessageSid", "SMforged"),
        ("From", "+33611111111"),
        ("Body", "Bonjour"),
    ];
    assert_eq!(app.sms_post(&params, None).await.status, 401);
    assert_eq!(app.sms_post(&params, Some("bm90IGEgc2lnbmF0dXJl")).await.status, 403);
    // A signature for other parameters does not fit these.
    let other = twilio_signature(
        &format!("{PUBLIC_URL}/webhooks/sms/twilio"),
        &[("MessageSid", "SMother"), ("From", "+33611111111"), ("Body", "x")],
    );
    assert_eq!(app.sms_post(&params, Some(&other)).await.status, 403);
    assert_eq!(count(&app, "contacts"), 0);
    assert_eq!(count(&app, "inbound_receipts"), 0);

    let reply = app.sms_says("+33611111111", "Bonjour").await;
    assert!(reply.text().contains("<Response/>"));
    app.outbox_drained().await;
    let sent = app.sms_sent("+33611111111");
    let bodies = texts(&sent, "Body");
    assert!(
        bodies.iter().any(|b| b.contains("1. Oui") && b.contains("2. Non")),
        "{bodies:?}"
    );
    for body in &bodies {
        assert!(relais_bots::render::segments(body) <= 3, "{body}");
    }
    // Answering by number.
    app.sms_says("+33611111111", "2").await;
    app.outbox_drained().await;
    let sent = app.sms_sent("+33611111111");
    assert!(texts(&sent, "Body").last().unwrap().contains("Qui nous écrit"));
}

#[tokio::test]
async fn sms_delivery_reports_update_the_message() {
    let app = spawn_line_app(&[]).await;
    app.sms_says("+33622222222", "Bonjour").await;
    app.sms_received("+33622222222", 2).await.expect("waited for");
    app.outbox_drained().await;
    let mut conn = app.conn();
    #[derive(QueryableByName)]
    struct Sid {
        #[diesel(sql_type = diesel::sql_types::Text)]
        provider_message_id: String,
    }
    let sid = diesel::sql_query("SELECT provider_message_id FROM outbox WHERE provider_message_id IS NOT NULL")
        .load::<Sid>(&mut *conn)
        .unwrap()
        .remove(0)
        .provider_message_id;
    drop(conn);
    let params = [("MessageSid", sid.as_str()), ("MessageStatus", "delivered")];
    let unsigned = app
        .post("/webhooks/sms/twilio/status")
        .raw("application/x-www-form-urlencoded", form_body(&params))
        .send()
        .await;
    assert_eq!(unsigned.status, 401);
    let sig = twilio_signature(&format!("{PUBLIC_URL}/webhooks/sms/twilio/status"), &params);
    let reply = app
        .post("/webhooks/sms/twilio/status")
        .header("X-Twilio-Signature", &sig)
        .raw("application/x-www-form-urlencoded", form_body(&params))
        .send()
        .await;
    assert_eq!(reply.status, 204);
    let mut conn = app.conn();
    let delivered = diesel::sql_query("SELECT COUNT(*) AS n FROM messages WHERE delivery = 'delivered'")
        .get_result::<Count>(&mut *conn)
        .unwrap();
    assert_eq!(delivered.n, 1);
}

#[tokio::test]
async fn the_danger_path_in_french_and_english_queues_at_top_priority() {
    let app = spawn_line_app(&[]).await;
    app.telegram_says(6001, "J'ai un couteau, elle est à côté de moi").await;
    let sent = app.telegram_received(6001, 2).await.expect("waited for");
    let all = texts(&sent, "text").join("\n");
    assert!(
        all.contains("17") && all.contains("112") && all.contains("114"),
        "{all}"
    );
    assert!(all.contains("priorité"), "{all}");

    app.telegram_says(6002, "EN").await;
    app.telegram_received(6002, 2).await.expect("waited for");
    app.telegram_presses(6002, "yes").await;
    let sent = app.telegram_received(6002, 3).await.expect("waited for");
    let last = sent[2].body["text"].as_str().unwrap();
    assert!(
        last.contains("immediate danger") && last.contains("17") && last.contains("112") && last.contains("114"),
        "{last}"
    );

    let queue = listener_queue(&app).await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for item in items {
        assert_eq!(item["state"], "waiting");
        assert_eq!(item["priority"], 100);
    }
    assert!(items.iter().any(|i| i["language"] == "en"));
}

#[tokio::test]
async fn suicide_risk_and_victims_get_the_right_numbers() {
    let app = spawn_line_app(&[]).await;
    app.sms_says("+33633333333", "je veux en finir").await;
    app.outbox_drained().await;
    let all = texts(&app.sms_sent("+33633333333"), "Body").join("\n");
    assert!(all.contains("3114"), "{all}");
    app.sms_says("+33644444444", "Mon mari me bat, je suis victime").await;
    app.outbox_drained().await;
    let all = texts(&app.sms_sent("+33644444444"), "Body").join("\n");
    assert!(all.contains("3919"), "{all}");
    let queue = listener_queue(&app).await;
    let victim = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["contact_kind"] == "victim")
        .cloned()
        .unwrap();
    assert_eq!(victim["state"], "closed", "a victim is not kept on the authors' line");
    // The way back, for an author the words misled: the reply says to write again, and a new
    // message about his own violence opens a new conversation that goes to a listener.
    assert!(all.contains("écrivez-nous à nouveau"), "{all}");
    app.sms_says("+33644444444", "en fait c'est moi qui frappe ma femme, je veux arrêter")
        .await;
    app.outbox_drained().await;
    let queue = listener_queue(&app).await;
    let items = queue["items"].as_array().unwrap();
    let reopened: Vec<_> = items
        .iter()
        .filter(|i| i["contact_kind"] != "victim" && i["state"] != "closed")
        .collect();
    assert_eq!(reopened.len(), 1, "the author has a conversation again: {queue}");
}

async fn erase_path(app: &TestApp, chat: i64, first: &str, keyword: &str, confirmation: &str) {
    app.telegram_says(chat, first).await;
    app.telegram_received(chat, 2).await.expect("waited for");
    app.telegram_presses(chat, "no").await;
    let before = app.telegram_received(chat, 3).await.expect("waited for").len();
    app.telegram_says(chat, keyword).await;
    let sent = app.telegram_received(chat, before + 1).await.expect("waited for");
    let last = sent.last().unwrap().body["text"].as_str().unwrap().to_owned();
    assert!(last.contains(confirmation), "{last}");
}

#[tokio::test]
async fn erase_removes_the_contact_and_its_conversations_at_once_in_french_and_english() {
    let app = spawn_line_app(&[]).await;
    erase_path(&app, 7001, "Bonjour", "EFFACER", "ont été effacés").await;
    erase_path(&app, 7002, "EN", "DELETE", "have been erased").await;
    app.outbox_drained().await;
    for table in ["contacts", "conversations", "messages"] {
        assert_eq!(count(&app, table), 0, "{table}");
    }
    let mut conn = app.conn();
    let left = diesel::sql_query("SELECT COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'sending')")
        .get_result::<Count>(&mut *conn)
        .unwrap();
    assert_eq!(left.n, 0, "the confirmations went out");
}

fn today_in_paris() -> String {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn out_of_hours_the_bot_says_when_listeners_are_back_and_takes_a_message() {
    let today = today_in_paris();
    let app = spawn_line_app(&[
        ("RELAIS_HELPLINE_HOURS", "mon-sun 09:00-19:00"),
        ("RELAIS_HELPLINE_HOLIDAYS", &today),
    ])
    .await;
    for (chat, first, expected) in [(8001, "Bonjour", "Ils seront là"), (8002, "EN", "They will be back")] {
        app.telegram_says(chat, first).await;
        app.telegram_received(chat, 2).await.expect("waited for");
        app.telegram_presses(chat, "no").await;
        app.telegram_presses(chat, "author").await;
        app.telegram_presses(chat, "listener").await;
        let sent = app.telegram_received(chat, 5).await.expect("waited for");
        let last = sent[4].body["text"].as_str().unwrap();
        assert!(last.contains(expected), "{last}");
        assert!(last.contains("9 h") || last.contains("09:00"), "{last}");
    }
    // The message left is kept for the listeners: the conversation waits.
    let queue = listener_queue(&app).await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{queue}");
    assert!(items.iter().all(|i| i["state"] == "waiting"), "{queue}");
}

#[tokio::test]
async fn unexpected_input_gets_help() {
    let app = spawn_line_app(&[]).await;
    app.telegram_says(8101, "Bonjour").await;
    app.telegram_received(8101, 2).await.expect("waited for");
    app.telegram_says(8101, "euh").await;
    let sent = app.telegram_received(8101, 4).await.expect("waited for");
    assert!(sent[2].body["text"].as_str().unwrap().contains("Je n'ai pas compris"));
}

#[tokio::test]
async fn a_provider_429_then_200_delivers_each_message_exactly_once_in_order() {
    let app = spawn_line_app(&[]).await;
    app.telegram_fake()
        .recorder
        .answer_next(Scripted::TooManyRequests { retry_after: 1 });
    app.telegram_says(9001, "Bonjour").await;
    let sent = app.telegram_received(9001, 3).await.expect("waited for");
    app.outbox_drained().await;
    let sent_all = app.telegram_sent(9001);
    assert_eq!(
        sent_all.len(),
        3,
        "one refused try, then each message once: {:?}",
        texts(&sent_all, "text")
    );
    let said = texts(&sent, "text");
    assert_eq!(said[0], said[1], "the refused message is retried first");
    assert!(
        said[1].contains("anonyme") && said[2].contains("danger"),
        "order kept: {said:?}"
    );

    app.sms_fake()
        .recorder
        .answer_next(Scripted::TooManyRequests { retry_after: 1 });
    app.sms_says("+33655555555", "Bonjour").await;
    app.outbox_drained().await;
    let bodies = texts_of(&app.sms_sent("+33655555555"));
    let mut conn = app.conn();
    let parts = diesel::sql_query("SELECT COUNT(*) AS n FROM outbox WHERE channel = 'sms' AND status = 'sent'")
        .get_result::<Count>(&mut *conn)
        .unwrap()
        .n as usize;
    assert_eq!(
        bodies.len(),
        parts + 1,
        "one refused try, then each part once: {bodies:?}"
    );
    assert_eq!(bodies[0], bodies[1], "the refused part is retried first");
    let mut delivered = bodies[1..].to_vec();
    delivered.dedup();
    assert_eq!(delivered.len(), parts, "no part twice");
}

fn texts_of(calls: &[relais_tests::fakes::Call]) -> Vec<String> {
    texts(calls, "Body")
}

#[tokio::test]
async fn a_bot_blocked_by_the_person_marks_the_contact_stopped() {
    let app = spawn_line_app(&[]).await;
    app.telegram_fake().recorder.answer_next(Scripted::Blocked);
    app.telegram_says(9101, "Bonjour").await;
    app.telegram_received(9101, 2).await.expect("waited for");
    app.outbox_drained().await;
    let mut conn = app.conn();
    let stopped = diesel::sql_query("SELECT COUNT(*) AS n FROM contacts WHERE status = 'stopped'")
        .get_result::<Count>(&mut *conn)
        .unwrap();
    assert_eq!(stopped.n, 1);
}

#[tokio::test]
async fn a_blocked_contact_is_dropped_at_the_door() {
    let app = spawn_line_app(&[]).await;
    app.telegram_says(9201, "Bonjour").await;
    app.telegram_received(9201, 2).await.expect("waited for");
    let queue = listener_queue(&app).await;
    let contact = queue["items"][0]["contact_id"].as_str().unwrap().to_owned();
    let supervisor = app.token("supervisor").await;
    let until = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let flagged = app
        .post(&format!("/v1/contacts/{contact}/flag"))
        .bearer(&supervisor)
        .json(&json!({ "flag": "blocked", "until": until }))
        .send()
        .await;
    assert_eq!(flagged.status, 200, "{}", flagged.text());
    let practitioner = app.token("practitioner").await;
    let refused = app
        .post(&format!("/v1/contacts/{contact}/flag"))
        .bearer(&practitioner)
        .json(&json!({ "flag": "abusive" }))
        .send()
        .await;
    assert_eq!(refused.status, 404, "a centre does not see the helpline's contacts");

    let before = count(&app, "messages");
    app.telegram_says(9201, "encore moi").await;
    app.outbox_drained().await;
    assert_eq!(count(&app, "messages"), before, "nothing stored");
    assert_eq!(app.telegram_sent(9201).len(), 2, "no reply");
}

#[tokio::test]
async fn no_phone_number_or_telegram_id_in_responses_logs_or_clear_columns() {
    let logs = relais_tests::logs::capture();
    let app = spawn_line_app(&[]).await;
    let phone = "+33698765432";
    let chat: i64 = 987_654_321_012;
    app.sms_says(phone, "Bonjour").await;
    app.telegram_says(chat, "Bonjour").await;
    app.sms_received(phone, 2).await.expect("waited for");
    app.telegram_received(chat, 2).await.expect("waited for");
    app.outbox_drained().await;

    let identifiers = [
        phone.to_owned(),
        phone[1..].to_owned(),
        "698765432".to_owned(),
        chat.to_string(),
        "jean_dupont_75".into(),
        "Dupont".into(),
        "PARIS".into(),
    ];
    let queue = listener_queue(&app).await;
    let token = app.token("listener").await;
    let mut responses = queue.to_string();
    for item in queue["items"].as_array().unwrap() {
        let id = item["id"].as_str().unwrap();
        responses.push_str(
            &app.get(&format!("/v1/conversations/{id}"))
                .bearer(&token)
                .send()
                .await
                .text(),
        );
    }
    responses.push_str(&app.get("/metrics").send().await.text());
    let log_text = logs.read(5);
    let stored = app.stored_text();
    let first = queue["items"][0]["id"].as_str().expect("a conversation in the queue");
    assert!(
        stored.contains(first),
        "the stored text does not hold the conversation {first}"
    );
    for id in &identifiers {
        assert!(!responses.contains(id.as_str()), "{id} in an API response");
        assert!(!log_text.contains(id.as_str()), "{id} in the logs");
        assert!(!stored.contains(id.as_str()), "{id} stored in clear");
    }
    assert!(responses.contains("Contact "), "staff see an alias");
}

#[tokio::test]
async fn the_web_chat_is_anonymous_and_answers() {
    let app = spawn_line_app(&[]).await;
    let page = app.get("/chat").send().await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("lang=\"fr\""));
    assert!(
        !page.text().contains("http://") && !page.text().contains("https://"),
        "no third-party resource"
    );
    let session = app.post("/chat/api/sessions").send().await.json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = uuid::Uuid::new_v4().to_string();
    let sent = app
        .post("/chat/api/messages")
        .header("X-Chat-Session", &session)
        .json(&json!({ "id": id, "text": "Bonjour" }))
        .send()
        .await;
    assert_eq!(sent.status, 202);
    let again = app
        .post("/chat/api/messages")
        .header("X-Chat-Session", &session)
        .json(&json!({ "id": id, "text": "Bonjour" }))
        .send()
        .await;
    assert_eq!(again.json()["status"], "duplicate");
    let items = app
        .get("/chat/api/messages")
        .header("X-Chat-Session", &session)
        .send()
        .await
        .json();
    let list = items["items"].as_array().unwrap();
    assert_eq!(list[0]["from"], "you");
    // A web page, not an SMS: no numbered list repeating the buttons, no word to type to
    // change language or to stop; the last message's buttons come back with the history
    // (a reloaded page can still answer), and only the last one's.
    let texts: Vec<&str> = list.iter().map(|m| m["text"].as_str().unwrap()).collect();
    for habit in ["1. Oui", "2. Non", "reply EN", "STOP"] {
        assert!(texts.iter().all(|t| !t.contains(habit)), "{habit:?} in {texts:?}");
    }
    assert!(texts.iter().any(|t| t.contains("Quitter rapidement")), "{texts:?}");
    let last = list.last().unwrap();
    assert_eq!(last["from"], "line");
    let labels: Vec<&str> = last["choices"]
        .as_array()
        .expect("the last question's buttons")
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["Oui, quelqu'un est en danger", "Non"]);
    assert!(list[..list.len() - 1].iter().all(|m| m.get("choices").is_none()));
    let anonymous = app.get("/chat/api/messages").send().await;
    assert_eq!(anonymous.status, 401);
    let other = app.post("/chat/api/sessions").send().await.json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let stranger = app
        .get("/chat/api/messages")
        .header("X-Chat-Session", &other)
        .send()
        .await;
    assert_eq!(stranger.json()["items"], json!([]), "another session sees nothing");
    let forged = app
        .get("/chat/api/messages")
        .header("X-Chat-Session", &relais_core::crypto::random_token())
        .send()
        .await;
    assert_eq!(forged.status, 401, "a token the server never issued");
}

#[tokio::test]
async fn conversations_that_led_to_nothing_are_purged_after_the_retention_delay() {
    let app = spawn_line_app(&[]).await;
    app.telegram_says(9301, "Bonjour").await; // bot only: led to nothing
    app.telegram_says(9302, "j'ai une arme").await; // handed to a listener: kept
    app.telegram_received(9301, 2).await.expect("waited for");
    app.telegram_received(9302, 2).await.expect("waited for");
    let old = "2020-01-01 00:00:00";
    app.conn()
        .batch_execute(&format!("UPDATE conversations SET last_message_at = '{old}'"))
        .unwrap();
    let purged = {
        let mut conn = app.conn();
        relais_core::helpline::retention::purge(&mut conn, chrono::Utc::now(), chrono::Duration::days(90)).unwrap()
    };
    assert_eq!(purged.conversations, 1);
    assert_eq!(purged.contacts, 1);
    assert_eq!(count(&app, "conversations"), 1);
}

#[tokio::test]
async fn metrics_count_the_line() {
    let app = spawn_line_app(&[]).await;
    app.telegram_says(9401, "Bonjour").await;
    app.telegram_received(9401, 2).await.expect("waited for");
    app.outbox_drained().await;
    let text = app.get("/metrics").send().await.text();
    assert!(
        text.contains(r#"relais_messages_in_total{channel="telegram"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"relais_messages_out_total{channel="telegram"} 2"#),
        "{text}"
    );
    assert!(text.contains("relais_outbox_depth 0"), "{text}");
    assert!(text.contains(r#"relais_conversations{state="bot"} 1"#), "{text}");
}

#[tokio::test]
async fn without_a_webhook_secret_the_instance_long_polls_telegram() {
    let app = spawn_line_app(&[("RELAIS_TELEGRAM_WEBHOOK_SECRET", "")]).await;
    let closed = app
        .post("/webhooks/telegram")
        .json(&TestApp::telegram_update(9501, "Bonjour"))
        .send()
        .await;
    assert_eq!(closed.status, 404, "no webhook in polling mode");
    app.telegram_fake()
        .recorder
        .push_update(TestApp::telegram_update(9501, "Bonjour"));
    let sent = app.telegram_received(9501, 2).await.expect("waited for");
    assert_eq!(sent.len(), 2, "the polled update got the bot's replies");
}

#[tokio::test]
async fn a_queued_person_is_told_their_place() {
    let app = spawn_line_app(&[]).await;
    app.telegram_says(9601, "j'ai une arme").await;
    assert_eq!(
        app.telegram_wait_text(9601, "prochaine personne dans la file")
            .await
            .expect("waited for")
            .len(),
        1
    );
    app.telegram_says(9602, "EN").await;
    app.telegram_presses(9602, "no").await;
    app.telegram_presses(9602, "author").await;
    app.telegram_presses(9602, "listener").await;
    assert_eq!(
        app.telegram_wait_text(9602, "You are number 2 in the queue")
            .await
            .expect("waited for")
            .len(),
        1,
        "behind the urgent one"
    );
}

#[tokio::test]
async fn a_message_that_keeps_failing_is_marked_failed_after_its_last_try() {
    let app = spawn_line_app(&[("RELAIS_DELIVERY_MAX_ATTEMPTS", "2")]).await;
    for _ in 0..4 {
        app.sms_fake().recorder.answer_next(Scripted::ServerError);
    }
    app.sms_says("+33677777777", "Bonjour").await;
    let failed = relais_tests::wait::until(
        "a failed outbox row",
        || async {
            let mut conn = app.conn();
            diesel::sql_query("SELECT COUNT(*) AS n FROM outbox WHERE status = 'failed'")
                .get_result::<Count>(&mut *conn)
                .unwrap()
                .n
        },
        |failed| *failed > 0,
    )
    .await;
    assert_eq!(failed, 1, "the first part failed after two tries");
    let mut conn = app.conn();
    let delivery = diesel::sql_query("SELECT COUNT(*) AS n FROM messages WHERE delivery = 'failed'")
        .get_result::<Count>(&mut *conn)
        .unwrap()
        .n;
    assert_eq!(delivery, 1, "its message says so");
    drop(conn);
    let text = app.get("/metrics").send().await.text();
    assert!(
        text.contains(r#"relais_delivery_failures_total{channel="sms"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn set_webhook_registers_the_url_with_its_secret() {
    let app = spawn_line_app(&[]).await;
    let config = relais_bots::telegram::TelegramConfig {
        token: "123456:TEST-TOKEN".into(),
        api_url: app.telegram_fake().url.clone(),
        webhook_secret: Some("s3cret".into()),
    };
    let bot = relais_bots::telegram::bot(&config).unwrap();
    relais_bots::telegram::set_webhook(&bot, "https://relais.example.org/webhooks/telegram", "s3cret")
        .await
        .unwrap();
    let call = app
        .telegram_fake()
        .recorder
        .calls()
        .into_iter()
        .find(|c| c.method == "setWebhook")
        .expect("setWebhook called");
    // teloxide sends setWebhook as multipart/form-data.
    for part in [
        "https://relais.example.org/webhooks/telegram",
        "s3cret",
        "callback_query",
        "message",
    ] {
        assert!(call.raw.contains(part), "{part} in {}", call.raw);
    }
}

#[tokio::test]
async fn the_web_chat_socket_carries_the_conversation_both_ways() {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::Message;
    let app = spawn_line_app(&[]).await;
    let session = app.post("/chat/api/sessions").send().await.json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("{}/chat/ws", app.address.replace("http://", "ws://"));
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    socket
        .send(Message::Text(json!({ "session": session }).to_string().into()))
        .await
        .unwrap();
    socket
        .send(Message::Text(
            json!({ "id": uuid::Uuid::new_v4(), "text": "Bonjour" })
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let mut frames = Vec::new();
    while frames.len() < 3 {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => frames.push(serde_json::from_str::<serde_json::Value>(&text).unwrap()),
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    assert_eq!(frames.len(), 3, "{frames:?}");
    // First the socket says it listens: a page sends its first message after it.
    assert_eq!(frames.remove(0)["type"], "ready");
    // Each message carries its id, the one the history gives (a page catching up shows it once).
    let history = app
        .get("/chat/api/messages")
        .header("X-Chat-Session", &session)
        .send()
        .await
        .json();
    for frame in &frames {
        assert!(
            history["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["id"] == frame["id"] && m["from"] == "line"),
            "{frame} in {history}"
        );
    }
    assert!(frames[0]["text"].as_str().unwrap().contains("anonyme et confidentiel"));
    assert_eq!(
        frames[1]["choices"].as_array().map(Vec::len),
        Some(2),
        "buttons for the web page"
    );
    // Another session's socket hears nothing of it.
    let other = app.post("/chat/api/sessions").send().await.json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("{}/chat/ws", app.address.replace("http://", "ws://"));
    let (mut stranger, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    stranger
        .send(Message::Text(json!({ "session": other }).to_string().into()))
        .await
        .unwrap();
    let ready = tokio::time::timeout(Duration::from_secs(10), stranger.next()).await;
    assert!(
        matches!(&ready, Ok(Some(Ok(Message::Text(t)))) if t.contains("ready")),
        "{ready:?}"
    );
    socket
        .send(Message::Text(
            json!({ "id": uuid::Uuid::new_v4(), "choice": "no" }).to_string().into(),
        ))
        .await
        .unwrap();
    let heard = tokio::time::timeout(Duration::from_millis(800), stranger.next()).await;
    assert!(!matches!(heard, Ok(Some(Ok(Message::Text(_))))), "no cross-talk");
}

/// The corpus found these (docs/text-line-quality.md): a threat against the writer read as
/// suicide, and an author who is also hit sent away as a victim. Through the real stack.
/// A threatened person is read as in danger, not as suicidal: the suicide answer ("appelez le
/// 3114 ... En cas d'urgence, appelez le 15") is not sent and the flag is danger. 3114 may
/// still appear in the safety net's one line that lists every number (`dialogue::safety_net`).
#[tokio::test]
async fn a_threat_against_the_writer_gets_the_emergency_numbers_and_never_the_suicide_answer() {
    let app = spawn_line_app(&[]).await;
    app.sms_says("+33655555501", "il a dit qu'il allait me tuer").await;
    app.outbox_drained().await;
    let all = texts(&app.sms_sent("+33655555501"), "Body").join("\n");
    assert!(
        all.contains("17") && all.contains("114") && all.contains("3919"),
        "{all}"
    );
    assert!(
        !all.contains("appelez le 3114"),
        "a threatened person is not answered as suicidal: {all}"
    );

    app.telegram_says(6101, "he said he'd k.i.l.l me").await;
    app.telegram_wait_text(6101, "112").await.expect("waited for");
    app.outbox_drained().await;
    let all = texts(&app.telegram_sent(6101), "text").join("\n");
    assert!(all.contains("immediate danger") && all.contains("3919"), "{all}");
    assert!(!all.contains("call 3114"), "{all}");

    let queue = listener_queue(&app).await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{queue}");
    for item in items {
        assert_eq!(item["state"], "waiting", "kept on the line: {item}");
        assert_eq!(item["priority"], 100, "{item}");
        assert_eq!(item["flag"], "danger", "read as danger, not suicide: {item}");
    }
    assert!(items.iter().any(|i| i["language"] == "en"), "{queue}");
}

#[tokio::test]
async fn an_author_who_is_also_hit_is_kept_and_the_listener_flagged_in_french_and_english() {
    let app = spawn_line_app(&[]).await;
    app.telegram_says(6201, "je l'ai frappée mais pendant nos disputes elle me frappe aussi")
        .await;
    app.telegram_wait_text(6201, "3919").await.expect("waited for");
    app.outbox_drained().await;
    let all = texts(&app.telegram_sent(6201), "text").join("\n");
    assert!(all.contains("écoutant"), "a listener comes: {all}");
    app.sms_says("+33655555502", "I pushed her but she hits me too during our fights")
        .await;
    app.outbox_drained().await;
    let all = texts(&app.sms_sent("+33655555502"), "Body").join("\n");
    assert!(all.contains("3919") && all.contains("listener"), "{all}");

    let queue = listener_queue(&app).await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{queue}");
    for item in items {
        assert_ne!(item["state"], "closed", "never cut off: {item}");
        assert_eq!(item["flag"], "victim_words", "{item}");
    }
}

/// One dialogue: who writes first, in which words, and what the bot must answer.
struct FirstMessage {
    text: &'static str,
    /// Script messages (by key) the reply must hold, in the message's language.
    says: &'static [&'static str],
    /// Words the reply must hold besides (the numbers).
    holds: &'static [&'static str],
}

/// The words before `{place}` in the centres' answers: the list, or "none here yet".
fn centres_answer(
    script: &relais_bots::script::Script,
    language: relais_core::helpline::model::Language,
) -> [String; 2] {
    ["centres_found", "centres_none"].map(|key| {
        let text = script.message(key, language);
        text.split("{place}").next().unwrap_or_default().to_owned()
    })
}

const FRENCH: &[FirstMessage] = &[
    FirstMessage {
        text: "ce soir je vais la buter, j'ai le couteau",
        says: &["danger"],
        holds: &["17", "112", "114"],
    },
    FirstMessage {
        text: "je veux plus vivre, personne me regrettera",
        says: &["suicide"],
        holds: &["3114"],
    },
    FirstMessage {
        text: "mon mari me frappe et j'ai peur de rentrer",
        says: &["victim"],
        holds: &["3919", "17"],
    },
    FirstMessage {
        text: "mon frère est violent avec sa femme, je suis inquiète",
        says: &["relative"],
        holds: &["3919"],
    },
    FirstMessage {
        text: "j'ai une obligation de soins, j'habite au 67000",
        says: &[],
        holds: &[],
    },
    FirstMessage {
        text: "dites moi dans quel foyer est ma femme",
        says: &["location"],
        holds: &[],
    },
    FirstMessage {
        text: "hier soir je l'ai poussée contre le mur devant les enfants, je veux que ça s'arrête",
        says: &["story"],
        holds: &[],
    },
];

const ENGLISH: &[FirstMessage] = &[
    FirstMessage {
        text: "tonight I'm going to kill her, I have the knife",
        says: &["danger"],
        holds: &["17", "112", "114"],
    },
    FirstMessage {
        text: "I don't want to live anymore, nobody would miss me",
        says: &["suicide"],
        holds: &["3114"],
    },
    FirstMessage {
        text: "my husband hits me and I am scared to go home",
        says: &["victim"],
        holds: &["3919", "17"],
    },
    FirstMessage {
        text: "my brother is violent with his wife and I am worried about her",
        says: &["relative"],
        holds: &["3919"],
    },
    FirstMessage {
        text: "I have a court order for treatment, I live in 67000",
        says: &[],
        holds: &[],
    },
    FirstMessage {
        text: "tell me which shelter my wife is in",
        says: &["location"],
        holds: &[],
    },
    FirstMessage {
        text: "last night I pushed her against the wall in front of the kids and I want it to stop",
        says: &["story"],
        holds: &[],
    },
];

/// What the bot answered a web chat session, in order.
async fn web_chat_replies(app: &TestApp, session: &str) -> Vec<String> {
    let items = app
        .get("/chat/api/messages")
        .header("X-Chat-Session", session)
        .send()
        .await
        .json();
    items["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from"] != "you")
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Issue 15, item 7: every class of first message, on each channel, in both languages, gets
/// its answer in the person's language, never "not understood", never the other language.
#[tokio::test]
async fn every_kind_of_first_message_gets_its_answer_on_every_channel_in_both_languages() {
    use relais_core::helpline::model::Language;
    let app = spawn_line_app(&[]).await;
    let script = relais_bots::script::Script::load().unwrap();
    let mut failures = Vec::new();
    let mut n: i64 = 0;
    for (language, cases) in [(Language::French, FRENCH), (Language::English, ENGLISH)] {
        let other = match language {
            Language::French => Language::English,
            Language::English => Language::French,
        };
        for case in cases {
            for channel in ["sms", "telegram", "web chat"] {
                n += 1;
                let replies: Vec<String> = match channel {
                    "sms" => {
                        let from = format!("+336{:08}", 10_000_000 + n);
                        app.sms_says(&from, case.text).await;
                        app.outbox_drained().await;
                        texts(&app.sms_sent(&from), "Body")
                    }
                    "telegram" => {
                        let chat = 900_000 + n;
                        app.telegram_says(chat, case.text).await;
                        app.outbox_drained().await;
                        texts(&app.telegram_sent(chat), "text")
                    }
                    _ => {
                        let session = app.post("/chat/api/sessions").send().await.json()["token"]
                            .as_str()
                            .unwrap()
                            .to_owned();
                        let sent = app
                            .post("/chat/api/messages")
                            .header("X-Chat-Session", &session)
                            .json(&json!({ "id": uuid::Uuid::new_v4().to_string(), "text": case.text }))
                            .send()
                            .await;
                        assert_eq!(sent.status, 202, "{}", sent.text());
                        app.outbox_drained().await;
                        web_chat_replies(&app, &session).await
                    }
                };
                // SMS arrive in segments: compare the words, whatever the line breaks.
                let flat = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
                let all = flat(&replies.join(" "));
                let mut wrong = Vec::new();
                for key in case.says {
                    if !all.contains(&flat(&script.message(key, language))) {
                        wrong.push(format!("no {key:?} message"));
                    }
                }
                for word in case.holds {
                    if !all.contains(word) {
                        wrong.push(format!("no {word:?}"));
                    }
                }
                if case.text.contains("67000")
                    && !centres_answer(&script, language).iter().any(|a| all.contains(&flat(a)))
                {
                    wrong.push("no centres for the postal code".to_owned());
                }
                for key in ["help", "not_understood_again"] {
                    let text = script.message(key, language);
                    if !text.is_empty() && all.contains(&flat(&text)) {
                        wrong.push(format!("answered {key:?}"));
                    }
                }
                if all.contains(&flat(&script.message("welcome", other))) {
                    wrong.push("welcomed in the other language".to_owned());
                }
                if !wrong.is_empty() {
                    failures.push(format!(
                        "{channel} {language:?} {:?}: {} in:\n{all}",
                        case.text,
                        wrong.join(", ")
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test]
async fn the_retention_purge_runs_by_the_server_clock() {
    let app = spawn_line_app(&[("RELAIS_RETENTION_DAYS", "90")]).await;
    app.telegram_says(9311, "Bonjour").await; // bot only: led to nothing
    app.telegram_received(9311, 2).await.expect("waited for");
    let purged = relais_api::workers::Purge::run_once(app.app_state()).await;
    assert_eq!(purged.line.conversations, 0, "a fresh conversation is kept");
    app.app_state().clock.advance(chrono::Duration::days(91));
    let purged = relais_api::workers::Purge::run_once(app.app_state()).await;
    assert_eq!(purged.line.conversations, 1, "91 days on by the server's clock");
    assert_eq!(count(&app, "conversations"), 0);
}

/// The safety net, through SMS and Telegram: a first message whose words no list holds still
/// gets 17/112/114, 3114 and 3919 whole (never cut by the SMS segment limit), and a listener.
#[tokio::test]
async fn a_first_message_the_lexicon_cannot_place_still_gets_every_number() {
    let app = spawn_line_app(&[]).await;
    app.sms_says("+33655555511", "zorglub bidule machin truc depuis hier")
        .await;
    app.outbox_drained().await;
    let all = texts(&app.sms_sent("+33655555511"), "Body").join("\n");
    for number in ["17", "112", "114", "3114", "3919"] {
        assert!(all.contains(number), "{number} missing: {all}");
    }
    app.telegram_says(6111, "blorp wibble frobnicate quux").await;
    app.telegram_wait_text(6111, "3114").await.expect("waited for");
    app.outbox_drained().await;
    let all = texts(&app.telegram_sent(6111), "text").join("\n");
    assert!(all.contains("112") && all.contains("3919"), "{all}");
    let queue = listener_queue(&app).await;
    assert_eq!(
        queue["items"].as_array().unwrap().len(),
        2,
        "both wait for a listener: {queue}"
    );
}

/// Many people write at once and the SMS provider's pace makes a backlog: the answer to a
/// person in danger (the emergency numbers) goes before the routine answers queued ahead of it
/// (the soak saw replies wait 85 to 100 s behind the bot's backlog, first come first served).
#[tokio::test]
async fn the_answer_to_danger_overtakes_a_backlog_of_routine_answers() {
    let app = spawn_line_app(&[("RELAIS_SMS_PER_SECOND", "4")]).await;
    let routine: Vec<String> = (0..16).map(|i| format!("+336770001{i:02}")).collect();
    let is_routine = |c: &relais_tests::fakes::Call| routine.iter().any(|p| c.body["To"].as_str() == Some(p));
    for phone in &routine {
        app.sms_says(phone, "Bonjour").await;
    }
    let danger = "+33677000999";
    app.sms_says(danger, "il a dit qu'il allait me tuer ce soir").await;
    let sent_at_arrival = app.sms_fake().recorder.calls().iter().filter(|c| is_routine(c)).count();
    app.sms_received(danger, 1)
        .await
        .expect("the emergency numbers were sent");
    let calls = app.sms_fake().recorder.calls();
    let first_danger = calls
        .iter()
        .position(|c| c.body["To"].as_str() == Some(danger))
        .unwrap();
    let sent_before_numbers = calls[..first_danger].iter().filter(|c| is_routine(c)).count();
    app.sms_wait_text(danger, "114").await.expect("the numbers were sent");
    let answer = texts(&app.sms_sent(danger), "Body").join("\n");
    assert!(answer.contains("17") && answer.contains("114"), "{answer}");
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    // Every routine answer queued (the person in danger's are all urgent).
    let all_routine = diesel::RunQueryDsl::get_result::<Count>(
        diesel::sql_query("SELECT count(*) AS n FROM outbox WHERE urgency = 0"),
        &mut *app.conn(),
    )
    .unwrap()
    .n as usize;
    // The premise: a backlog waited when the message came (the pace holds 4 a second).
    assert!(
        all_routine - sent_at_arrival >= 2 * 9,
        "a backlog of routine answers waited: {sent_at_arrival} of {all_routine} were sent on arrival"
    );
    // At most the batch a worker had already claimed (8) went between arrival and the numbers.
    assert!(
        sent_before_numbers - sent_at_arrival <= 9,
        "the numbers overtook the backlog: {} routine answers went between the message and its answer ({sent_at_arrival} before, {all_routine} in all)",
        sent_before_numbers - sent_at_arrival
    );
}
