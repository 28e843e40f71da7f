//! Counters of the text line, rendered on `/metrics`: messages in (counted at the edge),
//! messages out and delivery failures (counted by the delivery step).

use std::sync::atomic::{AtomicU64, Ordering};

use relais_core::helpline::model::Channel;

/// Counters of the text line, rendered on `/metrics`.
#[derive(Default)]
pub struct LineMetrics {
    inbound: [AtomicU64; 3],
    outbound: [AtomicU64; 3],
    failures: [AtomicU64; 3],
}

fn index(channel: Channel) -> usize {
    match channel {
        Channel::Telegram => 0,
        Channel::Sms => 1,
        Channel::WebChat => 2,
    }
}

impl LineMetrics {
    pub fn inbound(&self, channel: Channel) {
        self.inbound[index(channel)].fetch_add(1, Ordering::Relaxed);
    }
    pub fn outbound(&self, channel: Channel) {
        self.outbound[index(channel)].fetch_add(1, Ordering::Relaxed);
    }
    pub fn failure(&self, channel: Channel) {
        self.failures[index(channel)].fetch_add(1, Ordering::Relaxed);
    }
    /// (channel, messages in, messages out, delivery failures).
    pub fn snapshot(&self) -> Vec<(Channel, u64, u64, u64)> {
        [Channel::Telegram, Channel::Sms, Channel::WebChat]
            .into_iter()
            .map(|c| {
                let i = index(c);
                (
                    c,
                    self.inbound[i].load(Ordering::Relaxed),
                    self.outbound[i].load(Ordering::Relaxed),
                    self.failures[i].load(Ordering::Relaxed),
                )
            })
            .collect()
    }
}
