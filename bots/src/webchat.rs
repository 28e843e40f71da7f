//! The web chat hub: where the web chat's deliveries go. Every open socket of this instance
//! listens to the local stream; with several instances a relay (Redis) carries each event
//! to all of them, since the person's socket may be open on another instance than the one
//! delivering.

use std::sync::Arc;

use relais_core::helpline::outbox::Payload;
use tokio::sync::{broadcast, mpsc};

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

/// The hub of one instance (cheap to clone).
#[derive(Clone)]
pub struct WebChatHub {
    sender: broadcast::Sender<WebChatEvent>,
    relay: Arc<std::sync::OnceLock<mpsc::UnboundedSender<WebChatEvent>>>,
}

impl Default for WebChatHub {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(1024).0,
            relay: Arc::default(),
        }
    }
}

impl WebChatHub {
    pub fn subscribe(&self) -> broadcast::Receiver<WebChatEvent> {
        self.sender.subscribe()
    }
    /// Sends to every instance (through the relay when there is one).
    pub fn publish(&self, event: WebChatEvent) {
        match self.relay.get() {
            Some(relay) => {
                if let Err(mpsc::error::SendError(event)) = relay.send(event) {
                    self.deliver_local(event);
                }
            }
            None => self.deliver_local(event),
        }
    }
    /// Hands an event to this instance's sockets.
    pub fn deliver_local(&self, event: WebChatEvent) {
        let _ = self.sender.send(event);
    }
    /// From now on, [`publish`](Self::publish) goes through `relay`, which must bring each
    /// event back to [`deliver_local`](Self::deliver_local) on every instance.
    pub fn set_relay(&self, relay: mpsc::UnboundedSender<WebChatEvent>) {
        let _ = self.relay.set(relay);
    }
}
