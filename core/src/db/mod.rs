//! Storage: one diesel codebase over SQLite (the embedded default) and PostgreSQL.
//! The backend is chosen at run time from the URL scheme. Blocking: callers on an async
//! runtime must run these functions on a blocking thread.

pub mod at_commit;
pub mod schema;
mod writer;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use writer::Writer;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// Where the data lives, parsed once from the configured URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            Ok(Self::Sqlite(path.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            Ok(Self::Sqlite(path.to_owned()))
        } else if url.contains("://") {
            Err(DbError::Config(format!(
                "unsupported database URL scheme (expected sqlite: or postgres://): {}",
                url.split("://").next().unwrap_or_default()
            )))
        } else {
            Ok(Self::Sqlite(url.to_owned()))
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database configuration: {0}")]
    Config(String),
    #[error("cannot connect to the database: {0}")]
    Connection(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Query(diesel::result::Error),
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("migrations failed: {0}")]
    Migration(String),
}

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        note_error(&e);
        Self::Query(e)
    }
}

thread_local! {
    /// A query on this thread found its PostgreSQL connection gone: the pool drops the
    /// connection when this thread gives it back (see `Manager::has_broken`).
    static CONNECTION_LOST: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a query's error says its connection is gone (PostgreSQL restarted or ended it).
fn connection_gone(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) | Error::BrokenTransactionManager => true,
        Error::DatabaseError(_, info) => [
            "terminating connection",
            "server closed the connection",
            "no connection to the server",
            "connection to server",
            "could not connect",
        ]
        .iter()
        .any(|m| info.message().contains(m)),
        _ => false,
    }
}

/// Notes a query's error: one that says the connection is gone marks it for the pool to drop.
/// Every conversion of a diesel error into this crate's errors goes through here.
pub fn note_error(e: &diesel::result::Error) {
    if connection_gone(e) {
        CONNECTION_LOST.with(|flag| flag.set(true));
    }
}

impl DbError {
    /// Whether the database is out of reach or cannot write for now (a restart, terminated
    /// connections, a full disk), rather than the request being wrong: callers answer 503 so
    /// that clients and providers retry.
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::Error;
        match self {
            Self::Pool(_) | Self::Connection(_) => true,
            Self::Query(e) if connection_gone(e) => true,
            Self::Query(Error::DatabaseError(_, info)) => ["database or disk is full", "disk I/O error"]
                .iter()
                .any(|m| info.message().contains(m)),
            _ => false,
        }
    }
}

/// Opens concrete connections itself so a wrong password or a missing database says so
/// (diesel's multi-connection `establish` folds every failure into one message).
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
    /// SQLite: the key of this database's writer in [`WRITERS`]. Every connection of the pool
    /// reads only (`query_only`): all writes go through the writer, so none of them waits in
    /// SQLite's busy handler behind another of this process's connections.
    writer_key: Option<i64>,
}

/// How much of a SQLite database is read through a memory map.
const SQLITE_MMAP_BYTES: u64 = 1 << 30;
/// The write connection's page cache.
const SQLITE_WRITER_CACHE_BYTES: u64 = 64 << 20;

/// The SQLite writers of this process, by key. A connection names its writer's key through the
/// SQL function `relais_writer()`, registered when it is opened.
static WRITERS: Mutex<Option<HashMap<i64, Weak<Writer>>>> = Mutex::new(None);
static NEXT_WRITER_KEY: AtomicI64 = AtomicI64::new(1);

fn open_sqlite(path: &str, writer_key: Option<i64>, read_only: bool) -> Result<SqliteConnection, DbError> {
    let mut conn = SqliteConnection::establish(path)?;
    conn.batch_execute(
        "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
         PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;",
    )?;
    // Pages are read through a memory map (no system call per page) and the write connection
    // keeps a larger cache: with SQLite's default 2 MB, a database of a few hundred MB had
    // each lookup of the write transaction read its pages from the kernel again.
    conn.batch_execute(&format!("PRAGMA mmap_size = {SQLITE_MMAP_BYTES}"))?;
    if !read_only {
        conn.batch_execute(&format!("PRAGMA cache_size = -{}", SQLITE_WRITER_CACHE_BYTES / 1024))?;
    }
    if read_only {
        conn.batch_execute("PRAGMA query_only = ON")?;
    } else {
        // Checkpoints run on a thread of their own (see `checkpoints`), never inside a commit:
        // with readers always about, SQLite's automatic checkpoint (every 1,000 pages) could
        // not reset the WAL and so ran at every commit, copying pages and syncing the file
        // inside the write lock. Once a checkpoint resets the WAL, the file is cut back to
        // this size, so a burst does not leave it large for good.
        conn.batch_execute("PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864")?;
    }
    if let Some(key) = writer_key {
        conn.register_noarg_sql_function::<diesel::sql_types::BigInt, i64, _>("relais_writer", true, move || key)?;
    }
    Ok(conn)
}

/// How often the WAL is checkpointed, and how long the writer must have been idle for the WAL
/// to be truncated.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// Past this size, the WAL is checkpointed so that it starts over from its beginning: the
/// checkpoint waits (up to 100 ms) for readers to leave the WAL, the writer waits meanwhile.
const WAL_RESTART_BYTES: u64 = 32 * 1024 * 1024;

/// Checkpoints the WAL of a SQLite database from a thread and a connection of their own, while
/// its [`Db`] lives: every second a passive checkpoint (it copies what it can into the
/// database file and never waits for the writer or for readers); past 32 MB a restarting one
/// (the WAL starts over from its beginning); when no write has been committed for a second, a
/// truncating one (the WAL file back to zero bytes). Those two give up after 100 ms rather
/// than hold up the writer longer.
fn checkpoints(path: String, writer: Weak<Writer>, stopped: std::sync::mpsc::Receiver<()>) -> Result<(), DbError> {
    use std::sync::mpsc::RecvTimeoutError;
    let mut conn = SqliteConnection::establish(&path)?;
    conn.batch_execute("PRAGMA busy_timeout = 100")?;
    std::thread::Builder::new()
        .name("relais-checkpoint".into())
        .spawn(move || {
            let mut last_commits = usize::MAX;
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                let Some(strong) = writer.upgrade() else { return };
                let commits = strong.commits.load(Ordering::Relaxed);
                let wal = std::fs::metadata(format!("{path}-wal")).map_or(0, |m| m.len());
                let mode = if commits == last_commits {
                    "TRUNCATE"
                } else if wal > WAL_RESTART_BYTES {
                    // Readers always about never let a passive checkpoint start the WAL over.
                    "RESTART"
                } else {
                    "PASSIVE"
                };
                last_commits = commits;
                let sql = format!("PRAGMA wal_checkpoint({mode})");
                // A restarting or truncating checkpoint takes SQLite's write lock: it runs while
                // holding the writer, so that writers queue on it for that time instead of
                // sleeping in SQLite's busy handler (1, 2, 5, 10 ms…) behind the checkpoint.
                let done = if mode == "PASSIVE" {
                    conn.batch_execute(&sql)
                } else {
                    strong.exclusive(|_| conn.batch_execute(&sql))
                };
                drop(strong);
                if let Err(e) = done {
                    tracing::debug!(error = %e, mode, "WAL checkpoint skipped");
                }
            }
        })
        .map_err(|e| DbError::Config(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(())
}

/// The writer of the database `conn` belongs to, if it is a SQLite connection of a [`Db`].
fn writer_of(conn: &mut DbConn) -> Option<Arc<Writer>> {
    let DbConn::Sqlite(c) = conn else { return None };
    use diesel::RunQueryDsl;
    let key: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("relais_writer()"))
        .get_result(c)
        .ok()?;
    let writers = WRITERS.lock().unwrap_or_else(PoisonError::into_inner);
    writers.as_ref()?.get(&key)?.upgrade()
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = DbError;

    fn connect(&self) -> Result<DbConn, DbError> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => Ok(DbConn::Sqlite(open_sqlite(
                path,
                self.writer_key,
                self.writer_key.is_some(),
            )?)),
            DatabaseUrl::Postgres(url) => Ok(DbConn::Pg(PgConnection::establish(url)?)),
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::from)
    }

    /// No `SELECT 1` when a connection is taken from the pool (a round trip per request on
    /// PostgreSQL): a connection is dropped instead when it comes back after a query on it found
    /// it gone, or with its transaction state broken. The request that met it answers 503.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        let lost = CONNECTION_LOST.with(|flag| flag.replace(false));
        match conn {
            DbConn::Pg(pg) => {
                use diesel::connection::{AnsiTransactionManager, TransactionManager};
                lost || AnsiTransactionManager::is_broken_transaction_manager(pg)
            }
            DbConn::Sqlite(_) => false,
        }
    }
}

pub type PooledConn = r2d2::PooledConnection<Manager>;

/// A connection from [`Db::direct`].
pub struct DirectConn(DbConn);

impl std::ops::Deref for DirectConn {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.0
    }
}

impl std::ops::DerefMut for DirectConn {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.0
    }
}

/// The connection pool, cheap to clone. On SQLite, also the one write connection.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    url: DatabaseUrl,
    backend: &'static str,
    writer: Option<Arc<WriterEntry>>,
}

/// A writer registered in [`WRITERS`], unregistered when the last [`Db`] holding it goes.
struct WriterEntry {
    key: i64,
    writer: Arc<Writer>,
    /// Dropped with the entry: the checkpoint thread stops at once and closes its connection.
    _checkpoints: std::sync::mpsc::Sender<()>,
}

impl Drop for WriterEntry {
    fn drop(&mut self) {
        let mut writers = WRITERS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(map) = writers.as_mut() {
            map.remove(&self.key);
        }
    }
}

impl Db {
    pub fn connect(url: &DatabaseUrl, max_size: u32) -> Result<Self, DbError> {
        if let DatabaseUrl::Sqlite(path) = url
            && let Some(parent) = std::path::Path::new(path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .map_err(|e| DbError::Config(format!("cannot create {}: {e}", parent.display())))?;
        }
        let writer = match url {
            DatabaseUrl::Sqlite(path) => {
                let key = NEXT_WRITER_KEY.fetch_add(1, Ordering::Relaxed);
                // Opened directly, so the real cause is reported instead of a pool timeout.
                let writer = Arc::new(Writer::new(DbConn::Sqlite(open_sqlite(path, Some(key), false)?)));
                let mut writers = WRITERS.lock().unwrap_or_else(PoisonError::into_inner);
                writers
                    .get_or_insert_with(HashMap::new)
                    .insert(key, Arc::downgrade(&writer));
                drop(writers);
                let (stop, stopped) = std::sync::mpsc::channel();
                checkpoints(path.clone(), Arc::downgrade(&writer), stopped)?;
                Some(Arc::new(WriterEntry {
                    key,
                    writer,
                    _checkpoints: stop,
                }))
            }
            DatabaseUrl::Postgres(_) => None,
        };
        let manager = Manager {
            url: url.clone(),
            writer_key: writer.as_ref().map(|w| w.key),
        };
        if writer.is_none() {
            // Try once directly, so the real cause is reported instead of a pool timeout.
            manager.connect()?;
        }
        // Connections are opened on demand, never by the pool's own threads: with a minimum of
        // idle connections, r2d2 reconnects in the background whenever connections break (the
        // database restarting, or dropped under a test process), hammering a database that is
        // down and, at a process's exit, racing libpq's teardown (a test process aborted with
        // "double free or corruption" once). Idle connections still stay open up to r2d2's
        // idle timeout (10 minutes).
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            .min_idle(Some(0))
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .map_err(|e| DbError::Config(e.to_string()))?;
        Ok(Self {
            pool,
            url: url.clone(),
            backend: url.backend(),
            writer,
        })
    }

    /// A connection of its own, outside the pool and the writer, that may write: for tools
    /// (a backup's `VACUUM INTO`, which SQLite counts as a write) and for tests that change rows
    /// as an intruder with access to the database would. On SQLite its writes take the file's
    /// lock as another process's would, waiting in SQLite's busy handler.
    pub fn direct(&self) -> Result<DirectConn, DbError> {
        Ok(DirectConn(match &self.url {
            DatabaseUrl::Sqlite(path) => DbConn::Sqlite(open_sqlite(path, None, false)?),
            DatabaseUrl::Postgres(url) => DbConn::Pg(PgConnection::establish(url)?),
        }))
    }

    /// SQLite: the size of the write-ahead log beside the database file, in bytes.
    pub fn wal_bytes(&self) -> Option<u64> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => std::fs::metadata(format!("{path}-wal")).ok().map(|m| m.len()),
            DatabaseUrl::Postgres(_) => None,
        }
    }

    /// SQLite's group commit: transactions committed and the writes they held, since start.
    pub fn group_commits(&self) -> Option<(usize, usize)> {
        self.writer.as_ref().map(|w| {
            (
                w.writer.commits.load(Ordering::Relaxed),
                w.writer.writes.load(Ordering::Relaxed),
            )
        })
    }

    /// Runs `f` on a connection that may write outside a transaction (schema changes,
    /// checkpoints, maintenance): SQLite's write connection, between two group commits; a
    /// pooled connection on PostgreSQL.
    pub fn exclusive<T>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, DbError>) -> Result<T, DbError> {
        match &self.writer {
            Some(entry) => entry.writer.exclusive(f),
            None => f(&mut *self.get()?),
        }
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    pub fn get(&self) -> Result<PooledConn, DbError> {
        Ok(self.pool.get()?)
    }

    /// Applies the embedded migrations of the configured backend; returns how many ran.
    pub fn migrate(&self) -> Result<usize, DbError> {
        self.exclusive(|conn| {
            let applied = match conn {
                DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
                DbConn::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
            };
            applied.map_err(|e| DbError::Migration(e.to_string()))
        })
    }

    /// Whether the database answers a trivial query.
    pub fn ping(&self) -> bool {
        self.get().is_ok_and(|mut c| c.batch_execute("SELECT 1").is_ok())
    }
}

thread_local! {
    /// SQLite connections of this thread inside a `write_tx` of their own (connections that
    /// belong to no [`Db`]), so a nested call joins the outer transaction.
    static SQLITE_OPEN_WRITES: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A write transaction.
///
/// On SQLite, for a connection of a [`Db`], `f` runs on the database's one write connection, in
/// the transaction it shares with the writers queued behind each other (group commit: see
/// `writer.rs`); the call returns after the commit that holds `f`'s work. Nested calls join the
/// outer one. For any other SQLite connection, a transaction of its own that takes the write
/// lock up front (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes can fail
/// with `SQLITE_BUSY` when another writer got there first, which the busy timeout cannot cure.
pub fn write_tx<T, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Pg(pg) => {
            use diesel::connection::{AnsiTransactionManager, TransactionManager};
            // Nested: join the outer transaction (no savepoint: two round trips saved), as on
            // SQLite; an error still ends the whole transaction when it reaches the outer call.
            if matches!(
                AnsiTransactionManager::transaction_manager_status_mut(pg).transaction_depth(),
                Ok(Some(_))
            ) {
                return f(conn);
            }
            // The shared sequences are appended last, in one order (see `at_commit`).
            let _discard = at_commit::Discard::for_conn(conn);
            conn.transaction(|conn| {
                let value = f(conn)?;
                at_commit::flush(conn)?;
                Ok(value)
            })
        }
        DbConn::Sqlite(_) => {
            // Nested inside a writer's work: `conn` is its connection; join the transaction.
            if writer::inside_any() {
                return f(conn);
            }
            if let Some(writer) = writer_of(conn) {
                return writer.write(f);
            }
            // Nested: the outer transaction already holds the write lock; join it.
            let address = std::ptr::from_ref::<DbConn>(conn) as usize;
            if SQLITE_OPEN_WRITES.with(|open| open.borrow().contains(&address)) {
                return f(conn);
            }
            conn.batch_execute("BEGIN IMMEDIATE")?;
            SQLITE_OPEN_WRITES.with(|open| open.borrow_mut().push(address));
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn)));
            SQLITE_OPEN_WRITES.with(|open| open.borrow_mut().retain(|a| *a != address));
            match outcome {
                Ok(Ok(value)) => match conn.batch_execute("COMMIT") {
                    Ok(()) => Ok(value),
                    Err(e) => {
                        let _ = conn.batch_execute("ROLLBACK");
                        Err(e.into())
                    }
                },
                Ok(Err(e)) => {
                    let _ = conn.batch_execute("ROLLBACK");
                    Err(e)
                }
                Err(panic) => {
                    let _ = conn.batch_execute("ROLLBACK");
                    std::panic::resume_unwind(panic)
                }
            }
        }
    }
}

/// Serialises writers of a shared sequence (the audit chain) inside a transaction.
/// SQLite already holds the database write lock in `write_tx`.
pub fn lock_for_sequence(conn: &mut DbConn, key: i64) -> Result<(), diesel::result::Error> {
    match conn {
        DbConn::Pg(c) => c.batch_execute(&format!("SELECT pg_advisory_xact_lock({key})")),
        DbConn::Sqlite(_) => Ok(()),
    }
}
