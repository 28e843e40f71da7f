//! Every route the server serves, in one table. The table is the single source for
//! registration and for the contract test that compares it with `openapi.yaml`.

mod api_keys;
mod app;
mod audit;
mod auth;
mod cases;
mod centres;
mod certificates;
mod desk;
mod directory;
mod docs;
mod geo;
mod health;
mod helpers;
mod helpline;
mod housing;
mod me;
mod organisations;
mod partner_webhooks;
mod push;
mod records;
mod referrals;
mod schedule;
mod security;
mod users;
mod webchat;
mod webhooks;

use actix_web::error::{JsonPayloadError, PathError};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError as _, Route, web};

use crate::problem::ApiError;

pub(crate) use helpers::{
    idempotency_key, in_query, invalid, invalid_parameter, page_request, sane_date, sane_instant, to_json,
};

/// One registered route: method, path template (OpenAPI syntax), handler.
pub struct RouteDef {
    pub method: Method,
    pub path: &'static str,
    pub route: Route,
}

fn def(method: Method, path: &'static str, route: Route) -> RouteDef {
    RouteDef { method, path, route }
}

pub fn table() -> Vec<RouteDef> {
    use Method as M;
    vec![
        def(M::GET, "/healthz", web::get().to(health::healthz)),
        def(M::GET, "/readyz", web::get().to(health::readyz)),
        def(M::GET, "/metrics", web::get().to(health::metrics)),
        def(M::GET, "/v1/geo/postal-codes/{code}", web::get().to(geo::postal_code)),
        def(M::GET, "/v1/geo/places", web::get().to(geo::places)),
        def(M::GET, "/v1/geo/addresses", web::get().to(geo::addresses)),
        def(M::GET, "/v1/push/key", web::get().to(push::key)),
        def(M::GET, "/v1/push/subscriptions", web::get().to(push::list)),
        def(M::POST, "/v1/push/subscriptions", web::post().to(push::subscribe)),
        def(
            M::DELETE,
            "/v1/push/subscriptions/{id}",
            web::delete().to(push::unsubscribe),
        ),
        def(M::POST, "/v1/auth/login", web::post().to(auth::login)),
        def(M::POST, "/v1/auth/refresh", web::post().to(auth::refresh)),
        def(M::POST, "/v1/auth/logout", web::post().to(auth::logout)),
        def(M::POST, "/v1/auth/totp/enrol", web::post().to(auth::totp_enrol)),
        def(M::POST, "/v1/auth/totp/confirm", web::post().to(auth::totp_confirm)),
        def(M::GET, "/v1/me", web::get().to(me::me)),
        def(M::GET, "/v1/organisations", web::get().to(organisations::list)),
        def(M::POST, "/v1/organisations", web::post().to(organisations::create)),
        def(M::GET, "/v1/organisations/{id}", web::get().to(organisations::get)),
        def(
            M::PATCH,
            "/v1/organisations/{id}",
            web::patch().to(organisations::update),
        ),
        def(M::GET, "/v1/organisations/{id}/users", web::get().to(users::list)),
        def(M::POST, "/v1/organisations/{id}/users", web::post().to(users::create)),
        def(M::GET, "/v1/organisations/{id}/api-keys", web::get().to(api_keys::list)),
        def(
            M::POST,
            "/v1/organisations/{id}/api-keys",
            web::post().to(api_keys::create),
        ),
        def(M::DELETE, "/v1/api-keys/{id}", web::delete().to(api_keys::revoke)),
        def(M::GET, "/v1/users/{id}", web::get().to(users::get)),
        def(M::PATCH, "/v1/users/{id}", web::patch().to(users::update)),
        def(M::POST, "/v1/users/{id}/totp-reset", web::post().to(users::totp_reset)),
        def(
            M::POST,
            "/v1/users/{id}/enrolment-code",
            web::post().to(users::enrolment_code),
        ),
        def(M::GET, "/v1/audit/verify", web::get().to(audit::verify)),
        def(M::GET, "/v1/security/alerts", web::get().to(security::alerts)),
        def(M::GET, "/v1/live", web::get().to(crate::live::socket::socket)),
        def(M::GET, "/v1/conversations", web::get().to(helpline::list)),
        def(M::GET, "/v1/conversations/{id}", web::get().to(helpline::get)),
        def(M::POST, "/v1/contacts/{id}/flag", web::post().to(helpline::flag)),
        def(M::POST, "/v1/queue/take-next", web::post().to(desk::take_next)),
        def(M::POST, "/v1/conversations/{id}/take", web::post().to(desk::take)),
        def(M::POST, "/v1/conversations/{id}/assign", web::post().to(desk::assign)),
        def(M::POST, "/v1/conversations/{id}/messages", web::post().to(desk::reply)),
        def(
            M::POST,
            "/v1/conversations/{id}/transfer",
            web::post().to(desk::transfer),
        ),
        def(M::POST, "/v1/conversations/{id}/close", web::post().to(desk::close)),
        def(M::POST, "/v1/conversations/{id}/typing", web::post().to(desk::typing)),
        def(
            M::POST,
            "/v1/conversations/{id}/orientation",
            web::post().to(desk::orient),
        ),
        def(M::GET, "/v1/centres", web::get().to(centres::list)),
        def(M::GET, "/v1/centres/coverage", web::get().to(centres::coverage)),
        def(M::GET, "/v1/centres/{id}", web::get().to(centres::get)),
        def(M::GET, "/v1/centres/{id}/overview", web::get().to(centres::overview)),
        def(
            M::PATCH,
            "/v1/centres/{id}/profile",
            web::patch().to(centres::update_profile),
        ),
        def(
            M::PUT,
            "/v1/centres/{id}/services",
            web::put().to(centres::put_services),
        ),
        def(
            M::PUT,
            "/v1/centres/{id}/locations",
            web::put().to(centres::put_locations),
        ),
        def(M::GET, "/v1/directory/hsds", web::get().to(directory::root)),
        def(
            M::GET,
            "/v1/directory/hsds/organizations",
            web::get().to(directory::organizations),
        ),
        def(
            M::GET,
            "/v1/directory/hsds/organizations/{id}",
            web::get().to(directory::organization),
        ),
        def(
            M::GET,
            "/v1/directory/hsds/services",
            web::get().to(directory::services),
        ),
        def(
            M::GET,
            "/v1/directory/hsds/services/{id}",
            web::get().to(directory::service),
        ),
        def(
            M::GET,
            "/v1/directory/hsds/service_at_locations",
            web::get().to(directory::service_at_locations),
        ),
        def(M::GET, "/v1/referrals", web::get().to(referrals::list)),
        def(M::POST, "/v1/referrals", web::post().to(referrals::create)),
        def(M::GET, "/v1/referrals/{id}", web::get().to(referrals::get)),
        def(M::POST, "/v1/referrals/{id}/accept", web::post().to(referrals::accept)),
        def(M::POST, "/v1/referrals/{id}/reject", web::post().to(referrals::reject)),
        def(M::POST, "/v1/referrals/{id}/done", web::post().to(referrals::done)),
        def(M::POST, "/v1/referrals/{id}/revoke", web::post().to(referrals::revoke)),
        def(M::GET, "/v1/cases", web::get().to(cases::list)),
        def(M::POST, "/v1/cases", web::post().to(cases::create)),
        def(M::GET, "/v1/cases/{id}", web::get().to(cases::get)),
        def(M::PATCH, "/v1/cases/{id}", web::patch().to(cases::update)),
        def(M::GET, "/v1/cases/{id}/measures", web::get().to(cases::list_measures)),
        def(M::POST, "/v1/cases/{id}/measures", web::post().to(cases::add_measure)),
        def(
            M::GET,
            "/v1/cases/{id}/protected-persons",
            web::get().to(cases::list_protected_persons),
        ),
        def(
            M::POST,
            "/v1/cases/{id}/protected-persons",
            web::post().to(cases::add_protected_person),
        ),
        def(M::GET, "/v1/cases/{id}/sessions", web::get().to(cases::list_sessions)),
        def(M::POST, "/v1/cases/{id}/sessions", web::post().to(cases::add_session)),
        def(M::PATCH, "/v1/sessions/{id}", web::patch().to(cases::set_attendance)),
        def(M::GET, "/v1/cases/{id}/notes", web::get().to(cases::list_notes)),
        def(M::POST, "/v1/cases/{id}/notes", web::post().to(cases::add_note)),
        def(
            M::POST,
            "/v1/case-notes/{id}/corrections",
            web::post().to(cases::correct_note),
        ),
        def(M::GET, "/v1/cases/{id}/tasks", web::get().to(cases::list_tasks)),
        def(M::POST, "/v1/cases/{id}/tasks", web::post().to(cases::add_task)),
        def(M::PATCH, "/v1/tasks/{id}", web::patch().to(cases::update_task)),
        def(M::GET, "/v1/cases/{id}/export", web::get().to(cases::export)),
        def(M::GET, "/v1/housing/offers", web::get().to(housing::list_offers)),
        def(M::POST, "/v1/housing/offers", web::post().to(housing::create_offer)),
        def(M::GET, "/v1/housing/offers/{id}", web::get().to(housing::get_offer)),
        def(M::PUT, "/v1/housing/offers/{id}", web::put().to(housing::update_offer)),
        def(
            M::POST,
            "/v1/cases/{id}/housing-requests",
            web::post().to(housing::create_request),
        ),
        def(M::GET, "/v1/cases/{id}/housing", web::get().to(housing::case_housing)),
        def(M::GET, "/v1/housing/requests", web::get().to(housing::list_requests)),
        def(M::GET, "/v1/housing/requests/{id}", web::get().to(housing::get_request)),
        def(
            M::GET,
            "/v1/housing/requests/{id}/proposals",
            web::get().to(housing::proposals),
        ),
        def(
            M::POST,
            "/v1/housing/requests/{id}/unmet",
            web::post().to(housing::mark_unmet),
        ),
        def(
            M::POST,
            "/v1/housing/requests/{id}/withdraw",
            web::post().to(housing::withdraw),
        ),
        def(M::POST, "/v1/housing/placements", web::post().to(housing::place)),
        def(
            M::GET,
            "/v1/housing/placements/{id}",
            web::get().to(housing::get_placement),
        ),
        def(
            M::POST,
            "/v1/housing/placements/{id}/extend",
            web::post().to(housing::extend),
        ),
        def(M::POST, "/v1/housing/placements/{id}/end", web::post().to(housing::end)),
        def(
            M::POST,
            "/v1/housing/placements/{id}/no-show",
            web::post().to(housing::no_show),
        ),
        def(M::GET, "/v1/housing/inventory", web::get().to(housing::inventory)),
        def(M::DELETE, "/v1/cases/{id}", web::delete().to(cases::erase)),
        def(M::GET, "/v1/cases/{id}/certificates", web::get().to(certificates::list)),
        def(
            M::POST,
            "/v1/cases/{id}/certificates",
            web::post().to(certificates::issue),
        ),
        def(M::GET, "/v1/certificates/{id}/pdf", web::get().to(certificates::pdf)),
        def(
            M::GET,
            "/v1/certificate-checks/{code}",
            web::get().to(certificates::check),
        ),
        def(
            M::GET,
            "/v1/webhook-endpoint",
            web::get().to(partner_webhooks::get_endpoint),
        ),
        def(
            M::PUT,
            "/v1/webhook-endpoint",
            web::put().to(partner_webhooks::put_endpoint),
        ),
        def(
            M::DELETE,
            "/v1/webhook-endpoint",
            web::delete().to(partner_webhooks::delete_endpoint),
        ),
        def(M::GET, "/v1/webhook-deliveries", web::get().to(partner_webhooks::list)),
        def(
            M::GET,
            "/v1/webhook-deliveries/{id}",
            web::get().to(partner_webhooks::get),
        ),
        def(
            M::POST,
            "/v1/webhook-deliveries/{id}/replay",
            web::post().to(partner_webhooks::replay),
        ),
        def(M::POST, "/v1/availabilities", web::post().to(schedule::publish)),
        def(M::GET, "/v1/slots", web::get().to(schedule::list_slots)),
        def(M::DELETE, "/v1/slots/{id}", web::delete().to(schedule::withdraw_slot)),
        def(M::POST, "/v1/appointments", web::post().to(schedule::book)),
        def(M::GET, "/v1/appointments", web::get().to(schedule::list_appointments)),
        def(
            M::GET,
            "/v1/appointments/{id}",
            web::get().to(schedule::get_appointment),
        ),
        def(
            M::POST,
            "/v1/appointments/{id}/status",
            web::post().to(schedule::set_status),
        ),
        def(
            M::POST,
            "/v1/appointments/{id}/corrections",
            web::post().to(schedule::correct),
        ),
        def(
            M::GET,
            "/v1/appointments/{id}/corrections",
            web::get().to(schedule::corrections),
        ),
        def(M::GET, "/v1/centre-inbox", web::get().to(schedule::inbox)),
        def(
            M::POST,
            "/v1/me/calendar-feed",
            web::post().to(schedule::reset_calendar_feed),
        ),
        def(M::GET, "/calendar/{token}", web::get().to(schedule::calendar_feed)),
        def(M::GET, "/v1/conversations/{id}/notes", web::get().to(desk::notes)),
        def(M::POST, "/v1/conversations/{id}/notes", web::post().to(desk::add_note)),
        def(
            M::GET,
            "/v1/conversations/{id}/queue-position",
            web::get().to(desk::position),
        ),
        def(M::GET, "/v1/presence", web::get().to(desk::list_presence)),
        def(M::POST, "/v1/presence", web::post().to(desk::set_presence)),
        def(M::GET, "/v1/canned-replies", web::get().to(records::list_canned)),
        def(M::POST, "/v1/canned-replies", web::post().to(records::create_canned)),
        def(
            M::PATCH,
            "/v1/canned-replies/{id}",
            web::patch().to(records::update_canned),
        ),
        def(
            M::DELETE,
            "/v1/canned-replies/{id}",
            web::delete().to(records::delete_canned),
        ),
        def(M::GET, "/v1/phone-calls", web::get().to(records::list_calls)),
        def(M::POST, "/v1/phone-calls", web::post().to(records::log_call)),
        def(M::GET, "/v1/helpline/statistics", web::get().to(records::statistics)),
        def(M::POST, "/webhooks/telegram", web::post().to(webhooks::telegram)),
        def(M::POST, "/webhooks/sms/twilio", web::post().to(webhooks::sms)),
        def(
            M::POST,
            "/webhooks/sms/twilio/status",
            web::post().to(webhooks::sms_status),
        ),
        def(M::GET, "/chat", web::get().to(webchat::page)),
        def(M::GET, "/chat/chat.js", web::get().to(webchat::script)),
        def(M::POST, "/chat/api/sessions", web::post().to(webchat::create_session)),
        def(M::POST, "/chat/api/messages", web::post().to(webchat::post_message)),
        def(M::GET, "/chat/api/messages", web::get().to(webchat::list_messages)),
        def(M::GET, "/chat/ws", web::get().to(webchat::socket)),
        def(M::GET, "/app", web::get().to(app::page)),
        def(M::GET, "/app/", web::get().to(app::page)),
        def(M::GET, "/app/{file}", web::get().to(app::file)),
        def(M::GET, "/openapi.yaml", web::get().to(docs::contract)),
        def(M::GET, "/docs", web::get().to(docs::page)),
        def(M::GET, "/docs/{file}", web::get().to(docs::file)),
    ]
}

/// Registers the table, grouping methods by path so a wrong method answers 405.
pub fn configure(cfg: &mut web::ServiceConfig, body_limit: usize) {
    cfg.app_data(json_config(body_limit))
        .app_data(web::PayloadConfig::new(body_limit))
        .app_data(web::PathConfig::default().error_handler(|_: PathError, _| ApiError::NotFound.into()));
    let routes = table();
    let allow_for = |path: &str| -> String {
        let methods: Vec<&str> = routes
            .iter()
            .filter(|r| r.path == path)
            .map(|r| r.method.as_str())
            .collect();
        methods.join(", ")
    };
    let allow_lists: Vec<(&'static str, String)> = routes.iter().map(|r| (r.path, allow_for(r.path))).collect();
    let mut resources: Vec<(&'static str, actix_web::Resource)> = Vec::new();
    for RouteDef { path, route, .. } in routes {
        match resources.iter_mut().find(|(p, _)| *p == path) {
            Some((_, resource)) => {
                let taken = std::mem::replace(resource, web::resource(path));
                *resource = taken.route(route);
            }
            None => {
                let allow = allow_lists
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map(|(_, a)| a.clone())
                    .unwrap_or_default();
                let not_allowed = move || {
                    let allow = allow.clone();
                    async move {
                        let mut response = ApiError::MethodNotAllowed.error_response();
                        if let Ok(value) = HeaderValue::from_str(&allow) {
                            response.headers_mut().insert(header::ALLOW, value);
                        }
                        response
                    }
                };
                resources.push((
                    path,
                    web::resource(path).route(route).default_service(web::to(not_allowed)),
                ));
            }
        }
    }
    for (_, resource) in resources {
        cfg.service(resource);
    }
}

fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .content_type_required(true)
        .error_handler(|e: JsonPayloadError, _| {
            let api = match e {
                JsonPayloadError::OverflowKnownLength { limit, .. } | JsonPayloadError::Overflow { limit } => {
                    ApiError::PayloadTooLarge { limit }
                }
                JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
                JsonPayloadError::Deserialize(err) => {
                    if err.is_data() {
                        crate::problem::FieldError::at("", err.to_string()).problem()
                    } else {
                        ApiError::BadRequest(format!("the body is not valid JSON: {err}"))
                    }
                }
                other => ApiError::BadRequest(other.to_string()),
            };
            api.into()
        })
}

pub async fn not_found(_: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
