//! Values with rules, parsed at the edge: once built, they are valid.

use std::fmt;

use crate::error::Error;

/// A staff email, trimmed and lower-cased so that lookups do not depend on spelling.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let value = raw.trim().to_lowercase();
        let bad = || Error::invalid("email", "must be an email address such as name@example.org");
        if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = value.split_once('@').ok_or_else(bad)?;
        if local.is_empty() || local.len() > 64 || domain.contains('@') {
            return Err(bad());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels
                .iter()
                .any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-'))
        {
            return Err(bad());
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    // Staff emails identify a person: keep them out of debug output and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email([redacted])")
    }
}

/// A password as chosen by a person: long enough, not absurdly long (hashing cost).
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_BYTES: usize = 256;

    pub fn parse(raw: &str) -> Result<Self, Error> {
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(Error::invalid(
                "password",
                format!("must have at least {} characters", Self::MIN_CHARS),
            ));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(Error::invalid(
                "password",
                format!("must have at most {} bytes", Self::MAX_BYTES),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

/// A short human label (a name), trimmed, 1 to `max` characters, no control characters.
pub fn parse_label(field: &str, raw: &str, max: usize) -> Result<String, Error> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(Error::invalid(field, format!("must have at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(value.to_owned())
}

/// An IANA time zone name known to the tz database (`Europe/Paris`, `Indian/Reunion`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        raw.parse::<chrono_tz::Tz>()
            .map(Self)
            .map_err(|_| Error::invalid("timezone", "must be an IANA time zone such as Europe/Paris"))
    }
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        Self(chrono_tz::Europe::Paris)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ana@Example.ORG ").map(|e| e.0).ok().as_deref(),
            Some("ana@example.org")
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.org",
            "ana@example",
            "a b@example.org",
            "ana@@example.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_zones_must_be_known() {
        assert!(TimeZone::parse("Indian/Reunion").is_ok());
        assert!(TimeZone::parse("Mars/Olympus").is_err());
    }
}
