//! Rate limits on the routes anyone may call without an account, per client address (see
//! `client_address`): a strict limit where a caller could guess a secret (a certificate's
//! code, a calendar feed's token) or make objects in bulk (web chat sessions), a looser one
//! on the other public routes. Fixed one-minute windows, in this process's memory, bounded:
//! past [`MAX_TRACKED`] addresses, new ones share one window (they are limited together
//! rather than let go). IPv6 clients count by their /64, which one client usually holds whole.
//! Provider webhooks (signed), health and metrics are not limited.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{ResponseError as _, web};

use crate::config::Settings;
use crate::problem::ApiError;

const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at once, per process (about 100 bytes each).
const MAX_TRACKED: usize = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// Routes where a caller could guess a secret or make sessions in bulk.
    Guess,
    /// The other routes open without an account.
    Public,
}

/// Which limit a request falls under, by its path (and method); `None`: not limited.
pub fn class_of(method: &actix_web::http::Method, path: &str) -> Option<Class> {
    use actix_web::http::Method;
    let under = |prefix: &str| path == prefix || path.strip_prefix(prefix).is_some_and(|r| r.starts_with('/'));
    if path.starts_with("/v1/certificate-checks/")
        || path.starts_with("/calendar/")
        || (path == "/chat/api/sessions" && method == Method::POST)
    {
        return Some(Class::Guess);
    }
    if under("/v1/geo")
        || under("/v1/directory")
        || under("/chat")
        || under("/app")
        || under("/docs")
        || path == "/openapi.yaml"
        || path == "/v1/live"
        || path == "/v1/auth/login"
        || path == "/v1/auth/refresh"
    {
        return Some(Class::Public);
    }
    None
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Who {
    Address(IpAddr),
    Other(u64),
    /// Everyone past the table's bound.
    Overflow,
}

fn who(address: &str) -> Who {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let prefix = u128::from(v6) & (u128::MAX << 64);
            Who::Address(IpAddr::V6(prefix.into()))
        }
        Ok(IpAddr::V6(v6)) => Who::Address(IpAddr::V4(
            v6.to_ipv4_mapped().unwrap_or(std::net::Ipv4Addr::UNSPECIFIED),
        )),
        Ok(ip) => Who::Address(ip),
        Err(_) => {
            use std::hash::{Hash as _, Hasher as _};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            address.hash(&mut hasher);
            Who::Other(hasher.finish())
        }
    }
}

struct Window {
    started: Instant,
    count: u32,
}

pub struct RateLimiter {
    guess_per_minute: u32,
    public_per_minute: u32,
    windows: Mutex<HashMap<(Class, Who), Window>>,
}

impl RateLimiter {
    pub fn new(settings: &Settings) -> Self {
        Self {
            guess_per_minute: settings.server.rate_limit_guess_per_minute,
            public_per_minute: settings.server.rate_limit_public_per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request; `Err(seconds)` to wait when over the limit.
    pub fn hit(&self, class: Class, address: &str, now: Instant) -> Result<(), u64> {
        let limit = match class {
            Class::Guess => self.guess_per_minute,
            Class::Public => self.public_per_minute,
        };
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut key = (class, who(address));
        if !windows.contains_key(&key) && windows.len() >= MAX_TRACKED {
            windows.retain(|_, w| now.duration_since(w.started) < WINDOW);
            if windows.len() >= MAX_TRACKED {
                key = (class, Who::Overflow);
            }
        }
        let window = windows.entry(key).or_insert(Window { started: now, count: 0 });
        let elapsed = now.duration_since(window.started);
        if elapsed >= WINDOW {
            *window = Window { started: now, count: 0 };
        }
        if window.count >= limit {
            let left = WINDOW.saturating_sub(now.duration_since(window.started));
            return Err(left.as_secs() + u64::from(left.subsec_nanos() > 0));
        }
        window.count += 1;
        Ok(())
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.windows.lock().map(|w| w.len()).unwrap_or_default()
    }
}

/// The middleware: 429 problem+json with `Retry-After` past the limit.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(class) = class_of(req.method(), req.path())
        && let (Some(limiter), Some(state)) = (
            req.app_data::<web::Data<RateLimiter>>(),
            req.app_data::<web::Data<crate::state::AppState>>(),
        )
    {
        let address = crate::client_address::of(req.request(), &state.settings);
        if let Err(wait) = limiter.hit(class, &address, Instant::now()) {
            let error = ApiError::TooManyRequests {
                retry_after_secs: i64::try_from(wait.max(1)).unwrap_or(60),
            };
            return Ok(req.into_response(error.error_response()));
        }
    }
    next.call(req).await.map(ServiceResponse::map_into_boxed_body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::Method;

    fn limiter(guess: u32, public: u32) -> RateLimiter {
        RateLimiter {
            guess_per_minute: guess,
            public_per_minute: public,
            windows: Mutex::new(HashMap::new()),
        }
    }

    #[test]
    fn routes_fall_in_their_class() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(class_of(&get, "/v1/certificate-checks/ABCD"), Some(Class::Guess));
        assert_eq!(class_of(&get, "/calendar/xyz"), Some(Class::Guess));
        assert_eq!(class_of(&post, "/chat/api/sessions"), Some(Class::Guess));
        for path in [
            "/chat",
            "/chat/chat.js",
            "/chat/api/messages",
            "/chat/ws",
            "/app",
            "/app/index.js",
            "/docs",
            "/docs/redoc.standalone.js",
            "/openapi.yaml",
            "/v1/geo/postal-codes/75011",
            "/v1/directory/hsds/services",
            "/v1/live",
            "/v1/auth/login",
        ] {
            assert_eq!(class_of(&get, path), Some(Class::Public), "{path}");
        }
        for path in [
            "/healthz",
            "/readyz",
            "/metrics",
            "/webhooks/telegram",
            "/webhooks/sms/twilio",
            "/v1/cases",
            "/chatty",
            "/application",
            "/docsx",
            "/openapi.json",
        ] {
            assert_eq!(class_of(&post, path), None, "{path}");
        }
    }

    #[test]
    fn a_burst_is_cut_and_the_window_reopens() {
        let limiter = limiter(3, 100);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.hit(Class::Guess, "198.51.100.1", t0).is_ok());
        }
        assert_eq!(limiter.hit(Class::Guess, "198.51.100.1", t0), Err(60));
        assert_eq!(
            limiter.hit(Class::Guess, "198.51.100.1", t0 + Duration::from_millis(59_500)),
            Err(1)
        );
        assert!(limiter.hit(Class::Guess, "198.51.100.2", t0).is_ok(), "another address");
        assert!(limiter.hit(Class::Public, "198.51.100.1", t0).is_ok(), "another class");
        assert!(limiter.hit(Class::Guess, "198.51.100.1", t0 + WINDOW).is_ok());
    }

    #[test]
    fn an_ipv6_client_counts_by_its_64() {
        let limiter = limiter(2, 100);
        let t0 = Instant::now();
        assert!(limiter.hit(Class::Guess, "2001:db8:1:2::1", t0).is_ok());
        assert!(limiter.hit(Class::Guess, "2001:db8:1:2::ffff", t0).is_ok());
        assert!(limiter.hit(Class::Guess, "2001:db8:1:2:aaaa::1", t0).is_err());
        assert!(limiter.hit(Class::Guess, "2001:db8:1:3::1", t0).is_ok());
    }

    #[test]
    fn memory_is_bounded() {
        let limiter = limiter(1_000_000, 100);
        let t0 = Instant::now();
        for i in 0..(MAX_TRACKED as u32 + 50) {
            let address = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
            let _ = limiter.hit(Class::Guess, &address, t0);
        }
        assert!(limiter.tracked() <= MAX_TRACKED + 1);
        // Once the windows are over, the table makes room again.
        assert!(limiter.hit(Class::Guess, "192.0.2.77", t0 + WINDOW).is_ok());
        assert!(limiter.tracked() <= 2);
    }
}
