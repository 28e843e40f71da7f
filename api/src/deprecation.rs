//! Deprecated operations say so on every response: `Deprecation` (RFC 9745, the date it was or
//! will be deprecated, as `@<Unix seconds>`), `Sunset` (RFC 8594, the HTTP-date after which it
//! may stop answering) and `Link: </docs>; rel="deprecation"` (the reference that explains).
//! The table is the contract's: each operation marked `deprecated: true` in `openapi.yaml`, with
//! its `x-deprecated-at` and `x-sunset` dates, and nothing else (a test compares the two).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use chrono::{NaiveDate, NaiveTime};

/// One deprecated operation: its method and path template as registered, and its dates
/// (`YYYY-MM-DD`, midnight UTC for `Deprecation`, the end of the day for `Sunset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deprecated {
    pub method: &'static str,
    pub path: &'static str,
    pub deprecated_at: &'static str,
    pub sunset: &'static str,
}

/// The operations deprecated today (none yet). Add a row together with `deprecated: true`,
/// `x-deprecated-at` and `x-sunset` on the operation in `openapi.yaml`.
pub static DEPRECATED: &[Deprecated] = &[];

/// The table the middleware reads: `DEPRECATED`, unless the app is given another one (tests).
#[derive(Clone, Copy, Debug)]
pub struct Table(pub &'static [Deprecated]);

impl Default for Table {
    fn default() -> Self {
        Self(DEPRECATED)
    }
}

/// The three headers for a deprecated operation, or None for an operation in good standing
/// (or a row whose dates do not parse, which the contract test refuses).
pub fn headers(table: &[Deprecated], method: &str, pattern: &str) -> Option<[(HeaderName, String); 3]> {
    let row = table
        .iter()
        .find(|d| d.path == pattern && d.method.eq_ignore_ascii_case(method))?;
    let since = NaiveDate::parse_from_str(row.deprecated_at, "%Y-%m-%d").ok()?;
    let sunset = NaiveDate::parse_from_str(row.sunset, "%Y-%m-%d").ok()?;
    let since = since.and_time(NaiveTime::MIN).and_utc().timestamp();
    let sunset = sunset
        .and_hms_opt(23, 59, 59)?
        .and_utc()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    Some([
        (HeaderName::from_static("deprecation"), format!("@{since}")),
        (HeaderName::from_static("sunset"), sunset),
        (
            HeaderName::from_static("link"),
            "</docs>; rel=\"deprecation\"; type=\"text/html\"".to_owned(),
        ),
    ])
}

/// Adds the headers to every response of a deprecated operation, errors included.
pub async fn announce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let table = req.app_data::<web::Data<Table>>().map_or(DEPRECATED, |t| t.0);
    let method = req.method().as_str().to_owned();
    let mut response = next.call(req).await?;
    if table.is_empty() {
        return Ok(response);
    }
    let pattern = response.request().match_pattern();
    if let Some(headers) = pattern.and_then(|p| headers(table, &method, &p)) {
        for (name, value) in headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().append(name, value);
            }
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::test as http;
    use actix_web::{App, HttpResponse};

    use super::*;

    static TABLE: &[Deprecated] = &[Deprecated {
        method: "GET",
        path: "/v1/old/{id}",
        deprecated_at: "2027-01-01",
        sunset: "2027-07-01",
    }];

    #[actix_web::test]
    async fn a_deprecated_operation_says_so_and_the_others_do_not() {
        let app = http::init_service(
            App::new()
                .app_data(web::Data::new(Table(TABLE)))
                .wrap(from_fn(announce))
                .route("/v1/old/{id}", web::get().to(HttpResponse::Ok))
                .route("/v1/old/{id}", web::post().to(HttpResponse::NotFound))
                .route("/v1/new/{id}", web::get().to(HttpResponse::Ok)),
        )
        .await;
        let old = http::call_service(&app, http::TestRequest::get().uri("/v1/old/42").to_request()).await;
        let header = |name: &str| old.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(header("deprecation").as_deref(), Some("@1798761600"));
        assert_eq!(header("sunset").as_deref(), Some("Thu, 01 Jul 2027 23:59:59 GMT"));
        assert_eq!(
            header("link").as_deref(),
            Some("</docs>; rel=\"deprecation\"; type=\"text/html\"")
        );
        for request in [
            http::TestRequest::post().uri("/v1/old/42").to_request(),
            http::TestRequest::get().uri("/v1/new/42").to_request(),
        ] {
            let other = http::call_service(&app, request).await;
            assert!(other.headers().get("deprecation").is_none());
            assert!(other.headers().get("sunset").is_none());
        }
    }

    #[test]
    fn every_row_of_the_real_table_has_dates_that_parse() {
        for row in DEPRECATED {
            assert!(headers(DEPRECATED, row.method, row.path).is_some(), "{row:?}");
        }
    }
}
