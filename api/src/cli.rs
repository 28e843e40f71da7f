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
    relais audit verify [--anchor FILE]
                                check the audit trail's hash chain; exit 1 at the first broken link;
                                with FILE, also each signed anchor line (tail truncation, forgery)
    relais audit anchor         append the chain's head as a signed line to the anchor file
                                (RELAIS_AUDIT_ANCHOR_FILE; also done every RELAIS_AUDIT_ANCHOR_SECONDS)
    relais backup DIR [--secrets FILE]
                                copy the database (online: SQLite VACUUM INTO, PostgreSQL pg_dump)
                                and a manifest into the new folder DIR; the keys go to a separate
                                secrets file (DIR/SECRETS-keep-apart.keys, or FILE): keep it apart
    relais restore DIR [--secrets FILE]
                                restore a backup into the configured database and data folder,
                                which must be empty; checks digests, keys and the audit chain
    relais rotate-keys [--field-key] [--pepper] [--jwt-key] [--out FILE]
                                with every instance stopped: new keys (all three when none is named);
                                re-seals sealed fields, recomputes lookups, ends sessions, re-signs
                                the audit anchors; keys in the data folder are replaced (the old ones
                                kept under secrets/retired-*.keys); configured keys go to FILE
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
            // A partner's sandbox: a fresh API key of the demo SPIP (the previous one is revoked),
            // on its own row, so the accounts above keep their columns.
            let (partner, key) = demo::partner_key(&mut conn)?;
            out(&format!("partner_api_key\t{partner}\t-\t{key}\t-"));
            Ok(ExitCode::SUCCESS)
        }
        ["user", "add", rest @ ..] => user_add(rest),
        ["organisation", "add", rest @ ..] => organisation_add(rest),
        ["audit", "verify"] => audit_verify(None),
        ["audit", "verify", "--anchor", file] => audit_verify(Some(file)),
        ["audit", "anchor"] => {
            let settings = Settings::load()?;
            telemetry::init(settings.server.log_format);
            let prepared = crate::startup::prepare_storage(&settings)?;
            let mut conn = prepared.database.get()?;
            let written = audit::anchor::publish_and_mail(
                &mut conn,
                &prepared.secrets,
                &settings.audit.anchor_file,
                &settings.audit.anchor_recipients,
            )?;
            out(&match written {
                Some(line) => format!("{line}\n(appended to {})", settings.audit.anchor_file.display()),
                None => "the head is already anchored (or the trail is empty)".to_owned(),
            });
            Ok(ExitCode::SUCCESS)
        }
        ["backup", dir, rest @ ..] => backup(dir, rest),
        ["restore", dir, rest @ ..] => restore(dir, rest),
        ["rotate-keys", rest @ ..] => rotate_keys(rest),
        ["purge"] => {
            let settings = Settings::load()?;
            telemetry::init(settings.server.log_format);
            let prepared = crate::startup::prepare_storage(&settings)?;
            let mut conn = prepared.database.get()?;
            let now = relais_core::time::Clock::default().now();
            let days = chrono::Duration::days;
            let retention = days(settings.text_line.retention_days);
            let purged = relais_core::helpline::retention::purge(&mut conn, now, retention)?;
            let outbound = relais_core::helpline::outbox::purge_finished(
                &mut conn,
                now - days(settings.text_line.outbox_purge_days),
            )? + relais_core::email::purge(&mut conn, now - days(settings.mail.purge_days))?
                + relais_core::partners::webhooks::purge(&mut conn, now - days(settings.webhooks.purge_days))?
                + relais_core::push::purge(&mut conn, now - days(1))?;
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

/// Checks the chain, then (with `--anchor FILE`) every anchor line against it: a forged line
/// or a trail that lost its tail fails.
fn audit_verify(anchor: Option<&str>) -> anyhow::Result<ExitCode> {
    let settings = Settings::load()?;
    telemetry::init(settings.server.log_format);
    let prepared = prepare(&settings)?;
    let mut conn = prepared.database.get()?;
    let report = audit::verify(&mut conn)?;
    if let Some(link) = report.first_broken {
        out(&format!(
            "audit trail BROKEN at entry {}: {} ({} entries verified before it)",
            link.seq, link.reason, report.entries_checked
        ));
        return Ok(ExitCode::from(1));
    }
    let Some(file) = anchor else {
        out(&format!(
            "audit trail intact: {} entries checked",
            report.entries_checked
        ));
        return Ok(ExitCode::SUCCESS);
    };
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?;
    let anchors = audit::anchor::check(&mut conn, &prepared.secrets, &text)?;
    if anchors.problems.is_empty() {
        out(&format!(
            "audit trail intact: {} entries checked, {} anchor(s) hold",
            report.entries_checked, anchors.anchors_checked
        ));
        return Ok(ExitCode::SUCCESS);
    }
    out(&format!(
        "audit trail does NOT match its anchors ({} entries chain correctly):",
        report.entries_checked
    ));
    for problem in &anchors.problems {
        out(&format!("  {problem}"));
    }
    Ok(ExitCode::from(1))
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

/// The value of `--secrets FILE`, the only option of backup and restore.
fn secrets_option(args: &[&str]) -> anyhow::Result<Option<std::path::PathBuf>> {
    match args {
        [] => Ok(None),
        ["--secrets", file] => Ok(Some(std::path::PathBuf::from(file))),
        _ => bail!("unknown options {args:?}\n\n{USAGE}"),
    }
}

fn backup(dir: &str, args: &[&str]) -> anyhow::Result<ExitCode> {
    let secrets_to = secrets_option(args)?;
    let settings = Settings::load()?;
    telemetry::init(settings.server.log_format);
    let secrets = crate::startup::load_secrets(&settings, false)?;
    let url = relais_core::db::DatabaseUrl::parse(&settings.database.url)?;
    let db = relais_core::db::Db::connect(&url, 1)?;
    let options = relais_core::backup::BackupOptions {
        dir: std::path::Path::new(dir),
        secrets_to: secrets_to.as_deref(),
    };
    let manifest = relais_core::backup::create(&db, &url, &secrets, &options)?;
    out(&format!(
        "backup of the {} database written to {} (migration {}, audit head {})",
        manifest.backend,
        dir,
        manifest.migration,
        manifest
            .audit_head
            .as_ref()
            .map_or_else(|| "none".to_owned(), |h| format!("{} {}", h.seq, h.hash))
    ));
    out(&format!(
        "SECRETS written to {}: keep that file apart from the database copy",
        secrets_to.map_or_else(
            || std::path::Path::new(dir)
                .join(relais_core::backup::SECRETS_FILE)
                .display()
                .to_string(),
            |p| p.display().to_string()
        )
    ));
    Ok(ExitCode::SUCCESS)
}

fn restore(dir: &str, args: &[&str]) -> anyhow::Result<ExitCode> {
    let secrets_from = secrets_option(args)?;
    let settings = Settings::load()?;
    telemetry::init(settings.server.log_format);
    let url = relais_core::db::DatabaseUrl::parse(&settings.database.url)?;
    let given = [&settings.keys.jwt, &settings.keys.hmac_pepper, &settings.keys.field]
        .iter()
        .any(|k| k.is_some());
    let configured = if given {
        Some(crate::startup::load_secrets(&settings, false)?)
    } else {
        None
    };
    let target = relais_core::backup::RestoreTarget {
        url: &url,
        data_dir: &settings.server.data_dir,
        configured: configured.as_ref(),
        secrets_from: secrets_from.as_deref(),
    };
    let restored = relais_core::backup::restore(std::path::Path::new(dir), &target)?;
    out(&format!(
        "restored the backup of {} into the {} database: audit trail intact ({} entries)",
        restored.manifest.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
        restored.manifest.backend,
        restored.audit_entries
    ));
    Ok(ExitCode::SUCCESS)
}

fn rotate_keys(args: &[&str]) -> anyhow::Result<ExitCode> {
    use relais_core::crypto::Secrets;
    use relais_core::crypto::rotation::{self, Rotation};
    let mut what = Rotation::default();
    let mut out_file = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match *flag {
            "--field-key" => what.field_key = true,
            "--pepper" => what.pepper = true,
            "--jwt-key" => what.jwt_key = true,
            "--out" => out_file = Some(std::path::PathBuf::from(it.next().context("--out needs a file")?)),
            other => bail!("unknown option {other}\n\n{USAGE}"),
        }
    }
    if !(what.field_key || what.pepper || what.jwt_key) {
        what = Rotation {
            field_key: true,
            pepper: true,
            jwt_key: true,
        };
    }
    let settings = Settings::load()?;
    telemetry::init(settings.server.log_format);
    let configured = [&settings.keys.jwt, &settings.keys.hmac_pepper, &settings.keys.field]
        .iter()
        .any(|k| k.is_some());
    let pending = match (&out_file, configured) {
        (Some(file), _) => file.clone(),
        (None, false) => settings.server.data_dir.join("secrets").join("rotation.pending"),
        (None, true) => bail!("the keys come from the configuration: give --out FILE for the new ones"),
    };
    let prepared = crate::startup::prepare_storage(&settings)?;
    let old = prepared.secrets.clone();
    // A rotation that stopped half-way resumes with the keys it had drawn.
    let new = match std::fs::read_to_string(&pending) {
        Ok(text) => Secrets::from_file_text(&text)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let new = what.draw(&old);
            relais_core::crypto::secrets::write_private_file(&pending, &new.to_file_text())
                .with_context(|| format!("cannot write {}", pending.display()))?;
            new
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", pending.display())),
    };
    let mut conn = prepared.database.get()?;
    let done = rotation::rotate(&mut conn, &old, &new, what)?;
    let resigned = if what.pepper {
        audit::anchor::resign(&settings.audit.anchor_file, &old, &new)?
    } else {
        0
    };
    if configured {
        out(&format!(
            "new keys written to {}: configure them (RELAIS_JWT_KEY, RELAIS_HMAC_PEPPER, RELAIS_FIELD_KEY) \
             before starting; keep the old ones apart (offer positions sealed in the audit trail need them)",
            pending.display()
        ));
    } else {
        let stamp = relais_core::time::now().format("%Y%m%dT%H%M%SZ");
        let retired = settings
            .server
            .data_dir
            .join("secrets")
            .join(format!("retired-{stamp}.keys"));
        relais_core::crypto::secrets::write_private_file(&retired, &old.to_file_text())
            .with_context(|| format!("cannot write {}", retired.display()))?;
        new.replace_files(&settings.server.data_dir)?;
        std::fs::remove_file(&pending).with_context(|| format!("cannot remove {}", pending.display()))?;
        out(&format!(
            "keys replaced in {}; the old ones are in {} (offer positions sealed in the audit trail need them)",
            settings.server.data_dir.join("secrets").display(),
            retired.display()
        ));
    }
    for (column, rows) in done.resealed.iter().chain(&done.lookups) {
        out(&format!("  {column}: {rows}"));
    }
    out(&format!(
        "  sessions ended: {}; web chat sessions ended: {}; anchor lines re-signed: {resigned}",
        done.sessions_ended, done.webchat_sessions_ended
    ));
    Ok(ExitCode::SUCCESS)
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
