//! Issue 16, the public side: the guarded outbound client (DNS rebinding, special-purpose
//! ranges, failed lookups), rate limits on unauthenticated routes, server-issued web chat
//! sessions.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use relais_api::outbound::{Lookup, LookupFuture, Outbound, OutboundError, Policy};
use relais_api::webhook_delivery;
use relais_core::partners::webhooks::Outgoing;

/// A resolver that answers `first` on the first lookup and `then` on every later one (a
/// rebinding name with a zero TTL), counting lookups.
struct Rebinding {
    first: IpAddr,
    then: IpAddr,
    lookups: AtomicUsize,
}

impl Lookup for Rebinding {
    fn lookup(&self, _name: &str) -> LookupFuture {
        let n = self.lookups.fetch_add(1, Ordering::SeqCst);
        let ip = if n == 0 { self.first } else { self.then };
        Box::pin(async move { Ok(vec![ip]) })
    }
}

/// A resolver whose lookups all fail.
struct Failing;

impl Lookup for Failing {
    fn lookup(&self, _name: &str) -> LookupFuture {
        Box::pin(async { Err(std::io::Error::other("no such name")) })
    }
}

/// A bare HTTP server on `ip:port` that counts connections and answers 204.
async fn counting_server(ip: &str, port: u16) -> Option<Arc<AtomicUsize>> {
    let listener = tokio::net::TcpListener::bind((ip, port)).await.ok()?;
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buffer = vec![0_u8; 65536];
                let _ = socket.read(&mut buffer).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    Some(count)
}

/// Two servers on one port: 127.0.0.2 stands for the partner's public server (the test
/// allows that one address, as an operator would allow nothing), 127.0.0.1 for the inside.
async fn public_and_inside() -> (u16, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    for _ in 0..50 {
        let probe = tokio::net::TcpListener::bind("127.0.0.2:0").await.expect("127.0.0.2");
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        if let (Some(public), Some(inside)) = (
            counting_server("127.0.0.2", port).await,
            counting_server("127.0.0.1", port).await,
        ) {
            return (port, public, inside);
        }
    }
    panic!("no free port on both loopback addresses");
}

fn outgoing(url: &str) -> Outgoing {
    Outgoing {
        id: "msg_00000000000000000000000000000001".into(),
        url: url.into(),
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        payload: "{}".into(),
        attempt: 1,
        claim: relais_core::outbox::Claim {
            id: "msg_00000000000000000000000000000001".into(),
            token: "t".into(),
            attempts: 0,
        },
    }
}

fn client(allow: &[&str], lookup: Arc<dyn Lookup>) -> Outbound {
    let policy = Policy {
        allow: allow.iter().map(|c| c.parse().unwrap()).collect(),
    };
    Outbound::with_lookup(policy, lookup, Duration::from_secs(3), "relais-test").unwrap()
}

#[tokio::test]
async fn a_rebinding_name_reaches_only_the_address_that_was_checked() {
    let (port, public, inside) = public_and_inside().await;
    let resolver = Arc::new(Rebinding {
        first: "127.0.0.2".parse().unwrap(),
        then: "127.0.0.1".parse().unwrap(),
        lookups: AtomicUsize::new(0),
    });
    let client = client(&["127.0.0.2/32"], resolver.clone());
    let url = format!("http://partner.example:{port}/hooks");

    // First delivery: one lookup, checked, and the connection goes to that very answer.
    let attempt = webhook_delivery::post(&client, &outgoing(&url)).await;
    assert_eq!(attempt.status_code, Some(204));
    assert_eq!(attempt.error, None);
    assert_eq!(resolver.lookups.load(Ordering::SeqCst), 1, "looked up once");
    assert_eq!(public.load(Ordering::SeqCst), 1);
    assert_eq!(inside.load(Ordering::SeqCst), 0);

    // The name now answers the inside: refused, and the log says only "failed".
    let client = client_fresh(resolver.clone());
    let attempt = webhook_delivery::post(&client, &outgoing(&url)).await;
    assert_eq!(attempt.status_code, None);
    assert_eq!(attempt.error.as_deref(), Some("failed"));
    assert_eq!(attempt.duration_ms, 0);
    assert_eq!(inside.load(Ordering::SeqCst), 0, "never the second answer");
}

fn client_fresh(resolver: Arc<Rebinding>) -> Outbound {
    // A new client (no pooled connection), as after a restart: the lookup alone decides.
    client(&["127.0.0.2/32"], resolver)
}

#[tokio::test]
async fn a_rebinding_name_checked_public_then_inside_never_reaches_inside() {
    // The name answers a public address first (nothing listens there here: the attempt fails
    // or times out) and loopback after: the connection never goes to the second answer.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    let resolver = Arc::new(Rebinding {
        first: "192.88.98.1".parse().unwrap(),
        then: "127.0.0.1".parse().unwrap(),
        lookups: AtomicUsize::new(0),
    });
    let policy = Policy::default();
    let client = Outbound::with_lookup(policy, resolver.clone(), Duration::from_millis(500), "relais-test").unwrap();
    let url = format!("http://rebind.example:{port}/hooks");
    let attempt = webhook_delivery::post(&client, &outgoing(&url)).await;
    assert_eq!(attempt.error.as_deref(), Some("failed"));
    assert_eq!(resolver.lookups.load(Ordering::SeqCst), 1, "one lookup per connection");
    let attempt = webhook_delivery::post(&client, &outgoing(&url)).await;
    assert_eq!(attempt.error.as_deref(), Some("failed"));
    assert_eq!(hits.load(Ordering::SeqCst), 0, "loopback was never reached");
}

#[tokio::test]
async fn a_failed_lookup_and_localhost_are_refused() {
    let client = client(&[], Arc::new(Failing));
    let refused = client
        .send(client.post("http://partner.example/hooks").body("{}"))
        .await;
    assert!(matches!(refused, Err(OutboundError::Refused)), "{refused:?}");
    for url in [
        "http://localhost./hooks",
        "http://localhost/hooks",
        "http://api.localhost./hooks",
        "http://127.0.0.1/hooks",
        "http://[::1]/hooks",
        "http://[::127.0.0.1]/hooks",
        "http://[::ffff:7f00:1]/hooks",
        "http://[64:ff9b::7f00:1]/hooks",
        "http://[2002:7f00:1::1]/hooks",
        "http://198.18.0.1/hooks",
        "http://100.64.0.1/hooks",
        "http://169.254.169.254/latest/meta-data",
    ] {
        let refused = client.send(client.post(url).body("{}")).await;
        assert!(matches!(refused, Err(OutboundError::Refused)), "{url}: {refused:?}");
    }
}

#[tokio::test]
async fn every_special_purpose_answer_is_refused_at_connection() {
    struct Fixed(IpAddr);
    impl Lookup for Fixed {
        fn lookup(&self, _name: &str) -> LookupFuture {
            let ip = self.0;
            Box::pin(async move { Ok(vec![ip]) })
        }
    }
    for text in [
        "0.0.0.0",
        "10.0.0.1",
        "100.64.0.1",
        "127.0.0.1",
        "169.254.169.254",
        "172.16.0.1",
        "192.0.0.1",
        "192.0.2.1",
        "192.168.0.1",
        "198.18.0.1",
        "198.51.100.1",
        "203.0.113.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::127.0.0.1",
        "::ffff:127.0.0.1",
        "64:ff9b::7f00:1",
        "64:ff9b:1::1",
        "100::1",
        "2001::1",
        "2001:db8::1",
        "2002:7f00:1::1",
        "3fff::1",
        "fc00::1",
        "fe80::1",
        "ff02::1",
    ] {
        let client = client(&[], Arc::new(Fixed(text.parse().unwrap())));
        let refused = client.send(client.post("http://partner.example/").body("{}")).await;
        assert!(matches!(refused, Err(OutboundError::Refused)), "{text}: {refused:?}");
    }
}

#[tokio::test]
async fn a_burst_on_a_public_route_gets_429_with_retry_after_and_another_address_does_not() {
    let app = relais_tests::spawn_app_with(&[
        ("RELAIS_RATE_LIMIT_GUESS_PER_MINUTE", "5"),
        ("RELAIS_RATE_LIMIT_PUBLIC_PER_MINUTE", "20"),
        ("RELAIS_CLIENT_ADDRESS_HEADER", "X-Forwarded-For"),
    ])
    .await;
    let from = |address: &'static str, path: &str| app.get(path).header("X-Forwarded-For", address);

    // The strict limit, shared by the routes that guess a secret.
    let mut statuses = Vec::new();
    for path in [
        "/v1/certificate-checks/ABCD-EFGH-JKLM",
        "/calendar/not-a-token",
        "/v1/certificate-checks/ABCD-EFGH-JKLM",
        "/calendar/not-a-token",
        "/v1/certificate-checks/ABCD-EFGH-JKLM",
    ] {
        statuses.push(from("198.51.100.1", path).send().await.status);
    }
    assert!(statuses.iter().all(|s| *s != 429), "{statuses:?}");
    let limited = from("198.51.100.1", "/v1/certificate-checks/ABCD-EFGH-JKLM")
        .send()
        .await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.problem(), "too-many-requests");
    assert!(
        limited
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/problem+json")
    );
    let wait: u64 = limited.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let session = app
        .post("/chat/api/sessions")
        .header("X-Forwarded-For", "198.51.100.1")
        .send()
        .await;
    assert_eq!(session.status, 429, "session creation shares the strict limit");

    // Another address is not limited.
    assert_ne!(
        from("198.51.100.2", "/v1/certificate-checks/ABCD-EFGH-JKLM")
            .send()
            .await
            .status,
        429
    );

    // The looser limit on the other public routes, apart from the strict one.
    for _ in 0..20 {
        assert_eq!(
            from("198.51.100.3", "/v1/geo/postal-codes/75011").send().await.status,
            200
        );
    }
    let limited = from("198.51.100.3", "/v1/geo/postal-codes/75011").send().await;
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
    assert_eq!(
        from("198.51.100.4", "/v1/geo/postal-codes/75011").send().await.status,
        200
    );

    // Health is never limited.
    for _ in 0..30 {
        assert_eq!(from("198.51.100.3", "/healthz").send().await.status, 200);
    }
}

async fn new_chat(app: &relais_tests::TestApp) -> String {
    let created = app.post("/chat/api/sessions").send().await;
    assert_eq!(created.status, 201);
    created.json()["token"].as_str().unwrap().to_owned()
}

fn chat_message(text: &str) -> serde_json::Value {
    serde_json::json!({ "id": uuid::Uuid::new_v4(), "text": text })
}

#[tokio::test]
async fn web_chat_tokens_are_issued_by_the_server_and_forged_ones_refused() {
    let app = relais_tests::line::spawn_line_app(&[]).await;
    let token = new_chat(&app).await;
    let sent = app
        .post("/chat/api/messages")
        .header("X-Chat-Session", &token)
        .json(&chat_message("Bonjour"))
        .send()
        .await;
    assert_eq!(sent.status, 202, "an issued token works");

    // Nothing stores the token itself: only its keyed HMAC.
    let stored: Vec<String> = {
        use diesel::prelude::*;
        let mut conn = app.conn();
        relais_core::db::schema::webchat_sessions::table
            .select(relais_core::db::schema::webchat_sessions::token_hmac)
            .load(&mut *conn)
            .unwrap()
    };
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);

    for forged in [
        relais_core::crypto::random_token(),
        "A".repeat(43),
        format!("{}x", &token[..42]),
        "short".to_owned(),
    ] {
        let refused = app
            .post("/chat/api/messages")
            .header("X-Chat-Session", &forged)
            .json(&chat_message("Bonjour"))
            .send()
            .await;
        assert_eq!(refused.status, 401, "{forged}");
        assert_eq!(refused.problem(), "unauthenticated");
        let listed = app
            .get("/chat/api/messages")
            .header("X-Chat-Session", &forged)
            .send()
            .await;
        assert_eq!(listed.status, 401);
    }

    // The socket refuses a forged token too, and says so before closing.
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::Message;
    let url = format!("{}/chat/ws", app.address.replace("http://", "ws://"));
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    socket
        .send(Message::Text(
            serde_json::json!({ "session": relais_core::crypto::random_token() })
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), socket.next()).await;
    match first {
        Ok(Some(Ok(Message::Text(text)))) => assert!(text.contains("expired"), "{text}"),
        other => panic!("expected an expired frame, got {other:?}"),
    }
}

#[tokio::test]
async fn an_idle_web_chat_session_expires_and_use_extends_it() {
    let app = relais_tests::line::spawn_line_app(&[("RELAIS_WEBCHAT_SESSION_IDLE_SECONDS", "60")]).await;
    let token = new_chat(&app).await;
    let other = new_chat(&app).await;
    let key = relais_core::helpline::contacts::address_key(
        &app.state.secrets,
        relais_core::helpline::model::Channel::WebChat,
        &token,
    );
    // Its last use was two minutes ago.
    {
        use diesel::prelude::*;
        use relais_core::db::schema::webchat_sessions as s;
        let mut conn = app.conn();
        let past = (chrono::Utc::now() - chrono::Duration::seconds(120)).naive_utc();
        diesel::update(s::table.filter(s::token_hmac.eq(&key)))
            .set(s::last_used_at.eq(past))
            .execute(&mut *conn)
            .unwrap();
    }
    let expired = app
        .post("/chat/api/messages")
        .header("X-Chat-Session", &token)
        .json(&chat_message("Bonjour"))
        .send()
        .await;
    assert_eq!(expired.status, 401, "expired");
    assert_eq!(
        app.get("/chat/api/messages")
            .header("X-Chat-Session", &token)
            .send()
            .await
            .status,
        401
    );
    // The other one, used now, lives on.
    let alive = app
        .get("/chat/api/messages")
        .header("X-Chat-Session", &other)
        .send()
        .await;
    assert_eq!(alive.status, 200);
}

#[tokio::test]
async fn erasing_a_web_chat_ends_its_session() {
    let app = relais_tests::line::spawn_line_app(&[]).await;
    let token = new_chat(&app).await;
    let say = |text: &'static str| {
        app.post("/chat/api/messages")
            .header("X-Chat-Session", &token)
            .json(&chat_message(text))
            .send()
    };
    assert_eq!(say("Bonjour").await.status, 202);
    assert_eq!(say("EFFACER").await.status, 202);
    let sessions = || {
        use diesel::prelude::*;
        let mut conn = app.conn();
        relais_core::db::schema::webchat_sessions::table
            .count()
            .get_result::<i64>(&mut *conn)
            .unwrap()
    };
    assert_eq!(sessions(), 0, "the session went with the contact");
    assert_eq!(
        app.get("/chat/api/messages")
            .header("X-Chat-Session", &token)
            .send()
            .await
            .status,
        401,
        "the erased chat cannot be reopened with its token"
    );
}
