//! The whole actix application: state, routes, the problem+json configs
//! and fallbacks, and the middleware, assembled once for `odr serve` and
//! for tests.

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::{from_fn, Condition};
use actix_web::{web, App, Error};

use crate::framework_errors as fe;
use crate::idempotency::idempotency_middleware;
use crate::metrics::metrics_middleware;
use crate::request_id::request_id_middleware;
use crate::routes;
use crate::security_headers::security_headers;
use crate::state::AppState;

pub fn build(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let cors_enabled = !state.http.cors_allowed_origins.is_empty();
    let cors = cors(&state.http.cors_allowed_origins);
    App::new()
        .app_data(web::Data::new(state))
        .app_data(fe::json_config())
        .app_data(fe::query_config())
        .app_data(fe::path_config())
        .configure(routes::configure)
        .configure(crate::pages::configure)
        .default_service(actix_web::web::to(crate::pages::fallback))
        // Innermost: a replay is answered here and still passes the safety
        // net, security headers and request id on its way out.
        .wrap(from_fn(idempotency_middleware))
        // Inside the safety net, so that a refused preflight is a problem
        // document too.
        .wrap(Condition::new(cors_enabled, cors))
        .wrap(fe::problem_safety_net())
        .wrap(from_fn(security_headers))
        .wrap(from_fn(request_id_middleware))
        // Outermost: counts every answer, with the status the client gets.
        .wrap(from_fn(metrics_middleware))
}

/// CORS for the shop domains in `ODR_CORS_ALLOWED_ORIGINS`: exactly those
/// origins. A request from any other origin is served without CORS headers
/// (the browser then keeps the answer from the page); a preflight from one is
/// refused. With no origins configured the middleware is not used at all.
fn cors(origins: &[String]) -> Cors {
    let cors = origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("idempotency-key"),
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::HeaderName::from_static("x-request-id"),
            header::RETRY_AFTER,
        ])
        .max_age(600);
    cors.block_on_origin_mismatch(false)
}
