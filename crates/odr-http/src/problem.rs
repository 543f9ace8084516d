//! The one place where errors become RFC 9457 problem documents.
//!
//! Handlers and extractors return [`ApiError`]; its [`ResponseError`]
//! implementation renders `application/problem+json` with a stable `code`.
//! Internal causes are logged here and never shown to the client.

use std::time::Duration;

use actix_web::{
    http::{
        header::{self, HeaderValue},
        StatusCode,
    },
    HttpResponse, ResponseError,
};
use serde::Serialize;
use serde_json::{Map, Value};

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// `type` URIs are this prefix plus the code with `-` for `_`.
pub const PROBLEM_TYPE_BASE: &str = "https://odr.dev/problems/";

/// Every `code` an [`ApiError`] can produce, for the OpenAPI document and its
/// tests. The safety net of `framework_errors` may add codes for rare
/// statuses (derived from the status name, e.g. `not_acceptable`).
pub const PROBLEM_CODES: &[&str] = &[
    "malformed_request",
    "validation_failed",
    "unauthenticated",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "invalid_transition",
    "offer_limit_reached",
    "conflict",
    "email_taken",
    "precondition_failed",
    "payload_too_large",
    "unsupported_media_type",
    "idempotency_key_reused",
    "rate_limited",
    "unavailable",
    "internal_error",
];

/// One field the client has to fix, named by its path in the request
/// (`offer.amount.currency`, `items[0].sku`; `""` is the whole body).
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> FieldError {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Everything the HTTP API answers when it does not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `malformed_request`: the request could not be decoded.
    #[error("malformed request: {detail}")]
    Malformed {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 422 `validation_failed`: decoded, but some values are not accepted.
    #[error("validation failed: {errors:?}")]
    Validation { errors: Vec<FieldError> },
    /// 401 `unauthenticated`, with `WWW-Authenticate: Bearer`.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// 403 `forbidden`.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404 `not_found` (also for what the caller may not see at all).
    #[error("not found")]
    NotFound,
    /// 405 `method_not_allowed`.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409 `invalid_transition`; the body names `state` and `allowed_actions`.
    #[error("invalid transition: {detail}")]
    InvalidTransition {
        detail: String,
        state: String,
        allowed_actions: Vec<String>,
    },
    /// 409 `offer_limit_reached`; the body names `state` and `allowed_actions`.
    #[error("offer limit reached: {detail}")]
    OfferLimitReached {
        detail: String,
        state: String,
        allowed_actions: Vec<String>,
    },
    /// 409 `conflict`.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 409 `email_taken` (register).
    #[error("email taken")]
    EmailTaken,
    /// 412 `precondition_failed` (stale `If-Match`).
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// 413 `payload_too_large`.
    #[error("payload larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 415 `unsupported_media_type`.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// 422 `idempotency_key_reused`.
    #[error("idempotency key reused with another body")]
    IdempotencyKeyReused,
    /// 429 `rate_limited`, with `Retry-After`.
    #[error("rate limited for {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// 503 `unavailable`, with `Retry-After: 1`. The text is logged, not shown.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 500 `internal_error`. The text is logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 422 naming a single field.
    pub fn validation_one(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError::Validation {
            errors: vec![FieldError::new(field, code, message)],
        }
    }

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Malformed { .. } => "malformed_request",
            ApiError::Validation { .. } => "validation_failed",
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::InvalidTransition { .. } => "invalid_transition",
            ApiError::OfferLimitReached { .. } => "offer_limit_reached",
            ApiError::Conflict(_) => "conflict",
            ApiError::EmailTaken => "email_taken",
            ApiError::PreconditionFailed(_) => "precondition_failed",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }

    /// What a web page shows of this error: the detail and the fields.
    pub(crate) fn explained(&self) -> (String, Vec<FieldError>) {
        let p = self.to_problem();
        (p.detail, p.errors.unwrap_or_default())
    }

    fn to_problem(&self) -> Problem {
        let status = self.status_code();
        let problem = |detail: String| Problem::new(status, self.code(), detail);
        match self {
            ApiError::Malformed { detail, errors } => {
                problem(detail.clone()).errors(errors.clone())
            }
            ApiError::Validation { errors } => problem(
                "Some values in the request are not accepted. \
                 Each entry in `errors` names a field and what to change."
                    .into(),
            )
            .errors(errors.clone()),
            ApiError::Unauthenticated(d)
            | ApiError::Forbidden(d)
            | ApiError::Conflict(d)
            | ApiError::PreconditionFailed(d)
            | ApiError::UnsupportedMediaType(d) => problem(d.clone()),
            ApiError::InvalidTransition {
                detail,
                state,
                allowed_actions,
            }
            | ApiError::OfferLimitReached {
                detail,
                state,
                allowed_actions,
            } => problem(detail.clone())
                .member("state", state.clone())
                .member("allowed_actions", allowed_actions.clone()),
            ApiError::PayloadTooLarge { limit } => problem(format!(
                "The request body is larger than the limit of {limit} bytes. \
                 Send a smaller body."
            ))
            .member("limit_bytes", *limit),
            ApiError::RateLimited { retry_after_secs } => problem(format!(
                "Too many requests. Try again in {retry_after_secs} seconds."
            )),
            ApiError::Unavailable(cause) => {
                tracing::warn!(cause = %cause, "answering 503 unavailable");
                problem(default_detail(self.code(), status))
            }
            ApiError::Internal(cause) => {
                tracing::error!(cause = %cause, "answering 500 internal_error");
                problem(default_detail(self.code(), status))
            }
            ApiError::NotFound
            | ApiError::MethodNotAllowed
            | ApiError::EmailTaken
            | ApiError::IdempotencyKeyReused => problem(default_detail(self.code(), status)),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Malformed { .. } => StatusCode::BAD_REQUEST,
            ApiError::Validation { .. } | ApiError::IdempotencyKeyReused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::InvalidTransition { .. }
            | ApiError::OfferLimitReached { .. }
            | ApiError::Conflict(_)
            | ApiError::EmailTaken => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = self.to_problem().into_response();
        let headers = res.headers_mut();
        match self {
            ApiError::Unauthenticated(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::RateLimited { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            ApiError::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        res
    }
}

/// A problem document under construction; [`ApiError`] and the framework
/// safety net both render through it so every error body has one shape.
#[derive(Debug, Clone)]
pub struct Problem {
    status: StatusCode,
    code: String,
    title: String,
    detail: String,
    errors: Option<Vec<FieldError>>,
    members: Map<String, Value>,
}

#[derive(Serialize)]
struct ProblemBody<'a> {
    #[serde(rename = "type")]
    type_uri: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
    #[serde(flatten)]
    members: &'a Map<String, Value>,
}

impl Problem {
    /// A problem with the title that belongs to `code` (or to `status`).
    pub fn new(status: StatusCode, code: impl Into<String>, detail: impl Into<String>) -> Problem {
        let code = code.into();
        Problem {
            title: title_for(&code, status),
            status,
            code,
            detail: detail.into(),
            errors: None,
            members: Map::new(),
        }
    }

    /// The field list; only meaningful for 400 and 422.
    pub fn errors(mut self, errors: Vec<FieldError>) -> Problem {
        self.errors = Some(errors);
        self
    }

    /// An extension member next to the standard ones.
    pub fn member(mut self, name: &str, value: impl Serialize) -> Problem {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.members.insert(name.to_owned(), value);
        self
    }

    pub fn into_response(self) -> HttpResponse {
        let body = ProblemBody {
            type_uri: format!("{PROBLEM_TYPE_BASE}{}", self.code.replace('_', "-")),
            title: &self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
            code: &self.code,
            errors: self.errors.as_deref(),
            members: &self.members,
        };
        // Serialising plain strings, numbers and `Value`s cannot fail; keep a
        // valid document even if it somehow did.
        let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
        HttpResponse::build(self.status)
            .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
            .body(json)
    }
}

/// Shorthand for the safety net and handlers that need a one-off problem.
pub fn problem_response(status: StatusCode, code: &str, detail: &str) -> HttpResponse {
    Problem::new(status, code, detail).into_response()
}

/// The `code` used for a bare status that did not come from an [`ApiError`].
pub fn code_for_status(status: StatusCode) -> String {
    let known = match status.as_u16() {
        400 => "malformed_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        412 => "precondition_failed",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "validation_failed",
        429 => "rate_limited",
        502..=504 => "unavailable",
        500..=599 => "internal_error",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_owned();
    }
    match status.canonical_reason() {
        Some(reason) => reason.to_ascii_lowercase().replace([' ', '-'], "_"),
        None => "request_error".to_owned(),
    }
}

fn title_for(code: &str, status: StatusCode) -> String {
    let title = match code {
        "malformed_request" => "Malformed request",
        "validation_failed" => "Validation failed",
        "unauthenticated" => "Authentication required",
        "forbidden" => "Not allowed",
        "not_found" => "Not found",
        "method_not_allowed" => "Method not allowed",
        "invalid_transition" => "Action not possible now",
        "offer_limit_reached" => "Offer limit reached",
        "conflict" => "Conflict",
        "email_taken" => "Email address already registered",
        "precondition_failed" => "Precondition failed",
        "payload_too_large" => "Request body too large",
        "unsupported_media_type" => "Unsupported media type",
        "idempotency_key_reused" => "Idempotency key reused",
        "rate_limited" => "Too many requests",
        "unavailable" => "Service unavailable",
        "internal_error" => "Internal error",
        _ => status.canonical_reason().unwrap_or("Error"),
    };
    title.to_owned()
}

/// A calm, generic explanation for a code (or else its status), used when
/// there is nothing more specific to say, and always for 5xx, which must not
/// reveal internals.
pub fn default_detail(code: &str, status: StatusCode) -> String {
    let by_code = match code {
        "email_taken" => Some(
            "An account with this email address already exists. Sign in, or ask \
             for a sign-in link by email and then set a password.",
        ),
        "idempotency_key_reused" => Some(
            "This Idempotency-Key was already used with a different request body. \
             Use a new key for a new request.",
        ),
        _ => None,
    };
    by_code
        .unwrap_or(match status.as_u16() {
            400 => "The request could not be understood. Check its syntax and parameters.",
            401 => "Sign in and send the access token as `Authorization: Bearer <token>`.",
            403 => "You are signed in but not allowed to do this.",
            404 => "Nothing was found at this address, or you are not allowed to see it.",
            405 => "This address does not accept that HTTP method.",
            409 => {
                "The request conflicts with the current state of the resource. \
                 Reload it and try again."
            }
            412 => "The resource has changed since you last read it. Reload it and try again.",
            413 => "The request body is too large. Send a smaller body.",
            415 => "This content type is not accepted. Send `application/json`.",
            422 => "Some values in the request are not accepted.",
            429 => "Too many requests. Wait a moment and try again.",
            502..=504 => "The service is busy right now. Try again in a moment.",
            500..=599 => {
                "Something went wrong on our side. Try again later; if it keeps \
                 happening, contact support and quote the X-Request-Id."
            }
            _ => "The request was not accepted.",
        })
        .to_owned()
}

/// `Retry-After` seconds for a wait, rounded up so that a client never retries early.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}
