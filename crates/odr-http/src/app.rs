//! The whole actix application: state, routes, the problem+json configs
//! and fallbacks, and the middleware, assembled once for `odr serve` and
//! for tests.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App, Error};

use crate::framework_errors as fe;
use crate::request_id::request_id_middleware;
use crate::routes;
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
    App::new()
        .app_data(web::Data::new(state))
        .app_data(fe::json_config())
        .app_data(fe::query_config())
        .app_data(fe::path_config())
        .configure(routes::configure)
        .default_service(fe::default_service())
        .wrap(fe::problem_safety_net())
        .wrap(
            DefaultHeaders::new()
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("Referrer-Policy", "no-referrer")),
        )
        .wrap(from_fn(request_id_middleware))
}
