//! The web chat hub: where the web chat's deliveries go. Every open socket of this instance
//! listens to the local stream; with several instances a relay (Redis) carries each event
//! to the others too, since the person's socket may be open on another instance than the one
//! delivering.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use relais_core::helpline::outbox::Payload;
use tokio::sync::{broadcast, mpsc, oneshot};

/// Something for a web chat session's open WebSocket(s): a message of the line, or the
/// listener typing.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WebChatEvent {
    /// The session's keyed HMAC (never the session token).
    pub chat_key: String,
    pub frame: WebChatFrame,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WebChatFrame {
    Message {
        message_id: Option<String>,
        payload: Payload,
    },
    Typing,
}

/// An event for the relay to carry to the other instances; `done`, when set, hears whether it
/// left (a message of the line that no socket of this instance holds waits for it).
pub struct Relay {
    pub event: WebChatEvent,
    pub done: Option<oneshot::Sender<bool>>,
}

/// The relay could not carry a message (Redis away): the outbox tries again.
#[derive(Debug, thiserror::Error)]
#[error("the web chat relay is away")]
pub struct RelayAway;

type Holders = Arc<Mutex<HashMap<String, usize>>>;

/// The hub of one instance (cheap to clone).
#[derive(Clone)]
pub struct WebChatHub {
    sender: broadcast::Sender<WebChatEvent>,
    relay: Arc<std::sync::OnceLock<mpsc::UnboundedSender<Relay>>>,
    /// How many sockets of this instance are open, by chat key.
    holders: Holders,
}

impl Default for WebChatHub {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(1024).0,
            relay: Arc::default(),
            holders: Arc::default(),
        }
    }
}

/// A socket's hold on its chat: while it lives, messages of that chat are delivered here.
pub struct Held {
    holders: Holders,
    chat_key: String,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Ok(mut holders) = self.holders.lock()
            && let Some(n) = holders.get_mut(&self.chat_key)
        {
            *n -= 1;
            if *n == 0 {
                holders.remove(&self.chat_key);
            }
        }
    }
}

impl WebChatHub {
    /// The stream of this instance's events, for a socket of the chat `chat_key`, and the
    /// hold that tells [`send`](Self::send) the chat is open here.
    pub fn hold(&self, chat_key: &str) -> (broadcast::Receiver<WebChatEvent>, Held) {
        if let Ok(mut holders) = self.holders.lock() {
            *holders.entry(chat_key.to_owned()).or_default() += 1;
        }
        let held = Held {
            holders: self.holders.clone(),
            chat_key: chat_key.to_owned(),
        };
        (self.sender.subscribe(), held)
    }

    fn held_here(&self, chat_key: &str) -> bool {
        self.holders.lock().is_ok_and(|h| h.contains_key(chat_key))
    }

    /// Delivers a message of the line: to this instance's socket when it holds the chat (and,
    /// best effort, to the person's other pages elsewhere); otherwise through the relay, and
    /// Err when the relay could not carry it, so that the outbox tries again (no page got it).
    pub async fn send(&self, event: WebChatEvent) -> Result<(), RelayAway> {
        let Some(relay) = self.relay.get() else {
            self.deliver_local(event);
            return Ok(());
        };
        if self.held_here(&event.chat_key) {
            self.deliver_local(event.clone());
            let _ = relay.send(Relay { event, done: None });
            return Ok(());
        }
        let (done, left) = oneshot::channel();
        relay
            .send(Relay {
                event,
                done: Some(done),
            })
            .map_err(|_| RelayAway)?;
        match left.await {
            Ok(true) => Ok(()),
            _ => Err(RelayAway),
        }
    }

    /// Shows an ephemeral frame ("typing") wherever the person's page is, best effort.
    pub fn publish(&self, event: WebChatEvent) {
        self.deliver_local(event.clone());
        if let Some(relay) = self.relay.get() {
            let _ = relay.send(Relay { event, done: None });
        }
    }

    /// Hands an event to this instance's sockets.
    pub fn deliver_local(&self, event: WebChatEvent) {
        let _ = self.sender.send(event);
    }

    /// From now on, events also go to `relay`, which must bring each to
    /// [`deliver_local`](Self::deliver_local) on every other instance.
    pub fn set_relay(&self, relay: mpsc::UnboundedSender<Relay>) {
        let _ = self.relay.set(relay);
    }
}
