//! A Web Push service on loopback, as a browser vendor runs one: devices subscribe (each gets
//! an endpoint, and keeps its P-256 key and authentication secret, as a browser does), and
//! the service takes what the server posts to an endpoint. Like a real one, it refuses a push
//! whose VAPID token (RFC 8292) is not signed by the key it names, not for this service's
//! origin, or expired; unlike one, it also decrypts the message (RFC 8291) with the device's
//! keys, so that tests read what the device would show, and keeps the raw request.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Verifier as _;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use ring::{aead, hkdf};
use serde_json::Value;

/// A device subscribed to the service: what its browser gives the app.
#[derive(Clone)]
pub struct Device {
    pub id: String,
    pub endpoint: String,
    /// The device's public key, base64url (65 bytes).
    pub p256dh: String,
    /// The device's authentication secret, base64url (16 bytes).
    pub auth: String,
}

impl Device {
    /// `PushSubscription.toJSON()`, as the app posts it.
    pub fn subscription(&self) -> Value {
        serde_json::json!({
            "endpoint": self.endpoint,
            "expirationTime": null,
            "keys": { "p256dh": self.p256dh, "auth": self.auth },
        })
    }
}

/// A push the service took, as the device shows it.
#[derive(Clone, Debug)]
pub struct Received {
    pub device: String,
    /// The decrypted notification (JSON).
    pub payload: Value,
    pub headers: HashMap<String, String>,
    /// The encrypted body's length.
    pub length: usize,
}

#[derive(Default)]
struct Shared {
    devices: HashMap<String, (p256::SecretKey, Vec<u8>)>,
    received: Vec<Received>,
    /// Pushes refused, and why (a bad token, a message that does not decrypt).
    refused: Vec<String>,
    /// A status to answer for a device instead of 201 (410: unsubscribed).
    answers: HashMap<String, u16>,
    /// Pushes posted per device, whatever the answer.
    attempts: HashMap<String, usize>,
}

#[derive(Clone)]
pub struct PushService {
    pub url: String,
    shared: Arc<Mutex<Shared>>,
}

impl PushService {
    pub fn start() -> Self {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the push service");
        let port = listener.local_addr().expect("address").port();
        let url = format!("http://127.0.0.1:{port}");
        let state = (shared.clone(), url.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(state.clone()))
                .route("/push/{device}", web::post().to(take))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        Self { url, shared }
    }

    /// A new device, as a browser subscribing makes one.
    pub fn device(&self) -> Device {
        let secret = loop {
            let bytes: [u8; 32] = rand_bytes();
            if let Ok(key) = p256::SecretKey::from_slice(&bytes) {
                break key;
            }
        };
        let auth: [u8; 16] = rand_bytes();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let p256dh = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes());
        self.shared
            .lock()
            .unwrap()
            .devices
            .insert(id.clone(), (secret, auth.to_vec()));
        Device {
            endpoint: format!("{}/push/{id}", self.url),
            id,
            p256dh,
            auth: URL_SAFE_NO_PAD.encode(auth),
        }
    }

    /// Answers `status` to every push for this device from now on (410: it unsubscribed).
    pub fn answer(&self, device: &Device, status: u16) {
        self.shared.lock().unwrap().answers.insert(device.id.clone(), status);
    }

    /// Answers normally again for this device.
    pub fn answer_normally(&self, device: &Device) {
        self.shared.lock().unwrap().answers.remove(&device.id);
    }

    /// Pushes posted for this device, whatever they were answered (refused and scripted ones too).
    pub fn attempts(&self, device: &Device) -> usize {
        self.shared
            .lock()
            .unwrap()
            .attempts
            .get(&device.id)
            .copied()
            .unwrap_or(0)
    }

    pub fn received(&self, device: &Device) -> Vec<Received> {
        self.shared
            .lock()
            .unwrap()
            .received
            .iter()
            .filter(|r| r.device == device.id)
            .cloned()
            .collect()
    }

    pub fn refused(&self) -> Vec<String> {
        self.shared.lock().unwrap().refused.clone()
    }

    /// Waits until `device` has `count` notifications, within ten seconds.
    pub async fn wait_for(&self, device: &Device, count: usize) -> Vec<Received> {
        for _ in 0..200 {
            let got = self.received(device);
            if got.len() >= count {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "device {} got {} notification(s), not {count}; refused: {:?}",
            device.id,
            self.received(device).len(),
            self.refused()
        );
    }
}

fn rand_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    for chunk in out.chunks_mut(16) {
        let bytes = *uuid::Uuid::new_v4().as_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    out
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let info = [info];
    let okm = prk.expand(&info, Len(len)).expect("hkdf length");
    let mut out = vec![0u8; len];
    okm.fill(&mut out).expect("hkdf fill");
    out
}

/// Checks the VAPID token as a push service does (RFC 8292 §2, §3).
fn check_vapid(header: &str, origin: &str) -> Result<(), String> {
    let rest = header.strip_prefix("vapid ").ok_or("not a vapid authorization")?;
    let mut token = None;
    let mut key = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(t) = part.strip_prefix("t=") {
            token = Some(t);
        } else if let Some(k) = part.strip_prefix("k=") {
            key = Some(k);
        }
    }
    let (token, key) = (token.ok_or("no t=")?, key.ok_or("no k=")?);
    let (signed, signature) = token.rsplit_once('.').ok_or("a token of three parts")?;
    let public = URL_SAFE_NO_PAD.decode(key).map_err(|_| "k is not base64url")?;
    let verifying = p256::ecdsa::VerifyingKey::from_sec1_bytes(&public).map_err(|_| "k is not a P-256 key")?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .ok()
        .and_then(|s| p256::ecdsa::Signature::from_slice(&s).ok())
        .ok_or("a 64-byte ES256 signature")?;
    verifying
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| "the signature does not verify")?;
    let mut parts = signed.split('.');
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap_or("")).unwrap_or_default())
        .map_err(|_| "the JWT header")?;
    if header["alg"] != "ES256" {
        return Err("alg must be ES256".into());
    }
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap_or("")).unwrap_or_default())
        .map_err(|_| "the JWT claims")?;
    if claims["aud"] != origin {
        return Err(format!("aud {} is not this service's origin {origin}", claims["aud"]));
    }
    let now = chrono::Utc::now().timestamp();
    let exp = claims["exp"].as_i64().ok_or("no exp")?;
    if exp <= now || exp > now + 24 * 3600 {
        return Err("exp must be within the next 24 hours".into());
    }
    let sub = claims["sub"].as_str().unwrap_or_default();
    if !(sub.starts_with("mailto:") || sub.starts_with("https:")) {
        return Err("sub must be a mailto: or https: contact".into());
    }
    Ok(())
}

/// Decrypts an `aes128gcm` Web Push message with the device's keys (RFC 8291 §3, RFC 8188).
fn decrypt(body: &[u8], device: &p256::SecretKey, auth: &[u8]) -> Result<Vec<u8>, String> {
    if body.len() < 21 {
        return Err("shorter than a header".into());
    }
    let salt = &body[..16];
    let id_len = body[20] as usize;
    let key_id = body.get(21..21 + id_len).ok_or("the key id")?;
    let server = p256::PublicKey::from_sec1_bytes(key_id).map_err(|_| "the key id is not a P-256 key")?;
    let shared = p256::ecdh::diffie_hellman(device.to_nonzero_scalar(), server.as_affine());
    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(device.public_key().to_encoded_point(false).as_bytes());
    key_info.extend_from_slice(key_id);
    let ikm = hkdf(auth, shared.raw_secret_bytes(), &key_info, 32);
    let cek = hkdf(salt, &ikm, b"Content-Encoding: aes128gcm\0", 16);
    let nonce = hkdf(salt, &ikm, b"Content-Encoding: nonce\0", 12);
    let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &cek).map_err(|_| "cek")?);
    let mut record = body[21 + id_len..].to_vec();
    let plain = key
        .open_in_place(
            aead::Nonce::try_assume_unique_for_key(&nonce).map_err(|_| "nonce")?,
            aead::Aad::empty(),
            &mut record,
        )
        .map_err(|_| "the record does not decrypt")?;
    // The last record: the content, the delimiter 2, then zeros.
    let end = plain.iter().rposition(|b| *b != 0).ok_or("no delimiter")?;
    if plain[end] != 2 {
        return Err("the last record's delimiter is not 2".into());
    }
    Ok(plain[..end].to_vec())
}

async fn take(
    state: web::Data<(Arc<Mutex<Shared>>, String)>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (shared, origin) = state.get_ref();
    let device = path.into_inner();
    let headers: HashMap<String, String> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let mut shared = shared.lock().unwrap();
    let Some((secret, auth)) = shared.devices.get(&device).cloned() else {
        return HttpResponse::NotFound().finish();
    };
    *shared.attempts.entry(device.clone()).or_default() += 1;
    if let Some(status) = shared.answers.get(&device) {
        return HttpResponse::build(actix_web::http::StatusCode::from_u16(*status).unwrap()).finish();
    }
    if let Err(why) = check_vapid(headers.get("authorization").map_or("", String::as_str), origin) {
        shared.refused.push(why);
        return HttpResponse::Forbidden().finish();
    }
    if headers.get("content-encoding").map(String::as_str) != Some("aes128gcm") {
        shared.refused.push("content-encoding is not aes128gcm".into());
        return HttpResponse::UnsupportedMediaType().finish();
    }
    if !headers.contains_key("ttl") {
        shared.refused.push("no TTL".into());
        return HttpResponse::BadRequest().finish();
    }
    match decrypt(&body, &secret, &auth) {
        Ok(plain) => {
            let payload =
                serde_json::from_slice(&plain).unwrap_or(Value::String(String::from_utf8_lossy(&plain).into()));
            shared.received.push(Received {
                device,
                payload,
                headers,
                length: body.len(),
            });
            HttpResponse::Created().finish()
        }
        Err(why) => {
            shared.refused.push(why);
            HttpResponse::BadRequest().finish()
        }
    }
}
