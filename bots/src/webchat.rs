//! The web chat hub: where the web chat's deliveries go. Every open socket of this instance
//! listens to the local stream; with several instances a relay (Redis) carries each event
//! to the others too, since the person's socket may be open on another instance than the one
//! delivering.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// To every socket of this instance, whatever its chat: messages may have been missed
    /// (this instance was not listening to the relay): the page catches up from the history.
    /// Never relayed.
    Resync,
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

/// The way to the other instances: where events go, and whether the relay listens now.
struct RelayLink {
    sender: mpsc::UnboundedSender<Relay>,
    up: Arc<AtomicBool>,
}

/// The hub of one instance (cheap to clone).
#[derive(Clone)]
pub struct WebChatHub {
    sender: broadcast::Sender<WebChatEvent>,
    relay: Arc<std::sync::OnceLock<RelayLink>>,
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

    /// Whether this instance can deliver a message of `chat_key` now: it holds the page, or
    /// the relay is listening (or there is no relay: one instance). An outbox worker claims
    /// only such rows. Without this, while Redis is away, an instance that does not hold the
    /// page claimed the row, failed and deferred it, again and again, and the instance that
    /// holds the page rarely got its turn.
    pub fn can_deliver(&self, chat_key: &str) -> bool {
        match self.relay.get() {
            None => true,
            Some(link) => link.up.load(Ordering::Relaxed) || self.held_here(chat_key),
        }
    }

    /// Delivers a message of the line: to this instance's socket when it holds the chat (and,
    /// best effort, to the person's other pages elsewhere); otherwise through the relay, and
    /// Err when the relay could not carry it, so that the outbox tries again (no page got it).
    pub async fn send(&self, event: WebChatEvent) -> Result<(), RelayAway> {
        let Some(RelayLink { sender: relay, .. }) = self.relay.get() else {
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
        if let Some(link) = self.relay.get() {
            let _ = link.sender.send(Relay { event, done: None });
        }
    }

    /// Tells every socket of this instance to catch up from the history: called when this
    /// instance listens to the relay again, since frames relayed while it did not reached
    /// none of its pages (their messages are in the history, stored before they were sent).
    pub fn resync_local(&self) {
        self.deliver_local(WebChatEvent {
            chat_key: String::new(),
            frame: WebChatFrame::Resync,
        });
    }

    /// Hands an event to this instance's sockets.
    pub fn deliver_local(&self, event: WebChatEvent) {
        let _ = self.sender.send(event);
    }

    /// From now on, events also go to `relay`, which must bring each to
    /// [`deliver_local`](Self::deliver_local) on every other instance; `up` says whether it
    /// listens now (Redis answers).
    pub fn set_relay(&self, relay: mpsc::UnboundedSender<Relay>, up: Arc<AtomicBool>) {
        let _ = self.relay.set(RelayLink { sender: relay, up });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_the_relay_away_only_the_instance_holding_the_page_can_deliver() {
        let alone = WebChatHub::default();
        assert!(alone.can_deliver("k"), "one instance delivers every chat");

        let hub = WebChatHub::default();
        let up = Arc::new(AtomicBool::new(true));
        hub.set_relay(mpsc::unbounded_channel().0, up.clone());
        assert!(hub.can_deliver("k"), "the relay carries it to whoever holds the page");
        up.store(false, Ordering::Relaxed);
        assert!(
            !hub.can_deliver("k"),
            "relay away, page elsewhere: leave it to the holder"
        );
        let (_events, held) = hub.hold("k");
        assert!(hub.can_deliver("k"), "this instance holds the page");
        assert!(!hub.can_deliver("other"));
        drop(held);
        assert!(!hub.can_deliver("k"), "the page closed");
        up.store(true, Ordering::Relaxed);
        assert!(hub.can_deliver("k"), "the relay is back");
    }
}
