//! Protocol fakes on loopback: a Telegram Bot API server that teloxide is pointed at, a
//! Twilio-compatible SMS REST API, and the Base Adresse Nationale's search API (a handful of
//! real addresses at their real points). They record what they receive and can be told to answer
//! 429 (with `retry_after`) or "bot was blocked" first.

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use crate::wait::TimedOut;

/// One call a fake received.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub body: Value,
    /// The body as received (for multipart requests, which `body` does not parse).
    pub raw: String,
}

/// What a fake answers to the next sends, before it answers normally again.
#[derive(Clone, Debug)]
pub enum Scripted {
    TooManyRequests { retry_after: u64 },
    Blocked,
    ServerError,
}

#[derive(Default)]
struct Shared {
    calls: Vec<Call>,
    /// Down: every send answers a server error until it is up again.
    down: bool,
    script: VecDeque<Scripted>,
    updates: VecDeque<Value>,
    next_id: i64,
}

#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Shared>>);

impl Recorder {
    pub fn calls(&self) -> Vec<Call> {
        self.0.lock().unwrap().calls.clone()
    }
    /// The calls of one method (Telegram) whose body names `chat_id`.
    pub fn sent_to(&self, method: &str, key: &str, value: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| {
                c.method == method
                    && c.body[key]
                        .as_str()
                        .map(str::to_owned)
                        .or_else(|| c.body[key].as_i64().map(|n| n.to_string()))
                        .as_deref()
                        == Some(value)
            })
            .collect()
    }
    /// Takes the provider down (every send answers a server error, and is recorded) or
    /// brings it back.
    pub fn set_down(&self, down: bool) {
        self.0.lock().unwrap().down = down;
    }
    pub fn answer_next(&self, scripted: Scripted) {
        self.0.lock().unwrap().script.push_back(scripted);
    }
    pub fn push_update(&self, update: Value) {
        self.0.lock().unwrap().updates.push_back(update);
    }
    fn record(&self, method: &str, body: Value, raw: &[u8]) -> Option<Scripted> {
        let mut shared = self.0.lock().unwrap();
        let raw = String::from_utf8_lossy(raw).into_owned();
        shared.calls.push(Call {
            method: method.to_owned(),
            body,
            raw,
        });
        if shared.down && method != "getMe" && method != "getUpdates" {
            return Some(Scripted::ServerError);
        }
        shared.script.pop_front()
    }
    fn next_id(&self) -> i64 {
        let mut shared = self.0.lock().unwrap();
        shared.next_id += 1;
        shared.next_id
    }

    /// Waits until at least `count` calls match (within `timeout`): Ok with the matching
    /// calls, or Err at the timeout with every call received.
    #[must_use = "a wait that times out must fail the test"]
    pub async fn wait_for(
        &self,
        count: usize,
        timeout: Duration,
        matches: impl Fn(&Call) -> bool,
    ) -> Result<Vec<Call>, TimedOut<Call>> {
        crate::wait::collect("matching calls", count, timeout, || self.calls(), matches).await
    }
}

pub struct Fake {
    pub url: String,
    pub recorder: Recorder,
}

fn parse_body(req: &HttpRequest, body: &[u8]) -> Value {
    let is_form = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        let map: serde_json::Map<String, Value> = form_urlencoded::parse(body)
            .into_owned()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        Value::Object(map)
    } else {
        serde_json::from_slice(body).unwrap_or(Value::Null)
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

async fn telegram(
    req: HttpRequest,
    body: web::Bytes,
    recorder: web::Data<Recorder>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (_bot, method) = path.into_inner();
    // teloxide names methods in PascalCase (`SendMessage`); the Bot API is case-insensitive.
    let method = lower_first(&method);
    let payload = parse_body(&req, &body);
    if method == "getUpdates" {
        let update = recorder.0.lock().unwrap().updates.pop_front();
        return match update {
            Some(u) => HttpResponse::Ok().json(json!({ "ok": true, "result": [u] })),
            None => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                HttpResponse::Ok().json(json!({ "ok": true, "result": [] }))
            }
        };
    }
    let scripted = recorder.record(&method, payload.clone(), &body);
    match scripted {
        Some(Scripted::TooManyRequests { retry_after }) => {
            return HttpResponse::TooManyRequests().json(json!({
                "ok": false, "error_code": 429,
                "description": format!("Too Many Requests: retry after {retry_after}"),
                "parameters": { "retry_after": retry_after }
            }));
        }
        Some(Scripted::Blocked) => {
            return HttpResponse::Forbidden().json(
                json!({ "ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user" }),
            );
        }
        Some(Scripted::ServerError) => {
            return HttpResponse::BadGateway()
                .json(json!({ "ok": false, "error_code": 502, "description": "Bad Gateway" }));
        }
        None => {}
    }
    match method.as_str() {
        "getMe" => HttpResponse::Ok().json(json!({ "ok": true, "result": { "id": 42, "is_bot": true, "first_name": "Relais", "username": "relais_test_bot", "can_join_groups": false, "can_read_all_group_messages": false, "supports_inline_queries": false } })),
        "sendMessage" => {
            let chat = payload["chat_id"].as_i64().or_else(|| payload["chat_id"].as_str().and_then(|s| s.parse().ok())).unwrap_or(0);
            HttpResponse::Ok().json(json!({ "ok": true, "result": {
                "message_id": recorder.next_id(),
                "date": chrono::Utc::now().timestamp(),
                "chat": { "id": chat, "type": "private", "first_name": "x" },
                "text": payload["text"],
            }}))
        }
        _ => HttpResponse::Ok().json(json!({ "ok": true, "result": true })),
    }
}

async fn twilio(req: HttpRequest, body: web::Bytes, recorder: web::Data<Recorder>) -> HttpResponse {
    let payload = parse_body(&req, &body);
    match recorder.record("Messages", payload, &body) {
        Some(Scripted::TooManyRequests { retry_after }) => HttpResponse::TooManyRequests()
            .insert_header(("Retry-After", retry_after.to_string()))
            .json(json!({ "code": 20429, "message": "Too Many Requests", "status": 429 })),
        Some(Scripted::Blocked) => HttpResponse::BadRequest()
            .json(json!({ "code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400 })),
        Some(Scripted::ServerError) => HttpResponse::InternalServerError().json(json!({ "status": 500 })),
        None => {
            HttpResponse::Created().json(json!({ "sid": format!("SM{:032}", recorder.next_id()), "status": "queued" }))
        }
    }
}

/// The addresses the fake BAN knows: (label, type, postcode, citycode, longitude, latitude).
pub const BAN_ADDRESSES: &[(&str, &str, &str, &str, f64, f64)] = &[
    (
        "1 Place Salvador Allende 94000 Créteil",
        "housenumber",
        "94000",
        "94028",
        2.455_4,
        48.777_6,
    ),
    (
        "12 Rue de Rivoli 75004 Paris",
        "housenumber",
        "75004",
        "75104",
        2.359_3,
        48.855_5,
    ),
    (
        "Rue de Rivoli 75001 Paris",
        "street",
        "75001",
        "75101",
        2.336_8,
        48.862_8,
    ),
    (
        "3 Rue de la République 69002 Lyon",
        "housenumber",
        "69002",
        "69382",
        4.836_5,
        45.762_6,
    ),
    (
        "8 Boulevard du Port 80000 Amiens",
        "housenumber",
        "80000",
        "80021",
        2.290_1,
        49.897_4,
    ),
    ("Créteil", "municipality", "94000", "94028", 2.455_4, 48.777_6),
];

fn fold(text: &str) -> String {
    text.to_lowercase()
        .replace(['é', 'è', 'ê'], "e")
        .replace(['à', 'â'], "a")
        .replace(['ô'], "o")
}

async fn ban(req: HttpRequest, recorder: web::Data<Recorder>) -> HttpResponse {
    let params: std::collections::HashMap<String, String> = form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let q = params.get("q").cloned().unwrap_or_default();
    if let Some(Scripted::ServerError) = recorder.record("search", json!(params), req.query_string().as_bytes()) {
        return HttpResponse::BadGateway().body("Bad Gateway");
    }
    if !(3..=200).contains(&q.chars().count()) {
        return HttpResponse::BadRequest()
            .json(json!({ "code": 400, "message": "q must contain between 3 and 200 chars and start with a number or a letter" }));
    }
    let limit: usize = params.get("limit").and_then(|l| l.parse().ok()).unwrap_or(5);
    let words: Vec<String> = fold(&q).split_whitespace().map(str::to_owned).collect();
    let features: Vec<Value> = BAN_ADDRESSES
        .iter()
        .filter(|(label, ..)| words.iter().all(|w| fold(label).contains(w.as_str())))
        .take(limit)
        .map(|(label, kind, postcode, citycode, lon, lat)| {
            json!({
                "type": "Feature",
                "geometry": { "type": "Point", "coordinates": [lon, lat] },
                "properties": { "label": label, "score": 0.95, "type": kind, "postcode": postcode,
                                "citycode": citycode, "id": format!("{citycode}_fake"), "name": label }
            })
        })
        .collect();
    HttpResponse::Ok()
        .json(json!({ "type": "FeatureCollection", "version": "draft", "features": features, "query": q }))
}

impl Fake {
    /// The Base Adresse Nationale's `/search/` (calls recorded as "search", with the query
    /// parameters as the body).
    pub fn ban() -> Self {
        Self::start(|cfg, recorder| {
            cfg.app_data(web::Data::new(recorder))
                .route("/search/", web::get().to(ban));
        })
    }

    pub fn telegram() -> Self {
        Self::start(|cfg, recorder| {
            cfg.app_data(web::Data::new(recorder))
                .route("/{bot}/{method}", web::post().to(telegram))
                .route("/{bot}/{method}", web::get().to(telegram));
        })
    }

    pub fn twilio() -> Self {
        Self::start(|cfg, recorder| {
            cfg.app_data(web::Data::new(recorder))
                .route("/2010-04-01/Accounts/{sid}/Messages.json", web::post().to(twilio));
        })
    }

    fn start(configure: fn(&mut web::ServiceConfig, Recorder)) -> Self {
        let recorder = Recorder::default();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a fake");
        let port = listener.local_addr().expect("address").port();
        let shared = recorder.clone();
        let server = HttpServer::new(move || {
            let shared = shared.clone();
            App::new().configure(move |cfg| configure(cfg, shared.clone()))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}"),
            recorder,
        }
    }
}
