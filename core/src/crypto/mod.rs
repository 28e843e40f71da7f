//! Secrets and the primitives built on them: keyed HMAC for lookups, AEAD for fields
//! encrypted at rest, random tokens, digests. Secret bytes never appear in `Debug`.

pub mod secrets;

pub use secrets::{SecretError, SecretKey, Secrets};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Fills a buffer from the operating system's generator.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // getrandom only fails when the OS has no entropy source at all; nothing can run then.
    if getrandom::fill(&mut buf).is_err() {
        std::process::abort();
    }
    buf
}

/// An opaque, URL-safe random token with 256 bits of entropy.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Keyed HMAC-SHA256, hex encoded: finds a row by a value without storing the value.
pub fn hmac_hex(key: &SecretKey, domain: &str, data: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.expose()) else {
        // HMAC accepts keys of any length.
        std::process::abort();
    };
    mac.update(domain.as_bytes());
    mac.update(&[0]);
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// Compares two byte strings in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Debug, thiserror::Error)]
#[error("a sealed field could not be opened (wrong key or tampered data)")]
pub struct OpenError;

/// Field encryption at rest: XChaCha20-Poly1305 with a random nonce, bound to a context
/// (such as `users.totp_secret:<id>`) so a ciphertext cannot be moved to another row.
pub fn seal(key: &SecretKey, context: &str, plaintext: &[u8]) -> Vec<u8> {
    let Ok(cipher) = XChaCha20Poly1305::new_from_slice(&key.expose()[..32]) else {
        std::process::abort();
    };
    let nonce_bytes = random_bytes::<24>();
    let nonce = XNonce::from(nonce_bytes);
    let sealed = cipher.encrypt(
        &nonce,
        Payload {
            msg: plaintext,
            aad: context.as_bytes(),
        },
    );
    let Ok(ciphertext) = sealed else {
        std::process::abort();
    };
    let mut out = Vec::with_capacity(1 + 24 + ciphertext.len());
    out.push(1); // format version
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(&ciphertext);
    out
}

pub fn open(key: &SecretKey, context: &str, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
    if sealed.len() < 1 + 24 + 16 || sealed[0] != 1 {
        return Err(OpenError);
    }
    let cipher = XChaCha20Poly1305::new_from_slice(&key.expose()[..32]).map_err(|_| OpenError)?;
    let mut nonce_bytes = [0u8; 24];
    nonce_bytes.copy_from_slice(&sealed[1..25]);
    let nonce = XNonce::from(nonce_bytes);
    cipher
        .decrypt(
            &nonce,
            Payload {
                msg: &sealed[25..],
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| OpenError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_fields_open_only_with_their_key_and_context() {
        let key = SecretKey::from_bytes(random_bytes::<32>().to_vec());
        let other = SecretKey::from_bytes(random_bytes::<32>().to_vec());
        let sealed = seal(&key, "ctx:1", b"secret");
        assert_eq!(open(&key, "ctx:1", &sealed).ok().as_deref(), Some(&b"secret"[..]));
        assert!(open(&key, "ctx:2", &sealed).is_err());
        assert!(open(&other, "ctx:1", &sealed).is_err());
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(open(&key, "ctx:1", &tampered).is_err());
    }

    #[test]
    fn hmac_depends_on_key_and_domain() {
        let key = SecretKey::from_bytes(vec![7; 32]);
        let other = SecretKey::from_bytes(vec![8; 32]);
        assert_eq!(hmac_hex(&key, "a", b"x"), hmac_hex(&key, "a", b"x"));
        assert_ne!(hmac_hex(&key, "a", b"x"), hmac_hex(&key, "b", b"x"));
        assert_ne!(hmac_hex(&key, "a", b"x"), hmac_hex(&other, "a", b"x"));
    }
}
