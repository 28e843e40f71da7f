//! Cursor pagination, the same on every list that has it: `limit` (1 to 500, default 100)
//! and `cursor`, the previous page's `next_cursor` (absent on the last page). A cursor is the
//! sort key of the page's last item (its ranks or name if the list sorts by them, its time and
//! its id), sealed in nothing and meaning
//! nothing to a client: opaque text to hand back as it is. Keyset pages hold still when items
//! are added before them: no item is served twice or skipped while a client walks a list.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDateTime};

use crate::{Error, Result};

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 500;

/// Where a page starts: after the item with this sort key, in the list's order. Every list
/// orders by its own key, ending with a time and the id (unique, so that the order is total);
/// queues and named lists put integer ranks (a priority, a group) or a text (a name) first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// Integer sort keys before the others (a queue's priority, a group), in the list's order.
    pub rank: Vec<i64>,
    /// A text sort key (a name), for a list sorted by one.
    pub text: Option<String>,
    pub at: NaiveDateTime,
    pub id: String,
}

/// A cursor on the wire, before base64: short keys, nothing a client should read.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    r: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<String>,
    t: i64,
    i: String,
}

/// The longest cursor accepted (a page of a list sorted by names carries a name).
pub const MAX_CURSOR: usize = 1000;

impl Cursor {
    /// The cursor of an item of a list sorted by (time, id).
    pub fn at(at: NaiveDateTime, id: &str) -> Self {
        Self {
            rank: Vec::new(),
            text: None,
            at,
            id: id.to_owned(),
        }
    }

    pub fn encode(&self) -> String {
        let wire = Wire {
            r: self.rank.clone(),
            s: self.text.clone(),
            t: self.at.and_utc().timestamp_micros(),
            i: self.id.clone(),
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).unwrap_or_default())
    }

    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            Error::invalid(
                "cursor",
                "not a cursor from this list: pass next_cursor as it was given",
            )
        };
        if text.len() > MAX_CURSOR {
            return Err(bad());
        }
        let raw = URL_SAFE_NO_PAD.decode(text.as_bytes()).map_err(|_| bad())?;
        let wire: Wire = serde_json::from_slice(&raw).map_err(|_| bad())?;
        let at = DateTime::from_timestamp_micros(wire.t).ok_or_else(bad)?.naive_utc();
        let id = wire.i;
        if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(bad());
        }
        if wire.r.len() > 4 {
            return Err(bad());
        }
        Ok(Self {
            rank: wire.r,
            text: wire.s,
            at,
            id,
        })
    }

    /// The `n`th rank, or 400 when this cursor comes from a list without it.
    pub fn rank(&self, n: usize) -> Result<i64> {
        self.rank.get(n).copied().ok_or_else(|| {
            Error::invalid(
                "cursor",
                "not a cursor from this list: pass next_cursor as it was given",
            )
        })
    }

    /// The text key, or 400 when this cursor comes from a list without one.
    pub fn text(&self) -> Result<&str> {
        self.text.as_deref().ok_or_else(|| {
            Error::invalid(
                "cursor",
                "not a cursor from this list: pass next_cursor as it was given",
            )
        })
    }
}

/// Keeps the rows of a boxed query that come after `page`'s cursor, for a list ordered by
/// `at` then `id`, both descending (`desc`, newest first) or both ascending (`asc`). The
/// query must be ordered the same way.
#[macro_export]
macro_rules! after_cursor {
    ($query:expr, $page:expr, $at:expr, $id:expr, desc) => {{
        let query = $query;
        match &$page.after {
            Some(after) => query.filter($at.lt(after.at).or($at.eq(after.at).and($id.lt(after.id.clone())))),
            None => query,
        }
    }};
    ($query:expr, $page:expr, $at:expr, $id:expr, asc) => {{
        let query = $query;
        match &$page.after {
            Some(after) => query.filter($at.gt(after.at).or($at.eq(after.at).and($id.gt(after.id.clone())))),
            None => query,
        }
    }};
}

/// A page asked for: how many items, after which.
#[derive(Clone, Debug)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

impl PageRequest {
    /// The first `limit` items (at most [`MAX_LIMIT`]).
    pub fn first(limit: i64) -> Self {
        Self {
            limit: limit.clamp(1, MAX_LIMIT),
            after: None,
        }
    }

    /// From a request's `limit` and `cursor` parameters.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::invalid("limit", "1 to 500"));
        }
        Ok(Self {
            limit,
            after: cursor.map(Cursor::parse).transpose()?,
        })
    }

    /// How many rows to load: one more than the page, to know whether another follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }
}

/// One page of a list, and the cursor of the next one when there is one.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// From up to [`PageRequest::fetch`] rows loaded in the list's order: `key` gives a row's
    /// cursor, `view` turns a row into an item.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        request: &PageRequest,
        key: impl Fn(&R) -> Cursor,
        view: impl FnMut(R) -> Result<T>,
    ) -> Result<Self> {
        let limit = usize::try_from(request.limit).unwrap_or(0);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(|r| key(r).encode())
        } else {
            None
        };
        Ok(Self {
            items: rows.into_iter().map(view).collect::<Result<_>>()?,
            next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_anything_else_is_refused() {
        let at = DateTime::from_timestamp_micros(1_765_000_000_123_456)
            .unwrap()
            .naive_utc();
        let cursor = Cursor::at(at, "0b6f7a52-3c1e-4a57-9a3e-2f1f0c9b1d2e");
        assert_eq!(Cursor::parse(&cursor.encode()).unwrap(), cursor);
        let ranked = Cursor {
            rank: vec![-3, 1],
            text: Some("Foyer « Les Tilleuls »".into()),
            ..cursor.clone()
        };
        assert_eq!(Cursor::parse(&ranked.encode()).unwrap(), ranked);
        assert_eq!(ranked.rank(1).unwrap(), 1);
        assert!(
            cursor.rank(0).is_err() && cursor.text().is_err(),
            "a cursor of another list"
        );
        let long = "x".repeat(MAX_CURSOR + 1);
        for bad in [
            "",
            "x",
            "!!!",
            &URL_SAFE_NO_PAD.encode("12|a b"),
            &URL_SAFE_NO_PAD.encode("no-bar"),
            &URL_SAFE_NO_PAD.encode(r#"{"t":1,"i":"a b"}"#),
            &URL_SAFE_NO_PAD.encode(r#"{"t":1,"i":"a","x":2}"#),
            &URL_SAFE_NO_PAD.encode(r#"{"r":[1,2,3,4,5],"t":1,"i":"a"}"#),
            &long,
        ] {
            assert!(Cursor::parse(bad).is_err(), "{bad:?}");
        }
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(501), None).is_err());
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 100);
    }

    #[test]
    fn a_page_says_whether_another_follows() {
        let request = PageRequest::first(2);
        let key = |n: &i64| Cursor::at(DateTime::from_timestamp(*n, 0).unwrap().naive_utc(), &n.to_string());
        let page = Page::from_rows(vec![1, 2, 3], &request, key, Ok).unwrap();
        assert_eq!(page.items, [1, 2]);
        assert_eq!(Cursor::parse(page.next_cursor.as_deref().unwrap()).unwrap().id, "2");
        let last = Page::from_rows(vec![4, 5], &request, key, Ok).unwrap();
        assert!(last.next_cursor.is_none());
    }
}
