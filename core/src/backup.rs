//! Backups and restores (`relais backup DIR`, `relais restore DIR`).
//!
//! A backup folder holds the database copy, a manifest (what, when, which backend, which
//! migration, the audit chain's head, the copy's SHA-256 and the ids of the keys) and, in a
//! separate file marked as such, the secrets that open the copy's sealed fields. The database
//! copy never contains a key: the keys live in files or in the configuration, never in tables.
//!
//! - SQLite: `VACUUM INTO`, an online and consistent copy taken in one read transaction while
//!   the server keeps writing.
//! - PostgreSQL: `pg_dump --format=custom` on a snapshot exported from a repeatable-read
//!   transaction, in which the manifest's audit head and migration are read too, so the
//!   manifest describes exactly the dump.
//!
//! A restore goes only into an empty database (absent, without tables, or migrated but holding
//! neither organisations nor audit entries) and a data folder without other keys; it checks
//! the copy's digest and the keys' ids, then the restored audit chain against the manifest.

use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;

use crate::audit;
use crate::crypto::{Secrets, sha256_hex};
use crate::db::{DatabaseUrl, Db, DbConn};

pub const MANIFEST: &str = "manifest.json";
/// The default name of the secrets file inside the backup folder.
pub const SECRETS_FILE: &str = "SECRETS-keep-apart.keys";
const SQLITE_COPY: &str = "relais.sqlite3";
const POSTGRES_COPY: &str = "relais.pgdump";
const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
}

fn failed(context: &str) -> impl FnOnce(String) -> BackupError + '_ {
    move |e| BackupError::Failed(format!("{context}: {e}"))
}

impl From<crate::db::DbError> for BackupError {
    fn from(e: crate::db::DbError) -> Self {
        Self::Failed(e.to_string())
    }
}

impl From<diesel::result::Error> for BackupError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Failed(e.to_string())
    }
}

impl From<crate::Error> for BackupError {
    fn from(e: crate::Error) -> Self {
        Self::Failed(e.to_string())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub relais_version: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub backend: String,
    /// The last migration applied to the copy (diesel's version string).
    pub migration: String,
    pub audit_head: Option<AuditHead>,
    pub database_file: String,
    pub database_sha256: String,
    /// Where the secrets were written (a file name inside the folder, or a path outside it).
    pub secrets_file: String,
    /// The ids of the keys the copy needs (see `crypto::key_id`), never the keys.
    pub key_ids: std::collections::BTreeMap<String, String>,
}

/// Where `backup` writes the secrets: inside the folder under [`SECRETS_FILE`], or elsewhere.
pub struct BackupOptions<'a> {
    pub dir: &'a Path,
    pub secrets_to: Option<&'a Path>,
}

/// Takes a backup of a running (or stopped) instance into a new or empty folder.
pub fn create(
    db: &Db,
    url: &DatabaseUrl,
    secrets: &Secrets,
    options: &BackupOptions<'_>,
) -> Result<Manifest, BackupError> {
    let dir = options.dir;
    if dir.exists() {
        let occupied = std::fs::read_dir(dir)
            .map_err(|e| failed("cannot read the backup folder")(e.to_string()))?
            .next()
            .is_some();
        if occupied {
            return Err(BackupError::Refused(format!(
                "{} is not empty: a backup goes into a new folder",
                dir.display()
            )));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| failed("cannot create the backup folder")(e.to_string()))?;
    restrict(dir)?;
    let (database_file, migration, head) = match url {
        DatabaseUrl::Sqlite(_) => copy_sqlite(db, dir)?,
        DatabaseUrl::Postgres(conninfo) => dump_postgres(conninfo, dir)?,
    };
    let database_sha256 = file_sha256(&dir.join(&database_file))?;
    let secrets_path: PathBuf = options
        .secrets_to
        .map_or_else(|| dir.join(SECRETS_FILE), Path::to_path_buf);
    crate::crypto::secrets::write_private_file(&secrets_path, &secrets.to_file_text())
        .map_err(|e| failed(&format!("cannot write the secrets to {}", secrets_path.display()))(e.to_string()))?;
    let manifest = Manifest {
        format: FORMAT,
        relais_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at: crate::time::now(),
        backend: url.backend().to_owned(),
        migration,
        audit_head: head.map(|(seq, hash)| AuditHead { seq, hash }),
        database_file,
        database_sha256,
        secrets_file: if options.secrets_to.is_some() {
            secrets_path.display().to_string()
        } else {
            SECRETS_FILE.to_owned()
        },
        key_ids: secrets.key_ids(),
    };
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| failed("manifest")(e.to_string()))?;
    std::fs::write(dir.join(MANIFEST), json).map_err(|e| failed("cannot write the manifest")(e.to_string()))?;
    Ok(manifest)
}

fn restrict(dir: &Path) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| failed("cannot restrict the backup folder")(e.to_string()))?;
    }
    let _ = dir;
    Ok(())
}

fn file_sha256(path: &Path) -> Result<String, BackupError> {
    let bytes = std::fs::read(path).map_err(|e| failed(&format!("cannot read {}", path.display()))(e.to_string()))?;
    Ok(sha256_hex(&bytes))
}

type Described = (String, String, Option<(i64, String)>);

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    version: Option<String>,
}

/// The last migration applied (diesel's bookkeeping table).
pub fn migration_level(conn: &mut DbConn) -> Result<String, BackupError> {
    let row: Version =
        diesel::sql_query("SELECT MAX(version) AS version FROM __diesel_schema_migrations").get_result(conn)?;
    Ok(row.version.unwrap_or_default())
}

fn copy_sqlite(db: &Db, dir: &Path) -> Result<Described, BackupError> {
    let target = dir.join(SQLITE_COPY);
    let quoted = target.display().to_string().replace('\'', "''");
    // A connection of its own: SQLite counts `VACUUM INTO` as a write, which the pool's
    // connections may not do; it reads the main database only, so writers go on.
    let mut conn = db.direct()?;
    // One statement, one read transaction: a consistent copy while writers go on (WAL).
    conn.batch_execute(&format!("VACUUM INTO '{quoted}'"))?;
    drop(conn);
    let copy = Db::connect(&DatabaseUrl::Sqlite(target.display().to_string()), 1)?;
    let mut conn = copy.direct()?;
    let migration = migration_level(&mut conn)?;
    let head = audit::head(&mut conn)?;
    // The copy is a single file: no WAL left beside it.
    conn.batch_execute("PRAGMA journal_mode = DELETE")?;
    drop(conn);
    drop(copy);
    Ok((SQLITE_COPY.to_owned(), migration, head))
}

#[derive(QueryableByName)]
struct Snapshot {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

fn dump_postgres(conninfo: &str, dir: &Path) -> Result<Described, BackupError> {
    let target = dir.join(POSTGRES_COPY);
    let mut pg = diesel::pg::PgConnection::establish(conninfo).map_err(|e| failed("cannot connect")(e.to_string()))?;
    // The snapshot stays valid while this transaction is open; pg_dump reads exactly it.
    pg.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
    let snapshot: Snapshot = diesel::sql_query("SELECT pg_export_snapshot() AS id").get_result(&mut pg)?;
    let mut conn = DbConn::Pg(pg);
    let described = migration_level(&mut conn).and_then(|m| Ok((m, audit::head(&mut conn)?)));
    let outcome = described.and_then(|(migration, head)| {
        let status = Command::new(tool("pg_dump"))
            .arg("--format=custom")
            .arg("--no-owner")
            .arg("--no-privileges")
            .arg(format!("--snapshot={}", snapshot.id))
            .arg(format!("--file={}", target.display()))
            .arg(format!("--dbname={conninfo}"))
            .status()
            .map_err(|e| {
                BackupError::Failed(format!(
                    "pg_dump could not run ({e}); install the PostgreSQL client tools of the server's \
                     major version, or set RELAIS_PG_BIN to their folder (docs/operations.md)"
                ))
            })?;
        if !status.success() {
            return Err(BackupError::Failed(format!("pg_dump failed ({status})")));
        }
        Ok((POSTGRES_COPY.to_owned(), migration, head))
    });
    let _ = conn.batch_execute("COMMIT");
    outcome
}

/// A PostgreSQL client tool: from `RELAIS_PG_BIN` when set, else from `PATH`.
fn tool(name: &str) -> PathBuf {
    match std::env::var_os("RELAIS_PG_BIN") {
        Some(dir) if !dir.is_empty() => Path::new(&dir).join(name),
        _ => PathBuf::from(name),
    }
}

/// What a restore needs besides the folder.
pub struct RestoreTarget<'a> {
    pub url: &'a DatabaseUrl,
    pub data_dir: &'a Path,
    /// Keys given by the configuration (production): they must be the backup's. When none are
    /// given, the backup's keys are written under the data folder.
    pub configured: Option<&'a Secrets>,
    /// The secrets file, when not the one the manifest names.
    pub secrets_from: Option<&'a Path>,
}

/// What a restore found once done.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    pub audit_entries: u64,
}

pub fn read_manifest(dir: &Path) -> Result<Manifest, BackupError> {
    let text = std::fs::read_to_string(dir.join(MANIFEST))
        .map_err(|e| BackupError::Refused(format!("{} has no readable {MANIFEST}: {e}", dir.display())))?;
    let manifest: Manifest =
        serde_json::from_str(&text).map_err(|e| BackupError::Refused(format!("{MANIFEST} is not valid: {e}")))?;
    if manifest.format != FORMAT {
        return Err(BackupError::Refused(format!(
            "backup format {} is not supported (this version reads {FORMAT})",
            manifest.format
        )));
    }
    Ok(manifest)
}

/// Restores a backup folder into an empty database and data folder.
pub fn restore(dir: &Path, target: &RestoreTarget<'_>) -> Result<Restored, BackupError> {
    let manifest = read_manifest(dir)?;
    if manifest.backend != target.url.backend() {
        return Err(BackupError::Refused(format!(
            "the backup is of a {} database; the configured database is {}",
            manifest.backend,
            target.url.backend()
        )));
    }
    let copy = dir.join(&manifest.database_file);
    if file_sha256(&copy)? != manifest.database_sha256 {
        return Err(BackupError::Refused(format!(
            "{} does not match the manifest's digest (damaged or replaced)",
            copy.display()
        )));
    }
    let secrets_path = target.secrets_from.map_or_else(
        || {
            let named = Path::new(&manifest.secrets_file);
            if named.is_absolute() {
                named.to_path_buf()
            } else {
                dir.join(named)
            }
        },
        Path::to_path_buf,
    );
    let text = std::fs::read_to_string(&secrets_path).map_err(|e| {
        BackupError::Refused(format!(
            "the backup's secrets file {} cannot be read ({e}); give it with --secrets FILE",
            secrets_path.display()
        ))
    })?;
    let secrets = Secrets::from_file_text(&text).map_err(|e| BackupError::Refused(e.to_string()))?;
    if secrets.key_ids() != manifest.key_ids {
        return Err(BackupError::Refused(
            "the secrets file does not hold this backup's keys".into(),
        ));
    }
    if let Some(configured) = target.configured
        && configured.key_ids() != manifest.key_ids
    {
        return Err(BackupError::Refused(
            "the configured keys (RELAIS_JWT_KEY, RELAIS_HMAC_PEPPER, RELAIS_FIELD_KEY) are not this backup's: \
             configure the ones in its secrets file"
                .into(),
        ));
    }
    if target.configured.is_none() && Secrets::files_present(target.data_dir) {
        return Err(BackupError::Refused(format!(
            "{} already holds keys: restore into an empty data folder",
            target.data_dir.join("secrets").display()
        )));
    }
    match target.url {
        DatabaseUrl::Sqlite(path) => restore_sqlite(&copy, Path::new(path))?,
        DatabaseUrl::Postgres(conninfo) => restore_postgres(&copy, conninfo)?,
    }
    if target.configured.is_none() {
        std::fs::create_dir_all(target.data_dir).map_err(|e| failed("cannot create the data folder")(e.to_string()))?;
        secrets
            .write_files(target.data_dir)
            .map_err(|e| BackupError::Failed(e.to_string()))?;
    }
    let db = Db::connect(target.url, 1)?;
    db.migrate()?;
    let mut conn = db.get()?;
    let report = audit::verify(&mut conn)?;
    if let Some(broken) = report.first_broken {
        return Err(BackupError::Failed(format!(
            "the restored audit trail is broken at entry {}: {}",
            broken.seq, broken.reason
        )));
    }
    if let Some(head) = &manifest.audit_head
        && audit::hash_at(&mut conn, head.seq)?.as_deref() != Some(head.hash.as_str())
    {
        return Err(BackupError::Failed(format!(
            "the restored audit trail does not hold the manifest's head (entry {})",
            head.seq
        )));
    }
    Ok(Restored {
        manifest,
        audit_entries: report.entries_checked,
    })
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Whether a database holds data: any organisation or audit entry (a migrated but unused
/// database does not).
fn holds_data(conn: &mut DbConn) -> Result<bool, BackupError> {
    for table in ["organisations", "audit_log"] {
        let row: Count = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result(conn)?;
        if row.n > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

fn table_count(conn: &mut DbConn) -> Result<i64, BackupError> {
    let sql = match conn {
        DbConn::Sqlite(_) => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        DbConn::Pg(_) => "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
    };
    let row: Count = diesel::sql_query(sql).get_result(conn)?;
    Ok(row.n)
}

/// Refuses a database that holds data; says whether it has tables at all.
fn check_empty(conn: &mut DbConn) -> Result<bool, BackupError> {
    let tables = table_count(conn)?;
    if tables > 0 {
        let organisations_exist = match conn {
            DbConn::Sqlite(_) => {
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('organisations', 'audit_log')"
            }
            DbConn::Pg(_) => {
                "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('organisations', 'audit_log')"
            }
        };
        let row: Count = diesel::sql_query(organisations_exist).get_result(conn)?;
        if row.n != 2 || holds_data(conn)? {
            return Err(BackupError::Refused(
                "the configured database holds data: a restore goes only into an empty database".into(),
            ));
        }
    }
    Ok(tables > 0)
}

fn restore_sqlite(copy: &Path, target: &Path) -> Result<(), BackupError> {
    if target.exists() {
        let existing = Db::connect(&DatabaseUrl::Sqlite(target.display().to_string()), 1)?;
        let mut conn = existing.get()?;
        check_empty(&mut conn)?;
        drop(conn);
        drop(existing);
    }
    if let Some(parent) = target.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| failed("cannot create the data folder")(e.to_string()))?;
    }
    let staging = target.with_extension("restoring");
    std::fs::copy(copy, &staging).map_err(|e| failed("cannot copy the database")(e.to_string()))?;
    std::fs::File::open(&staging)
        .and_then(|f| f.sync_all())
        .map_err(|e| failed("cannot sync the copy")(e.to_string()))?;
    // The empty database's journal must not be replayed onto the restored file.
    for suffix in ["-wal", "-shm"] {
        let journal = PathBuf::from(format!("{}{suffix}", target.display()));
        if journal.exists() {
            std::fs::remove_file(&journal).map_err(|e| failed("cannot remove an old journal")(e.to_string()))?;
        }
    }
    std::fs::rename(&staging, target).map_err(|e| failed("cannot put the database in place")(e.to_string()))?;
    Ok(())
}

fn restore_postgres(copy: &Path, conninfo: &str) -> Result<(), BackupError> {
    let has_tables = {
        let pg = diesel::pg::PgConnection::establish(conninfo).map_err(|e| failed("cannot connect")(e.to_string()))?;
        let mut conn = DbConn::Pg(pg);
        check_empty(&mut conn)?
    };
    let mut command = Command::new(tool("pg_restore"));
    command
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg("--exit-on-error")
        .arg("--single-transaction")
        .arg(format!("--dbname={conninfo}"));
    if has_tables {
        // A migrated but empty schema: replaced by the backup's in the same transaction.
        command.arg("--clean").arg("--if-exists");
    }
    let status = command.arg(copy).status().map_err(|e| {
        BackupError::Failed(format!(
            "pg_restore could not run ({e}); install the PostgreSQL client tools or set RELAIS_PG_BIN"
        ))
    })?;
    if !status.success() {
        return Err(BackupError::Failed(format!("pg_restore failed ({status})")));
    }
    Ok(())
}
