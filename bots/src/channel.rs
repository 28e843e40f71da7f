//! What every channel shares on the way out: how a send fails ([`SendError`]), the
//! [`Provider`] each external channel implements (Telegram in `telegram.rs`, SMS in
//! `twilio.rs`), and [`Senders`], the providers of this instance with the web chat hub.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use relais_core::helpline::model::Channel;
use relais_core::helpline::outbox::Payload;

use crate::webchat::{WebChatEvent, WebChatFrame, WebChatHub};

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the provider asks to wait {0:?}")]
    RetryAfter(Duration),
    #[error("the recipient has blocked the bot or is unreachable for good")]
    Gone,
    #[error("refused: {0}")]
    Permanent(String),
    #[error("failed for now: {0}")]
    Transient(String),
    /// A part of ours is away (the web chat relay): try again after the wait, without
    /// counting an attempt (the outbox keeps the message for as long as it takes).
    #[error("unavailable for now: {1}")]
    Unavailable(Duration, String),
}

/// How long a web chat message waits when the relay is away.
const RELAY_RETRY: Duration = Duration::from_secs(2);

pub type Sending<'a> = Pin<Box<dyn Future<Output = Result<Option<String>, SendError>> + Send + 'a>>;
pub type Showing<'a> = Pin<Box<dyn Future<Output = bool> + Send + 'a>>;

/// An external channel's provider.
pub trait Provider: Send + Sync {
    /// Sends one message to `destination` (an opened channel address); the provider's id
    /// for it, when it gives one.
    fn send<'a>(&'a self, destination: &'a str, payload: &'a Payload) -> Sending<'a>;

    /// Shows "typing" to `destination` where the channel can. Best effort: whether it did.
    fn typing<'a>(&'a self, _destination: &'a str) -> Showing<'a> {
        Box::pin(async { false })
    }
}

/// The providers this instance can send through.
pub struct Senders {
    pub telegram: Option<Arc<dyn Provider>>,
    pub sms: Option<Arc<dyn Provider>>,
    pub webchat: WebChatHub,
}

impl Senders {
    /// Sends one message of a chat: through its provider, or to the web chat's sockets.
    pub async fn send(
        &self,
        channel: Channel,
        chat_key: &str,
        destination: &str,
        message_id: Option<&str>,
        payload: &Payload,
    ) -> Result<Option<String>, SendError> {
        match channel {
            Channel::Telegram | Channel::Sms => match self.provider(channel) {
                Some(provider) => provider.send(destination, payload).await,
                None => Err(SendError::Transient(format!(
                    "{channel} is not configured on this instance"
                ))),
            },
            Channel::WebChat => {
                let event = WebChatEvent {
                    chat_key: chat_key.to_owned(),
                    frame: WebChatFrame::Message {
                        message_id: message_id.map(str::to_owned),
                        payload: payload.clone(),
                    },
                };
                match self.webchat.send(event).await {
                    Ok(()) => Ok(None),
                    // Redis went away after the claim and the page is not on this instance:
                    // again in two seconds, by an instance that can deliver it.
                    Err(away) => Err(SendError::Unavailable(RELAY_RETRY, away.to_string())),
                }
            }
        }
    }

    /// Whether this instance can send a message of this chat now (a web chat whose page is
    /// elsewhere needs the relay); the outbox worker claims only such rows.
    pub fn can_send(&self, channel: Channel, chat_key: &str) -> bool {
        match channel {
            Channel::WebChat => self.webchat.can_deliver(chat_key),
            Channel::Telegram | Channel::Sms => true,
        }
    }

    /// Tells the person a listener is typing, where the channel can show it (Telegram, web
    /// chat; SMS cannot). Best effort and never stored: returns whether it was shown.
    pub async fn typing(&self, channel: Channel, chat_key: &str, destination: &str) -> bool {
        match channel {
            Channel::WebChat => {
                self.webchat.publish(WebChatEvent {
                    chat_key: chat_key.to_owned(),
                    frame: WebChatFrame::Typing,
                });
                true
            }
            _ => match self.provider(channel) {
                Some(provider) => provider.typing(destination).await,
                None => false,
            },
        }
    }

    fn provider(&self, channel: Channel) -> Option<&Arc<dyn Provider>> {
        match channel {
            Channel::Telegram => self.telegram.as_ref(),
            Channel::Sms => self.sms.as_ref(),
            Channel::WebChat => None,
        }
    }
}
