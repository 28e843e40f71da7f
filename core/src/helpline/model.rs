//! The words of the text line.

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

/// Queue priority: urgent conversations (danger, suicide risk) come first.
pub const PRIORITY_NORMAL: i32 = 0;
pub const PRIORITY_URGENT: i32 = 100;
