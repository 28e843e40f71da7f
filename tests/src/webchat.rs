//! A person on the web chat: a session, and the page's WebSocket at `/chat/ws`.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::TestApp;
use crate::wait::{BOUND, TimedOut};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct WebChat {
    pub session: String,
    /// The instance's address, for the history the page fetches on "resync".
    base: String,
    socket: Socket,
    /// Every frame the page showed, in order (to count what the person was shown): a message
    /// comes once, by id, as the page shows it.
    received: Vec<Value>,
    /// Frames read while waiting for "ready", not yet handed to the test.
    early: std::collections::VecDeque<Value>,
}

impl WebChat {
    /// A new session with its socket open on `app`.
    pub async fn open(app: &TestApp) -> Self {
        let session = app.post("/chat/api/sessions").send().await.json()["token"]
            .as_str()
            .expect("a session token")
            .to_owned();
        Self::resume(app, session).await
    }

    /// The same session's socket on `app` (another instance, or after a reload).
    pub async fn resume(app: &TestApp, session: String) -> Self {
        let url = format!("{}/chat/ws", app.address.replace("http://", "ws://"));
        let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("web chat socket");
        socket
            .send(Message::Text(json!({ "session": session }).to_string().into()))
            .await
            .expect("hello");
        let mut chat = Self {
            session,
            base: app.address.clone(),
            socket,
            received: Vec::new(),
            early: std::collections::VecDeque::new(),
        };
        // As the page does: send nothing before the server says the socket listens.
        let mut early = std::collections::VecDeque::new();
        while let Some(frame) = chat.next(BOUND).await {
            if frame["type"] == "ready" {
                break;
            }
            let expired = frame["type"] == "expired";
            early.push_back(frame);
            if expired {
                break;
            }
        }
        // Catch-up frames (a "resync" before "ready") come after those read meanwhile.
        early.extend(std::mem::take(&mut chat.early));
        chat.early = early;
        chat
    }

    pub async fn send(&mut self, frame: Value) {
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .expect("frame sent");
    }

    pub async fn say(&mut self, text: &str) {
        self.send(json!({ "id": uuid::Uuid::new_v4(), "text": text })).await;
    }

    pub async fn press(&mut self, choice: &str) {
        self.send(json!({ "id": uuid::Uuid::new_v4(), "choice": choice })).await;
    }

    /// The next JSON frame, or None after `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> Option<Value> {
        if let Some(frame) = self.early.pop_front() {
            return Some(frame);
        }
        loop {
            match tokio::time::timeout(timeout, self.socket.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    let frame: Option<Value> = serde_json::from_str(&text).ok();
                    if let Some(frame) = &frame {
                        // As the page: a message already shown (by id) is not shown again (a
                        // catch-up and a late relayed frame may both bring it).
                        if frame["type"] == "message" && !frame["id"].is_null() && self.shown(&frame["id"]) {
                            continue;
                        }
                        self.received.push(frame.clone());
                        if frame["type"] == "resync" {
                            self.catch_up().await;
                        }
                    }
                    return frame;
                }
                Ok(Some(Ok(_))) => continue,
                _ => return None,
            }
        }
    }

    /// As the page does on "resync": fetches the history and shows the line's messages it has
    /// not shown (by id), as message frames after this one.
    async fn catch_up(&mut self) {
        let history: Value = reqwest::Client::new()
            .get(format!("{}/chat/api/messages", self.base))
            .header("X-Chat-Session", &self.session)
            .send()
            .await
            .expect("history")
            .json()
            .await
            .expect("history as JSON");
        for item in history["items"].as_array().into_iter().flatten() {
            if item["from"] == "line" && !self.shown(&item["id"]) {
                let frame = json!({ "type": "message", "id": item["id"], "from": "line", "text": item["text"],
                    "choices": item.get("choices").cloned().unwrap_or(json!([])) });
                self.received.push(frame.clone());
                self.early.push_back(frame);
            }
        }
    }

    fn shown(&self, id: &Value) -> bool {
        self.received.iter().any(|f| f["type"] == "message" && &f["id"] == id)
    }

    /// Every frame shown so far, in order.
    pub fn received(&self) -> &[Value] {
        &self.received
    }

    /// Frames until one matches (within the harness's bound): Ok with the matching frame, or
    /// Err with every frame seen meanwhile.
    #[must_use = "a wait that times out must fail the test"]
    pub async fn wait_for(&mut self, matches: impl Fn(&Value) -> bool) -> Result<Value, TimedOut<Value>> {
        let deadline = tokio::time::Instant::now() + BOUND;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(tokio::time::Instant::now()) {
            match self.next(left).await {
                Some(frame) if matches(&frame) => return Ok(frame),
                Some(frame) => seen.push(frame),
                None => break,
            }
        }
        Err(TimedOut {
            wanted: "a matching frame".into(),
            after: BOUND,
            seen,
        })
    }

    /// Waits for a message of the line containing `needle`.
    #[must_use = "a wait that times out must fail the test"]
    pub async fn wait_text(&mut self, needle: &str) -> Result<Value, TimedOut<Value>> {
        self.wait_for(|f| f["type"] == "message" && f["text"].as_str().is_some_and(|t| t.contains(needle)))
            .await
    }
}
