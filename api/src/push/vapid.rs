//! The server's identity towards push services (VAPID, RFC 8292): a P-256 key, whose public
//! half the app gives the browser when it subscribes (`applicationServerKey`), and a short
//! signed token (ES256 JWT) on each push, for the push service's origin.
//!
//! The key comes from `RELAIS_VAPID_KEY` or, in embedded mode, from `vapid.key` in the data
//! folder (generated on first start, mode 0600). In production without it, notifications
//! are off.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use secrecy::ExposeSecret as _;

use crate::config::{Mode, Settings};

/// How long a token is good for (RFC 8292 §2: at most 24 hours).
const TOKEN_HOURS: i64 = 12;
const FILE: &str = "vapid.key";

#[derive(Clone)]
pub struct Vapid {
    key: p256::ecdsa::SigningKey,
    /// The public key, uncompressed (65 bytes), in base64url: the `applicationServerKey`.
    public: String,
    contact: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl Vapid {
    fn from_secret(secret: &p256::SecretKey, contact: &str) -> Self {
        Self {
            key: p256::ecdsa::SigningKey::from(secret),
            public: URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes()),
            contact: contact.to_owned(),
        }
    }

    /// The configured key, the embedded one (made on first start), or none in production.
    pub fn load(settings: &Settings) -> anyhow::Result<Option<Self>> {
        let contact = &settings.push.contact;
        if !(contact.starts_with("mailto:") || contact.starts_with("https://")) {
            anyhow::bail!("RELAIS_PUSH_CONTACT must be a mailto: or https: URL");
        }
        // An empty value (an env file's `RELAIS_VAPID_KEY=`) is no key.
        let given = settings
            .push
            .vapid_key
            .as_ref()
            .filter(|k| !k.expose_secret().trim().is_empty());
        if let Some(given) = given {
            let secret = parse(given.expose_secret()).ok_or_else(|| {
                anyhow::anyhow!("RELAIS_VAPID_KEY must be a P-256 private key: 32 bytes in base64url")
            })?;
            // Apple's push service refuses tokens whose contact is a placeholder (403): every
            // iPhone would be lost at its first notification.
            if settings.server.mode == Mode::Production && placeholder(contact) {
                anyhow::bail!(
                    "RELAIS_PUSH_CONTACT must be an address the push services can write to (not {contact}): Apple's refuses placeholders"
                );
            }
            return Ok(Some(Self::from_secret(&secret, contact)));
        }
        if settings.server.mode == Mode::Production {
            return Ok(None);
        }
        let secret = embedded(&settings.server.data_dir)?;
        Ok(Some(Self::from_secret(&secret, contact)))
    }

    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The `Authorization` header for a push to `endpoint` (RFC 8292 §3): a token for the
    /// endpoint's origin, and the public key. The expiry is the wall clock's, never the
    /// server's controlled clock: the push service checks it against its own.
    pub fn authorization(&self, endpoint: &reqwest::Url) -> String {
        let audience = endpoint.origin().ascii_serialization();
        let expires = chrono::Utc::now().timestamp() + TOKEN_HOURS * 3600;
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = URL_SAFE_NO_PAD
            .encode(serde_json::json!({ "aud": audience, "exp": expires, "sub": self.contact }).to_string());
        let signed = format!("{header}.{claims}");
        let signature: p256::ecdsa::Signature = self.key.sign(signed.as_bytes());
        format!(
            "vapid t={signed}.{}, k={}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes()),
            self.public
        )
    }
}

/// A contact no one reads: `.invalid`, `.example`, `.test`, `localhost`, example.com.
fn placeholder(contact: &str) -> bool {
    let host = contact
        .trim_start_matches("mailto:")
        .trim_start_matches("https://")
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    host.is_empty()
        || host == "localhost"
        || [".invalid", ".example", ".test", ".localhost"]
            .iter()
            .any(|tld| host.ends_with(tld))
        || ["example.com", "example.org", "example.net"].contains(&host.as_str())
}

fn parse(text: &str) -> Option<p256::SecretKey> {
    let bytes = URL_SAFE_NO_PAD.decode(text.trim().trim_end_matches('=')).ok()?;
    p256::SecretKey::from_slice(&bytes).ok()
}

/// The embedded key, made on first start beside the other generated secrets.
fn embedded(data_dir: &Path) -> anyhow::Result<p256::SecretKey> {
    let path = data_dir.join(FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return parse(&text).ok_or_else(|| anyhow::anyhow!("{} is not a VAPID key", path.display()));
    }
    let secret = super::encrypt::fresh_key();
    let text = URL_SAFE_NO_PAD.encode(secret.to_bytes());
    write_private(&path, &text)?;
    // Read back: another instance may have written its key first.
    let text = std::fs::read_to_string(&path)?;
    parse(&text).ok_or_else(|| anyhow::anyhow!("{} is not a VAPID key", path.display()))
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    // Written beside its place, then linked there: a crash leaves no empty key file, and of
    // two instances starting at once the first link wins and both read the same key.
    let temporary = path.with_extension(format!("key.{}", uuid::Uuid::new_v4().simple()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    let linked = std::fs::hard_link(&temporary, path);
    let _ = std::fs::remove_file(&temporary);
    if linked.is_err() && !path.exists() {
        linked?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::signature::Verifier as _;

    use super::*;

    #[test]
    fn the_token_is_signed_for_the_push_services_origin() {
        let vapid = Vapid::from_secret(&super::super::encrypt::fresh_key(), "mailto:ops@example.org");
        let endpoint = reqwest::Url::parse("https://push.example.net:8443/send/abc?x=1").expect("url");
        let header = vapid.authorization(&endpoint);
        let (token, key) = header
            .strip_prefix("vapid t=")
            .and_then(|rest| rest.split_once(", k="))
            .expect("vapid t=…, k=…");
        assert_eq!(key, vapid.public_key());
        let (signed, signature) = token.rsplit_once('.').expect("three parts");
        let claims: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(signed.split('.').nth(1).expect("claims"))
                .expect("base64url"),
        )
        .expect("json");
        assert_eq!(claims["aud"], "https://push.example.net:8443");
        assert_eq!(claims["sub"], "mailto:ops@example.org");
        let public =
            p256::ecdsa::VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(key).expect("key")).expect("point");
        let signature =
            p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).expect("sig")).expect("64 bytes");
        assert!(public.verify(signed.as_bytes(), &signature).is_ok());
    }

    #[test]
    fn production_without_a_key_has_notifications_off_and_a_given_key_is_used() {
        let env = |pairs: &[(&str, &str)]| -> std::collections::HashMap<String, String> {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        let production = Settings::from_sources(None, &env(&[("RELAIS_MODE", "production")])).expect("settings");
        assert!(Vapid::load(&production).expect("loads").is_none());
        let empty = Settings::from_sources(None, &env(&[("RELAIS_MODE", "production"), ("RELAIS_VAPID_KEY", " ")]))
            .expect("settings");
        assert!(Vapid::load(&empty).expect("loads").is_none(), "an empty key is no key");
        let secret = super::super::encrypt::fresh_key();
        let given = URL_SAFE_NO_PAD.encode(secret.to_bytes());
        let with_key = Settings::from_sources(
            None,
            &env(&[
                ("RELAIS_MODE", "production"),
                ("RELAIS_VAPID_KEY", &given),
                ("RELAIS_PUSH_CONTACT", "mailto:exploitation@relais.gouv.fr"),
            ]),
        )
        .expect("settings");
        let vapid = Vapid::load(&with_key).expect("loads").expect("on");
        assert_eq!(
            vapid.public_key(),
            Vapid::from_secret(&secret, "mailto:x@y").public_key()
        );
        let bad = Settings::from_sources(None, &env(&[("RELAIS_PUSH_CONTACT", "ops@example.org")])).expect("settings");
        assert!(Vapid::load(&bad).is_err(), "a contact that is not a URL");
        let placeholder = Settings::from_sources(
            None,
            &env(&[("RELAIS_MODE", "production"), ("RELAIS_VAPID_KEY", &given)]),
        )
        .expect("settings");
        assert!(
            Vapid::load(&placeholder).is_err(),
            "production with the placeholder contact"
        );
        assert!(super::placeholder("mailto:no-reply@relais.invalid"));
        assert!(!super::placeholder("mailto:exploitation@relais.gouv.fr"));
    }

    #[test]
    fn a_key_is_read_back_as_written() {
        let dir = std::env::temp_dir().join(format!("relais-vapid-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let first = embedded(&dir).expect("made");
        let again = embedded(&dir).expect("read");
        assert_eq!(first.to_bytes(), again.to_bytes());
        assert!(parse("short").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
