//! Access tokens: short-lived JWTs, HS256 only (the algorithm is pinned, so `none` and
//! any other algorithm are refused), with `iss`, `aud`, `exp` and `nbf` checked. A token
//! names a session; the session is checked against the database at each request.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use relais_core::crypto::SecretKey;
use relais_core::ids::{SessionId, UserId};

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub sid: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_seconds: i64,
}

/// What a valid token says.
#[derive(Debug, Clone, Copy)]
pub struct Verified {
    pub user: UserId,
    pub session: SessionId,
    /// Unix time at which the token stops being valid.
    pub expires_at: i64,
}

impl TokenKeys {
    pub fn new(key: &SecretKey, issuer: &str, audience: &str, ttl_seconds: i64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        // Expiry and not-before are checked in `verify` against the server's clock (which
        // tests move), not by the library against the system time.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Self {
            encoding: EncodingKey::from_secret(key.expose()),
            decoding: DecodingKey::from_secret(key.expose()),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl_seconds,
        }
    }

    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    pub fn issue(
        &self,
        user: UserId,
        session: SessionId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = now.timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user.to_string(),
            sid: session.to_string(),
            iat: now,
            nbf: now,
            exp: now + self.ttl_seconds,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The token's user and session when its signature, issuer and audience hold and `now` is
    /// within its validity: its end with a few seconds' leeway, its start with five minutes'
    /// (this server never issues a token for later: a start "in the future" only means the
    /// clock stepped back, or another instance's runs ahead, and must not log people out).
    pub fn verify(&self, token: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Verified> {
        const EXPIRY_LEEWAY_SECONDS: i64 = 5;
        const START_LEEWAY_SECONDS: i64 = 300;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        if data.header.alg != Algorithm::HS256 {
            return None;
        }
        let now = now.timestamp();
        if data.claims.exp + EXPIRY_LEEWAY_SECONDS <= now || data.claims.nbf - START_LEEWAY_SECONDS > now {
            return None;
        }
        Some(Verified {
            user: data.claims.sub.parse().ok()?,
            session: data.claims.sid.parse().ok()?,
            expires_at: data.claims.exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::TokenKeys;
    use chrono::{DateTime, Duration, Utc};
    use relais_core::crypto::SecretKey;

    /// The five minutes' leeway on a token's start forgives a clock that stepped back; it
    /// never makes a token valid early by more, nor late at all (beyond five seconds).
    #[test]
    fn a_token_is_valid_from_its_start_to_its_end_by_the_clock_given() {
        let keys = TokenKeys::new(&SecretKey::from_bytes(vec![7; 32]), "relais", "relais-api", 600);
        // A fixed instant: nothing here reads the system time (tests/tests/api/clock.rs).
        let now = DateTime::parse_from_rfc3339("2026-12-06T20:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let (user, session) = (uuid::Uuid::new_v4().into(), uuid::Uuid::new_v4().into());
        let token = keys.issue(user, session, now).unwrap();
        assert!(keys.verify(&token, now).is_some());
        assert!(keys.verify(&token, now - Duration::minutes(1)).is_some(), "a step back");
        assert!(
            keys.verify(&token, now - Duration::minutes(6)).is_none(),
            "not before its start"
        );
        assert!(keys.verify(&token, now + Duration::minutes(9)).is_some());
        assert!(
            keys.verify(&token, now + Duration::seconds(606)).is_none(),
            "not after its end"
        );
        let other = TokenKeys::new(&SecretKey::from_bytes(vec![8; 32]), "relais", "relais-api", 600);
        assert!(other.verify(&token, now).is_none(), "another key's token");
    }
}
