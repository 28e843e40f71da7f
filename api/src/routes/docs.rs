//! The contract and its reference page: `/openapi.yaml` is the file the server was built
//! with, byte for byte; `/docs` renders it with Redoc's standalone bundle, vendored in
//! `clients/docs/dist` (built from the pinned npm package, checked in CI) and embedded in the
//! binary like the practitioner app, so the page needs no CDN.

use actix_web::{HttpRequest, HttpResponse, web};

use super::app::{Asset, serve_with};
use crate::problem::ApiError;

/// The page loads its one script from here and the contract from here. Redoc injects its
/// styles at run time (`'unsafe-inline'` for styles only), runs its search index in a worker
/// made from a blob, and draws some logos as data URLs; nothing leaves the origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The contract, as served at `/openapi.yaml` (RFC 9512's media type).
pub static CONTRACT: Asset = Asset {
    name: "openapi.yaml",
    content_type: "application/yaml",
    bytes: include_bytes!("../../../openapi.yaml"),
};

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("../../../clients/docs/dist/", $name)),
        }
    };
}

/// Every file of `clients/docs/dist` (a test checks that none is missing).
pub static ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("redoc.standalone.js", "text/javascript; charset=utf-8"),
    asset!("LICENSE.redoc.txt", "text/plain; charset=utf-8"),
];

pub async fn contract(req: HttpRequest) -> HttpResponse {
    serve_with(&req, &CONTRACT, None)
}

pub async fn page(req: HttpRequest) -> HttpResponse {
    serve_with(&req, &ASSETS[0], Some(CSP))
}

pub async fn file(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let name = name.into_inner();
    ASSETS
        .iter()
        .skip(1)
        .find(|a| a.name == name)
        .map(|asset| serve_with(&req, asset, None))
        .ok_or(ApiError::NotFound)
}
