//! Audit anchors: the chain's head (sequence, hash) published now and then as a signed line
//! appended to a file kept apart from the database (and optionally mailed). Deleting the tail
//! of the trail, which the chain alone cannot show, then shows: an anchor names an entry the
//! trail no longer holds, or holds with another hash.
//!
//! The signature is HMAC-SHA256 with a key derived from the HMAC pepper (domain
//! `audit-anchor-key`). Why not Ed25519: the threat is someone who can delete rows (a database
//! administrator, a stolen dump, an injection) without holding the instance's keys; whoever
//! holds the keys can forge either kind of signature, since the signing key lives on the
//! server. HMAC needs no new dependency and no new secret to distribute; the mailed copies are
//! the witnesses off the machine. `relais rotate-keys` re-signs the file when the pepper
//! changes.

use std::io::Write as _;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::crypto::{self, SecretKey, Secrets};
use crate::db::DbConn;
use crate::error::{Error, Result};

const PREFIX: &str = "relais-audit-anchor v1";

/// The anchor signing key, derived from the pepper.
pub fn signing_key(secrets: &Secrets) -> SecretKey {
    let derived = crypto::hmac_hex(&secrets.hmac_pepper, "audit-anchor-key", b"");
    SecretKey::from_bytes(derived.into_bytes())
}

fn mac(key: &SecretKey, at: &str, seq: i64, hash: &str) -> String {
    crypto::hmac_hex(key, "audit-anchor", format!("{at}|{seq}|{hash}").as_bytes())
}

/// One signed line: `relais-audit-anchor v1 at=… seq=… hash=… key=… mac=…`.
pub fn line(key: &SecretKey, at: DateTime<Utc>, seq: i64, hash: &str) -> String {
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!(
        "{PREFIX} at={at} seq={seq} hash={hash} key={} mac={}",
        crypto::key_id(key),
        mac(key, &at, seq, hash)
    )
}

/// A parsed line (not yet checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub at: String,
    pub seq: i64,
    pub hash: String,
    pub key: String,
    pub mac: String,
}

pub fn parse(line: &str) -> Option<Anchor> {
    let rest = line.trim().strip_prefix(PREFIX)?;
    let mut fields = std::collections::HashMap::new();
    for part in rest.split_whitespace() {
        let (k, v) = part.split_once('=')?;
        fields.insert(k, v);
    }
    Some(Anchor {
        at: (*fields.get("at")?).to_owned(),
        seq: fields.get("seq")?.parse().ok()?,
        hash: (*fields.get("hash")?).to_owned(),
        key: (*fields.get("key")?).to_owned(),
        mac: (*fields.get("mac")?).to_owned(),
    })
}

/// Whether a line's signature holds under `key`.
pub fn signed_by(anchor: &Anchor, key: &SecretKey) -> bool {
    crypto::constant_time_eq(
        mac(key, &anchor.at, anchor.seq, &anchor.hash).as_bytes(),
        anchor.mac.as_bytes(),
    )
}

/// Appends the current head to the file unless its last line already names it. Returns the
/// line written, if any.
pub fn publish(conn: &mut DbConn, secrets: &Secrets, path: &Path) -> Result<Option<String>> {
    let Some((seq, hash)) = super::head(conn)? else {
        return Ok(None);
    };
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::Internal(format!("cannot read the anchor file: {e}"))),
    };
    if existing
        .lines()
        .rev()
        .find_map(parse)
        .is_some_and(|last| last.seq == seq && last.hash == hash)
    {
        return Ok(None);
    }
    let text = line(&signing_key(secrets), crate::time::now(), seq, &hash);
    append(path, &text).map_err(|e| Error::Internal(format!("cannot write the anchor file: {e}")))?;
    Ok(Some(text))
}

/// Publishes the head, then mails the new line to each recipient through the email outbox.
pub fn publish_and_mail(
    conn: &mut DbConn,
    secrets: &Secrets,
    path: &Path,
    recipients: &[String],
) -> Result<Option<String>> {
    let written = publish(conn, secrets, path)?;
    if let Some(text) = &written
        && !recipients.is_empty()
    {
        crate::db::write_tx(conn, |conn| {
            for to in recipients {
                crate::email::enqueue(
                    conn,
                    to,
                    "Relais : ancre du journal d'audit / audit anchor",
                    &format!(
                        "Conservez cette ligne : elle permet de vérifier que le journal d'audit n'a pas été tronqué.\n\
                         Keep this line: it shows later that the audit trail was not truncated.\n\n{text}\n"
                    ),
                )?;
            }
            Ok::<_, Error>(())
        })?;
    }
    Ok(written)
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(format!("{text}\n").as_bytes())?;
    file.sync_all()
}

/// What checking an anchor file against the trail found.
#[derive(Debug, Default)]
pub struct AnchorReport {
    pub anchors_checked: u64,
    pub problems: Vec<String>,
}

/// Checks every line of an anchor file: its signature, then that the trail still holds the
/// entry it names with the same hash.
pub fn check(conn: &mut DbConn, secrets: &Secrets, text: &str) -> Result<AnchorReport> {
    let key = signing_key(secrets);
    let head = super::head(conn)?.map_or(0, |(seq, _)| seq);
    let mut report = AnchorReport::default();
    for (number, raw) in text.lines().enumerate() {
        let number = number + 1;
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
            continue;
        }
        let Some(anchor) = parse(raw) else {
            report.problems.push(format!("line {number}: not an anchor line"));
            continue;
        };
        if !signed_by(&anchor, &key) {
            report.problems.push(format!(
                "line {number}: the signature does not hold (forged or altered, or signed with another key: {})",
                anchor.key
            ));
            continue;
        }
        report.anchors_checked += 1;
        if anchor.seq > head {
            report.problems.push(format!(
                "line {number}: the trail ends at entry {head} but the anchor of {} saw entry {} (truncated)",
                anchor.at, anchor.seq
            ));
        } else if super::hash_at(conn, anchor.seq)?.as_deref() != Some(anchor.hash.as_str()) {
            report.problems.push(format!(
                "line {number}: entry {} is not the one anchored at {} (rewritten)",
                anchor.seq, anchor.at
            ));
        }
    }
    Ok(report)
}

/// Re-signs every valid line of an anchor file with a new key (after the pepper changed),
/// through a temporary file renamed over it. Lines that do not hold under the old key are
/// refused: rotation must not launder a forgery.
pub fn resign(path: &Path, old: &Secrets, new: &Secrets) -> Result<usize> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(Error::Internal(format!("cannot read the anchor file: {e}"))),
    };
    let (old_key, new_key) = (signing_key(old), signing_key(new));
    let mut out = String::new();
    let mut count = 0;
    for (number, raw) in text.lines().enumerate() {
        match parse(raw) {
            Some(anchor) if signed_by(&anchor, &old_key) => {
                let at = DateTime::parse_from_rfc3339(&anchor.at)
                    .map_err(|e| Error::Internal(format!("anchor line {}: {e}", number + 1)))?
                    .with_timezone(&Utc);
                out.push_str(&line(&new_key, at, anchor.seq, &anchor.hash));
                out.push('\n');
                count += 1;
            }
            Some(_) => {
                return Err(Error::Internal(format!(
                    "anchor line {} does not hold under the current key: not re-signed",
                    number + 1
                )));
            }
            None => {
                out.push_str(raw);
                out.push('\n');
            }
        }
    }
    let temporary = path.with_extension("resigning");
    let _ = std::fs::remove_file(&temporary);
    append(&temporary, out.trim_end_matches('\n'))
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| Error::Internal(format!("cannot rewrite the anchor file: {e}")))?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_parses_back_and_its_signature_binds_every_field() {
        let key = SecretKey::from_bytes(vec![7; 40]);
        let at = DateTime::parse_from_rfc3339("2026-12-06T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let text = line(&key, at, 42, "ab12");
        let anchor = parse(&text).unwrap();
        assert_eq!((anchor.seq, anchor.hash.as_str()), (42, "ab12"));
        assert!(signed_by(&anchor, &key));
        assert!(!signed_by(
            &Anchor {
                seq: 41,
                ..anchor.clone()
            },
            &key
        ));
        assert!(!signed_by(&anchor, &SecretKey::from_bytes(vec![8; 40])));
    }
}
