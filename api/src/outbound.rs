//! The one HTTP client that calls addresses someone else chose (partner webhooks, and anything
//! added later). A name is looked up once, by our own resolver, and the connection goes to the
//! very addresses that were checked: a name that answers differently on a second lookup (DNS
//! rebinding) gains nothing, as there is no second lookup. Refused, with no request sent:
//! - a failed or empty lookup;
//! - any answer in an IANA special-purpose range, IPv4 or IPv6 (loopback, private, shared,
//!   link-local, benchmarking, documentation, multicast, reserved, NAT64, 6to4, Teredo,
//!   IPv4-mapped or -compatible, and anything outside 2000::/3), unless the operator allows
//!   that range (`RELAIS_OUTBOUND_ALLOW`, for tests and development);
//! - `localhost` names, which stand for loopback whatever DNS says (RFC 6761).
//!
//! No proxy, no redirects.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// A block of addresses, `address/prefix`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Self {
        Self {
            network: IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
            prefix,
        }
    }

    const fn v6(segments: [u16; 8], prefix: u8) -> Self {
        let [a, b, c, d, e, f, g, h] = segments;
        Self {
            network: IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h)),
            prefix,
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                (u32::from(net) & mask) == (u32::from(ip) & mask)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                (u128::from(net) & mask) == (u128::from(ip) & mask)
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an address or address/prefix"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?}: the prefix must be 0 to {max}"))?,
            None => max,
        };
        Ok(Self { network, prefix })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The IANA special-purpose address registries (IPv4 and IPv6, 2025), plus multicast and the
/// reserved 240/4. Some of these are globally reachable (AS112, AMT); no partner needs them.
const SPECIAL_V4: &[Cidr] = &[
    Cidr::v4(0, 0, 0, 0, 8),          // "this network"
    Cidr::v4(10, 0, 0, 0, 8),         // private
    Cidr::v4(100, 64, 0, 0, 10),      // shared address space (CGNAT)
    Cidr::v4(127, 0, 0, 0, 8),        // loopback
    Cidr::v4(169, 254, 0, 0, 16),     // link-local (cloud metadata)
    Cidr::v4(172, 16, 0, 0, 12),      // private
    Cidr::v4(192, 0, 0, 0, 24),       // IETF protocol assignments (DS-Lite, NAT64 discovery...)
    Cidr::v4(192, 0, 2, 0, 24),       // documentation (TEST-NET-1)
    Cidr::v4(192, 31, 196, 0, 24),    // AS112-v4
    Cidr::v4(192, 52, 193, 0, 24),    // AMT
    Cidr::v4(192, 88, 99, 0, 24),     // 6to4 relay anycast (deprecated)
    Cidr::v4(192, 168, 0, 0, 16),     // private
    Cidr::v4(192, 175, 48, 0, 24),    // direct delegation AS112
    Cidr::v4(198, 18, 0, 0, 15),      // benchmarking
    Cidr::v4(198, 51, 100, 0, 24),    // documentation (TEST-NET-2)
    Cidr::v4(203, 0, 113, 0, 24),     // documentation (TEST-NET-3)
    Cidr::v4(224, 0, 0, 0, 4),        // multicast
    Cidr::v4(240, 0, 0, 0, 4),        // reserved
    Cidr::v4(255, 255, 255, 255, 32), // limited broadcast
];

/// Within 2000::/3 (global unicast); everything outside it is refused as a whole: the
/// unspecified and loopback addresses, IPv4-mapped and -compatible, NAT64 (64:ff9b::/96 and
/// 64:ff9b:1::/48), discard-only 100::/64, unique local fc00::/7, link-local fe80::/10,
/// multicast ff00::/8, SRv6 5f00::/16.
const SPECIAL_V6: &[Cidr] = &[
    Cidr::v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), // IETF protocol assignments (Teredo 2001::/32, benchmarking, ORCHID, AMT, AS112...)
    Cidr::v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), // documentation
    Cidr::v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16), // 6to4
    Cidr::v6([0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0], 48), // direct delegation AS112
    Cidr::v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), // documentation
];

const GLOBAL_UNICAST_V6: Cidr = Cidr::v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3);

/// Whether an address is in a special-purpose range (not a server on the internet).
pub fn is_special(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(_) => SPECIAL_V4.iter().any(|c| c.contains(ip)),
        IpAddr::V6(_) => !GLOBAL_UNICAST_V6.contains(ip) || SPECIAL_V6.iter().any(|c| c.contains(ip)),
    }
}

/// Which addresses outbound calls may reach: the internet, plus what the operator allows.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub allow: Vec<Cidr>,
}

impl Policy {
    pub fn permits(&self, ip: IpAddr) -> bool {
        !is_special(ip) || self.allow.iter().any(|c| c.contains(ip))
    }

    /// Whether a URL's host may be called, as far as can be told without a lookup: an
    /// address literal is checked, a `localhost` name stands for loopback. For the check at
    /// registration; the lookup is checked at each call.
    pub fn permits_host(&self, url: &reqwest::Url) -> bool {
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return false;
        };
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            return self.permits(ip);
        }
        localhost(host).is_none_or(|loopback| loopback.iter().all(|ip| self.permits(*ip)))
    }
}

/// `localhost` and `*.localhost`, with or without the final dot: loopback (RFC 6761).
fn localhost(name: &str) -> Option<[IpAddr; 2]> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    (name == "localhost" || name.ends_with(".localhost"))
        .then_some([IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)])
}

pub type LookupFuture = Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;

/// Turns a name into addresses: the system's resolver, or a scripted one in tests.
pub trait Lookup: Send + Sync + 'static {
    fn lookup(&self, name: &str) -> LookupFuture;
}

/// The system's resolver (getaddrinfo).
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, name: &str) -> LookupFuture {
        let name = name.to_owned();
        Box::pin(async move {
            Ok(tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .map(|a| a.ip())
                .collect())
        })
    }
}

/// Why a call was not made or did not complete. Callers tell third parties only "failed".
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("the address is not allowed")]
    Refused,
    #[error("the request failed")]
    Failed,
}

#[derive(Debug, thiserror::Error)]
#[error("refused: {0}")]
struct Refusal(&'static str);

/// reqwest's resolver: one lookup, every answer checked, the checked answers connected to.
struct Guard {
    lookup: Arc<dyn Lookup>,
    policy: Arc<Policy>,
}

impl reqwest::dns::Resolve for Guard {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let lookup = self.lookup.clone();
        let policy = self.policy.clone();
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let addresses: Vec<IpAddr> = match localhost(&name) {
                Some(loopback) => loopback.to_vec(),
                None => lookup.lookup(&name).await.map_err(|_| Refusal("lookup failed"))?,
            };
            if addresses.is_empty() {
                return Err(Refusal("no address").into());
            }
            if !addresses.iter().all(|ip| policy.permits(*ip)) {
                return Err(Refusal("special-purpose address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addresses.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The guarded client. Cheap to clone.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    policy: Arc<Policy>,
}

impl Outbound {
    /// With the system's resolver.
    pub fn new(policy: Policy, timeout: Duration, user_agent: &str) -> reqwest::Result<Self> {
        Self::with_lookup(policy, Arc::new(SystemLookup), timeout, user_agent)
    }

    /// With a given resolver (tests script theirs).
    pub fn with_lookup(
        policy: Policy,
        lookup: Arc<dyn Lookup>,
        timeout: Duration,
        user_agent: &str,
    ) -> reqwest::Result<Self> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(user_agent)
            .dns_resolver(Arc::new(Guard {
                lookup,
                policy: policy.clone(),
            }))
            .build()?;
        Ok(Self { client, policy })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Sends a request built on [`client`](Self::client), after checking an address literal
    /// (names are checked by the resolver as the connection is made).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, OutboundError> {
        let request = request.build().map_err(|_| OutboundError::Failed)?;
        if !matches!(request.url().scheme(), "http" | "https") || !self.policy.permits_host(request.url()) {
            return Err(OutboundError::Refused);
        }
        self.client.execute(request).await.map_err(|e| {
            if is_refusal(&e) {
                OutboundError::Refused
            } else {
                OutboundError::Failed
            }
        })
    }

    /// A POST to build on and hand to [`send`](Self::send).
    pub fn post(&self, url: &str) -> reqwest::RequestBuilder {
        self.client.post(url)
    }
}

/// Whether the resolver refused (somewhere in the error's chain).
fn is_refusal(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<Refusal>() {
            return true;
        }
        source = s.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_special_purpose_range_is_refused() {
        let special = [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.1",
            "192.0.0.170",
            "192.0.2.10",
            "192.31.196.1",
            "192.52.193.1",
            "192.88.99.1",
            "192.168.1.1",
            "192.175.48.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::8.8.8.8",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "64:ff9b::7f00:1",
            "64:ff9b::808:808",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:2::1",
            "2001:10::1",
            "2001:20::1",
            "2001:db8::1",
            "2002:7f00:1::1",
            "2002:c0a8:101::1",
            "2620:4f:8000::1",
            "3fff::1",
            "3fff:fff::1",
            "5f00::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "ff0e::1",
            "4000::1",
            "e000::1",
        ];
        let policy = Policy::default();
        for text in special {
            let ip: IpAddr = text.parse().expect(text);
            assert!(is_special(ip), "{text} is special");
            assert!(!policy.permits(ip), "{text} is refused");
        }
    }

    #[test]
    fn the_internet_is_allowed() {
        for text in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2001:200::1",
            "2001:4860:4860::8888",
            "2606:4700:4700::1111",
            "2a00:1450:4007:80e::200e",
            "3ffe::1",
        ] {
            let ip: IpAddr = text.parse().expect(text);
            assert!(!is_special(ip), "{text} is on the internet");
        }
    }

    #[test]
    fn an_allowed_block_opens_only_itself() {
        let policy = Policy {
            allow: vec!["127.0.0.0/8".parse().unwrap(), "::1".parse().unwrap()],
        };
        assert!(policy.permits("127.0.0.1".parse().unwrap()));
        assert!(policy.permits("::1".parse().unwrap()));
        assert!(!policy.permits("10.0.0.1".parse().unwrap()));
        assert!(!policy.permits("::ffff:127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn blocks_parse_strictly() {
        assert_eq!("10.0.0.0/8".parse::<Cidr>().unwrap().to_string(), "10.0.0.0/8");
        assert_eq!("::1".parse::<Cidr>().unwrap().to_string(), "::1/128");
        for bad in ["10.0.0.0/33", "::/129", "example.org", "10.0.0.0/x", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn localhost_names_are_loopback() {
        let policy = Policy::default();
        for url in [
            "http://localhost/",
            "http://localhost.:8080/",
            "http://LOCALHOST/",
            "http://a.localhost./",
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://0x7f.1/",
        ] {
            assert!(!policy.permits_host(&url.parse().unwrap()), "{url}");
        }
        assert!(policy.permits_host(&"https://partner.example/hooks".parse().unwrap()));
    }
}
