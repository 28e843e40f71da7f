//! Cursor pagination, the same on every list that has it: `limit` (1 to 500, default 100)
//! and `cursor`, the previous page's `next_cursor` (absent on the last page). A cursor is the
//! sort key of the page's last item (its time and its id), sealed in nothing and meaning
//! nothing to a client: opaque text to hand back as it is. Keyset pages hold still when items
//! are added before them: no item is served twice or skipped while a client walks a list.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDateTime};

use crate::{Error, Result};

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 500;

/// Where a page starts: after the item with this time and id, in the list's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub at: NaiveDateTime,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.at.and_utc().timestamp_micros(), self.id))
    }

    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            Error::invalid(
                "cursor",
                "not a cursor from this list: pass next_cursor as it was given",
            )
        };
        let raw = URL_SAFE_NO_PAD.decode(text.as_bytes()).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let (micros, id) = raw.split_once('|').ok_or_else(bad)?;
        let at = DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?)
            .ok_or_else(bad)?
            .naive_utc();
        if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(bad());
        }
        Ok(Self { at, id: id.to_owned() })
    }
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
        let cursor = Cursor {
            at,
            id: "0b6f7a52-3c1e-4a57-9a3e-2f1f0c9b1d2e".into(),
        };
        assert_eq!(Cursor::parse(&cursor.encode()).unwrap(), cursor);
        for bad in [
            "",
            "x",
            "!!!",
            &URL_SAFE_NO_PAD.encode("12|a b"),
            &URL_SAFE_NO_PAD.encode("no-bar"),
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
        let key = |n: &i64| Cursor {
            at: DateTime::from_timestamp(*n, 0).unwrap().naive_utc(),
            id: n.to_string(),
        };
        let page = Page::from_rows(vec![1, 2, 3], &request, key, Ok).unwrap();
        assert_eq!(page.items, [1, 2]);
        assert_eq!(Cursor::parse(page.next_cursor.as_deref().unwrap()).unwrap().id, "2");
        let last = Page::from_rows(vec![4, 5], &request, key, Ok).unwrap();
        assert!(last.next_cursor.is_none());
    }
}
