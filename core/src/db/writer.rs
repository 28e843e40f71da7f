//! Group commit on SQLite: one write connection per database, shared by every writer of the
//! process, which commits the writes that queue up behind each other in one transaction.
//!
//! SQLite lets one connection write at a time. With a pool of connections each taking the
//! write lock in turn, a writer that finds it taken sleeps in SQLite's busy handler (1, 2, 5,
//! 10 … 100 ms) instead of queueing, and each transaction pays its own commit. Here a writer
//! takes the one write connection in turn (a mutex: no sleeping, no polling), runs its work in
//! the transaction that is open (in a savepoint, unless it is the first there), and then:
//! - if nobody is waiting for the connection, commits the transaction (its own work and that of
//!   the writers before it that are waiting for this commit) and wakes them;
//! - otherwise leaves the transaction open for the next writer and waits until a commit that
//!   includes its work, so each caller returns only after its own commit, as before.
//!
//! A writer whose work fails rolls its savepoint back: the others' work in the same transaction
//! is untouched. If the commit fails, every writer of that transaction gets the error.
//!
//! The work runs on the caller's own thread (only the connection changes hands), so whatever
//! the caller's thread carries (the controlled clock, the outboxes to wake) stays true.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::DbConn;

/// At most this many writers share one transaction, so that a steady stream of writers still
/// commits often (and a reader on another connection sees their work without delay).
const MAX_BATCH: usize = 128;
/// Nor is a transaction kept open longer than this for writers still to come.
const MAX_BATCH_AGE: Duration = Duration::from_millis(5);
/// A writer waiting for a commit looks again this often: a safety net, the committer wakes it.
const COMMIT_WAIT: Duration = Duration::from_millis(200);

struct State {
    conn: DbConn,
    /// The transaction open on `conn`, if any: its number and when it began.
    open: Option<(u64, Instant)>,
    /// Writers whose work is in the open transaction.
    members: usize,
    /// Writers that ran in the open transaction, whether their work was kept or not.
    ran: usize,
    /// The number of the last transaction that ended (committed or failed).
    ended_through: u64,
    /// The transactions that failed to commit, with the error (most recent few).
    failed: Vec<(u64, DatabaseErrorKind, String)>,
    next: u64,
}

/// The one write connection of a SQLite database, and its group commit.
pub struct Writer {
    state: Mutex<State>,
    ended: Condvar,
    /// Threads waiting to take the connection.
    waiting: AtomicUsize,
    /// Statistics: transactions committed and writes they held.
    pub(crate) commits: AtomicUsize,
    pub(crate) writes: AtomicUsize,
}

thread_local! {
    /// Set while this thread runs work on a writer's connection: a nested write joins it.
    static INSIDE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Whether this thread is running work on a writer's connection now (a nested write).
pub fn inside_any() -> bool {
    INSIDE.with(|inside| inside.get() != 0)
}

impl Writer {
    pub fn new(conn: DbConn) -> Self {
        Self {
            state: Mutex::new(State {
                conn,
                open: None,
                members: 0,
                ran: 0,
                ended_through: 0,
                failed: Vec::new(),
                next: 1,
            }),
            ended: Condvar::new(),
            waiting: AtomicUsize::new(0),
            commits: AtomicUsize::new(0),
            writes: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        guard
    }

    /// Runs `f` on the write connection outside any transaction (migrations, checkpoints,
    /// maintenance), after the open transaction, if any, has been committed.
    pub fn exclusive<T>(&self, f: impl FnOnce(&mut DbConn) -> T) -> T {
        let mut state = self.lock();
        if state.open.is_some() {
            self.commit(&mut state);
        }
        f(&mut state.conn)
    }

    /// Runs `f` in the shared write transaction and returns once a commit that includes its
    /// work has happened (or its work was rolled back, when `f` fails).
    pub fn write<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DieselError>,
    {
        let mut state = self.lock();
        let (number, began) = match state.open {
            Some(open) => open,
            None => {
                if let Err(e) = state.conn.batch_execute("BEGIN IMMEDIATE") {
                    return Err(e.into());
                }
                let open = (state.next, Instant::now());
                state.next += 1;
                state.open = Some(open);
                state.members = 0;
                state.ran = 0;
                open
            }
        };
        // The first writer of a transaction needs no savepoint: if its work fails, the
        // transaction, which holds nothing else, is rolled back whole.
        let first = state.ran == 0;
        state.ran += 1;
        if !first && let Err(e) = state.conn.batch_execute("SAVEPOINT relais_write") {
            // The connection cannot go on with this transaction: end it for everyone in it.
            self.fail(&mut state, number, &e);
            return Err(e.into());
        }
        let me = self as *const Self as usize;
        let outer = INSIDE.with(|inside| inside.replace(me));
        let outcome = catch_unwind(AssertUnwindSafe(|| f(&mut state.conn)));
        INSIDE.with(|inside| inside.set(outer));
        let kept = matches!(outcome, Ok(Ok(_)));
        if first && !kept {
            let _ = state.conn.batch_execute("ROLLBACK");
            state.open = None;
            drop(state);
            return match outcome {
                Ok(Err(own)) => Err(own),
                Err(panic) => resume_unwind(panic),
                Ok(Ok(_)) => unreachable!("a kept write"),
            };
        }
        let closed = match (first, kept) {
            (true, _) => Ok(()),
            (false, true) => state.conn.batch_execute("RELEASE relais_write"),
            (false, false) => state
                .conn
                .batch_execute("ROLLBACK TO relais_write; RELEASE relais_write"),
        };
        if let Err(e) = closed {
            self.fail(&mut state, number, &e);
            return match outcome {
                Ok(Err(own)) => Err(own),
                Err(panic) => resume_unwind(panic),
                Ok(Ok(_)) => Err(e.into()),
            };
        }
        if kept {
            state.members += 1;
        }
        // Commit now unless another writer is about to join this transaction.
        let others_coming = self.waiting.load(Ordering::SeqCst) > 0;
        if !others_coming || state.members >= MAX_BATCH || began.elapsed() >= MAX_BATCH_AGE {
            self.commit(&mut state);
        } else if kept {
            // Wait for the commit of this transaction, by whichever writer ends it.
            while state.ended_through < number {
                let (next, timeout) = self
                    .ended
                    .wait_timeout(state, COMMIT_WAIT)
                    .unwrap_or_else(PoisonError::into_inner);
                state = next;
                // Nobody came after all (a waiter that gave up): end it ourselves.
                if timeout.timed_out() && state.open.is_some_and(|(n, _)| n == number) {
                    self.commit(&mut state);
                }
            }
        }
        match outcome {
            Err(panic) => {
                drop(state);
                resume_unwind(panic)
            }
            Ok(Err(own)) => Err(own),
            Ok(Ok(value)) => match state.failed.iter().find(|(n, _, _)| *n == number) {
                Some((_, kind, message)) => Err(DieselError::DatabaseError(*kind, Box::new(message.clone())).into()),
                None => Ok(value),
            },
        }
    }

    /// Commits the open transaction and wakes its writers; on failure rolls it back and
    /// records the error for them.
    fn commit(&self, state: &mut State) {
        let Some((number, _)) = state.open else { return };
        match state.conn.batch_execute("COMMIT") {
            Ok(()) => {
                self.commits.fetch_add(1, Ordering::Relaxed);
                self.writes.fetch_add(state.members, Ordering::Relaxed);
                state.open = None;
                state.ended_through = number;
                self.ended.notify_all();
            }
            Err(e) => self.fail(state, number, &e),
        }
    }

    fn fail(&self, state: &mut State, number: u64, error: &DieselError) {
        let _ = state.conn.batch_execute("ROLLBACK");
        let (kind, message) = match error {
            DieselError::DatabaseError(kind, info) => (*kind, info.message().to_owned()),
            other => (DatabaseErrorKind::Unknown, other.to_string()),
        };
        state.failed.push((number, kind, message));
        if state.failed.len() > 64 {
            state.failed.remove(0);
        }
        state.open = None;
        state.ended_through = number;
        self.ended.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use diesel::RunQueryDsl;
    use diesel::connection::SimpleConnection;

    use crate::db::{DatabaseUrl, Db, DbConn, write_tx};

    struct Scratch(std::path::PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
            }
        }
    }

    fn scratch(name: &str) -> (Scratch, Db) {
        let path = std::env::temp_dir().join(format!("relais-writer-{name}-{}.sqlite3", std::process::id()));
        let scratch = Scratch(path.clone());
        drop(Scratch(path.clone()));
        let db = Db::connect(&DatabaseUrl::Sqlite(path.display().to_string()), 8).unwrap();
        db.exclusive(|c| {
            c.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, n INTEGER NOT NULL)")?;
            Ok(())
        })
        .unwrap();
        (scratch, db)
    }

    fn count(conn: &mut DbConn, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(sql).get_result::<N>(conn).unwrap().n
    }

    #[test]
    fn a_pooled_connection_cannot_write_outside_the_writer() {
        let (_scratch, db) = scratch("readonly");
        let mut conn = db.get().unwrap();
        let refused = conn.batch_execute("INSERT INTO t (writer, n) VALUES (0, 0)");
        assert!(
            refused.is_err_and(|e| e.to_string().contains("readonly")),
            "a write outside write_tx must fail, not wait in SQLite's busy handler"
        );
        write_tx(&mut conn, |c| {
            c.batch_execute("INSERT INTO t (writer, n) VALUES (0, 0)")?;
            // Nested: joins the same transaction.
            write_tx(c, |c| c.batch_execute("INSERT INTO t (writer, n) VALUES (0, 1)"))
        })
        .unwrap();
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM t"), 2);
    }

    /// Sixteen threads write at once; every fifth write fails after inserting its row. Every
    /// write that returned Ok is on disk once, visible to a reader as soon as it returned,
    /// every failed one left nothing, and the writes shared transactions.
    #[test]
    fn concurrent_writers_share_commits_and_a_failure_undoes_only_its_own_work() {
        let (_scratch, db) = scratch("group");
        let db = Arc::new(db);
        let threads: Vec<_> = (0..16)
            .map(|writer| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let mut kept = 0;
                    for n in 0..200 {
                        let mut conn = db.get().unwrap();
                        let outcome = write_tx(&mut conn, |c| -> Result<(), diesel::result::Error> {
                            c.batch_execute(&format!("INSERT INTO t (writer, n) VALUES ({writer}, {n})"))?;
                            if n % 5 == 4 {
                                return Err(diesel::result::Error::RollbackTransaction);
                            }
                            Ok(())
                        });
                        if outcome.is_ok() {
                            kept += 1;
                            // Returned means committed: a reader on another connection sees it.
                            let seen = count(
                                &mut conn,
                                &format!("SELECT COUNT(*) AS n FROM t WHERE writer = {writer} AND n = {n}"),
                            );
                            assert_eq!(seen, 1, "writer {writer}'s write {n} returned before its commit");
                        }
                    }
                    kept
                })
            })
            .collect();
        let kept: i64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(kept, 16 * 160);
        let mut conn = db.get().unwrap();
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM t"), kept);
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM t WHERE n % 5 = 4"), 0);
        let (commits, writes) = db.group_commits().unwrap();
        assert_eq!(writes, 16 * 160, "writes counted in commits");
        assert!(
            commits < writes,
            "16 writers at once should share transactions: {commits} commits for {writes} writes"
        );
    }

    #[test]
    fn a_panicking_writer_leaves_nothing_and_the_writer_goes_on() {
        let (_scratch, db) = scratch("panic");
        let mut conn = db.get().unwrap();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = write_tx(&mut conn, |c| -> Result<(), diesel::result::Error> {
                c.batch_execute("INSERT INTO t (writer, n) VALUES (1, 1)")?;
                panic!("a bug in a writer");
            });
        }));
        assert!(panicked.is_err());
        let mut conn = db.get().unwrap();
        write_tx(&mut conn, |c| {
            c.batch_execute("INSERT INTO t (writer, n) VALUES (2, 2)")
        })
        .unwrap();
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM t"), 1);
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM t WHERE writer = 1"), 0);
    }
}
