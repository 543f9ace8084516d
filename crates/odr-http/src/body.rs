//! Decoding client input into typed values: JSON bodies ([`JsonBody`]) and
//! query strings ([`QueryParams`]), with every failure named by field path.
//!
//! api.md draws the line: what cannot be decoded (bad JSON, unknown field,
//! wrong JSON type) is 400 `malformed_request`; a decoded body with a bad
//! value (missing field, unknown code, out-of-range number) is 422
//! `validation_failed`.

use std::ops::Deref;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpMessage, HttpRequest};
use futures_util::{future::LocalBoxFuture, StreamExt};
use serde::de::DeserializeOwned;

use crate::problem::{ApiError, FieldError};

/// Largest JSON body accepted unless the app registers another [`BodyLimit`].
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Maximum request body size in bytes for [`JsonBody`]; register it with
/// `app_data(BodyLimit(n))` or `app_data(web::Data::new(BodyLimit(n)))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit(pub usize);

impl Default for BodyLimit {
    fn default() -> Self {
        BodyLimit(DEFAULT_BODY_LIMIT)
    }
}

impl BodyLimit {
    fn of(req: &HttpRequest) -> usize {
        req.app_data::<BodyLimit>()
            .copied()
            .or_else(|| req.app_data::<web::Data<BodyLimit>>().map(|d| *d.get_ref()))
            .unwrap_or_default()
            .0
    }
}

/// A JSON request body decoded into `T`. An empty body decodes as `{}`, so a
/// struct whose fields are all optional accepts a bodiless POST.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for JsonBody<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = BodyLimit::of(req);
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let content_type = json_content_type(req);
        let mut payload = payload.take();
        Box::pin(async move {
            // Refuse before reading what is known to be wrong.
            if let Err(e) = &content_type {
                if !matches!(e, ContentTypeProblem::Missing) || declared.is_some_and(|n| n > 0) {
                    return Err(e.to_api_error());
                }
            }
            if declared.is_some_and(|n| n > limit as u64) {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::Malformed {
                    detail: format!("The request body could not be read: {e}."),
                    errors: Vec::new(),
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            if body.is_empty() {
                return decode_json(b"{}").map(JsonBody);
            }
            if let Err(e) = content_type {
                return Err(e.to_api_error());
            }
            decode_json(&body).map(JsonBody)
        })
    }
}

enum ContentTypeProblem {
    Missing,
    Other(String),
}

impl ContentTypeProblem {
    fn to_api_error(&self) -> ApiError {
        ApiError::UnsupportedMediaType(match self {
            ContentTypeProblem::Missing => {
                "The request has a body but no Content-Type. Send it as `application/json`."
                    .to_owned()
            }
            ContentTypeProblem::Other(got) => {
                format!("The body was sent as `{got}`; this endpoint accepts `application/json` (UTF-8) only.")
            }
        })
    }
}

/// `application/json`, optionally with `charset=utf-8`.
fn json_content_type(req: &HttpRequest) -> Result<(), ContentTypeProblem> {
    let Some(raw) = req.headers().get(header::CONTENT_TYPE) else {
        return Err(ContentTypeProblem::Missing);
    };
    let shown = raw.to_str().unwrap_or("(not readable)").to_owned();
    let mime = match req.mime_type() {
        Ok(Some(mime)) => mime,
        _ => return Err(ContentTypeProblem::Other(shown)),
    };
    let is_json = mime.type_() == mime::APPLICATION && mime.subtype() == mime::JSON;
    let utf8 = mime
        .get_param(mime::CHARSET)
        .is_none_or(|c| c.as_str().eq_ignore_ascii_case("utf-8"));
    if is_json && utf8 {
        Ok(())
    } else {
        Err(ContentTypeProblem::Other(shown))
    }
}

/// Decode JSON bytes into `T`, naming the failing field on error.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| json_error(&field_path(e.path()), e.inner()))?;
    // Trailing bytes after the document are as malformed as a syntax error.
    de.end().map_err(|e| json_error("", &e))?;
    Ok(value)
}

/// Turn a serde_json error at `path` into the api.md class of error.
pub fn json_error(path: &str, err: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    if err.classify() != Category::Data {
        let position = format!("line {}, column {}", err.line(), err.column());
        return ApiError::Malformed {
            detail: "The request body is not valid JSON.".to_owned(),
            errors: vec![FieldError::new(
                path,
                "malformed_json",
                format!("The JSON is malformed near {position}. Check for missing quotes, commas or brackets."),
            )],
        };
    }
    let message = err.to_string();
    let message = message
        .rfind(" at line ")
        .map_or(message.as_str(), |at| &message[..at]);
    match classify(path, message) {
        Classified::Malformed(field) => ApiError::Malformed {
            detail: "The request body does not have the expected shape. See `errors`.".to_owned(),
            errors: vec![field],
        },
        Classified::Invalid(field) => ApiError::Validation {
            errors: vec![field],
        },
    }
}

enum Classified {
    Malformed(FieldError),
    Invalid(FieldError),
}

/// Sort a serde data error by its (stable, serde-defined) message.
fn classify(path: &str, message: &str) -> Classified {
    let child = |name: &str| join(path, name);
    if let Some(name) = quoted_after(message, "unknown field `") {
        // serde_path_to_error already records the offending key in the path.
        let field = if path.ends_with(name) {
            path.to_owned()
        } else {
            child(name)
        };
        return Classified::Malformed(FieldError::new(
            field,
            "unknown_field",
            format!("`{name}` is not a field here. Remove it or check its spelling."),
        ));
    }
    if let Some(name) = quoted_after(message, "duplicate field `") {
        return Classified::Malformed(FieldError::new(
            child(name),
            "duplicate_field",
            format!("`{name}` appears more than once. Send it once."),
        ));
    }
    if let Some(name) = quoted_after(message, "missing field `") {
        return Classified::Invalid(FieldError::new(
            child(name),
            "required",
            format!("`{name}` is required."),
        ));
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return Classified::Malformed(FieldError::new(
            path,
            "invalid_type",
            format!(
                "This must be {}, not {}.",
                expected_kind(expected),
                got_kind(got)
            ),
        ));
    }
    // serde lets a JSON array stand for a struct; a short one fails here.
    if message.starts_with("invalid length") && message.contains("expected struct") {
        return Classified::Malformed(FieldError::new(
            path,
            "invalid_type",
            "This must be an object, not a list.",
        ));
    }
    if let Some(value) = quoted_after(message, "unknown variant `") {
        let allowed = message
            .split_once("expected ")
            .map(|(_, e)| e.replace('`', ""))
            .unwrap_or_default();
        return Classified::Invalid(FieldError::new(
            path,
            "unknown_code",
            format!("`{value}` is not a known value here; expected {allowed}."),
        ));
    }
    let friendly = match message.strip_prefix("invalid value: ") {
        Some(rest) => match rest.split_once(", expected ") {
            Some((got, expected)) => {
                let expected = match expected_kind(expected) {
                    "a whole number" if expected.starts_with('u') => {
                        "a whole number of 0 or more, within range"
                    }
                    "a whole number" => "a whole number within range",
                    _ => expected,
                };
                format!(
                    "{} is not accepted; expected {expected}.",
                    got.replace('`', "")
                )
            }
            None => format!("This value is not accepted: {rest}."),
        },
        None => message.to_owned(),
    };
    Classified::Invalid(FieldError::new(path, "invalid_value", friendly))
}

fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split_once('`').map(|(name, _)| name)
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// `items[0].sku`; the whole body is `""`. Positions serde could not name
/// (inside a half-read key) are left out.
fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    out
}

fn expected_kind(expected: &str) -> &'static str {
    let e = expected.trim_start_matches("a ").trim_start_matches("an ");
    if [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "usize", "integer",
    ]
    .iter()
    .any(|t| e.starts_with(t))
    {
        "a whole number"
    } else if e.starts_with("f32") || e.starts_with("f64") || e.contains("number") {
        "a number"
    } else if e.contains("string") || e.contains("char") {
        "a string"
    } else if e.contains("bool") {
        "true or false"
    } else if e.contains("sequence") || e.contains("tuple") || e.starts_with("Vec") {
        "a list"
    } else if e.starts_with("struct") || e.contains("map") || e.starts_with("enum") {
        "an object"
    } else {
        "of another type"
    }
}

fn got_kind(got: &str) -> &'static str {
    match got.split(' ').next().unwrap_or("") {
        "string" => "a string",
        "integer" | "floating" => "a number",
        "boolean" => "true or false",
        "map" => "an object",
        "sequence" => "a list",
        "null" => "null",
        _ => "what was sent",
    }
}

/// A query string decoded into `T` (via serde_urlencoded). Unlike
/// `web::Query`, a failure names the parameter: 400 `malformed_request` with
/// `errors[].field` the parameter name.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryParams<T>(pub T);

impl<T> QueryParams<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for QueryParams<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for QueryParams<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(decode_query(req.query_string()).map(QueryParams))
    }
}

/// Decode a raw query string into `T`, naming the failing parameter.
pub fn decode_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = field_path(e.path());
        let message = e.inner().to_string();
        let field = match classify(&path, &message) {
            Classified::Malformed(f) | Classified::Invalid(f) => f,
        };
        query_error(field, &message)
    })
}

/// Query-string failures are always 400: the parameter could not be used.
pub(crate) fn query_error(mut field: FieldError, raw: &str) -> ApiError {
    if field.code == "unknown_field" {
        field.code = "unknown_parameter".to_owned();
    }
    if field.code == "invalid_value" && field.message == raw {
        field.message = format!("This parameter has a value that cannot be used: {raw}.");
    }
    let detail = if field.field.is_empty() {
        "A query parameter could not be used. See `errors`.".to_owned()
    } else {
        format!(
            "The query parameter `{}` could not be used. See `errors`.",
            field.field
        )
    };
    ApiError::Malformed {
        detail,
        errors: vec![field],
    }
}

/// Classify a serde error message that carries no path (actix's own
/// `web::Query`), for `framework_errors`.
pub(crate) fn query_message_error(message: &str) -> ApiError {
    let field = match classify("", message) {
        Classified::Malformed(f) | Classified::Invalid(f) => f,
    };
    query_error(field, message)
}
