//! relais-core: the domain of Relais (types, rules, storage) with no knowledge of HTTP or
//! messaging providers. Functions here are blocking; async callers run them on a blocking
//! thread.

/// A closed set of words stored as text: `as_str`, `FromStr` (an invalid-field error),
/// `Display`, serde under the same words.
macro_rules! string_enum {
    ($name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),* }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)*
                    _ => Err(crate::Error::invalid(stringify!($name), format!("unknown value {s:?}"))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod access;
pub mod accounts;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod cases;
pub mod centres;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod email;
pub mod error;
pub mod geo;
pub mod helpline;
pub mod housing;
pub mod idempotency;
pub mod ids;
pub mod outbox;
pub mod page;
pub mod partners;
pub mod push;
pub mod security;
pub mod text;
pub mod time;
pub mod values;

pub use error::{Error, Result};
