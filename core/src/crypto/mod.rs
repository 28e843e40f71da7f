//! Secrets and the primitives built on them: keyed HMAC for lookups, AEAD for fields
//! encrypted at rest, random tokens, digests. Secret bytes never appear in `Debug`.

pub mod passwords;
pub mod rotation;
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
/// The message is the domain, a zero byte, then the data.
pub fn hmac_hex(key: &SecretKey, domain: &str, data: &[u8]) -> String {
    hex::encode(hmac_sha256(key.expose(), &[domain.as_bytes(), &[0], data]))
}

/// HMAC-SHA256 (RFC 2104) of the concatenated parts.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        // HMAC accepts keys of any length.
        std::process::abort();
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// A short public identifier of a key: a keyed digest of a fixed word, so it tells which key
/// was used without revealing anything of it.
pub fn key_id(key: &SecretKey) -> String {
    hmac_hex(key, "relais-key-id", b"")[..16].to_owned()
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
    seal_with_nonce(key.expose(), context.as_bytes(), plaintext, random_bytes::<24>())
}

/// The sealed format: version 1, the 24-byte nonce, then ciphertext and tag.
fn seal_with_nonce(key: &[u8], aad: &[u8], plaintext: &[u8], nonce_bytes: [u8; 24]) -> Vec<u8> {
    let Ok(cipher) = XChaCha20Poly1305::new_from_slice(&key[..32]) else {
        std::process::abort();
    };
    let nonce = XNonce::from(nonce_bytes);
    let sealed = cipher.encrypt(&nonce, Payload { msg: plaintext, aad });
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
    open_bytes(key.expose(), context.as_bytes(), sealed)
}

fn open_bytes(key: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
    if sealed.len() < 1 + 24 + 16 || sealed[0] != 1 {
        return Err(OpenError);
    }
    let cipher = XChaCha20Poly1305::new_from_slice(key.get(..32).ok_or(OpenError)?).map_err(|_| OpenError)?;
    let mut nonce_bytes = [0u8; 24];
    nonce_bytes.copy_from_slice(&sealed[1..25]);
    let nonce = XNonce::from(nonce_bytes);
    cipher
        .decrypt(
            &nonce,
            Payload {
                msg: &sealed[25..],
                aad,
            },
        )
        .map_err(|_| OpenError)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).unwrap()
    }

    /// RFC 4231 §4: HMAC-SHA256 test cases 1, 2, 3, 4, 6 and 7 (5 is a truncated output).
    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        let long_key = vec![0xaa; 131];
        let cases: [(Vec<u8>, Vec<u8>, &str); 6] = [
            (
                vec![0x0b; 20],
                b"Hi There".to_vec(),
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?".to_vec(),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                vec![0xaa; 20],
                vec![0xdd; 50],
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
            ),
            (
                (1..=25).collect(),
                vec![0xcd; 50],
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
            ),
            (
                long_key.clone(),
                b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
            (
                long_key,
                b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".to_vec(),
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
            ),
        ];
        for (i, (key, data, expected)) in cases.iter().enumerate() {
            assert_eq!(hex::encode(hmac_sha256(key, &[data])), *expected, "RFC 4231 case {i}");
        }
    }

    /// `hmac_hex` is HMAC-SHA256 of `domain || 0x00 || data`. The expected value was computed
    /// independently (Python's `hmac.new(b"Jefe", b"contacts\x00+33611111111", sha256)`).
    #[test]
    fn hmac_hex_frames_the_domain_before_the_data() {
        let key = SecretKey::from_bytes(b"Jefe".to_vec());
        let expected = "4a35c7d04460abf88fbb1ec74a940d428bac7ee7eadf23358ebf4b91bf6b0699";
        assert_eq!(hmac_hex(&key, "contacts", b"+33611111111"), expected);
        assert_ne!(hmac_hex(&key, "contact", b"s+33611111111"), expected);
    }

    /// draft-irtf-cfrg-xchacha-03 §A.3.1: the AEAD_XChaCha20_Poly1305 test vector, through the
    /// sealed format (version byte, nonce, ciphertext, tag) and back.
    #[test]
    fn sealing_matches_the_xchacha20_poly1305_draft_vector() {
        let key = unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        let nonce: [u8; 24] = unhex("404142434445464748494a4b4c4d4e4f5051525354555657")
            .try_into()
            .unwrap();
        let aad = unhex("50515253c0c1c2c3c4c5c6c7");
        let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let ciphertext = unhex(
            "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb
             731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452
             2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9
             21f9664c97637da9768812f615c68b13b52e",
        );
        let tag = unhex("c0875924c1c7987947deafd8780acf49");
        let mut expected = vec![1];
        expected.extend_from_slice(&nonce);
        expected.extend_from_slice(&ciphertext);
        expected.extend_from_slice(&tag);
        assert_eq!(seal_with_nonce(&key, &aad, plaintext, nonce), expected);
        assert_eq!(open_bytes(&key, &aad, &expected).unwrap(), plaintext);
        let mut tampered = expected.clone();
        tampered[30] ^= 1;
        assert!(open_bytes(&key, &aad, &tampered).is_err());
    }

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
