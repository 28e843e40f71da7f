//! Configuration in layers: defaults in code, then an optional `relais.toml`, then `RELAIS_*`
//! environment variables. Every key is declared once below, in its section, with its type, its
//! variable, its default and its doc; the README's tables are rendered from these
//! declarations (`relais config docs`) and a test keeps the two equal. Secrets are held as
//! `secrecy::SecretString` and handed on as opaque strings; nothing here prints them.

pub mod declare;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use relais_bots::hours::Hours;
use secrecy::SecretString;

use declare::{Value, addresses, at_least_one, settings};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One machine, nothing configured: secrets generated under the data folder.
    Embedded,
    /// Secrets must be given and strong; demo data is refused.
    Production,
}

impl Value for Mode {
    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "embedded" => Ok(Self::Embedded),
            "production" => Ok(Self::Production),
            other => Err(format!("{other:?} is neither embedded nor production")),
        }
    }
    fn show(&self) -> String {
        match self {
            Self::Embedded => "`embedded`".into(),
            Self::Production => "`production`".into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl Value for LogFormat {
    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("{other:?} is neither text nor json")),
        }
    }
    fn show(&self) -> String {
        match self {
            Self::Text => "`text`".into(),
            Self::Json => "`json`".into(),
        }
    }
}

/// A retry schedule: waits in seconds, comma separated (`5,300,1800`), 1 to 20 of them, each
/// at most a day.
fn schedule(text: &str) -> Result<Vec<u64>, String> {
    let invalid = || "1 to 20 waits in seconds, comma separated, each from 0 to 86400".to_owned();
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

/// Host names, comma separated, lower-cased (no scheme, port or path).
fn host_names(text: &str) -> Result<Vec<String>, String> {
    let list = Vec::<String>::parse(text)?;
    let valid = |h: &String| {
        !h.is_empty() && h.len() <= 253 && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    };
    if !list.iter().all(valid) {
        return Err("host names separated by commas (such as fcm.googleapis.com)".into());
    }
    Ok(list.into_iter().map(|h| h.to_ascii_lowercase()).collect())
}

fn production(mode: Mode) -> bool {
    mode == Mode::Production
}

settings! {
    /// The instance
    server: Server {
        /// `embedded`: secrets generated under the data folder on first start, demo data on
        /// first start. `production`: refuses to start if a secret is missing or weak, requires
        /// TOTP by default, JSON logs, no demo
        mode: Mode = "RELAIS_MODE", default Mode::Embedded;
        /// Address and port to serve on
        bind: String = "RELAIS_BIND", default "127.0.0.1:8080".into();
        /// Data folder (SQLite file, generated secrets), created with mode 0700
        data_dir: PathBuf = "RELAIS_DATA_DIR", default PathBuf::from("./var");
        /// The external base URL, used to verify signed webhooks
        public_url: Option<String> = "RELAIS_PUBLIC_URL";
        /// Log format on standard error; `RELAIS_LOG` filters (e.g. `debug`)
        log_format: LogFormat = "RELAIS_LOG_FORMAT",
            default if production(mode) { LogFormat::Json } else { LogFormat::Text },
            shown "`text` embedded, `json` production";
        /// Largest request body in bytes (413 beyond)
        body_limit: usize = "RELAIS_BODY_LIMIT", default 64 * 1024;
        /// Behind a reverse proxy: the header it sets to the client's address (e.g.
        /// `X-Forwarded-For`, last value taken); unset, the peer address
        client_address_header: Option<String> = "RELAIS_CLIENT_ADDRESS_HEADER";
        /// Requests a minute one client address may make to the public routes that guess a
        /// secret: the certificate check, web chat session creation, the calendar feed (then
        /// 429 with `Retry-After`)
        rate_limit_guess_per_minute: u32 = "RELAIS_RATE_LIMIT_GUESS_PER_MINUTE", default 30;
        /// Requests a minute one client address may make to the other public routes
        /// (geography, directory, web chat, the app's files, the live socket's handshake)
        rate_limit_public_per_minute: u32 = "RELAIS_RATE_LIMIT_PUBLIC_PER_MINUTE", default 600;
        /// How long a client may take to send a request's headers before it is answered 408
        /// and closed (slow clients), in milliseconds (100 to 60000)
        client_request_timeout_ms: u64 = "RELAIS_CLIENT_REQUEST_TIMEOUT_MS", default 5_000;
        /// How long a WebSocket (`/v1/live`, `/chat/ws`) may take to send its first frame, the
        /// one that says who it is, before it is closed, in milliseconds (100 to 60000)
        socket_hello_timeout_ms: u64 = "RELAIS_SOCKET_HELLO_TIMEOUT_MS", default 10_000;
        /// Open connections each worker thread accepts at most
        max_connections: usize = "RELAIS_MAX_CONNECTIONS", default 5_000, parse at_least_one;
    }

    /// The database and Redis
    database: Database {
        /// `sqlite://path` or `postgres://user:password@host/db`
        url: String = "RELAIS_DATABASE_URL",
            default format!("sqlite://{}", server.data_dir.join("relais.sqlite3").display()),
            shown "`sqlite://$RELAIS_DATA_DIR/relais.sqlite3`";
        /// Connections per instance
        pool_size: u32 = "RELAIS_DATABASE_POOL_SIZE", default 8;
        /// A read replica (same backend, migrated by the primary) for the helpline's
        /// statistics; unset, the primary
        replica_url: Option<String> = "RELAIS_DATABASE_REPLICA_URL";
        /// Redis, when several instances serve: live events are signalled across instances
        /// through it, and listeners' presence is kept there; unset, in-process
        redis_url: Option<String> = "RELAIS_REDIS_URL";
    }

    /// Keys
    ///
    /// Each is the base64 of at least 32 random bytes (`openssl rand -base64 48`). Unset in
    /// embedded mode, they are generated in `$RELAIS_DATA_DIR/secrets/`; in production they
    /// may also be the files `jwt.key`, `hmac_pepper.key`, `field.key` there.
    keys: Keys {
        /// The access-token signing key
        jwt: Option<SecretString> = "RELAIS_JWT_KEY";
        /// The pepper of keyed lookups
        hmac_pepper: Option<SecretString> = "RELAIS_HMAC_PEPPER";
        /// The field-encryption key
        field: Option<SecretString> = "RELAIS_FIELD_KEY";
    }

    /// Staff sign-in
    auth: Auth {
        /// Whether roles that see personal data must pass a TOTP second factor
        require_totp: bool = "RELAIS_REQUIRE_TOTP",
            default production(server.mode),
            shown "`false` embedded, `true` production";
        /// Lifetime of access tokens (30 to 3600)
        access_token_ttl_seconds: i64 = "RELAIS_ACCESS_TOKEN_TTL_SECONDS", default 600;
        /// Lifetime of each refresh token (rotated at every use)
        refresh_token_ttl_seconds: i64 = "RELAIS_REFRESH_TOKEN_TTL_SECONDS", default 12 * 3600;
        /// Checked in every access token
        jwt_issuer: String = "RELAIS_JWT_ISSUER", default "relais".into();
        /// Checked in every access token
        jwt_audience: String = "RELAIS_JWT_AUDIENCE", default "relais-api".into();
        /// Failed logins before each further attempt must wait (1 s, 2 s, 4 s … 64 s)
        login_free_failures: i32 = "RELAIS_LOGIN_FREE_FAILURES", default 3;
        /// Login attempts in a row (counted before the password is checked) that lock the email
        /// for `RELAIS_LOGIN_LOCKOUT_SECONDS`, doubled for each lock in the last day (at most
        /// 24 h); failing while locked never lifts the lock
        login_lockout_after: i32 = "RELAIS_LOGIN_LOCKOUT_AFTER", default 10;
        /// How long the first lock lasts
        login_lockout_seconds: i64 = "RELAIS_LOGIN_LOCKOUT_SECONDS", default 900;
        /// Login attempts from one client address (any email) that lock that address the same
        /// way (half of them free, then waits)
        login_address_lockout_after: i32 = "RELAIS_LOGIN_ADDRESS_LOCKOUT_AFTER", default 50;
        /// Wrong one-time codes that lock an account's second factor (counted apart from
        /// passwords)
        totp_lockout_after: i32 = "RELAIS_TOTP_LOCKOUT_AFTER", default 5;
    }

    /// The text line (every channel)
    text_line: TextLine {
        /// Anonymous conversations that led to nothing are erased after this many days without
        /// a message
        retention_days: i64 = "RELAIS_RETENTION_DAYS", default 90;
        /// Tries before an outbound message is marked failed (a provider's 429 does not count);
        /// waits double from 1 s up to 10 minutes, so 30 tries ride out about 3.5 hours of a
        /// provider's outage
        delivery_max_attempts: i32 = "RELAIS_DELIVERY_MAX_ATTEMPTS", default 30;
        /// How long a worker owns a message it is sending; after a crash, another worker
        /// retries it once this has passed
        delivery_lease_seconds: u64 = "RELAIS_DELIVERY_LEASE_SECONDS", default 60;
        /// A web chat session unused this long (43200: 12 h) expires (each use extends it); the
        /// page then starts a new chat
        webchat_session_idle_seconds: i64 = "RELAIS_WEBCHAT_SESSION_IDLE_SECONDS", default 12 * 3600;
        /// How often people waiting are told their new place in the queue, when it changed a
        /// lot (next in line, halved, or moved by 5 or more)
        queue_place_seconds: u64 = "RELAIS_QUEUE_PLACE_SECONDS", default 20, parse at_least_one;
        /// Days a sent or failed outbound message (its text sealed) is kept (1 to 36500)
        outbox_purge_days: i64 = "RELAIS_OUTBOX_PURGE_DAYS", default 30;
    }

    /// Telegram
    telegram: Telegram {
        /// The bot's token from @BotFather; unset, Telegram is off
        token: Option<SecretString> = "RELAIS_TELEGRAM_TOKEN";
        /// With it, Telegram calls `POST /webhooks/telegram` and must send it in
        /// `X-Telegram-Bot-Api-Secret-Token` (register with `relais telegram set-webhook`);
        /// without it, the instance long-polls Telegram (one machine, no public URL)
        webhook_secret: Option<SecretString> = "RELAIS_TELEGRAM_WEBHOOK_SECRET";
        /// The Bot API base URL (tests point it at a local fake)
        api_url: String = "RELAIS_TELEGRAM_API_URL", default "https://api.telegram.org".into();
    }

    /// SMS
    ///
    /// A Twilio-compatible provider. SMS is off unless the account, its token and the number
    /// are set; it also needs `RELAIS_PUBLIC_URL`, which signatures cover.
    twilio: Twilio {
        /// The SMS provider account
        account_sid: Option<String> = "RELAIS_TWILIO_ACCOUNT_SID";
        /// Its auth token (also the webhook signing key)
        auth_token: Option<SecretString> = "RELAIS_TWILIO_AUTH_TOKEN";
        /// The line's number
        from: Option<String> = "RELAIS_TWILIO_FROM";
        /// The provider's REST base URL
        api_url: String = "RELAIS_TWILIO_API_URL", default "https://api.twilio.com".into();
        /// Messages per second the number may send
        sms_per_second: u32 = "RELAIS_SMS_PER_SECOND", default 1;
        /// Longer replies are split at word boundaries into parts of at most this many
        /// segments
        sms_max_segments: usize = "RELAIS_SMS_MAX_SEGMENTS", default 3;
    }

    /// The helpline's listeners
    helpline: Helpline {
        /// When listeners answer, e.g. `mon-fri 09:00-19:00; sat 10:00-16:00` (`closed` for
        /// never)
        hours: String = "RELAIS_HELPLINE_HOURS", default "mon-sun 09:00-19:00".into();
        /// The zone of those hours
        timezone: String = "RELAIS_HELPLINE_TIMEZONE", default "Europe/Paris".into();
        /// Closed days, `YYYY-MM-DD` separated by commas
        holidays: String = "RELAIS_HELPLINE_HOLIDAYS";
        /// Conversations a listener may hold at once
        listener_capacity: i64 = "RELAIS_LISTENER_CAPACITY", default 3;
        /// A conversation whose listener stays silent this long goes back to the queue at its
        /// old place
        listener_silence_seconds: i64 = "RELAIS_LISTENER_SILENCE_SECONDS", default 600;
        @derived
        /// The three above, parsed once.
        open: Hours = Hours::parse(&hours, &timezone, &holidays).map_err(|e| ConfigError::Invalid(e.to_string()))?;
    }

    /// Centres
    centres: Centres {
        /// A pending referral untouched this long, in days, shows as stalled
        referral_stall_days: i64 = "RELAIS_REFERRAL_STALL_DAYS", default 7, parse at_least_one;
        /// How often, in seconds, due appointment reminders (the day before, two hours before)
        /// are looked for
        reminder_seconds: u64 = "RELAIS_REMINDER_SECONDS", default 60, parse at_least_one;
        /// A closed case may be erased once this many days (1826: five years) have passed
        /// since it was closed; set it to what your legal basis requires
        case_retention_days: i64 = "RELAIS_CASE_RETENTION_DAYS", default 5 * 365 + 1;
    }

    /// Email
    mail: Mail {
        /// SMTP server for the centres' notifications: `smtp://host:25`,
        /// `smtp://user:pass@host:587?tls=required`, `smtps://host:465`; unset, `.eml` files in
        /// `$RELAIS_DATA_DIR/mail/`
        smtp_url: Option<SecretString> = "RELAIS_SMTP_URL";
        /// Sender of those notifications
        from: String = "RELAIS_MAIL_FROM", default "Relais <no-reply@relais.invalid>".into();
        /// Tries of a centre's email before it is given up
        max_attempts: i32 = "RELAIS_MAIL_MAX_ATTEMPTS", default 10;
        /// The wait after an email's first failed try; it doubles after each, up to the cap
        /// (1 to 86400)
        retry_seconds: i64 = "RELAIS_MAIL_RETRY_SECONDS", default 30;
        /// The longest wait between an email's tries (from `RELAIS_MAIL_RETRY_SECONDS` to 604800)
        retry_cap_seconds: i64 = "RELAIS_MAIL_RETRY_CAP_SECONDS", default 3600;
        /// Days a sent or failed email row (it names its recipient) is kept (1 to 36500)
        purge_days: i64 = "RELAIS_MAIL_PURGE_DAYS", default 30;
    }

    /// Partner webhooks and outbound calls
    webhooks: Webhooks {
        /// Waits between a partner webhook's attempts (1 to 20 of them, each at most 86400);
        /// after the last, the message is a dead letter until the partner replays it
        retry_seconds: Vec<u64> = "RELAIS_WEBHOOK_RETRY_SECONDS",
            default vec![5, 300, 1800, 7200, 18000, 36000, 36000],
            parse schedule;
        /// Whether a partner's webhook endpoint may be plain `http://`
        allow_http: bool = "RELAIS_WEBHOOK_ALLOW_HTTP",
            default !production(server.mode),
            shown "`true` in embedded mode, `false` in production";
        /// Address blocks (CIDR, comma separated, e.g. `127.0.0.0/8,::1`) that outbound calls
        /// such as partner webhooks may reach although they are special purpose (loopback,
        /// private, ...): for tests and development only
        outbound_allow: Vec<crate::outbound::Cidr> = "RELAIS_OUTBOUND_ALLOW";
        /// Days a delivered or dead partner message (with its attempt logs) is kept (1 to 36500)
        purge_days: i64 = "RELAIS_WEBHOOK_PURGE_DAYS", default 90;
    }

    /// The housing platform
    housing: Housing {
        /// Addresses (comma separated) sent the national housing inventory every Monday
        inventory_recipients: Vec<String> = "RELAIS_INVENTORY_RECIPIENTS", parse addresses;
        /// Where a request's offers are looked for: 0 for the régions of the départements the
        /// following centre covers; a distance in km for offers within it of the centre
        search_radius_km: f64 = "RELAIS_HOUSING_SEARCH_RADIUS_KM", default 0.0;
    }

    /// Notifications on staff devices (Web Push)
    push: Push {
        /// Push services (comma separated host names; each also admits its subdomains) a
        /// device's push endpoint may be on: the browsers' own by default. Endpoints elsewhere
        /// are refused, so that a subscription cannot point the server at another host
        services: Vec<String> = "RELAIS_PUSH_SERVICES",
            default vec![
                "fcm.googleapis.com".into(),
                "push.services.mozilla.com".into(),
                "notify.windows.com".into(),
                "push.apple.com".into(),
            ],
            parse host_names;
        /// The VAPID key (RFC 8292): a P-256 private key, 32 bytes in base64url. Unset, it is
        /// generated under the data folder in embedded mode, and notifications are off in
        /// production mode. Changing it ends every device's subscription (each subscribes
        /// again when its app next opens)
        vapid_key: Option<SecretString> = "RELAIS_VAPID_KEY";
        /// Who push services may contact about this server's notifications: `mailto:` or
        /// `https:`
        contact: String = "RELAIS_PUSH_CONTACT", default "mailto:no-reply@relais.invalid".into();
    }

    /// Addresses
    geocoder: GeocoderSettings {
        /// The address search API: the Base Adresse Nationale's
        /// (`https://api-adresse.data.gouv.fr`) or, better, an addok server run with the BAN's
        /// open data, so that no address typed by staff leaves your network; unset, staff
        /// enter places by commune (its town hall's point) and a protected person's home by
        /// its coordinates
        url: Option<String> = "RELAIS_GEOCODER_URL";
    }

    /// Housing offers' limits and security alerts
    security: Security as relais_core::security::Watch {
        /// Housing offers one account may create in an hour (past it: 429 with `Retry-After`)
        offer_creates_per_hour: i64 = "RELAIS_OFFER_CREATES_PER_HOUR", default watch().offer_creates_per_hour;
        /// Moves (position or commune) of one offer in a day
        offer_moves_per_day: i64 = "RELAIS_OFFER_MOVES_PER_DAY", default watch().offer_moves_per_day;
        /// Offer moves one account may make in an hour
        offer_moves_per_hour: i64 = "RELAIS_OFFER_MOVES_PER_HOUR", default watch().offer_moves_per_hour;
        /// How far back security alerts count, in seconds (604800: 7 days)
        window_seconds: i64 = "RELAIS_ALERT_WINDOW_SECONDS", default watch().window_seconds;
        /// Offers one account created within `RELAIS_ALERT_CLUSTER_KM` of each other that raise
        /// a security alert
        cluster_offers: i64 = "RELAIS_ALERT_CLUSTER_OFFERS", default watch().cluster_offers;
        /// The distance of that cluster, in km
        cluster_km: f64 = "RELAIS_ALERT_CLUSTER_KM", default watch().cluster_km;
        /// Moves of one offer that raise a security alert
        offer_moves: i64 = "RELAIS_ALERT_OFFER_MOVES", default watch().offer_moves;
        /// Times one request's proposals are asked, each after the account's offers changed,
        /// that raise a security alert
        proposal_changes: i64 = "RELAIS_ALERT_PROPOSAL_CHANGES", default watch().proposal_changes;
        /// Placements or extensions refused as not compatible that raise a security alert
        refusals: i64 = "RELAIS_ALERT_REFUSALS", default watch().refusals;
        /// Past threshold × this factor, the account is suspended (deactivated, sessions
        /// revoked) pending an administrator
        suspend_factor: i64 = "RELAIS_ALERT_SUSPEND_FACTOR", default watch().suspend_factor;
        /// Addresses (comma separated) emailed every security alert
        recipients: Vec<String> = "RELAIS_SECURITY_RECIPIENTS", parse addresses;
    }

    /// The audit trail's anchors
    audit: Audit {
        /// Where the audit chain's head is appended as signed lines; keep a copy elsewhere
        anchor_file: PathBuf = "RELAIS_AUDIT_ANCHOR_FILE",
            default server.data_dir.join("audit-anchors.txt"),
            shown "`$RELAIS_DATA_DIR/audit-anchors.txt`";
        /// How often the head is anchored (when it moved), in seconds
        anchor_seconds: u64 = "RELAIS_AUDIT_ANCHOR_SECONDS", default 3600, parse at_least_one;
        /// Addresses (comma separated) that also receive each anchor line by mail
        anchor_recipients: Vec<String> = "RELAIS_AUDIT_ANCHOR_RECIPIENTS", parse addresses;
    }
}

/// A secret's text, to hand on to what uses it.
pub fn exposed(secret: &Option<SecretString>) -> Option<&str> {
    use secrecy::ExposeSecret as _;
    secret.as_ref().map(|s| s.expose_secret())
}

/// The security defaults live with the rules they tune, in core.
fn watch() -> relais_core::security::Watch {
    relais_core::security::Watch::default()
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
        let text = match file {
            Some(path) => Some((
                path.display().to_string(),
                std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?,
            )),
            None => None,
        };
        let mut sources = declare::Sources::new(env, text.as_ref().map(|(p, t)| (p.as_str(), t.as_str())))?;
        let settings = Self::read(&mut sources)?;
        sources.finish()?;
        settings.check()?;
        Ok(settings)
    }

    /// The README's configuration tables, rendered from the declarations.
    pub fn docs() -> Result<String, ConfigError> {
        let defaults = Self::from_sources(None, &HashMap::new())?;
        Ok(declare::render(SECTIONS, KEYS, &defaults.shown()))
    }

    /// The rules between keys, and the ranges a parser does not hold.
    fn check(&self) -> Result<(), ConfigError> {
        let invalid = |message: &str| Err(ConfigError::Invalid(message.into()));
        let auth = &self.auth;
        if !(30..=3600).contains(&auth.access_token_ttl_seconds) {
            return invalid("access_token_ttl_seconds must be between 30 and 3600");
        }
        if !(60..=30 * 86_400).contains(&auth.refresh_token_ttl_seconds) {
            return invalid("refresh_token_ttl_seconds must be between 60 and 2592000");
        }
        if !(1_024..=64 * 1024 * 1024).contains(&self.server.body_limit) {
            return invalid("body_limit must be between 1 KiB and 64 MiB");
        }
        if self.text_line.retention_days < 1
            || self.text_line.delivery_max_attempts < 1
            || self.twilio.sms_max_segments < 1
        {
            return invalid("retention_days, delivery_max_attempts and sms_max_segments must be positive");
        }
        let twilio = &self.twilio;
        if twilio.account_sid.is_some() != twilio.auth_token.is_some() {
            return invalid("RELAIS_TWILIO_ACCOUNT_SID and RELAIS_TWILIO_AUTH_TOKEN go together");
        }
        if twilio.account_sid.is_some() && (twilio.from.is_none() || self.server.public_url.is_none()) {
            return invalid(
                "SMS needs RELAIS_TWILIO_FROM and RELAIS_PUBLIC_URL (webhook signatures cover the public URL)",
            );
        }
        if !(100..=60_000).contains(&self.server.client_request_timeout_ms) {
            return invalid("client_request_timeout_ms must be between 100 and 60000");
        }
        if !(100..=60_000).contains(&self.server.socket_hello_timeout_ms) {
            return invalid("socket_hello_timeout_ms must be between 100 and 60000");
        }
        if self.mail.max_attempts < 1
            || !(1..=86_400).contains(&self.mail.retry_seconds)
            || !(self.mail.retry_seconds..=604_800).contains(&self.mail.retry_cap_seconds)
        {
            return invalid(
                "mail_max_attempts must be positive, mail_retry_seconds from 1 to 86400, and mail_retry_cap_seconds from mail_retry_seconds to 604800",
            );
        }
        if [
            self.text_line.outbox_purge_days,
            self.mail.purge_days,
            self.webhooks.purge_days,
        ]
        .iter()
        .any(|d| !(1..=36_500).contains(d))
        {
            return invalid("outbox_purge_days, mail_purge_days and webhook_purge_days must be between 1 and 36500");
        }
        if !(1..=36_500).contains(&self.centres.case_retention_days) {
            return invalid("case_retention_days must be between 1 and 36500");
        }
        if self.server.rate_limit_guess_per_minute == 0 || self.server.rate_limit_public_per_minute == 0 {
            return invalid("rate limits must be at least 1 a minute");
        }
        if !(60..=30 * 86_400).contains(&self.text_line.webchat_session_idle_seconds) {
            return invalid("webchat_session_idle_seconds must be between 60 and 2592000");
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
            return invalid("RELAIS_OFFER_* and RELAIS_ALERT_* must be positive (RELAIS_ALERT_CLUSTER_KM up to 1000)");
        }
        if self.database.pool_size == 0 {
            return invalid("database_pool_size must be at least 1");
        }
        if auth.login_lockout_after < 1
            || auth.login_free_failures < 0
            || auth.login_lockout_seconds < 1
            || auth.login_address_lockout_after < 1
            || auth.totp_lockout_after < 1
        {
            return invalid("login throttling settings must be positive");
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
        assert_eq!(s.server.mode, Mode::Embedded);
        assert_eq!(s.server.bind, "127.0.0.1:8080");
        assert!(s.database.url.starts_with("sqlite://"));
        assert!(!s.auth.require_totp);
    }

    #[test]
    fn environment_overrides_file_which_overrides_defaults() {
        let dir = std::env::temp_dir().join(format!("relais-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("relais.toml");
        std::fs::write(&path, "bind = \"0.0.0.0:9000\"\nbody_limit = 4096\n").expect("write");
        let s = Settings::from_sources(Some(&path), &env(&[("RELAIS_BIND", "127.0.0.1:9999")])).expect("valid");
        assert_eq!(s.server.bind, "127.0.0.1:9999");
        assert_eq!(s.server.body_limit, 4096);
        std::fs::write(&path, "bindd = 1\n").expect("write");
        assert!(Settings::from_sources(Some(&path), &env(&[])).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_file_takes_flat_names_or_sections_but_not_both_and_nothing_unknown() {
        let dir = std::env::temp_dir().join(format!("relais-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("relais.toml");
        let read = |text: &str| {
            std::fs::write(&path, text).expect("write");
            Settings::from_sources(Some(&path), &env(&[]))
        };
        let s = read("[database]\npool_size = 3\n[helpline]\nlistener_capacity = \"5\"\n").expect("valid");
        assert_eq!((s.database.pool_size, s.helpline.listener_capacity), (3, 5));
        let s = read("database_pool_size = 4\nwebhook_retry_seconds = \"1,2\"\n").expect("valid");
        assert_eq!(
            (s.database.pool_size, s.webhooks.retry_seconds.clone()),
            (4, vec![1, 2])
        );
        let twice = read("database_pool_size = 4\n[database]\npool_size = 3\n");
        assert!(format!("{:?}", twice.err()).contains("twice"));
        let unknown = read("[database]\npool = 3\n");
        assert!(format!("{:?}", unknown.err()).contains("database.pool"));
        let unknown = read("[nowhere]\nbind = \"x\"\n");
        assert!(format!("{:?}", unknown.err()).contains("nowhere"));
        assert!(read("body_limit = [1]\n").is_err());
        assert!(read("database_pool_size = \"many\"\n").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn production_requires_totp_by_default_and_rejects_bad_values() {
        let s = Settings::from_sources(None, &env(&[("RELAIS_MODE", "production")])).expect("valid");
        assert!(s.auth.require_totp);
        assert_eq!(s.server.log_format, LogFormat::Json);
        assert!(!s.webhooks.allow_http);
        assert!(Settings::from_sources(None, &env(&[("RELAIS_MODE", "prod")])).is_err());
        assert!(Settings::from_sources(None, &env(&[("RELAIS_BODY_LIMIT", "lots")])).is_err());
        assert!(Settings::from_sources(None, &env(&[("RELAIS_HELPLINE_HOURS", "whenever")])).is_err());
        assert!(Settings::from_sources(None, &env(&[("RELAIS_INVENTORY_RECIPIENTS", "a@b, nobody")])).is_err());
        let printed = format!(
            "{:?}",
            Settings::from_sources(None, &env(&[("RELAIS_JWT_KEY", "c2VjcmV0")]))
        );
        assert!(printed.contains("REDACTED"), "{printed}");
        assert!(!printed.contains("c2VjcmV0"));
    }

    #[test]
    fn periods_are_at_least_one() {
        let s = Settings::from_sources(
            None,
            &env(&[("RELAIS_QUEUE_PLACE_SECONDS", "0"), ("RELAIS_REFERRAL_STALL_DAYS", "0")]),
        )
        .expect("valid");
        assert_eq!((s.text_line.queue_place_seconds, s.centres.referral_stall_days), (1, 1));
    }
}
