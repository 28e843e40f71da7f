//! `push`: sends the notifications owed to staff devices (Web Push), from any instance:
//! claim, encrypt and post, then record (a device whose subscription is gone is forgotten).
//! Nothing of the device's endpoint reaches the log.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use relais_core::outbox::RetryPolicy;
use relais_core::push::{self, Delivery};
use tokio::sync::Notify;

use super::{Next, Stop, Worker, idle};
use crate::push::Pusher;
use crate::state::AppState;

const BATCH: i64 = 16;
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
const FLOOR: Duration = Duration::from_secs(1);

pub struct Push {
    pusher: Arc<Pusher>,
    retry: RetryPolicy,
    waker: Arc<Notify>,
}

impl Push {
    pub fn new(state: &web::Data<AppState>) -> Option<Self> {
        Some(Self {
            pusher: state.pusher.clone()?,
            // A notification is worth little after an hour (its TTL): six tries within it.
            retry: RetryPolicy::exponential(chrono::Duration::seconds(5), chrono::Duration::seconds(600), 6),
            waker: state.workers.wakers.push.clone(),
        })
    }
}

impl Worker for Push {
    fn name(&self) -> &'static str {
        "push"
    }

    fn waker(&self) -> Option<Arc<Notify>> {
        Some(self.waker.clone())
    }

    async fn step(&mut self, state: &web::Data<AppState>, stop: &Stop) -> Next {
        let now = state.clock.now();
        let secrets = state.secrets.clone();
        let claimed = match state
            .db(move |conn| push::claim(conn, &secrets, now, LEASE, BATCH))
            .await
        {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "push outbox unavailable");
                Vec::new()
            }
        };
        if claimed.is_empty() {
            return idle(state, &push::TABLE, FLOOR).await;
        }
        for message in claimed {
            if stop.requested() {
                let claim = message.claim.clone();
                let _ = state
                    .db(move |conn| relais_core::outbox::release(conn, &push::TABLE, &claim))
                    .await;
                continue;
            }
            let delivery = match &message.endpoint {
                Some(endpoint) => self.pusher.send(endpoint, message.topic, state.clock.now()).await,
                None => Delivery::Gone,
            };
            let now = state.clock.now();
            let delivery = match delivery {
                Delivery::Failed(relais_core::outbox::Outcome::Retry { error, .. }) => {
                    Delivery::Failed(self.retry.failed(&message.claim, now, &error))
                }
                other => other,
            };
            tracing::info!(
                topic = message.topic.as_str(),
                outcome = match &delivery {
                    Delivery::Accepted => "accepted",
                    Delivery::Gone => "gone",
                    Delivery::Failed(_) => "failed",
                },
                "push notification"
            );
            let record = move |conn: &mut relais_core::db::DbConn| push::record(conn, &message, &delivery, now);
            match super::record_patiently(state, Duration::from_secs(20), record).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!("a notification's claim ran out before it was settled"),
                Err(e) => tracing::warn!(error = %e, "push outbox update failed"),
            }
        }
        Next::Again
    }
}
