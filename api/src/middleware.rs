//! One middleware around every request: a tracing span (method, route pattern, status,
//! latency; never the path's query, headers or body), metrics, a guarantee that every
//! error leaves as `application/problem+json`, and a panic turned into a plain 500.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError as _, web};
use futures_util::FutureExt as _;
use tracing::Instrument as _;

use crate::problem::{ApiError, PROBLEM_JSON};
use crate::state::AppState;

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let start = Instant::now();
    let method = req.method().to_string();
    let metrics = req.app_data::<web::Data<AppState>>().map(|s| s.metrics.clone());
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = tracing::field::Empty,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let outcome = AssertUnwindSafe(next.call(req).instrument(span.clone()))
        .catch_unwind()
        .await;
    // Errors and panics below carry no request to build a response with; returned as
    // errors, the server renders them with `error_response`, which is a problem for ours.
    let response = match outcome {
        Ok(Ok(res)) => res.map_into_boxed_body(),
        Ok(Err(err)) => {
            if let Some(metrics) = &metrics {
                metrics.observe(
                    &method,
                    "unmatched",
                    err.as_response_error().status_code().as_u16(),
                    start.elapsed().as_secs_f64(),
                );
            }
            return Err(err);
        }
        Err(_) => {
            tracing::error!(parent: &span, "handler panicked");
            if let Some(metrics) = &metrics {
                metrics.observe(&method, "unmatched", 500, start.elapsed().as_secs_f64());
            }
            return Err(ApiError::Internal("handler panicked".into()).into());
        }
    };
    let response = ensure_problem(response);
    let status = response.status().as_u16();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let elapsed = start.elapsed();
    span.record("route", route.as_str());
    span.record("status", status);
    span.record("latency_ms", elapsed.as_millis() as u64);
    if let Some(metrics) = metrics {
        metrics.observe(&method, &route, status, elapsed.as_secs_f64());
    }
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!("request handled");
        } else {
            tracing::info!("request handled");
        }
    });
    Ok(response)
}

/// Replaces a non-problem error body (from a layer below our handlers) with a problem of
/// the same status.
fn ensure_problem(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if is_problem {
        return response;
    }
    let replacement = match status {
        StatusCode::NOT_FOUND => ApiError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge { limit: 0 },
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
        StatusCode::UNAUTHORIZED => ApiError::Unauthenticated,
        s if s.is_client_error() => ApiError::BadRequest("the request could not be processed".into()),
        _ => ApiError::Internal(format!("lower layer answered {status}")),
    };
    let mut fresh: HttpResponse = replacement.error_response();
    *fresh.status_mut() = status;
    fresh
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    let (req, _) = response.into_parts();
    ServiceResponse::new(req, fresh)
}
