//! The `relais` command line: `serve` (the default), `migrate`, `demo`, `user add`,
//! `audit verify`. Output meant for the operator goes to standard output; logs to
//! standard error.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use relais_core::accounts::model::Role;
use relais_core::accounts::organisations;
use relais_core::accounts::users::{self, NewUser};
use relais_core::{audit, demo};

use crate::config::{Mode, Settings};
use crate::startup::{Application, prepare};
use crate::telemetry;

const USAGE: &str = "\
relais: the Relais server

USAGE:
    relais [serve]              serve the API (the default)
    relais migrate              apply database migrations and exit
    relais demo                 load demo organisations and accounts, print the accounts
    relais organisation add --kind KIND --name NAME [--timezone TZ] [--coverage 75,93]
                                create an organisation (the first one of a production instance:
                                the national organisation, then `user add` its admin)
    relais user add --email EMAIL --organisation NAME|ID --role ROLE [--role ROLE…]
                    [--name NAME] [--password PASSWORD]
                                create a staff account (a password is generated if none is given)
    relais audit verify         check the audit trail's hash chain; exit 1 at the first broken link
    relais purge                erase text-line conversations that led to nothing after the
                                retention delay (RELAIS_RETENTION_DAYS, default 90)
    relais telegram set-webhook register RELAIS_PUBLIC_URL/webhooks/telegram with Telegram,
                                with RELAIS_TELEGRAM_WEBHOOK_SECRET
    relais config docs          print the configuration tables (Markdown, as in README.md)
    relais help                 this text

Configuration: defaults, then relais.toml (or RELAIS_CONFIG), then RELAIS_* variables.
See README.md.";

pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "relais: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn out(text: &str) {
    let _ = writeln!(std::io::stdout(), "{text}");
}

fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        [] | ["serve"] => serve(),
        ["migrate"] => {
            let settings = Settings::load()?;
            telemetry::init(settings.server.log_format);
            let prepared = prepare(&settings)?;
            out(&format!(
                "{} migration(s) applied on {}",
                prepared.migrations_applied,
                prepared.database.backend()
            ));
            Ok(ExitCode::SUCCESS)
        }
        ["demo"] => {
            let settings = Settings::load()?;
            telemetry::init(settings.server.log_format);
            if settings.server.mode == Mode::Production {
                bail!("demo data is refused in production mode");
            }
            let prepared = prepare(&settings)?;
            let mut conn = prepared.database.get()?;
            let accounts = demo::load(&mut conn, &prepared.geo, &prepared.secrets)?;
            demo::load_schedule(&mut conn)?;
            demo::load_housing(&mut conn, &prepared.geo, &prepared.secrets)?;
            out("role\torganisation\temail\tpassword\tenrolment_code");
            for a in accounts {
                out(&format!(
                    "{}\t{}\t{}\t{}\t{}",
                    a.role,
                    a.organisation,
                    a.email,
                    a.password,
                    a.enrolment_code.as_deref().unwrap_or("-")
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        ["user", "add", rest @ ..] => user_add(rest),
        ["organisation", "add", rest @ ..] => organisation_add(rest),
        ["audit", "verify"] => {
            let settings = Settings::load()?;
            telemetry::init(settings.server.log_format);
            let prepared = prepare(&settings)?;
            let mut conn = prepared.database.get()?;
            let report = audit::verify(&mut conn)?;
            match report.first_broken {
                None => {
                    out(&format!(
                        "audit trail intact: {} entries checked",
                        report.entries_checked
                    ));
                    Ok(ExitCode::SUCCESS)
                }
                Some(link) => {
                    out(&format!(
                        "audit trail BROKEN at entry {}: {} ({} entries verified before it)",
                        link.seq, link.reason, report.entries_checked
                    ));
                    Ok(ExitCode::from(1))
                }
            }
        }
        ["purge"] => {
            let settings = Settings::load()?;
            telemetry::init(settings.server.log_format);
            let prepared = prepare(&settings)?;
            let mut conn = prepared.database.get()?;
            let now = relais_core::time::Clock::default().now();
            let days = chrono::Duration::days;
            let retention = days(settings.text_line.retention_days);
            let purged = relais_core::helpline::retention::purge(&mut conn, now, retention)?;
            let outbound = relais_core::helpline::outbox::purge_finished(
                &mut conn,
                now - days(settings.text_line.outbox_purge_days),
            )? + relais_core::email::purge(&mut conn, now - days(settings.mail.purge_days))?
                + relais_core::partners::webhooks::purge(&mut conn, now - days(settings.webhooks.purge_days))?;
            out(&format!(
                "purged {} conversation(s) and {} contact(s) older than {} days without outcome; {} receipt(s), {} outbound row(s)",
                purged.conversations, purged.contacts, settings.text_line.retention_days, purged.receipts, outbound
            ));
            Ok(ExitCode::SUCCESS)
        }
        ["telegram", "set-webhook"] => {
            let settings = Settings::load()?;
            telemetry::init(settings.server.log_format);
            let token = crate::config::exposed(&settings.telegram.token).context("RELAIS_TELEGRAM_TOKEN is not set")?;
            let secret = crate::config::exposed(&settings.telegram.webhook_secret)
                .context("RELAIS_TELEGRAM_WEBHOOK_SECRET is not set")?;
            let public = settings
                .server
                .public_url
                .as_deref()
                .context("RELAIS_PUBLIC_URL is not set")?;
            let config = relais_bots::telegram::TelegramConfig {
                token: token.to_owned(),
                api_url: settings.telegram.api_url.clone(),
                webhook_secret: Some(secret.to_owned()),
            };
            let bot = relais_bots::telegram::bot(&config).map_err(|e| anyhow::anyhow!(e))?;
            let url = format!("{}/webhooks/telegram", public.trim_end_matches('/'));
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime
                .block_on(relais_bots::telegram::set_webhook(&bot, &url, secret))
                .map_err(|e| anyhow::anyhow!(e))?;
            out(&format!("webhook registered: {url}"));
            Ok(ExitCode::SUCCESS)
        }
        ["config", "docs"] => {
            out(&Settings::docs()?);
            Ok(ExitCode::SUCCESS)
        }
        ["help"] | ["--help"] | ["-h"] => {
            out(USAGE);
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            let _ = writeln!(std::io::stderr(), "{USAGE}");
            Ok(ExitCode::from(2))
        }
    }
}

fn serve() -> anyhow::Result<ExitCode> {
    let settings = Settings::load()?;
    telemetry::init(settings.server.log_format);
    let prepared = prepare(&settings)?;
    tracing::info!(
        mode = ?settings.server.mode,
        database = prepared.database.backend(),
        migrations_applied = prepared.migrations_applied,
        "prepared"
    );
    if settings.server.mode == Mode::Embedded {
        first_start_demo(&settings, &prepared)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let app = Application::from_prepared(settings.clone(), prepared).await?;
        tracing::info!(bind = %settings.server.bind, port = app.port(), "serving");
        app.run_until_stopped().await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// On an embedded instance with no organisation yet, loads the demo so a newcomer can log
/// in at once. The accounts go to a private file, never to the log.
fn first_start_demo(settings: &Settings, prepared: &crate::startup::Prepared) -> anyhow::Result<()> {
    let mut conn = prepared.database.get()?;
    let empty = organisations::count(&mut conn)? == 0;
    if !empty {
        return Ok(());
    }
    let accounts = demo::load(&mut conn, &prepared.geo, &prepared.secrets)?;
    demo::load_schedule(&mut conn)?;
    demo::load_housing(&mut conn, &prepared.geo, &prepared.secrets)?;
    let path = settings.server.data_dir.join("demo-accounts.txt");
    let mut text = String::from(
        "# Demo accounts of this instance (role, organisation, email, password, enrolment code valid 72 h).\n",
    );
    for a in &accounts {
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            a.role,
            a.organisation,
            a.email,
            a.password,
            a.enrolment_code.as_deref().unwrap_or("-")
        ));
    }
    write_private(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(accounts = accounts.len(), file = %path.display(), "demo data loaded on first start; `relais demo` prints the accounts");
    Ok(())
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

fn user_add(args: &[&str]) -> anyhow::Result<ExitCode> {
    let mut email = None;
    let mut organisation = None;
    let mut name = None;
    let mut password = None;
    let mut roles = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match *flag {
            "--email" => email = Some(value.to_string()),
            "--organisation" | "--org" => organisation = Some(value.to_string()),
            "--name" => name = Some(value.to_string()),
            "--password" => password = Some(value.to_string()),
            "--role" => roles.push(value.parse::<Role>().map_err(|e| anyhow::anyhow!("{e}"))?),
            other => bail!("unknown option {other}\n\n{USAGE}"),
        }
    }
    let email = email.context("--email is required")?;
    let organisation = organisation.context("--organisation is required")?;
    if roles.is_empty() {
        bail!("at least one --role is required");
    }
    let settings = Settings::load()?;
    telemetry::init(settings.server.log_format);
    let prepared = prepare(&settings)?;
    let mut conn = prepared.database.get()?;
    let org = match organisation.parse() {
        Ok(id) => organisations::find(&mut conn, id).ok(),
        Err(_) => organisations::find_by_name(&mut conn, &organisation)?,
    }
    .with_context(|| format!("no organisation named {organisation:?}"))?;
    let generated = password.is_none();
    let password = password.unwrap_or_else(|| format!("r-{}", relais_core::crypto::random_token()));
    let display_name = name.unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
    let user = users::create_as_system(
        &mut conn,
        &org,
        NewUser::parse(&email, &display_name, &password, roles)?,
    )?;
    out(&format!("created user {} in {}", user.id, org.name));
    if generated {
        out(&format!("password: {password}"));
    }
    let code = relais_core::auth::enrolment::issue_as_system(&mut conn, &prepared.secrets, user.id)?;
    out(&format!(
        "enrolment code (second factor, valid until {}): {}",
        code.expires_at.format("%Y-%m-%d %H:%M UTC"),
        code.enrolment_code
    ));
    Ok(ExitCode::SUCCESS)
}

fn organisation_add(args: &[&str]) -> anyhow::Result<ExitCode> {
    let (mut kind, mut name, mut timezone, mut coverage) = (None, None, None, Vec::new());
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match *flag {
            "--kind" => {
                kind = Some(
                    value
                        .parse::<relais_core::accounts::model::OrganisationKind>()
                        .map_err(|e| anyhow::anyhow!("{e}"))?,
                )
            }
            "--name" => name = Some(value.to_string()),
            "--timezone" => timezone = Some(value.to_string()),
            "--coverage" => {
                coverage = value
                    .split(',')
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty())
                    .collect()
            }
            other => bail!("unknown option {other}\n\n{USAGE}"),
        }
    }
    let kind = kind.context("--kind is required (helpline, centre, housing_platform, national, partner)")?;
    let name = name.context("--name is required")?;
    let settings = Settings::load()?;
    telemetry::init(settings.server.log_format);
    let prepared = prepare(&settings)?;
    let new = organisations::NewOrganisation::parse(&prepared.geo, kind, &name, timezone.as_deref(), coverage)?;
    let mut conn = prepared.database.get()?;
    let org = organisations::create(&mut conn, &relais_core::access::Actor::SYSTEM, new)?;
    out(&format!("created organisation {} ({})", org.id, org.kind));
    Ok(ExitCode::SUCCESS)
}
