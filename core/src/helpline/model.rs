//! The words of the text line.

use std::fmt;
use std::str::FromStr;

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

        impl FromStr for $name {
            type Err = crate::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)*
                    _ => Err(crate::Error::invalid(stringify!($name), format!("unknown value {s:?}"))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(Channel { Telegram => "telegram", Sms => "sms", WebChat => "webchat" });
string_enum!(ContactKind {
    Author => "author",
    PotentialAuthor => "potential_author",
    Relative => "relative",
    Professional => "professional",
    Victim => "victim",
    Unknown => "unknown",
});
string_enum!(Language { French => "fr", English => "en" });
string_enum!(ConversationState { Bot => "bot", Waiting => "waiting", Active => "active", Closed => "closed" });
string_enum!(ContactStatus { Active => "active", Stopped => "stopped" });
string_enum!(ContactFlag { Abusive => "abusive", Blocked => "blocked" });
string_enum!(Direction { In => "in", Out => "out" });
string_enum!(Author { Contact => "contact", Bot => "bot", Listener => "listener" });
string_enum!(OutboxStatus { Pending => "pending", Sending => "sending", Sent => "sent", Failed => "failed" });

/// Queue priority: urgent conversations (danger, suicide risk) come first.
pub const PRIORITY_NORMAL: i32 = 0;
pub const PRIORITY_URGENT: i32 = 100;
