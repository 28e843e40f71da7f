//! Appends to the shared sequences (the audit chain, then the live events), made at the end of
//! a PostgreSQL transaction rather than where the change records them.
//!
//! Each sequence is numbered gap-free under an advisory lock held to commit. Taken where the
//! change records its entry, the two locks were taken in whichever order the code happened to
//! call `audit::record` and `events::record`: the desk took the chain then the events, housing
//! the events then the chain, and the soak saw PostgreSQL break the resulting deadlock with a
//! 500. A lock taken mid-transaction also waits on row locks taken after it. Appended here,
//! they are the last locks of every transaction, always in one order ([`Sequence`]'s), held
//! only from the append to the commit: no cycle can run through them.
//!
//! SQLite has one writer at a time: its appends are made at once, as before.

use std::cell::RefCell;

use diesel::QueryResult;

use super::DbConn;

/// The shared sequences, in the order a transaction appends to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sequence {
    Audit,
    Events,
}

type Append = Box<dyn FnOnce(&mut DbConn) -> QueryResult<()>>;

thread_local! {
    /// Appends waiting for the end of this thread's open PostgreSQL transaction, by connection.
    static PENDING: RefCell<Vec<(usize, Sequence, Append)>> = const { RefCell::new(Vec::new()) };
}

fn address(conn: &DbConn) -> usize {
    std::ptr::from_ref::<DbConn>(conn) as usize
}

/// Runs `append` now on SQLite; on PostgreSQL, just before the open transaction commits.
/// Call it inside a `write_tx`.
pub fn append(
    conn: &mut DbConn,
    sequence: Sequence,
    append: impl FnOnce(&mut DbConn) -> QueryResult<()> + 'static,
) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(_) => append(conn),
        DbConn::Pg(_) => {
            let at = address(conn);
            PENDING.with(|p| p.borrow_mut().push((at, sequence, Box::new(append))));
            Ok(())
        }
    }
}

/// Makes the connection's pending appends, sequence by sequence (in order of recording within
/// one), as the transaction's last statements.
pub(super) fn flush(conn: &mut DbConn) -> QueryResult<()> {
    let at = address(conn);
    let mut mine: Vec<(Sequence, Append)> = PENDING.with(|p| {
        let mut pending = p.borrow_mut();
        let (mine, others) = std::mem::take(&mut *pending)
            .into_iter()
            .partition::<Vec<_>, _>(|(a, _, _)| *a == at);
        *pending = others;
        mine.into_iter().map(|(_, s, f)| (s, f)).collect()
    });
    mine.sort_by_key(|(sequence, _)| *sequence);
    for (_, f) in mine {
        f(conn)?;
    }
    Ok(())
}

/// Forgets the connection's pending appends when its transaction ends without commit (or
/// panics), so nothing leaks into the next transaction on the same connection.
pub(super) struct Discard(pub(super) usize);

impl Discard {
    pub(super) fn for_conn(conn: &DbConn) -> Self {
        Self(address(conn))
    }
}

impl Drop for Discard {
    fn drop(&mut self) {
        let at = self.0;
        let _ = PENDING.try_with(|p| p.borrow_mut().retain(|(a, _, _)| *a != at));
    }
}
