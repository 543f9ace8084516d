//! Security headers on every response, chosen by what the response is.
//!
//! JSON and problem documents get a Content-Security-Policy that allows
//! nothing (they are never meant to render); HTML pages get a strict policy
//! that allows only the engine's own scripts, styles and images. Every
//! response also refuses framing and MIME sniffing and sends no referrer.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError};

use crate::framework_errors::{is_problem, problem_replacing};

/// For everything that is not HTML: nothing may load or frame it.
pub const CSP_NONE: &str = "default-src 'none'; frame-ancestors 'none'";

/// For the engine's own HTML pages.
pub const CSP_HTML: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The middleware (`from_fn(security_headers)`). A header a handler set
/// itself is left alone. An error a middleware inside raised instead of
/// answering (a refused CORS preflight) answers as a problem document with
/// the same headers.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    match next.call(req).await {
        Ok(mut res) => {
            add_headers(res.headers_mut());
            Ok(res)
        }
        Err(inner) => Err(Secured(inner).into()),
    }
}

fn add_headers(headers: &mut HeaderMap) {
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/html")
        });
    let csp = if is_html { CSP_HTML } else { CSP_NONE };
    let mut set_default = |name: HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set_default(header::CONTENT_SECURITY_POLICY, csp);
    set_default(header::X_FRAME_OPTIONS, "DENY");
    set_default(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(header::REFERRER_POLICY, "no-referrer");
}

/// An inner error, answered as a problem document with the headers.
#[derive(Debug)]
struct Secured(Error);

impl std::fmt::Display for Secured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for Secured {
    fn status_code(&self) -> StatusCode {
        self.0.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let bare = self.0.error_response();
        let mut res = if is_problem(&bare) {
            bare
        } else {
            problem_replacing(&bare)
        };
        add_headers(res.headers_mut());
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::middleware::from_fn;
    use actix_web::{test, web, App, HttpResponse};

    #[actix_rt::test]
    async fn json_gets_the_empty_policy_and_html_the_strict_one() {
        let app = test::init_service(
            App::new()
                .route(
                    "/json",
                    web::get().to(|| async { HttpResponse::Ok().json(1) }),
                )
                .route(
                    "/html",
                    web::get().to(|| async {
                        HttpResponse::Ok()
                            .content_type("text/html; charset=utf-8")
                            .body("<p>hi</p>")
                    }),
                )
                .wrap(from_fn(security_headers)),
        )
        .await;
        let csp = |res: &ServiceResponse<_>| {
            res.headers()
                .get(header::CONTENT_SECURITY_POLICY)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let json =
            test::call_service(&app, test::TestRequest::get().uri("/json").to_request()).await;
        assert_eq!(csp(&json).as_deref(), Some(CSP_NONE));
        assert_eq!(
            json.headers()
                .get(header::X_FRAME_OPTIONS)
                .map(|v| v.as_bytes()),
            Some(&b"DENY"[..])
        );
        let html =
            test::call_service(&app, test::TestRequest::get().uri("/html").to_request()).await;
        assert_eq!(csp(&html).as_deref(), Some(CSP_HTML));
    }
}
