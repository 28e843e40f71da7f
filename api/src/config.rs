//! Configuration in layers: defaults in code, then an optional `relais.toml`, then `RELAIS_*`
//! environment variables. Secrets are read here but only as opaque strings handed to
//! `relais_core::crypto::Secrets`; nothing here prints them.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// One machine, nothing configured: secrets generated under the data folder.
    Embedded,
    /// Secrets must be given and strong; demo data is refused.
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

/// A secret value from the configuration: never printed.
#[derive(Clone, Default)]
pub struct SecretString(Option<String>);

impl SecretString {
    pub fn expose(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "[set]" } else { "[unset]" })
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub mode: Mode,
    pub bind: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub database_pool_size: u32,
    pub redis_url: Option<String>,
    /// A read replica for heavy reads (the helpline's statistics); the primary when unset.
    pub database_replica_url: Option<String>,
    pub public_url: Option<String>,
    pub log_format: LogFormat,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    pub access_token_ttl_seconds: i64,
    pub refresh_token_ttl_seconds: i64,
    /// Whether roles that see personal data must pass TOTP (default: on in production).
    pub require_totp: bool,
    pub login_free_failures: i32,
    pub login_lockout_after: i32,
    pub login_lockout_seconds: i64,
    /// Password attempts one client address may make (any email) before it is locked.
    pub login_address_lockout_after: i32,
    /// Wrong one-time codes an account may present before it is locked (apart from passwords).
    pub totp_lockout_after: i32,
    /// The header a trusted reverse proxy sets to the client's address (its last value is
    /// taken); unset: the connection's peer address.
    pub client_address_header: Option<String>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub jwt_key: SecretString,
    pub hmac_pepper: SecretString,
    pub field_key: SecretString,
    pub telegram_token: SecretString,
    pub telegram_api_url: String,
    pub telegram_webhook_secret: SecretString,
    pub twilio_account_sid: Option<String>,
    pub twilio_auth_token: SecretString,
    pub twilio_api_url: String,
    pub twilio_from: Option<String>,
    pub sms_per_second: u32,
    pub sms_max_segments: usize,
    pub helpline_hours: String,
    pub helpline_timezone: String,
    pub helpline_holidays: String,
    pub retention_days: i64,
    pub delivery_max_attempts: i32,
    /// How long a worker owns an outbound message it is sending before another may retry it.
    pub delivery_lease_seconds: u64,
    /// How many conversations a listener may hold at once.
    pub listener_capacity: i64,
    /// A conversation whose listener stays silent this long goes back to the queue.
    pub listener_silence_seconds: i64,
    /// How often waiting people are told their new place when it changed a lot.
    pub queue_place_seconds: u64,
    /// A pending referral untouched this many days shows as stalled.
    pub referral_stall_days: i64,
    /// How often due appointment reminders are looked for.
    pub reminder_seconds: u64,
    /// SMTP server for the centres' notifications (`smtp://host:port`, `smtps://…`); unset:
    /// `.eml` files under the data folder's `mail/`.
    pub smtp_url: SecretString,
    /// The sender of those notifications.
    pub mail_from: String,
    /// How long a closed case is kept before it may be erased.
    pub case_retention_days: i64,
    /// Waits between a partner webhook's attempts; the message is dead after the last.
    pub webhook_retry_seconds: Vec<u64>,
    /// Whether partner webhook endpoints may be plain `http://` (default: embedded mode only).
    pub webhook_allow_http: bool,
    /// Address blocks outbound calls (partner webhooks) may reach although they are special
    /// purpose (loopback, private...): for tests and development only. Empty by default, so a
    /// partner key cannot reach inside the operator's network.
    pub outbound_allow: Vec<crate::outbound::Cidr>,
    /// Requests per minute and client address on the public routes that guess a secret (the
    /// certificate check, web chat session creation, the calendar feed).
    pub rate_limit_guess_per_minute: u32,
    /// Requests per minute and client address on the other public routes.
    pub rate_limit_public_per_minute: u32,
    /// A web chat session unused this long expires (each use extends it).
    pub webchat_session_idle_seconds: i64,
    /// Who receives the national housing inventory every Monday (addresses, comma separated).
    pub inventory_recipients: Vec<String>,
    /// Limits on creating and moving housing offers, and the thresholds of security alerts
    /// (`RELAIS_OFFER_*`, `RELAIS_ALERT_*`, `RELAIS_SECURITY_RECIPIENTS`).
    pub security: relais_core::security::Watch,
    /// Where the audit chain's head is appended as signed lines (default: the data folder's
    /// `audit-anchors.txt`); keep a copy elsewhere.
    pub audit_anchor_file: PathBuf,
    /// How often the head is anchored (when it moved).
    pub audit_anchor_seconds: u64,
    /// Who also receives each anchor line by mail (addresses, comma separated).
    pub audit_anchor_recipients: Vec<String>,
    /// How long a client may take to send a request's headers before it is answered 408 and
    /// closed (slow clients), in milliseconds.
    pub client_request_timeout_ms: u64,
    /// Open connections each worker thread accepts at most.
    pub max_connections: usize,
}

/// The shape of `relais.toml`: every key optional, unknown keys refused.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    mode: Option<Mode>,
    bind: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    database_pool_size: Option<u32>,
    redis_url: Option<String>,
    database_replica_url: Option<String>,
    public_url: Option<String>,
    log_format: Option<LogFormat>,
    body_limit: Option<usize>,
    access_token_ttl_seconds: Option<i64>,
    refresh_token_ttl_seconds: Option<i64>,
    require_totp: Option<bool>,
    login_free_failures: Option<i32>,
    login_lockout_after: Option<i32>,
    login_lockout_seconds: Option<i64>,
    login_address_lockout_after: Option<i32>,
    totp_lockout_after: Option<i32>,
    client_address_header: Option<String>,
    jwt_issuer: Option<String>,
    jwt_audience: Option<String>,
    jwt_key: Option<String>,
    hmac_pepper: Option<String>,
    field_key: Option<String>,
    telegram_token: Option<String>,
    telegram_api_url: Option<String>,
    telegram_webhook_secret: Option<String>,
    twilio_account_sid: Option<String>,
    twilio_auth_token: Option<String>,
    twilio_api_url: Option<String>,
    twilio_from: Option<String>,
    sms_per_second: Option<u32>,
    sms_max_segments: Option<usize>,
    helpline_hours: Option<String>,
    helpline_timezone: Option<String>,
    helpline_holidays: Option<String>,
    retention_days: Option<i64>,
    delivery_max_attempts: Option<i32>,
    delivery_lease_seconds: Option<u64>,
    listener_capacity: Option<i64>,
    listener_silence_seconds: Option<i64>,
    queue_place_seconds: Option<u64>,
    referral_stall_days: Option<i64>,
    reminder_seconds: Option<u64>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    case_retention_days: Option<i64>,
    webhook_retry_seconds: Option<String>,
    webhook_allow_http: Option<bool>,
    outbound_allow: Option<String>,
    rate_limit_guess_per_minute: Option<u32>,
    rate_limit_public_per_minute: Option<u32>,
    webchat_session_idle_seconds: Option<i64>,
    inventory_recipients: Option<String>,
    offer_creates_per_hour: Option<i64>,
    offer_moves_per_day: Option<i64>,
    offer_moves_per_hour: Option<i64>,
    alert_window_seconds: Option<i64>,
    alert_cluster_offers: Option<i64>,
    alert_cluster_km: Option<f64>,
    alert_offer_moves: Option<i64>,
    alert_proposal_changes: Option<i64>,
    alert_refusals: Option<i64>,
    alert_suspend_factor: Option<i64>,
    security_recipients: Option<String>,
    audit_anchor_file: Option<PathBuf>,
    audit_anchor_seconds: Option<u64>,
    audit_anchor_recipients: Option<String>,
    client_request_timeout_ms: Option<u64>,
    max_connections: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} is not valid: {message}")]
    File { path: String, message: String },
    #[error("{name} is not valid: {message}")]
    Env { name: &'static str, message: String },
    #[error("{0}")]
    Invalid(String),
}

fn env_parse<T: std::str::FromStr>(env: &HashMap<String, String>, name: &'static str) -> Result<Option<T>, ConfigError>
where
    T::Err: fmt::Display,
{
    env.get(name)
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            v.trim().parse::<T>().map_err(|e| ConfigError::Env {
                name,
                message: e.to_string(),
            })
        })
        .transpose()
}

/// A retry schedule: waits in seconds, comma separated (`5,300,1800`), 1 to 20 of them, each
/// at most a day.
fn parse_schedule(text: &str) -> Result<Vec<u64>, ConfigError> {
    let invalid = || ConfigError::Env {
        name: "RELAIS_WEBHOOK_RETRY_SECONDS",
        message: "1 to 20 waits in seconds, comma separated, each from 0 to 86400".into(),
    };
    let waits = text
        .split(',')
        .map(|w| w.trim().parse::<u64>().ok().filter(|w| *w <= 86_400))
        .collect::<Option<Vec<u64>>>()
        .ok_or_else(invalid)?;
    if waits.is_empty() || waits.len() > 20 {
        return Err(invalid());
    }
    Ok(waits)
}

fn env_string(env: &HashMap<String, String>, name: &str) -> Option<String> {
    env.get(name).filter(|v| !v.trim().is_empty()).cloned()
}

impl Settings {
    /// Loads from the process environment and `RELAIS_CONFIG` (default `./relais.toml`, if present).
    pub fn load() -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().filter(|(k, _)| k.starts_with("RELAIS_")).collect();
        let explicit = env.get("RELAIS_CONFIG").map(PathBuf::from);
        let path = explicit.clone().unwrap_or_else(|| PathBuf::from("relais.toml"));
        let file = if explicit.is_some() || path.exists() {
            Some(path)
        } else {
            None
        };
        Self::from_sources(file.as_deref(), &env)
    }

    pub fn from_sources(file: Option<&Path>, env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let from_file = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                toml::from_str::<FileSettings>(&text).map_err(|e| ConfigError::File {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?
            }
            None => FileSettings::default(),
        };

        let mode = match env.get("RELAIS_MODE").map(|s| s.trim()) {
            Some("embedded") => Mode::Embedded,
            Some("production") => Mode::Production,
            Some(other) if !other.is_empty() => {
                return Err(ConfigError::Env {
                    name: "RELAIS_MODE",
                    message: format!("{other:?} is neither embedded nor production"),
                });
            }
            _ => from_file.mode.unwrap_or(Mode::Embedded),
        };
        let data_dir = env_string(env, "RELAIS_DATA_DIR")
            .map(PathBuf::from)
            .or(from_file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./var"));
        let database_url = env_string(env, "RELAIS_DATABASE_URL")
            .or(from_file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("relais.sqlite3").display()));
        let log_format = match env.get("RELAIS_LOG_FORMAT").map(|s| s.trim()) {
            Some("json") => LogFormat::Json,
            Some("text") => LogFormat::Text,
            Some(other) if !other.is_empty() => {
                return Err(ConfigError::Env {
                    name: "RELAIS_LOG_FORMAT",
                    message: format!("{other:?} is neither text nor json"),
                });
            }
            _ => from_file.log_format.unwrap_or(if mode == Mode::Production {
                LogFormat::Json
            } else {
                LogFormat::Text
            }),
        };

        let audit_anchor_file = env_string(env, "RELAIS_AUDIT_ANCHOR_FILE")
            .map(PathBuf::from)
            .or(from_file.audit_anchor_file)
            .unwrap_or_else(|| data_dir.join("audit-anchors.txt"));
        let settings = Self {
            client_request_timeout_ms: env_parse(env, "RELAIS_CLIENT_REQUEST_TIMEOUT_MS")?
                .or(from_file.client_request_timeout_ms)
                .unwrap_or(5_000)
                .clamp(100, 60_000),
            max_connections: env_parse(env, "RELAIS_MAX_CONNECTIONS")?
                .or(from_file.max_connections)
                .unwrap_or(5_000)
                .max(1),
            audit_anchor_file,
            audit_anchor_seconds: env_parse(env, "RELAIS_AUDIT_ANCHOR_SECONDS")?
                .or(from_file.audit_anchor_seconds)
                .unwrap_or(3600)
                .max(1),
            audit_anchor_recipients: env_string(env, "RELAIS_AUDIT_ANCHOR_RECIPIENTS")
                .or(from_file.audit_anchor_recipients)
                .map(|list| {
                    list.split(',')
                        .map(|a| a.trim().to_owned())
                        .filter(|a| !a.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            mode,
            bind: env_string(env, "RELAIS_BIND")
                .or(from_file.bind)
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
            data_dir,
            database_url,
            database_pool_size: env_parse(env, "RELAIS_DATABASE_POOL_SIZE")?
                .or(from_file.database_pool_size)
                .unwrap_or(8),
            redis_url: env_string(env, "RELAIS_REDIS_URL").or(from_file.redis_url),
            database_replica_url: env_string(env, "RELAIS_DATABASE_REPLICA_URL").or(from_file.database_replica_url),
            public_url: env_string(env, "RELAIS_PUBLIC_URL").or(from_file.public_url),
            log_format,
            body_limit: env_parse(env, "RELAIS_BODY_LIMIT")?
                .or(from_file.body_limit)
                .unwrap_or(64 * 1024),
            access_token_ttl_seconds: env_parse(env, "RELAIS_ACCESS_TOKEN_TTL_SECONDS")?
                .or(from_file.access_token_ttl_seconds)
                .unwrap_or(600),
            refresh_token_ttl_seconds: env_parse(env, "RELAIS_REFRESH_TOKEN_TTL_SECONDS")?
                .or(from_file.refresh_token_ttl_seconds)
                .unwrap_or(12 * 3600),
            require_totp: env_parse(env, "RELAIS_REQUIRE_TOTP")?
                .or(from_file.require_totp)
                .unwrap_or(mode == Mode::Production),
            login_free_failures: env_parse(env, "RELAIS_LOGIN_FREE_FAILURES")?
                .or(from_file.login_free_failures)
                .unwrap_or(3),
            login_lockout_after: env_parse(env, "RELAIS_LOGIN_LOCKOUT_AFTER")?
                .or(from_file.login_lockout_after)
                .unwrap_or(10),
            login_lockout_seconds: env_parse(env, "RELAIS_LOGIN_LOCKOUT_SECONDS")?
                .or(from_file.login_lockout_seconds)
                .unwrap_or(900),
            login_address_lockout_after: env_parse(env, "RELAIS_LOGIN_ADDRESS_LOCKOUT_AFTER")?
                .or(from_file.login_address_lockout_after)
                .unwrap_or(50),
            totp_lockout_after: env_parse(env, "RELAIS_TOTP_LOCKOUT_AFTER")?
                .or(from_file.totp_lockout_after)
                .unwrap_or(5),
            client_address_header: env_string(env, "RELAIS_CLIENT_ADDRESS_HEADER").or(from_file.client_address_header),
            jwt_issuer: env_string(env, "RELAIS_JWT_ISSUER")
                .or(from_file.jwt_issuer)
                .unwrap_or_else(|| "relais".into()),
            jwt_audience: env_string(env, "RELAIS_JWT_AUDIENCE")
                .or(from_file.jwt_audience)
                .unwrap_or_else(|| "relais-api".into()),
            jwt_key: SecretString(env_string(env, "RELAIS_JWT_KEY").or(from_file.jwt_key)),
            hmac_pepper: SecretString(env_string(env, "RELAIS_HMAC_PEPPER").or(from_file.hmac_pepper)),
            field_key: SecretString(env_string(env, "RELAIS_FIELD_KEY").or(from_file.field_key)),
            telegram_token: SecretString(env_string(env, "RELAIS_TELEGRAM_TOKEN").or(from_file.telegram_token)),
            telegram_api_url: env_string(env, "RELAIS_TELEGRAM_API_URL")
                .or(from_file.telegram_api_url)
                .unwrap_or_else(|| "https://api.telegram.org".into()),
            telegram_webhook_secret: SecretString(
                env_string(env, "RELAIS_TELEGRAM_WEBHOOK_SECRET").or(from_file.telegram_webhook_secret),
            ),
            twilio_account_sid: env_string(env, "RELAIS_TWILIO_ACCOUNT_SID").or(from_file.twilio_account_sid),
            twilio_auth_token: SecretString(
                env_string(env, "RELAIS_TWILIO_AUTH_TOKEN").or(from_file.twilio_auth_token),
            ),
            twilio_api_url: env_string(env, "RELAIS_TWILIO_API_URL")
                .or(from_file.twilio_api_url)
                .unwrap_or_else(|| "https://api.twilio.com".into()),
            twilio_from: env_string(env, "RELAIS_TWILIO_FROM").or(from_file.twilio_from),
            sms_per_second: env_parse(env, "RELAIS_SMS_PER_SECOND")?
                .or(from_file.sms_per_second)
                .unwrap_or(1),
            sms_max_segments: env_parse(env, "RELAIS_SMS_MAX_SEGMENTS")?
                .or(from_file.sms_max_segments)
                .unwrap_or(3),
            helpline_hours: env_string(env, "RELAIS_HELPLINE_HOURS")
                .or(from_file.helpline_hours)
                .unwrap_or_else(|| "mon-sun 09:00-19:00".into()),
            helpline_timezone: env_string(env, "RELAIS_HELPLINE_TIMEZONE")
                .or(from_file.helpline_timezone)
                .unwrap_or_else(|| "Europe/Paris".into()),
            helpline_holidays: env_string(env, "RELAIS_HELPLINE_HOLIDAYS")
                .or(from_file.helpline_holidays)
                .unwrap_or_default(),
            retention_days: env_parse(env, "RELAIS_RETENTION_DAYS")?
                .or(from_file.retention_days)
                .unwrap_or(90),
            delivery_max_attempts: env_parse(env, "RELAIS_DELIVERY_MAX_ATTEMPTS")?
                .or(from_file.delivery_max_attempts)
                .unwrap_or(8),
            delivery_lease_seconds: env_parse(env, "RELAIS_DELIVERY_LEASE_SECONDS")?
                .or(from_file.delivery_lease_seconds)
                .unwrap_or(60),
            listener_capacity: env_parse(env, "RELAIS_LISTENER_CAPACITY")?
                .or(from_file.listener_capacity)
                .unwrap_or(3),
            listener_silence_seconds: env_parse(env, "RELAIS_LISTENER_SILENCE_SECONDS")?
                .or(from_file.listener_silence_seconds)
                .unwrap_or(600),
            queue_place_seconds: env_parse(env, "RELAIS_QUEUE_PLACE_SECONDS")?
                .or(from_file.queue_place_seconds)
                .unwrap_or(20)
                .max(1),
            referral_stall_days: env_parse(env, "RELAIS_REFERRAL_STALL_DAYS")?
                .or(from_file.referral_stall_days)
                .unwrap_or(7)
                .max(1),
            reminder_seconds: env_parse(env, "RELAIS_REMINDER_SECONDS")?
                .or(from_file.reminder_seconds)
                .unwrap_or(60)
                .max(1),
            smtp_url: SecretString(env_string(env, "RELAIS_SMTP_URL").or(from_file.smtp_url)),
            mail_from: env_string(env, "RELAIS_MAIL_FROM")
                .or(from_file.mail_from)
                .unwrap_or_else(|| "Relais <no-reply@relais.invalid>".into()),
            case_retention_days: env_parse(env, "RELAIS_CASE_RETENTION_DAYS")?
                .or(from_file.case_retention_days)
                .unwrap_or(5 * 365 + 1),
            webhook_retry_seconds: parse_schedule(
                &env_string(env, "RELAIS_WEBHOOK_RETRY_SECONDS")
                    .or(from_file.webhook_retry_seconds)
                    .unwrap_or_else(|| "5,300,1800,7200,18000,36000,36000".into()),
            )?,
            webhook_allow_http: env_parse(env, "RELAIS_WEBHOOK_ALLOW_HTTP")?
                .or(from_file.webhook_allow_http)
                .unwrap_or(mode == Mode::Embedded),
            outbound_allow: env_string(env, "RELAIS_OUTBOUND_ALLOW")
                .or(from_file.outbound_allow)
                .map(|list| {
                    list.split(',')
                        .filter(|c| !c.trim().is_empty())
                        .map(str::parse)
                        .collect::<Result<Vec<_>, String>>()
                        .map_err(|message| ConfigError::Env {
                            name: "RELAIS_OUTBOUND_ALLOW",
                            message,
                        })
                })
                .transpose()?
                .unwrap_or_default(),
            rate_limit_guess_per_minute: env_parse(env, "RELAIS_RATE_LIMIT_GUESS_PER_MINUTE")?
                .or(from_file.rate_limit_guess_per_minute)
                .unwrap_or(30),
            rate_limit_public_per_minute: env_parse(env, "RELAIS_RATE_LIMIT_PUBLIC_PER_MINUTE")?
                .or(from_file.rate_limit_public_per_minute)
                .unwrap_or(600),
            webchat_session_idle_seconds: env_parse(env, "RELAIS_WEBCHAT_SESSION_IDLE_SECONDS")?
                .or(from_file.webchat_session_idle_seconds)
                .unwrap_or(12 * 3600),
            inventory_recipients: env_string(env, "RELAIS_INVENTORY_RECIPIENTS")
                .or(from_file.inventory_recipients)
                .map(|list| {
                    list.split(',')
                        .map(|a| a.trim().to_owned())
                        .filter(|a| !a.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            security: {
                let d = relais_core::security::Watch::default();
                relais_core::security::Watch {
                    offer_creates_per_hour: env_parse(env, "RELAIS_OFFER_CREATES_PER_HOUR")?
                        .or(from_file.offer_creates_per_hour)
                        .unwrap_or(d.offer_creates_per_hour),
                    offer_moves_per_day: env_parse(env, "RELAIS_OFFER_MOVES_PER_DAY")?
                        .or(from_file.offer_moves_per_day)
                        .unwrap_or(d.offer_moves_per_day),
                    offer_moves_per_hour: env_parse(env, "RELAIS_OFFER_MOVES_PER_HOUR")?
                        .or(from_file.offer_moves_per_hour)
                        .unwrap_or(d.offer_moves_per_hour),
                    window_seconds: env_parse(env, "RELAIS_ALERT_WINDOW_SECONDS")?
                        .or(from_file.alert_window_seconds)
                        .unwrap_or(d.window_seconds),
                    cluster_offers: env_parse(env, "RELAIS_ALERT_CLUSTER_OFFERS")?
                        .or(from_file.alert_cluster_offers)
                        .unwrap_or(d.cluster_offers),
                    cluster_km: env_parse(env, "RELAIS_ALERT_CLUSTER_KM")?
                        .or(from_file.alert_cluster_km)
                        .unwrap_or(d.cluster_km),
                    offer_moves: env_parse(env, "RELAIS_ALERT_OFFER_MOVES")?
                        .or(from_file.alert_offer_moves)
                        .unwrap_or(d.offer_moves),
                    proposal_changes: env_parse(env, "RELAIS_ALERT_PROPOSAL_CHANGES")?
                        .or(from_file.alert_proposal_changes)
                        .unwrap_or(d.proposal_changes),
                    refusals: env_parse(env, "RELAIS_ALERT_REFUSALS")?
                        .or(from_file.alert_refusals)
                        .unwrap_or(d.refusals),
                    suspend_factor: env_parse(env, "RELAIS_ALERT_SUSPEND_FACTOR")?
                        .or(from_file.alert_suspend_factor)
                        .unwrap_or(d.suspend_factor),
                    recipients: env_string(env, "RELAIS_SECURITY_RECIPIENTS")
                        .or(from_file.security_recipients)
                        .map(|list| {
                            list.split(',')
                                .map(|a| a.trim().to_owned())
                                .filter(|a| !a.is_empty())
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            },
        };
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if !(30..=3600).contains(&self.access_token_ttl_seconds) {
            return Err(ConfigError::Invalid(
                "access_token_ttl_seconds must be between 30 and 3600".into(),
            ));
        }
        if !(60..=30 * 86_400).contains(&self.refresh_token_ttl_seconds) {
            return Err(ConfigError::Invalid(
                "refresh_token_ttl_seconds must be between 60 and 2592000".into(),
            ));
        }
        if !(1_024..=64 * 1024 * 1024).contains(&self.body_limit) {
            return Err(ConfigError::Invalid(
                "body_limit must be between 1 KiB and 64 MiB".into(),
            ));
        }
        if relais_bots::hours::Hours::parse(&self.helpline_hours, &self.helpline_timezone, &self.helpline_holidays)
            .is_err()
        {
            let detail = relais_bots::hours::Hours::parse(
                &self.helpline_hours,
                &self.helpline_timezone,
                &self.helpline_holidays,
            )
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
            return Err(ConfigError::Invalid(detail));
        }
        if self.retention_days < 1 || self.delivery_max_attempts < 1 || self.sms_max_segments < 1 {
            return Err(ConfigError::Invalid(
                "retention_days, delivery_max_attempts and sms_max_segments must be positive".into(),
            ));
        }
        if self.twilio_account_sid.is_some() != self.twilio_auth_token.expose().is_some() {
            return Err(ConfigError::Invalid(
                "RELAIS_TWILIO_ACCOUNT_SID and RELAIS_TWILIO_AUTH_TOKEN go together".into(),
            ));
        }
        if self.twilio_account_sid.is_some() && (self.twilio_from.is_none() || self.public_url.is_none()) {
            return Err(ConfigError::Invalid(
                "SMS needs RELAIS_TWILIO_FROM and RELAIS_PUBLIC_URL (webhook signatures cover the public URL)".into(),
            ));
        }
        if !(1..=36_500).contains(&self.case_retention_days) {
            return Err(ConfigError::Invalid(
                "case_retention_days must be between 1 and 36500".into(),
            ));
        }
        if self
            .inventory_recipients
            .iter()
            .any(|a| !a.contains('@') || a.contains(char::is_whitespace))
        {
            return Err(ConfigError::Invalid(
                "RELAIS_INVENTORY_RECIPIENTS: email addresses separated by commas".into(),
            ));
        }
        if self.rate_limit_guess_per_minute == 0 || self.rate_limit_public_per_minute == 0 {
            return Err(ConfigError::Invalid("rate limits must be at least 1 a minute".into()));
        }
        if !(60..=30 * 86_400).contains(&self.webchat_session_idle_seconds) {
            return Err(ConfigError::Invalid(
                "webchat_session_idle_seconds must be between 60 and 2592000".into(),
            ));
        }
        if self
            .audit_anchor_recipients
            .iter()
            .any(|a| !a.contains('@') || a.contains(char::is_whitespace))
        {
            return Err(ConfigError::Invalid(
                "RELAIS_AUDIT_ANCHOR_RECIPIENTS: email addresses separated by commas".into(),
            ));
        }
        if self
            .security
            .recipients
            .iter()
            .any(|a| !a.contains('@') || a.contains(char::is_whitespace))
        {
            return Err(ConfigError::Invalid(
                "RELAIS_SECURITY_RECIPIENTS: email addresses separated by commas".into(),
            ));
        }
        let w = &self.security;
        if [
            w.offer_creates_per_hour,
            w.offer_moves_per_day,
            w.offer_moves_per_hour,
            w.window_seconds,
            w.cluster_offers,
            w.offer_moves,
            w.proposal_changes,
            w.refusals,
            w.suspend_factor,
        ]
        .iter()
        .any(|v| *v < 1)
            || !(w.cluster_km > 0.0 && w.cluster_km <= 1000.0)
        {
            return Err(ConfigError::Invalid(
                "RELAIS_OFFER_* and RELAIS_ALERT_* must be positive (RELAIS_ALERT_CLUSTER_KM up to 1000)".into(),
            ));
        }
        if self.database_pool_size == 0 {
            return Err(ConfigError::Invalid("database_pool_size must be at least 1".into()));
        }
        if self.login_lockout_after < 1
            || self.login_free_failures < 0
            || self.login_lockout_seconds < 1
            || self.login_address_lockout_after < 1
            || self.totp_lockout_after < 1
        {
            return Err(ConfigError::Invalid(
                "login throttling settings must be positive".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_serve_locally_on_sqlite() {
        let s = Settings::from_sources(None, &env(&[])).expect("defaults are valid");
        assert_eq!(s.mode, Mode::Embedded);
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert!(s.database_url.starts_with("sqlite://"));
        assert!(!s.require_totp);
    }

    #[test]
    fn environment_overrides_file_which_overrides_defaults() {
        let dir = std::env::temp_dir().join(format!("relais-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("relais.toml");
        std::fs::write(&path, "bind = \"0.0.0.0:9000\"\nbody_limit = 4096\n").expect("write");
        let s = Settings::from_sources(Some(&path), &env(&[("RELAIS_BIND", "127.0.0.1:9999")])).expect("valid");
        assert_eq!(s.bind, "127.0.0.1:9999");
        assert_eq!(s.body_limit, 4096);
        std::fs::write(&path, "bindd = 1\n").expect("write");
        assert!(Settings::from_sources(Some(&path), &env(&[])).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn production_requires_totp_by_default_and_rejects_bad_values() {
        let s = Settings::from_sources(None, &env(&[("RELAIS_MODE", "production")])).expect("valid");
        assert!(s.require_totp);
        assert!(Settings::from_sources(None, &env(&[("RELAIS_MODE", "prod")])).is_err());
        assert!(Settings::from_sources(None, &env(&[("RELAIS_BODY_LIMIT", "lots")])).is_err());
        assert!(
            format!(
                "{:?}",
                Settings::from_sources(None, &env(&[("RELAIS_JWT_KEY", "c2VjcmV0")]))
            )
            .contains("[set]")
        );
        assert!(
            !format!(
                "{:?}",
                Settings::from_sources(None, &env(&[("RELAIS_JWT_KEY", "c2VjcmV0")]))
            )
            .contains("c2VjcmV0")
        );
    }
}
