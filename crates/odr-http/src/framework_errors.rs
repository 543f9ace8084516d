//! Making actix-web's own errors problem documents too: extractor configs,
//! the 404/405 fallbacks and a safety net for anything left over.
//!
//! Register them once on the `App`:
//!
//! ```no_run
//! use actix_web::{middleware::from_fn, web, App};
//! use odr_http::framework_errors as fe;
//!
//! let app = App::new()
//!     .app_data(fe::json_config())
//!     .app_data(fe::query_config())
//!     .app_data(fe::path_config())
//!     .service(
//!         web::resource("/api/v1/me")
//!             .get(|| async { "me" })
//!             .default_service(fe::method_not_allowed()),
//!     )
//!     .default_service(fe::default_service())
//!     .wrap(fe::problem_safety_net())
//!     .wrap(from_fn(odr_http::request_id::request_id_middleware));
//! ```

use actix_web::{
    body::MessageBody,
    dev::ServiceResponse,
    error::{JsonPayloadError, QueryPayloadError},
    http::{
        header::{self, HeaderValue},
        StatusCode,
    },
    middleware::{ErrorHandlerResponse, ErrorHandlers},
    web, HttpRequest, HttpResponse, Route,
};

use crate::{
    body::{json_error, query_message_error, DEFAULT_BODY_LIMIT},
    problem::{code_for_status, default_detail, ApiError, Problem, PROBLEM_JSON},
};

/// For handlers that still use `web::Json`: the same limits and problem
/// documents as [`crate::body::JsonBody`] (but without field paths).
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(DEFAULT_BODY_LIMIT)
        .error_handler(|err, _req| ApiError::from(err).into())
}

/// For `web::Query`: 400 `malformed_request`, naming the parameter when the
/// error says which (prefer [`crate::body::QueryParams`], which always does).
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| ApiError::from(err).into())
}

/// For `web::Path`: a segment that does not parse names nothing that exists,
/// so it is 404 `not_found`.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, req| {
        tracing::debug!(path = %req.path(), error = %err, "unparsable path parameter");
        ApiError::NotFound.into()
    })
}

impl From<JsonPayloadError> for ApiError {
    fn from(err: JsonPayloadError) -> ApiError {
        match err {
            JsonPayloadError::OverflowKnownLength { limit, .. }
            | JsonPayloadError::Overflow { limit } => ApiError::PayloadTooLarge { limit },
            JsonPayloadError::ContentType => ApiError::UnsupportedMediaType(
                "This endpoint accepts `application/json` (UTF-8) only.".to_owned(),
            ),
            JsonPayloadError::Deserialize(e) => json_error("", &e),
            JsonPayloadError::Payload(e) => ApiError::Malformed {
                detail: format!("The request body could not be read: {e}."),
                errors: Vec::new(),
            },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<QueryPayloadError> for ApiError {
    fn from(err: QueryPayloadError) -> ApiError {
        match err {
            QueryPayloadError::Deserialize(e) => query_message_error(&e.to_string()),
            other => query_message_error(&other.to_string()),
        }
    }
}

/// The app's fallback for every request no resource took: 404 `not_found`,
/// or 405 `method_not_allowed` when some resource matches the path (which
/// happens with method-guarded resources such as the `#[get]` macros).
///
/// Caveat: a catch-all resource (`/{tail:.*}`) matches every path, which
/// would turn every unknown path into 405; register such a fallback as the
/// default service instead.
pub fn default_service() -> Route {
    web::to(not_found_or_method)
}

pub async fn not_found_or_method(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if req.resource_map().has_resource(req.path()) {
        Err(ApiError::MethodNotAllowed)
    } else {
        Err(ApiError::NotFound)
    }
}

/// The per-resource fallback for a method the resource has no route for:
/// `web::resource(p).get(..).default_service(method_not_allowed())`.
///
/// Without it actix answers an empty 405 (with `Allow`), which
/// [`problem_safety_net`] still turns into a problem document, keeping
/// `Allow`; this helper is for resources built without the safety net.
pub fn method_not_allowed() -> Route {
    web::to(|| async { Err::<HttpResponse, _>(ApiError::MethodNotAllowed) })
}

/// Middleware that turns any error response (status ≥ 400) whose body is not
/// already a problem document into one, keeping its status and headers
/// (`Allow`, `Retry-After`, `WWW-Authenticate`, ...). Wrap it inside the
/// request-id middleware so that the final response gets the id too.
pub fn problem_safety_net<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(to_problem)
}

fn to_problem<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // A web page's own error page (HTML) is an answer already.
    if is_problem(res.response()) || is_html(res.response()) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let (req, res) = res.into_parts();
    let problem = problem_replacing(&res);
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, problem).map_into_right_body(),
    ))
}

pub(crate) fn is_problem<B>(res: &HttpResponse<B>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON))
}

fn is_html<B>(res: &HttpResponse<B>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// A problem document standing in for a bare error response: same status,
/// same headers (`Allow`, `Retry-After`, ...), generic detail.
pub(crate) fn problem_replacing<B>(res: &HttpResponse<B>) -> HttpResponse {
    let status = res.status();
    if status.is_server_error() {
        let cause = res.error().map(|e| e.to_string()).unwrap_or_default();
        tracing::error!(status = status.as_u16(), cause = %cause, "bare error answered as problem");
    }
    let code = code_for_status(status);
    let detail = default_detail(&code, status);
    let mut problem = Problem::new(status, code, detail).into_response();
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().append(name.clone(), value.clone());
        }
    }
    if status == StatusCode::UNAUTHORIZED
        && !problem.headers().contains_key(header::WWW_AUTHENTICATE)
    {
        problem
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    problem
}
