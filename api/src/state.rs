//! What every handler shares, and the bridge from async handlers to blocking storage.

use std::sync::Arc;

use relais_core::crypto::Secrets;
use relais_core::db::{Db, DbConn};
use relais_core::geo::Geography;
use relais_core::time::Clock;

use crate::auth::tokens::TokenKeys;
use crate::config::Settings;
use crate::line::Line;
use crate::metrics::Metrics;
use crate::problem::ApiError;
use crate::workers::Workers;

pub struct AppState {
    pub settings: Settings,
    pub database: Db,
    /// A read replica for heavy reads, when configured.
    pub replica: Option<Db>,
    pub geo: Arc<Geography>,
    pub secrets: Secrets,
    pub tokens: TokenKeys,
    pub metrics: Arc<Metrics>,
    pub line: Line,
    pub live: crate::live::LiveHub,
    /// This instance's housing offer index (rebuilt when an offer changes anywhere).
    pub housing_index: Arc<relais_core::housing::proposals::IndexCache>,
    /// The server's clock: every deadline reads it (tests move it forward).
    pub clock: Clock,
    /// The background workers of this instance, and their wakers.
    pub workers: Workers,
    /// Address search (off when `RELAIS_GEOCODER_URL` is unset).
    pub geocoder: crate::geocoder::Geocoder,
    /// Notifications to staff devices (off without a VAPID key: production without
    /// `RELAIS_VAPID_KEY`).
    pub pusher: Option<Arc<crate::push::Pusher>>,
}

impl AppState {
    /// When a pending referral shows as stalled, by the server's clock now.
    pub fn referral_stall(&self) -> relais_core::centres::referrals::Stall {
        relais_core::centres::referrals::Stall {
            after: chrono::Duration::days(self.settings.centres.referral_stall_days),
            now: self.clock.now(),
        }
    }

    /// The public URL people reach this service at, without a trailing slash.
    pub fn public_base(&self) -> String {
        self.settings
            .server
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.settings.server.bind))
            .trim_end_matches('/')
            .to_owned()
    }

    /// Runs a storage function on the blocking pool, keeping the request's tracing span.
    pub async fn db<T, E, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        self.run_on(self.database.clone(), f).await
    }

    /// As [`db`](Self::db), for storage functions that need the keys (sealed fields, keyed
    /// lookups): they get this instance's secrets beside the connection.
    pub async fn db_sealed<T, E, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn, &Secrets) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        let secrets = self.secrets.clone();
        self.db(move |conn| f(conn, &secrets)).await
    }

    /// As [`db`](Self::db), on the read replica when there is one: for heavy reads that may
    /// lag the primary by a little (statistics). Never for a read that follows a write.
    pub async fn read_replica<T, E, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        let database = self.replica.clone().unwrap_or_else(|| self.database.clone());
        self.run_on(database, f).await
    }

    async fn run_on<T, E, F>(&self, database: Db, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        let span = tracing::Span::current();
        let clock = self.clock.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            // Core reads this instance's clock for every stamp and deadline of this work.
            let result = clock.run(|| match database.get() {
                Ok(mut conn) => f(&mut conn).map_err(Into::into),
                Err(e) => Err(ApiError::Unavailable(e.to_string())),
            });
            // Its transaction is over: the outboxes it wrote to wake their workers now.
            (result, relais_core::outbox::take_enqueued())
        })
        .await;
        match joined {
            Ok((result, enqueued)) => {
                self.workers.wakers.wake(&enqueued);
                result
            }
            Err(e) => Err(ApiError::Internal(format!("storage task failed: {e}"))),
        }
    }
}
