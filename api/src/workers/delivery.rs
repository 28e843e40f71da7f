//! `line-delivery`: the text line's outbox, sent by the bots' delivery step.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use relais_bots::delivery::Delivery;
use relais_core::helpline::outbox;
use tokio::sync::Notify;

use super::{Next, Stop, Worker, idle};
use crate::state::AppState;

/// The shortest wait when rows are due but none could be claimed (a chat's pace, another
/// instance's claim): the per-chat pace is one second.
const FLOOR: Duration = Duration::from_millis(250);

pub struct LineDelivery {
    delivery: Delivery,
    waker: Arc<Notify>,
}

impl LineDelivery {
    pub fn new(state: &web::Data<AppState>) -> Self {
        Self {
            delivery: Delivery::new(
                state.database.clone(),
                state.secrets.clone(),
                state.line.senders.clone(),
                state.line.delivery.clone(),
                state.line.metrics.clone(),
            )
            .with_shared_pace(state.live.shared_pace()),
            waker: state.workers.wakers.line.clone(),
        }
    }
}

impl Worker for LineDelivery {
    fn name(&self) -> &'static str {
        "line-delivery"
    }

    fn waker(&self) -> Option<Arc<Notify>> {
        Some(self.waker.clone())
    }

    async fn step(&mut self, state: &web::Data<AppState>, stop: &Stop) -> Next {
        match self.delivery.round(&state.clock, &|| stop.requested()).await {
            Ok(round) => {
                if round.published {
                    // Delivery states reach the listeners' apps on every instance.
                    state.live.signal().await;
                }
                if round.handled > 0 {
                    return Next::Again;
                }
            }
            Err(e) => tracing::warn!(error = %e, "delivery round failed"),
        }
        idle(state, &outbox::TABLE, FLOOR).await
    }
}
