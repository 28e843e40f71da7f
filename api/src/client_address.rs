//! The client's address, for throttles and rate limits. Behind a reverse proxy every peer is
//! the proxy, so an operator names the header that proxy sets (`RELAIS_CLIENT_ADDRESS_HEADER`,
//! such as `X-Forwarded-For`); its last value is the one the proxy itself appended, the only
//! one a client cannot choose. Without it, the connection's peer address.

use actix_web::HttpRequest;

use crate::config::Settings;

pub fn of(req: &HttpRequest, settings: &Settings) -> String {
    if let Some(name) = &settings.server.client_address_header
        && let Some(last) = req
            .headers()
            .get_all(name.as_str())
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty())
        && let Ok(ip) = last.parse::<std::net::IpAddr>()
    {
        return ip.to_string();
    }
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default()
}
