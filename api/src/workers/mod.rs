//! The work every instance does besides answering requests, as named workers in one
//! registry. A worker is a type with one loop step ([`Worker::step`]) that says when it wants
//! to run again ([`Next`]); the registry drives every worker the same way: it runs the step,
//! then waits for that time, for the worker's waker (an outbox row queued on this instance,
//! see [`Wakers`]), or for shutdown, whichever comes first.
//!
//! On shutdown (SIGTERM: the HTTP server stops first, then [`Workers::shutdown`]) a step in
//! progress finishes; the outbox workers check [`Stop`] between two sends and hand the rest
//! of their claims back, so another instance sends them at once instead of after the lease.
//!
//! The workers:
//!
//! | name | what | when |
//! | --- | --- | --- |
//! | `line-delivery` | sends the text line's outbox | woken by a queued reply; slow poll |
//! | `mail` | sends the centres' emails | woken by a queued mail; slow poll |
//! | `webhooks` | posts partners' signed webhooks | woken by a queued message; slow poll |
//! | `push` | notifications to staff devices (Web Push), when a VAPID key is set | woken by a queued notification; slow poll |
//! | `telegram-poll` | long polling, when no Telegram webhook is set | continuous |
//! | `silent-listeners` | puts conversations of silent listeners back in the queue | every silence / 4 |
//! | `reminders` | appointment reminders through each person's channel | `reminder_seconds` |
//! | `queue-places` | tells people waiting their new place | `queue_place_seconds` |
//! | `weekly-inventory` | the national housing inventory, Mondays from 07:00 Paris | every 15 minutes |
//! | `purge` | retention, idempotency keys and the four outboxes | hourly |

mod delivery;
mod housekeeping;
pub mod mail;
mod push;
mod telegram_poll;
pub mod webhooks;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::state::AppState;

pub use housekeeping::Purge;

/// What a step asks for next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Run again at once (there is more work).
    Again,
    /// Run again after this long, or sooner when woken.
    Wait(Duration),
    /// This worker has nothing more to do on this instance.
    Done,
}

/// The registry's shutdown signal, as a step sees it.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Whether shutdown began: a step hands back what it has not started.
    pub fn requested(&self) -> bool {
        *self.0.borrow()
    }

    async fn wait(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// A named background worker.
pub trait Worker: Send + 'static {
    /// The worker's name, for logs and `Workers::names`.
    fn name(&self) -> &'static str;

    /// Its waker, for a worker that has one (an outbox): the registry cuts a wait short
    /// when it is notified.
    fn waker(&self) -> Option<Arc<Notify>> {
        None
    }

    /// One step of the worker's loop.
    fn step(&mut self, state: &web::Data<AppState>, stop: &Stop) -> impl Future<Output = Next> + Send;
}

/// The wakers of the outbox workers of this instance, by outbox table.
#[derive(Clone, Default)]
pub struct Wakers {
    pub line: Arc<Notify>,
    pub mail: Arc<Notify>,
    pub webhooks: Arc<Notify>,
    pub push: Arc<Notify>,
}

impl Wakers {
    /// Wakes the worker of each table named (from `relais_core::outbox::take_enqueued`).
    pub fn wake(&self, tables: &[&'static str]) {
        for table in tables {
            let waker = match *table {
                t if t == relais_core::helpline::outbox::TABLE.name => &self.line,
                t if t == relais_core::email::TABLE.name => &self.mail,
                t if t == relais_core::partners::webhooks::TABLE.name => &self.webhooks,
                t if t == relais_core::push::TABLE.name => &self.push,
                _ => continue,
            };
            waker.notify_one();
        }
    }
}

/// The registry: every worker of this instance, and the signal that stops them.
pub struct Workers {
    stop: watch::Sender<bool>,
    running: Mutex<Vec<(&'static str, JoinHandle<()>)>>,
    pub wakers: Wakers,
}

impl Workers {
    pub fn new(wakers: Wakers) -> Self {
        Self {
            stop: watch::channel(false).0,
            running: Mutex::default(),
            wakers,
        }
    }

    /// Starts `worker` on this instance.
    pub fn spawn<W: Worker>(&self, state: &web::Data<AppState>, mut worker: W) {
        let name = worker.name();
        let state = state.clone();
        let mut stop = Stop(self.stop.subscribe());
        let handle = tokio::spawn(async move {
            let waker = worker.waker();
            loop {
                if stop.requested() {
                    break;
                }
                let wait = match worker.step(&state, &stop).await {
                    Next::Again => continue,
                    Next::Done => break,
                    Next::Wait(wait) => wait,
                };
                let woken = async {
                    match &waker {
                        Some(waker) => waker.notified().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = stop.wait() => break,
                    _ = woken => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            }
            tracing::debug!(worker = name, "worker stopped");
        });
        if let Ok(mut running) = self.running.lock() {
            running.push((name, handle));
        }
    }

    /// The names of the workers started, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.running
            .lock()
            .map(|running| running.iter().map(|(name, _)| *name).collect())
            .unwrap_or_default()
    }

    /// Stops every worker: each finishes its step (handing back claims it has not started),
    /// within `grace`; a worker still busy then is aborted (its claims come back after their
    /// lease).
    pub async fn shutdown(&self, grace: Duration) {
        let _ = self.stop.send(true);
        let running = self
            .running
            .lock()
            .map(|mut running| std::mem::take(&mut *running))
            .unwrap_or_default();
        let deadline = tokio::time::Instant::now() + grace;
        for (name, mut handle) in running {
            if tokio::time::timeout_at(deadline, &mut handle).await.is_err() {
                tracing::warn!(worker = name, "worker still busy at shutdown; aborted");
                handle.abort();
            }
        }
    }
}

/// The slow poll of the outbox workers: the safety net for rows queued by other instances
/// (this instance's own rows wake the worker at once).
pub const SLOW_POLL: Duration = Duration::from_secs(5);

/// Records what became of a message that left (or failed for good): retried every quarter
/// second while the database is out of reach (a restart), for up to `patience` (less than the
/// claim's lease), so that it is recorded once the database returns instead of the row being
/// claimed and sent again when its lease runs out.
async fn record_patiently<T, F>(state: &AppState, patience: Duration, write: F) -> Result<T, crate::problem::ApiError>
where
    F: Fn(&mut relais_core::db::DbConn) -> Result<T, relais_core::Error> + Clone + Send + 'static,
    T: Send + 'static,
{
    let started = tokio::time::Instant::now();
    loop {
        match state.db(write.clone()).await {
            Err(crate::problem::ApiError::Unavailable(_)) if started.elapsed() < patience => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            other => return other,
        }
    }
}

/// What an outbox worker with nothing to claim does: waits until the table's next row falls
/// due (a retry, a lease running out), at least `floor`, at most the slow poll.
async fn idle(state: &AppState, table: &'static relais_core::outbox::Table, floor: Duration) -> Next {
    let next_due = state
        .db(move |conn| relais_core::outbox::next_due(conn, table))
        .await
        .unwrap_or_default();
    let wait = next_due
        .map(|at| (at - state.clock.now()).to_std().unwrap_or_default())
        .unwrap_or(SLOW_POLL);
    Next::Wait(wait.clamp(floor, SLOW_POLL))
}

/// Starts this instance's workers.
pub fn start(state: &web::Data<AppState>) {
    let workers = &state.workers;
    workers.spawn(state, delivery::LineDelivery::new(state));
    if let Some(poll) = telegram_poll::TelegramPoll::new(state) {
        workers.spawn(state, poll);
    }
    workers.spawn(state, housekeeping::SilentListeners::new(state));
    match mail::Mail::new(state) {
        Ok(mail) => workers.spawn(state, mail),
        Err(e) => tracing::error!(error = %e, "email transport unavailable; centres' emails wait in the outbox"),
    }
    match webhooks::Webhooks::new(state) {
        Ok(webhooks) => workers.spawn(state, webhooks),
        Err(e) => tracing::error!(error = %e, "webhook client unavailable; partners' messages wait"),
    }
    if let Some(push) = push::Push::new(state) {
        workers.spawn(state, push);
    }
    if !state.settings.housing.inventory_recipients.is_empty() {
        workers.spawn(state, housekeeping::WeeklyInventory);
    }
    workers.spawn(state, housekeeping::LineRound::reminders(state));
    workers.spawn(state, housekeeping::LineRound::queue_places(state));
    workers.spawn(state, Purge::new(state));
}
