//! A request id for every request: taken from the caller's `X-Request-Id`
//! when it is sensible, otherwise a fresh UUID; set on every response and
//! carried by the request's tracing span, so one id ties a client's report
//! to the server's log line.

use std::{future::Ready, time::Instant};

use actix_web::{
    body::MessageBody,
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::{
        header::{HeaderMap, HeaderName, HeaderValue},
        StatusCode,
    },
    middleware::Next,
    FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError,
};
use tracing::Instrument;

use crate::{
    framework_errors::{is_problem, problem_replacing},
    problem::ApiError,
};

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    /// The caller's id if it is 1..=128 visible ASCII characters; the
    /// limits keep log lines and headers sane whatever a client sends.
    pub fn from_header(value: Option<&HeaderValue>) -> Option<RequestId> {
        let value = value?.to_str().ok()?;
        let acceptable =
            (1..=128).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_graphic());
        acceptable.then(|| RequestId(value.to_owned()))
    }

    pub fn generate() -> RequestId {
        RequestId(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Handlers may take the id as an argument; outside the middleware it is a
/// 500, since that is a wiring mistake.
impl FromRequest for RequestId {
    type Error = ApiError;
    type Future = Ready<Result<RequestId, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<RequestId>()
                .cloned()
                .ok_or_else(|| ApiError::Internal("request id middleware not installed".into())),
        )
    }
}

/// The middleware: `App::new().wrap(actix_web::middleware::from_fn(request_id_middleware))`,
/// registered last so that it is outermost and sees the final response.
///
/// Logs one `info` line per request (method, path without query string,
/// status, latency); never headers, so never `Authorization`.
pub async fn request_id_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = RequestId::from_header(req.headers().get(&REQUEST_ID_HEADER))
        .unwrap_or_else(RequestId::generate);
    req.extensions_mut().insert(id.clone());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.path(),
    );
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let status = match &result {
        Ok(res) => res.status(),
        Err(err) => err.as_response_error().status_code(),
    };
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            latency_ms = format_args!("{latency_ms:.1}"),
            "request finished"
        );
    });
    match result {
        Ok(mut res) => {
            set_id(res.headers_mut(), &id);
            Ok(res)
        }
        // An inner middleware failed instead of answering. The request is
        // gone by now, so the error itself is made to answer with the id
        // (and as a problem document) when the server renders it.
        Err(inner) => Err(Escaped { inner, id }.into()),
    }
}

fn set_id(headers: &mut HeaderMap, id: &RequestId) {
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
}

#[derive(Debug)]
struct Escaped {
    inner: actix_web::Error,
    id: RequestId,
}

impl std::fmt::Display for Escaped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl ResponseError for Escaped {
    fn status_code(&self) -> StatusCode {
        self.inner.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let res = self.inner.error_response();
        let mut res = if is_problem(&res) {
            res
        } else {
            problem_replacing(&res)
        };
        set_id(res.headers_mut(), &self.id);
        res
    }
}
