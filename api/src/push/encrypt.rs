//! Message encryption for Web Push (RFC 8291, with the `aes128gcm` content coding of
//! RFC 8188): an ephemeral P-256 key agreed with the device's key, HKDF with the device's
//! authentication secret, AES-128-GCM, one record.
//!
//! Every payload is padded to [`PADDED`] bytes before encryption, so that the push service,
//! which sees the length, cannot tell one kind of notification from another.
//! Tested against RFC 8291's worked example (Appendix A), byte for byte.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use ring::{aead, hkdf};

/// The plaintext length every notification is padded to (its delimiter and zeros included).
pub const PADDED: usize = 512;
/// The record size announced in the header (one record holds the whole message).
const RECORD_SIZE: u32 = 4096;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncryptError {
    #[error("the device's key is not a P-256 point")]
    DeviceKey,
    #[error("the device's authentication secret is not 16 bytes")]
    AuthSecret,
    #[error("the payload is longer than {PADDED} bytes")]
    TooLong,
    #[error("encryption failed")]
    Crypto,
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-SHA-256 (RFC 5869): extract with `salt`, expand with `info` to `len` bytes.
fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Result<Vec<u8>, EncryptError> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let info = [info];
    let okm = prk.expand(&info, Len(len)).map_err(|_| EncryptError::Crypto)?;
    let mut out = vec![0u8; len];
    okm.fill(&mut out).map_err(|_| EncryptError::Crypto)?;
    Ok(out)
}

/// A fresh P-256 private key.
pub fn fresh_key() -> p256::SecretKey {
    loop {
        // A random 32-byte string is a valid scalar but with probability ~2^-32.
        if let Ok(key) = p256::SecretKey::from_slice(&relais_core::crypto::random_bytes::<32>()) {
            return key;
        }
    }
}

/// Encrypts `payload` for a device whose subscription gave `p256dh` and `auth` (base64url).
pub fn encrypt(p256dh: &str, auth: &str, payload: &[u8]) -> Result<Vec<u8>, EncryptError> {
    let ephemeral = fresh_key();
    let salt = relais_core::crypto::random_bytes::<16>();
    encrypt_with(p256dh, auth, payload, &ephemeral, salt, PADDED)
}

/// [`encrypt`] with the server's ephemeral key, the salt and the padded length given (the
/// RFC's example uses fixed ones, and no padding).
fn encrypt_with(
    p256dh: &str,
    auth: &str,
    payload: &[u8],
    ephemeral: &p256::SecretKey,
    salt: [u8; 16],
    padded: usize,
) -> Result<Vec<u8>, EncryptError> {
    let device_bytes = URL_SAFE_NO_PAD
        .decode(p256dh.trim_end_matches('='))
        .map_err(|_| EncryptError::DeviceKey)?;
    let device = p256::PublicKey::from_sec1_bytes(&device_bytes).map_err(|_| EncryptError::DeviceKey)?;
    let auth = URL_SAFE_NO_PAD
        .decode(auth.trim_end_matches('='))
        .map_err(|_| EncryptError::AuthSecret)?;
    if auth.len() != 16 {
        return Err(EncryptError::AuthSecret);
    }
    if payload.len() >= padded {
        return Err(EncryptError::TooLong);
    }
    let device_point = device.to_encoded_point(false);
    let server_point = ephemeral.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(ephemeral.to_nonzero_scalar(), device.as_affine());

    // RFC 8291 §3.3 and §3.4.
    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(device_point.as_bytes());
    key_info.extend_from_slice(server_point.as_bytes());
    let ikm = hkdf(&auth, shared.raw_secret_bytes(), &key_info, 32)?;
    let cek = hkdf(&salt, &ikm, b"Content-Encoding: aes128gcm\0", 16)?;
    let nonce = hkdf(&salt, &ikm, b"Content-Encoding: nonce\0", 12)?;

    // One record, the last: the payload, the delimiter 2, then zeros (RFC 8188 §2).
    let mut record = Vec::with_capacity(padded + 16);
    record.extend_from_slice(payload);
    record.push(2);
    record.resize(padded, 0);
    let key =
        aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &cek).map_err(|_| EncryptError::Crypto)?);
    let nonce = aead::Nonce::try_assume_unique_for_key(&nonce).map_err(|_| EncryptError::Crypto)?;
    key.seal_in_place_append_tag(nonce, aead::Aad::empty(), &mut record)
        .map_err(|_| EncryptError::Crypto)?;

    // The header (RFC 8188 §2.1): salt, record size, the key id (the server's public key).
    let mut body = Vec::with_capacity(16 + 4 + 1 + 65 + record.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(server_point.as_bytes());
    body.extend_from_slice(&record);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(text).unwrap_or_default()
    }

    const DEVICE_PUBLIC: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const MESSAGE: &[u8] = b"When I grow up, I want to be a watermelon";

    fn rfc_server_key() -> p256::SecretKey {
        p256::SecretKey::from_slice(&b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).expect("the RFC's key")
    }

    fn rfc_salt() -> [u8; 16] {
        b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().expect("16 bytes")
    }

    /// RFC 8291, Appendix A: the same keys, salt and message give the RFC's message byte for
    /// byte (unpadded, as the RFC's is).
    #[test]
    fn the_rfc_example_gives_the_rfcs_message() {
        let body = encrypt_with(
            DEVICE_PUBLIC,
            AUTH,
            MESSAGE,
            &rfc_server_key(),
            rfc_salt(),
            MESSAGE.len() + 1,
        )
        .expect("encrypts");
        let expected = b64(
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
        );
        assert_eq!(body, expected);
    }

    /// Padded, as every notification is: the length says nothing of the words, and the
    /// device's key opens it (decrypted here as a browser would).
    #[test]
    fn a_padded_message_has_one_length_and_opens_with_the_devices_key() {
        let short = encrypt(DEVICE_PUBLIC, AUTH, b"ok").expect("encrypts");
        let body = encrypt_with(DEVICE_PUBLIC, AUTH, MESSAGE, &rfc_server_key(), rfc_salt(), PADDED).expect("encrypts");
        assert_eq!(body.len(), 16 + 4 + 1 + 65 + PADDED + 16);
        assert_eq!(short.len(), body.len());

        let device_private =
            p256::SecretKey::from_slice(&b64("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94")).expect("key");
        let server_public = p256::PublicKey::from_sec1_bytes(&body[21..86]).expect("key id");
        let shared = p256::ecdh::diffie_hellman(device_private.to_nonzero_scalar(), server_public.as_affine());
        let mut key_info = b"WebPush: info\0".to_vec();
        key_info.extend_from_slice(&b64(DEVICE_PUBLIC));
        key_info.extend_from_slice(&body[21..86]);
        let ikm = hkdf(&b64(AUTH), shared.raw_secret_bytes(), &key_info, 32).expect("ikm");
        let salt = &body[..16];
        let cek = hkdf(salt, &ikm, b"Content-Encoding: aes128gcm\0", 16).expect("cek");
        let nonce = hkdf(salt, &ikm, b"Content-Encoding: nonce\0", 12).expect("nonce");
        let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &cek).expect("key"));
        let mut record = body[86..].to_vec();
        let plain = key
            .open_in_place(
                aead::Nonce::try_assume_unique_for_key(&nonce).expect("nonce"),
                aead::Aad::empty(),
                &mut record,
            )
            .expect("opens");
        assert_eq!(&plain[..MESSAGE.len()], MESSAGE);
        assert_eq!(plain[MESSAGE.len()], 2);
        assert!(plain[MESSAGE.len() + 1..].iter().all(|b| *b == 0));
    }

    #[test]
    fn bad_keys_and_long_payloads_are_refused() {
        assert_eq!(encrypt("not-a-key", AUTH, b"x"), Err(EncryptError::DeviceKey));
        assert_eq!(encrypt(DEVICE_PUBLIC, "AAAA", b"x"), Err(EncryptError::AuthSecret));
        assert_eq!(
            encrypt(DEVICE_PUBLIC, AUTH, &[b'a'; PADDED]),
            Err(EncryptError::TooLong)
        );
        assert!(encrypt(DEVICE_PUBLIC, AUTH, b"ok").is_ok());
    }
}
