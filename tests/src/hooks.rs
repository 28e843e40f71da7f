//! A partner's webhook receiver on loopback: records every POST (headers and body as
//! received) and answers 204, or 500 while it is told to fail; told to hold, it records a
//! POST and keeps its answer until let go (a send in flight, for the fault tests).

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use crate::wait::TimedOut;

/// One message as the partner received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    /// What the receiver answered.
    pub answered: u16,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    failing: AtomicBool,
    holding: AtomicBool,
}

pub struct WebhookSink {
    pub url: String,
    shared: Arc<Shared>,
}

async fn receive(req: HttpRequest, body: web::Bytes, shared: web::Data<Arc<Shared>>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let failing = shared.failing.load(Ordering::SeqCst);
    let answered = if failing { 500 } else { 204 };
    shared.received.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
        answered,
    });
    while shared.holding.load(Ordering::SeqCst) {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    if failing {
        HttpResponse::InternalServerError().finish()
    } else {
        HttpResponse::NoContent().finish()
    }
}

impl WebhookSink {
    pub fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the webhook sink");
        let port = listener.local_addr().expect("address").port();
        let data = shared.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(data.clone()))
                .route("/hooks", web::post().to(receive))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/hooks"),
            shared,
        }
    }

    pub fn set_failing(&self, failing: bool) {
        self.shared.failing.store(failing, Ordering::SeqCst);
    }

    /// While held, a POST is recorded at once and answered only when let go.
    pub fn set_holding(&self, holding: bool) {
        self.shared.holding.store(holding, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits until at least `count` messages have arrived: Ok with all of them, or Err at
    /// the bound with what arrived.
    #[must_use = "a wait that times out must fail the test"]
    pub async fn wait_for(&self, count: usize) -> Result<Vec<Received>, TimedOut<Received>> {
        crate::wait::collect(
            "webhook messages",
            count,
            crate::wait::BOUND,
            || self.received(),
            |_| true,
        )
        .await
    }
}
