//! A justice partner's webhook: its endpoint (set with its API key; the signing secret is
//! shown once), the messages owed to it with their delivery log, and replay of a dead one.

use actix_web::{HttpResponse, web};
use relais_core::Error;
use relais_core::partners::webhooks::{self, DeliveryStatus};

use crate::auth::Auth;
use crate::body::Body;
use crate::outbound::Policy;
use crate::problem::ApiResult;
use crate::state::AppState;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointBody {
    url: String,
}

/// An endpoint the server will post to: absolute, `https` (or `http` where allowed), no
/// credentials in it, no fragment.
fn endpoint_url(text: &str, allow_http: bool, policy: &Policy) -> Result<String, Error> {
    let invalid = |why: &str| Error::invalid("url", why);
    if text.len() > 2000 {
        return Err(invalid("at most 2000 characters"));
    }
    let url = reqwest::Url::parse(text.trim()).map_err(|_| invalid("an absolute URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        _ => return Err(invalid("an https:// URL")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("a URL with a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("no credentials in the URL: the signature authenticates us"));
    }
    if url.fragment().is_some() {
        return Err(invalid("no fragment"));
    }
    if !policy.permits_host(&url) {
        return Err(invalid("a server on the internet, not a loopback or private address"));
    }
    Ok(url.to_string())
}

pub async fn put_endpoint(state: web::Data<AppState>, auth: Auth, body: Body<EndpointBody>) -> ApiResult<HttpResponse> {
    let caller = auth.caller().clone();
    let url = endpoint_url(
        &body.into_inner().url,
        state.settings.webhooks.allow_http,
        &Policy {
            allow: state.settings.webhooks.outbound_allow.clone(),
        },
    )?;
    let (endpoint, secret) = state
        .db_sealed(move |conn, secrets| webhooks::set_endpoint(conn, secrets, &caller, &url))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({
            "url": endpoint.url,
            "secret": secret,
            "created_at": endpoint.created_at,
            "updated_at": endpoint.updated_at,
        })))
}

pub async fn get_endpoint(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    let caller = auth.caller().clone();
    let endpoint = state.db(move |conn| webhooks::endpoint(conn, &caller)).await?;
    Ok(HttpResponse::Ok().json(endpoint))
}

pub async fn delete_endpoint(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    let caller = auth.caller().clone();
    state.db(move |conn| webhooks::remove_endpoint(conn, &caller)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    status: Option<DeliveryStatus>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    cursor: Option<String>,
}

pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    query: crate::query::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let caller = auth.caller().clone();
    let q = query.into_inner();
    let page = super::page_request(q.limit, q.cursor.as_deref())?;
    let status = q.status;
    let page = state
        .db(move |conn| webhooks::list(conn, &caller, status, &page))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A message id as we make them: `msg_` and 32 hexadecimal digits.
fn message_id(text: &str) -> Result<String, Error> {
    text.strip_prefix("msg_")
        .filter(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|_| text.to_owned())
        .ok_or(Error::NotFound)
}

pub async fn get(state: web::Data<AppState>, auth: Auth, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let caller = auth.caller().clone();
    let id = message_id(&path)?;
    let delivery = state.db(move |conn| webhooks::get(conn, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(delivery))
}

pub async fn replay(state: web::Data<AppState>, auth: Auth, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let caller = auth.caller().clone();
    let id = message_id(&path)?;
    let delivery = state.db(move |conn| webhooks::replay(conn, &caller, &id)).await?;
    Ok(HttpResponse::Accepted().json(delivery))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_absolute_and_clean() {
        let strict = Policy::default();
        let loopback = Policy {
            allow: vec!["127.0.0.0/8".parse().unwrap()],
        };
        assert!(endpoint_url("https://spip.example/hooks", false, &strict).is_ok());
        assert!(endpoint_url("http://127.0.0.1:9/hooks", true, &loopback).is_ok());
        for bad in [
            "http://spip.example/hooks",
            "ftp://spip.example/",
            "https://user:pw@spip.example/",
            "https://spip.example/#x",
            "/hooks",
            "",
            "https://127.0.0.1/hooks",
            "https://10.0.0.5:8443/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hooks",
            "https://[fd00::1]/hooks",
            "https://localhost/hooks",
            "https://localhost.:8443/hooks",
            "https://[::127.0.0.1]/hooks",
            "https://[64:ff9b::a00:1]/hooks",
            "https://[2002:7f00:1::1]/hooks",
            "https://198.18.0.1/hooks",
        ] {
            assert!(endpoint_url(bad, false, &strict).is_err(), "{bad}");
        }
    }
}
