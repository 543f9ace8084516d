//! What a page answers when something is refused or breaks: the sign-in
//! page for someone not signed in, otherwise an error page in the visitor's
//! language with what went wrong and a way back. Never a bare status.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use minijinja::context;
use odr_domain::locale::Locale;

use super::render::{render_to_string, Strings};
use super::session::{ended_session_cookie, Visitor};
use crate::problem::{ApiError, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Not signed in: to the sign-in page, coming back to `next`.
    #[error("sign in first (then {next})")]
    SignIn { next: String },
    /// Refused or failed, shown as an error page.
    #[error("{status}: {detail}")]
    Refused {
        status: StatusCode,
        detail: String,
        fields: Vec<FieldError>,
        locale: Locale,
        retry_after: Option<u64>,
    },
}

impl PageError {
    /// Something that should not happen; logged, shown as a 500 page.
    pub fn broken(what: impl Into<String>) -> PageError {
        PageError::from(ApiError::Internal(what.into()))
    }

    pub fn in_locale(self, locale: Locale) -> PageError {
        match self {
            PageError::Refused {
                status,
                detail,
                fields,
                retry_after,
                ..
            } => PageError::Refused {
                status,
                detail,
                fields,
                locale,
                retry_after,
            },
            other => other,
        }
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> PageError {
        let status = e.status_code();
        if let ApiError::Internal(cause) | ApiError::Unavailable(cause) = &e {
            tracing::error!(error = %cause, "page failed");
        }
        let retry_after = match &e {
            ApiError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            ApiError::Unavailable(_) => Some(1),
            _ => None,
        };
        let (detail, fields) = e.explained();
        PageError::Refused {
            status,
            detail,
            fields,
            locale: Locale::En,
            retry_after,
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::SignIn { .. } => StatusCode::SEE_OTHER,
            PageError::Refused { status, .. } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            PageError::SignIn { next } => {
                let target = format!(
                    "/sign-in?next={}",
                    form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, target))
                    .cookie(ended_session_cookie())
                    .finish()
            }
            PageError::Refused {
                status,
                detail,
                fields,
                locale,
                retry_after,
            } => {
                let words = Strings::of(*locale);
                let headline_key = match status.as_u16() {
                    400 | 413 | 415 | 422 => "error_headline_input",
                    401 => "error_headline_sign_in",
                    403 => "error_headline_forbidden",
                    404 => "error_headline_not_found",
                    409 | 412 => "error_headline_conflict",
                    429 => "error_headline_slow_down",
                    503 => "error_headline_unavailable",
                    _ => "error_headline_broken",
                };
                let visitor = Visitor::anonymous(*locale);
                let html = render_to_string(
                    &visitor,
                    "error.html",
                    context! {
                        status => status.as_u16(),
                        headline => words.get(headline_key),
                        detail => detail,
                        fields => fields.iter().map(|f| context! {
                            field => f.field.clone(),
                            message => f.message.clone(),
                        }).collect::<Vec<_>>(),
                    },
                )
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "the error page itself failed");
                    format!("<!doctype html><title>{status}</title><p>{status}</p>")
                });
                let mut res = HttpResponse::build(*status);
                res.content_type("text/html; charset=utf-8")
                    .insert_header((header::CACHE_CONTROL, "no-store"));
                if let Some(secs) = retry_after {
                    res.insert_header((header::RETRY_AFTER, *secs));
                }
                res.body(html)
            }
        }
    }
}

/// The app's fallback for a path no route took: a browser asking for a page
/// gets the localized "cannot find this page" page; everything else (the
/// API, tools) the 404/405 problem document.
pub async fn fallback(req: actix_web::HttpRequest) -> Result<HttpResponse, actix_web::Error> {
    let wants_page = !req.path().starts_with("/api/")
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|a| a.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
        && !req.resource_map().has_resource(req.path());
    if wants_page {
        // Only a page needs the visitor (their language): no session
        // lookup for the API's and tools' 404s.
        let v = <Visitor as actix_web::FromRequest>::extract(&req).await?;
        Err(v.fail(ApiError::NotFound).into())
    } else {
        Ok(crate::framework_errors::not_found_or_method(req).await?)
    }
}
