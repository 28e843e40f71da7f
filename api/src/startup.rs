//! Builds the application from settings: secrets, database (migrated), reference data,
//! then the HTTP server on its listener. Tests start it on port 0 exactly like `serve`.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use relais_core::crypto::{Secrets, secrets::SecretSources};
use relais_core::db::{DatabaseUrl, Db};
use relais_core::geo::Geography;

use crate::auth::tokens::TokenKeys;
use crate::config::{Mode, Settings};
use crate::line::Line;
use crate::metrics::Metrics;
use crate::middleware::observe;
use crate::routes;
use crate::state::AppState;

/// Everything the server needs before it listens; also used by the command line.
pub struct Prepared {
    pub database: Db,
    pub secrets: Secrets,
    pub geo: Geography,
    pub migrations_applied: usize,
}

/// Loads secrets, connects and migrates the database, loads the reference geography.
/// Blocking.
pub fn prepare(settings: &Settings) -> anyhow::Result<Prepared> {
    let Storage {
        database,
        secrets,
        migrations_applied,
    } = prepare_storage(settings)?;
    let geo = Geography::load()?;
    // Index the commune contours now, not on the first offer written.
    relais_core::geo::contours::load();
    Ok(Prepared {
        database,
        secrets,
        geo,
        migrations_applied,
    })
}

/// The keys and the migrated database, without the reference data: for the commands that
/// only touch storage (audit, rotate-keys).
pub struct Storage {
    pub database: Db,
    pub secrets: Secrets,
    pub migrations_applied: usize,
}

pub fn prepare_storage(settings: &Settings) -> anyhow::Result<Storage> {
    let embedded = settings.server.mode == Mode::Embedded;
    if embedded {
        std::fs::create_dir_all(&settings.server.data_dir)
            .with_context(|| format!("cannot create the data folder {}", settings.server.data_dir.display()))?;
        restrict_permissions(&settings.server.data_dir)?;
    }
    let secrets = load_secrets(settings, embedded)?;
    let url = DatabaseUrl::parse(&settings.database.url)?;
    let database = Db::connect(&url, settings.database.pool_size)?;
    let migrations_applied = database.migrate()?;
    Ok(Storage {
        database,
        secrets,
        migrations_applied,
    })
}

/// The instance's keys, from the configuration or the data folder; `generate` creates missing
/// ones (embedded mode on first start).
pub fn load_secrets(settings: &Settings, generate: bool) -> anyhow::Result<Secrets> {
    let sources = SecretSources {
        data_dir: &settings.server.data_dir,
        jwt_key: crate::config::exposed(&settings.keys.jwt),
        hmac_pepper: crate::config::exposed(&settings.keys.hmac_pepper),
        field_key: crate::config::exposed(&settings.keys.field),
    };
    Secrets::load(&sources, generate).map_err(|e| {
        if settings.server.mode == Mode::Embedded {
            anyhow::anyhow!(e)
        } else {
            anyhow::anyhow!("production mode refuses to start: {e}")
        }
    })
}

#[cfg(unix)]
fn restrict_permissions(dir: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot restrict permissions of {}", dir.display()))
}

#[cfg(not(unix))]
fn restrict_permissions(_dir: &std::path::Path) -> anyhow::Result<()> {
    Ok(())
}

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let for_prepare = settings.clone();
        let prepared = tokio::task::spawn_blocking(move || prepare(&for_prepare)).await??;
        Self::from_prepared(settings, prepared).await
    }

    pub async fn from_prepared(settings: Settings, prepared: Prepared) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.server.bind)
            .with_context(|| format!("cannot listen on {}", settings.server.bind))?;
        let port = listener.local_addr()?.port();
        let tokens = TokenKeys::new(
            &prepared.secrets.jwt_key,
            &settings.auth.jwt_issuer,
            &settings.auth.jwt_audience,
            settings.auth.access_token_ttl_seconds,
        );
        let body_limit = settings.server.body_limit;
        let client_request_timeout_ms = settings.server.client_request_timeout_ms;
        let max_connections = settings.server.max_connections;
        let geo = Arc::new(prepared.geo);
        let line = Line::build(&settings, &prepared.secrets, geo.clone())?;
        let live = crate::live::LiveHub::start(
            prepared.database.clone(),
            settings.database.redis_url.as_deref(),
            line.webchat.clone(),
            prepared.secrets.clone(),
        )
        .await
        .context("cannot start live events (is RELAIS_REDIS_URL reachable?)")?;
        let replica = match &settings.database.replica_url {
            Some(url) => Some(connect_replica(url, settings.database.pool_size).await?),
            None => None,
        };
        let workers = crate::workers::Workers::new(crate::workers::Wakers {
            line: line.wake.clone(),
            ..Default::default()
        });
        let geocoder = crate::geocoder::Geocoder::new(settings.geocoder.url.as_deref()).map_err(anyhow::Error::msg)?;
        let pusher = match crate::push::vapid::Vapid::load(&settings)? {
            Some(vapid) => Some(Arc::new(crate::push::Pusher::new(
                vapid,
                settings.push.services.clone(),
                settings.webhooks.allow_http,
                crate::outbound::Policy {
                    allow: settings.webhooks.outbound_allow.clone(),
                },
            )?)),
            None => None,
        };
        let state = web::Data::new(AppState {
            pusher,
            geocoder,
            settings,
            database: prepared.database,
            replica,
            geo,
            secrets: prepared.secrets,
            tokens,
            metrics: Arc::new(Metrics::default()),
            line,
            live,
            housing_index: Arc::default(),
            clock: relais_core::time::Clock::default(),
            workers,
        });
        crate::workers::start(&state);
        crate::anchor::start(&state);
        let shared = state.clone();
        let limiter = web::Data::new(crate::rate_limit::RateLimiter::new(&state.settings));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .app_data(limiter.clone())
                .wrap(from_fn(crate::rate_limit::limit))
                .wrap(from_fn(crate::deprecation::announce))
                .wrap(
                    DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("Referrer-Policy", "no-referrer"))
                        .add(("Cache-Control", "no-store")),
                )
                .wrap(from_fn(observe))
                .configure(|cfg| routes::configure(cfg, body_limit))
                .default_service(web::to(routes::not_found))
        })
        .client_request_timeout(std::time::Duration::from_millis(client_request_timeout_ms))
        .max_connections(max_connections)
        .listen(listener)?
        .shutdown_timeout(10)
        .run();
        Ok(Self { port, server, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until the server stops (SIGTERM, SIGINT), then stops the workers: each
    /// finishes its step or hands its claims back.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.state.workers.shutdown(std::time::Duration::from_secs(20)).await;
        tracing::info!("stopped");
        served
    }
}

/// Connects the read replica and checks that it holds the schema (a replica is migrated
/// by its primary, never by us).
async fn connect_replica(url: &str, pool_size: u32) -> anyhow::Result<Db> {
    let parsed = DatabaseUrl::parse(url).context("RELAIS_DATABASE_REPLICA_URL")?;
    let replica = Db::connect(&parsed, pool_size).context("cannot connect to the read replica")?;
    let probe = replica.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = probe.get()?;
        relais_core::helpline::events::latest(&mut conn)
            .map(|_| ())
            .map_err(|_| anyhow::anyhow!("the read replica has no Relais schema: point RELAIS_DATABASE_REPLICA_URL at a replica of the primary"))
    })
    .await??;
    Ok(replica)
}
