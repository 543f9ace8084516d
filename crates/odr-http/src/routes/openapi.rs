//! The served OpenAPI 3.1 document (`GET /openapi.json`), built by utoipa
//! from the handlers' own `#[utoipa::path]` annotations and the request and
//! response types, and the interactive reference (`GET /docs`), a small
//! page of our own served from the binary (no CDN, strict CSP).
//!
//! Every route registered in [`super::configure`] is listed in
//! [`ApiDoc`]'s `paths(...)`; the test `openapi_documents_every_route`
//! compares the two and fails when a route is added without documentation.

use std::sync::OnceLock;

use actix_web::{http::header, HttpResponse};
use serde::Serialize;
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, Server};
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, PartialSchema, ToResponse, ToSchema};

use crate::problem::{FieldError, PROBLEM_CODES};
use crate::views::{PublicRetailerView, RetailerView};

/// The Content-Security-Policy of every page and asset of `/docs`.
pub const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
                            img-src 'self' data:; frame-ancestors 'none'";

const DOCS_HTML: &str = include_str!("../../assets/docs/index.html");
const DOCS_JS: &str = include_str!("../../assets/docs/docs.js");
const DOCS_CSS: &str = include_str!("../../assets/docs/docs.css");

/// One of the stable problem codes (`PROBLEM_CODES`).
#[derive(Serialize)]
pub struct ProblemCode;

impl PartialSchema for ProblemCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("Stable machine-readable code of the problem."))
            .enum_values(Some(PROBLEM_CODES.iter().copied()))
            .into()
    }
}

impl ToSchema for ProblemCode {}

/// An RFC 9457 problem document (`application/problem+json`); every error
/// the API answers has this shape.
#[derive(Serialize, ToSchema)]
#[schema(as = Problem)]
#[allow(dead_code)] // documentation only: problem.rs renders the body
pub struct ProblemSchema {
    /// `https://odr.dev/problems/<code with - for _>`.
    #[serde(rename = "type")]
    #[schema(example = "https://odr.dev/problems/not-found")]
    type_: String,
    #[schema(example = "Not found")]
    title: String,
    #[schema(example = 404)]
    status: u16,
    detail: String,
    code: ProblemCode,
    /// For `malformed_request` and `validation_failed`: each field to fix.
    errors: Option<Vec<FieldError>>,
    /// For `invalid_transition` and `offer_limit_reached`: the state now.
    state: Option<String>,
    /// For `invalid_transition` and `offer_limit_reached`: the events the
    /// caller may send now.
    allowed_actions: Option<Vec<String>>,
    /// For `payload_too_large`: the limit.
    limit_bytes: Option<u64>,
}

macro_rules! problem_response {
    ($name:ident, $status:literal, $code:literal, $title:literal, $desc:literal) => {
        problem_response!($name, $status, $code, $title, $desc, serde_json::json!({}));
    };
    ($name:ident, $status:literal, $code:literal, $title:literal, $desc:literal, $extra:expr) => {
        #[derive(ToResponse)]
        #[response(
                                    description = $desc,
                                    content_type = "application/problem+json",
                                    example = json!(problem_example($status, $code, $title, $extra))
                                )]
        #[allow(dead_code)]
        pub struct $name(ProblemSchema);
    };
}

fn problem_example(
    status: u16,
    code: &str,
    title: &str,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut v = serde_json::json!({
        "type": format!("https://odr.dev/problems/{}", code.replace('_', "-")),
        "title": title,
        "status": status,
        "detail": format!("{title}."),
        "code": code,
    });
    if let (Some(map), serde_json::Value::Object(extra)) = (v.as_object_mut(), extra) {
        map.extend(extra);
    }
    v
}

problem_response!(
    Malformed,
    400,
    "malformed_request",
    "Malformed request",
    "400 `malformed_request`: the body or a query parameter could not be decoded (malformed JSON, unknown field, wrong JSON type).",
    serde_json::json!({"errors": [{"field": "amount.amount_minor", "code": "wrong_type", "message": "Expected an integer."}]})
);
problem_response!(
    Unauthenticated,
    401,
    "unauthenticated",
    "Unauthenticated",
    "401 `unauthenticated`: no bearer token, or one that is expired, revoked or invalid (`WWW-Authenticate: Bearer`)."
);
problem_response!(
    Forbidden,
    403,
    "forbidden",
    "Forbidden",
    "403 `forbidden`: the caller is signed in but lacks the right."
);
problem_response!(
    NotFound,
    404,
    "not_found",
    "Not found",
    "404 `not_found`: nothing there, or nothing the caller may see."
);
problem_response!(
    Conflict,
    409,
    "invalid_transition",
    "Invalid transition",
    "409: `invalid_transition` or `offer_limit_reached` (the body names `state` and `allowed_actions`), or `conflict` when a concurrent change won.",
    serde_json::json!({"state": "filed", "allowed_actions": ["acknowledge", "propose", "post_message"]})
);
problem_response!(
    EmailTaken,
    409,
    "email_taken",
    "Email taken",
    "409 `email_taken`: an account with this email exists."
);
problem_response!(
    AlreadyExists,
    409,
    "conflict",
    "Conflict",
    "409 `conflict`: the change collides with what exists (e.g. an email already in use)."
);
problem_response!(
    PreconditionFailed,
    412,
    "precondition_failed",
    "Precondition failed",
    "412 `precondition_failed`: `If-Match` names an older version; nothing was written."
);
problem_response!(
    PayloadTooLarge,
    413,
    "payload_too_large",
    "Payload too large",
    "413 `payload_too_large`: the body is over 1 MiB.",
    serde_json::json!({"limit_bytes": 1_048_576})
);
problem_response!(
    UnsupportedMediaType,
    415,
    "unsupported_media_type",
    "Unsupported media type",
    "415 `unsupported_media_type`: the body is not `application/json`."
);
problem_response!(
    Unprocessable,
    422,
    "validation_failed",
    "Validation failed",
    "422 `validation_failed` (each entry of `errors` names a field), or `idempotency_key_reused` (the same `Idempotency-Key` with another body).",
    serde_json::json!({"errors": [{"field": "description", "code": "too_long", "message": "At most 5000 characters."}]})
);
problem_response!(
    RateLimited,
    429,
    "rate_limited",
    "Rate limited",
    "429 `rate_limited`, with `Retry-After` in seconds."
);
problem_response!(
    Unavailable,
    503,
    "unavailable",
    "Unavailable",
    "503 `unavailable`: the database is busy or unreachable; retry after `Retry-After`."
);

/// The header every POST may send.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IdempotencyHeader {
    // One line: the document shows the description as written.
    /// Makes a retry safe: the same key with the same body replays the first answer and writes nothing; with another body it is 422 `idempotency_key_reused`.
    #[param(rename = "Idempotency-Key")]
    idempotency_key: Option<String>,
}

/// The headers every route that sends an event to a complaint reads.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct TransitionHeaders {
    /// The complaint's `ETag`; when it is stale the answer is 412 and nothing
    /// is written.
    #[param(rename = "If-Match")]
    if_match: Option<String>,
}

/// The errors every route that sends an event to a complaint can answer.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum TransitionErrors {
    #[response(status = 400)]
    Malformed(#[ref_response] Malformed),
    #[response(status = 401)]
    Unauthenticated(#[ref_response] Unauthenticated),
    #[response(status = 403)]
    Forbidden(#[ref_response] Forbidden),
    #[response(status = 404)]
    NotFound(#[ref_response] NotFound),
    #[response(status = 409)]
    Conflict(#[ref_response] Conflict),
    #[response(status = 412)]
    PreconditionFailed(#[ref_response] PreconditionFailed),
    #[response(status = 413)]
    PayloadTooLarge(#[ref_response] PayloadTooLarge),
    #[response(status = 415)]
    UnsupportedMediaType(#[ref_response] UnsupportedMediaType),
    #[response(status = 422)]
    Unprocessable(#[ref_response] Unprocessable),
    #[response(status = 503)]
    Unavailable(#[ref_response] Unavailable),
}

/// `GET /healthz`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Health {
    #[schema(example = "ok")]
    status: String,
}

/// `GET /readyz`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Ready {
    #[schema(example = "ready")]
    status: String,
    #[schema(example = "ok")]
    database: String,
}

/// `GET /api/v1/retailers/{id}`: the whole retailer for its staff and
/// admins, the public view (`id`, `name`) for everyone else.
pub struct RetailerAnswer;

impl PartialSchema for RetailerAnswer {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(Ref::from_schema_name(RetailerView::name()))
            .item(Ref::from_schema_name(PublicRetailerView::name()))
            .into()
    }
}

impl ToSchema for RetailerAnswer {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((RetailerView::name().into(), RetailerView::schema()));
        schemas.push((
            PublicRetailerView::name().into(),
            PublicRetailerView::schema(),
        ));
    }
}

/// Adds the `bearer` security scheme (JWT from the login endpoint).
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "`Authorization: Bearer <access_token>` from `POST /api/v1/auth/login` \
                         (or a magic or order link), or a shop's API key \
                         (`Bearer odr_sk_...`, see `POST /api/v1/retailers/{id}/api-keys`).",
                    ))
                    .build(),
            ),
        );
        openapi.servers = Some(vec![Server::new("/")]);
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ODR: online dispute resolution",
        description = "The HTTP API of the ODR engine (contract: api.md). JSON bodies; \
            every error is an RFC 9457 problem document with a stable `code`; \
            money is `{amount_minor, currency}`; times are RFC 3339 UTC.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    modifiers(&BearerScheme),
    paths(
        openapi_json,
        docs_page,
        docs_js,
        docs_css,
        super::health::healthz,
        super::health::readyz,
        super::metrics::metrics,
        super::taxonomy::icon,
        super::taxonomy::taxonomy,
        super::auth::register,
        super::auth::login,
        super::auth::logout,
        super::auth::magic_link,
        super::auth::redeem_magic_link,
        super::order_links::redeem,
        super::me::me,
        super::me::update_me,
        super::me::change_password,
        super::admin::outbox,
        super::admin::retry,
        super::retailers::list,
        super::retailers::create,
        super::retailers::get,
        super::retailers::update,
        super::retailers::list_staff,
        super::retailers::create_staff,
        super::retailers::remove_staff,
        super::credentials::create_api_key,
        super::credentials::list_api_keys,
        super::credentials::revoke_api_key,
        super::credentials::create_link_secret,
        super::credentials::list_link_secrets,
        super::credentials::revoke_link_secret,
        super::webhooks::create,
        super::webhooks::list,
        super::webhooks::update,
        super::webhooks::remove,
        super::webhooks::deliveries,
        super::webhooks::redeliver,
        super::mediators::list,
        super::mediators::create,
        super::complaints::list,
        super::complaints::file,
        super::guest::file_as_guest,
        super::complaints::get,
        super::complaints::events,
        super::complaints::messages,
        super::transitions::post_message,
        super::transitions::acknowledge,
        super::transitions::offer,
        super::transitions::accept,
        super::transitions::reject,
        super::transitions::escalate,
        super::transitions::fulfil,
        super::transitions::assign_mediator,
        super::transitions::decide,
        super::transitions::withdraw,
        super::transitions::feedback,
        super::stats::retailer_stats,
        super::export::complaint_export,
        super::export::retailer_csv,
        super::attachments::upload,
        super::attachments::list,
        super::attachments::download,
    ),
    components(
        schemas(ProblemSchema, FieldError),
        responses(
            Malformed,
            Unauthenticated,
            Forbidden,
            NotFound,
            Conflict,
            EmailTaken,
            AlreadyExists,
            PreconditionFailed,
            PayloadTooLarge,
            UnsupportedMediaType,
            Unprocessable,
            RateLimited,
            Unavailable
        )
    ),
    tags(
        (name = "reference", description = "This document and its interactive reference."),
        (name = "health", description = "Liveness and readiness."),
        (name = "metrics", description = "Operational metrics for Prometheus (loopback or metrics token)."),
        (name = "auth", description = "Accounts and sessions."),
        (name = "me", description = "The signed-in user."),
        (name = "taxonomy", description = "The structured vocabulary and its icons."),
        (name = "retailers", description = "Retailers and their staff."),
        (name = "integration", description = "A shop's API keys, order-link secrets and webhooks (its staff, signed in as a person, and admins)."),
        (name = "mediators", description = "Mediators (admins manage them)."),
        (name = "complaints", description = "Filing and reading complaints."),
        (name = "transitions", description = "Events sent to a complaint's state machine; each answers the updated complaint."),
        (name = "messages", description = "The message thread of a complaint."),
        (name = "attachments", description = "Evidence: files attached to a complaint."),
        (name = "admin", description = "Operations (admins only)."),
    )
)]
pub struct ApiDoc;

/// The document as JSON, built once.
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .unwrap_or_else(|e| format!(r#"{{"error":"{e}"}}"#))
    })
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "reference",
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(document())
}

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, DOCS_CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

/// The interactive API reference (HTML; loads `/docs/docs.js` and
/// `/docs/docs.css`, which fetch and render `/openapi.json`).
#[utoipa::path(
    get,
    path = "/docs",
    tag = "reference",
    responses((status = 200, description = "The reference page.", content_type = "text/html", body = String))
)]
pub async fn docs_page() -> HttpResponse {
    asset("text/html; charset=utf-8", DOCS_HTML)
}

/// The script of the reference page.
#[utoipa::path(
    get,
    path = "/docs/docs.js",
    tag = "reference",
    responses((status = 200, description = "JavaScript.", content_type = "text/javascript", body = String))
)]
pub async fn docs_js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", DOCS_JS)
}

/// The style sheet of the reference page.
#[utoipa::path(
    get,
    path = "/docs/docs.css",
    tag = "reference",
    responses((status = 200, description = "CSS.", content_type = "text/css", body = String))
)]
pub async fn docs_css() -> HttpResponse {
    asset("text/css; charset=utf-8", DOCS_CSS)
}
