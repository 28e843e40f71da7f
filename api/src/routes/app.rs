//! The practitioner app at `/app`: the built files of `clients/practitioner/dist`, embedded in
//! the binary so `cargo run --release` serves it with no Node.js. CI rebuilds them from the
//! sources and fails when they differ from what is committed.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::problem::ApiError;

/// The app's page may load only its own script, style, images, manifest and worker, and talk
/// only to this origin (REST and the live socket).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
                   connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; \
                   form-action 'none'; frame-ancestors 'none'";

pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("../../../clients/practitioner/dist/", $name)),
        }
    };
}

/// Every file of `clients/practitioner/dist` (a test checks that none is missing).
pub static ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("sw.js", "text/javascript; charset=utf-8"),
    asset!("manifest.webmanifest", "application/manifest+json"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("icon-192.png", "image/png"),
    asset!("icon-512.png", "image/png"),
];

/// A strong validator from the content (FNV-1a, 64 bits): enough to tell two builds apart.
fn etag(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("\"{hash:016x}\"")
}

fn serve(req: &HttpRequest, asset: &Asset) -> HttpResponse {
    serve_with(req, asset, (asset.name == "index.html").then_some(CSP))
}

/// An embedded file, revalidated by its ETag, with the page's Content-Security-Policy if any.
pub(crate) fn serve_with(req: &HttpRequest, asset: &Asset, csp: Option<&'static str>) -> HttpResponse {
    let tag = etag(asset.bytes);
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            // A proxy that compresses may weaken the tag (`W/"…"`): the content is still the same.
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == tag || t == "*")
        });
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    // Always revalidated, so a new version shows at the next load; the service worker keeps the
    // shell for offline starts.
    response
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::ETAG, tag));
    if let Some(csp) = csp {
        response.insert_header(("Content-Security-Policy", csp));
    }
    if asset.name == "sw.js" {
        response.insert_header(("Service-Worker-Allowed", HeaderValue::from_static("/app")));
    }
    if fresh {
        return response.finish();
    }
    response.content_type(asset.content_type).body(asset.bytes)
}

pub async fn page(req: HttpRequest) -> HttpResponse {
    serve(&req, &ASSETS[0])
}

pub async fn file(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let name = name.into_inner();
    ASSETS
        .iter()
        .find(|a| a.name == name)
        .map(|asset| serve(&req, asset))
        .ok_or(ApiError::NotFound)
}
