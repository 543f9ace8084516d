//! Who is visiting a page: the person behind the session cookie (the same
//! access token the API takes as a bearer token), their language, and the
//! CSRF token their forms carry.
//!
//! The session cookie is `HttpOnly`, `SameSite=Lax` (a link in a mail opens
//! the page signed in) and `Secure` when the public URL is https. Every form
//! POST is checked twice: the browser's `Origin`/`Sec-Fetch-Site` must name
//! this site, and a signed-in visitor's form must carry the CSRF token
//! derived from their session (see [`PageForm::verified`]).

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::header;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use minijinja::{context, Value};
use odr_domain::locale::Locale;
use odr_domain::Role;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::failure::PageError;
use super::render::Strings;
use crate::caller::Caller;
use crate::problem::ApiError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "odr_session";
pub const LOCALE_COOKIE: &str = "odr_locale";
/// The largest form body a page takes (file uploads go elsewhere).
const FORM_LIMIT: usize = 256 * 1024;

#[derive(Debug, Clone)]
pub struct Visitor {
    /// `None` for someone not signed in (or whose session ended).
    pub caller: Option<Caller>,
    pub locale: Locale,
    /// The token this visitor's forms carry; empty when not signed in.
    pub csrf: String,
    /// The path and query of this request (for "come back here" links).
    pub path: String,
    /// The browser sent a session cookie that is no longer good.
    pub stale_session: bool,
}

impl Visitor {
    /// Someone not signed in, reading in `locale` (error pages).
    pub fn anonymous(locale: Locale) -> Visitor {
        Visitor {
            caller: None,
            locale,
            csrf: String::new(),
            path: "/".into(),
            stale_session: false,
        }
    }

    pub fn words(&self) -> &'static Strings {
        Strings::of(self.locale)
    }

    /// The signed-in person, or a redirect to the sign-in page that comes
    /// back here afterwards.
    pub fn signed_in(&self) -> Result<&Caller, PageError> {
        self.caller.as_ref().ok_or_else(|| PageError::SignIn {
            next: self.path.clone(),
        })
    }

    /// The signed-in person if their role is one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<&Caller, PageError> {
        let caller = self.signed_in()?;
        if roles.contains(&caller.role()) {
            Ok(caller)
        } else {
            Err(self.fail(ApiError::Forbidden(
                self.words().get("error_not_for_your_role").to_owned(),
            )))
        }
    }

    /// An API error as this visitor's error page.
    pub fn fail(&self, e: ApiError) -> PageError {
        PageError::from(e).in_locale(self.locale)
    }

    /// Runs blocking store work off the async workers; errors become this
    /// visitor's error page.
    pub async fn blocking<T, F>(&self, state: &web::Data<AppState>, f: F) -> Result<T, PageError>
    where
        F: FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        state.blocking(f).await.map_err(|e| self.fail(e))
    }

    /// The links of the header, by role.
    pub fn nav(&self) -> Vec<Value> {
        let words = self.words();
        let links: &[(&str, &str)] = match self.caller.as_ref().map(Caller::role) {
            None => &[("/sign-in", "nav_sign_in"), ("/register", "nav_register")],
            Some(Role::Customer) => &[
                ("/complaints", "nav_my_complaints"),
                ("/complaints/new", "nav_new_complaint"),
            ],
            Some(Role::RetailerStaff) => &[
                ("/inbox", "nav_inbox"),
                ("/dashboard", "nav_dashboard"),
                ("/integration", "nav_integration"),
            ],
            Some(Role::Mediator) => &[("/queue", "nav_queue")],
            Some(Role::Admin) => &[
                ("/admin", "nav_admin"),
                ("/queue", "nav_queue"),
                ("/dashboard", "nav_dashboard"),
            ],
            Some(Role::System) => &[],
        };
        let path = self.path.split('?').next().unwrap_or_default();
        links
            .iter()
            .map(|(href, key)| {
                context! {
                    href => *href,
                    label => words.get(key),
                    current => path == *href,
                }
            })
            .collect()
    }
}

/// The CSRF token of a session: derived from the session token, which only
/// this browser holds (the cookie is `HttpOnly`).
fn csrf_for(session_token: &str) -> String {
    Sha256::digest(format!("odr-page-form\0{session_token}").as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl FromRequest for Visitor {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Visitor, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
        let chosen = req
            .cookie(LOCALE_COOKIE)
            .and_then(|c| Locale::parse(c.value()));
        let asked = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(Locale::En, Locale::negotiate);
        let path = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.path().to_owned(), |p| p.as_str().to_owned());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| PageError::broken("no app state"))?;
            let caller = match &token {
                // The pages are for people: an API key is no session.
                Some(t) => Caller::from_token(&state, t)
                    .await
                    .ok()
                    .filter(|c| c.api_key_id().is_none()),
                None => None,
            };
            let locale = chosen
                .or_else(|| caller.as_ref().map(|c| c.user.locale))
                .unwrap_or(asked);
            let csrf = match (&caller, &token) {
                (Some(_), Some(t)) => csrf_for(t),
                _ => String::new(),
            };
            Ok(Visitor {
                stale_session: token.is_some() && caller.is_none(),
                caller,
                locale,
                csrf,
                path,
            })
        })
    }
}

/// The session cookie for a freshly issued access token.
pub fn session_cookie(state: &AppState, token: &str, ttl_secs: u64) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.public_url.starts_with("https://"))
        .max_age(CookieDuration::seconds(
            i64::try_from(ttl_secs).unwrap_or(i64::MAX),
        ))
        .finish()
}

/// Tells the browser to forget the session.
pub fn ended_session_cookie() -> Cookie<'static> {
    let mut cookie = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .finish();
    cookie.make_removal();
    cookie
}

/// Remembers the chosen language for a year.
pub fn locale_cookie(state: &AppState, locale: Locale) -> Cookie<'static> {
    Cookie::build(LOCALE_COOKIE, locale.code())
        .path("/")
        .same_site(SameSite::Lax)
        .secure(state.public_url.starts_with("https://"))
        .max_age(CookieDuration::days(365))
        .finish()
}

/// A `next` target that stays on this site (a path, never `//host`).
pub fn local_target(next: Option<&str>) -> Option<String> {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .map(str::to_owned)
}

/// A form posted by a page (`application/x-www-form-urlencoded`; repeated
/// fields fill a `Vec`). Its fields are only handed out by
/// [`PageForm::verified`], which checks where it came from.
pub struct PageForm<T> {
    fields: T,
    csrf: Option<String>,
    same_origin: bool,
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: Option<String>,
}

impl<T> PageForm<T> {
    /// The fields, if the form was posted by this site's own page: same
    /// origin, and for a signed-in visitor their CSRF token.
    pub fn verified(self, visitor: &Visitor) -> Result<T, PageError> {
        let token_ok = visitor.caller.is_none()
            || self
                .csrf
                .as_deref()
                .is_some_and(|c| !visitor.csrf.is_empty() && c == visitor.csrf);
        if self.same_origin && token_ok {
            Ok(self.fields)
        } else {
            Err(visitor.fail(ApiError::Forbidden(
                visitor.words().get("error_form_expired").to_owned(),
            )))
        }
    }
}

/// The check of [`PageForm::verified`] for a form read some other way
/// (`multipart/form-data` with files): same origin and the visitor's CSRF
/// token, as `csrf` carried it.
pub(crate) fn verify_form_origin(
    visitor: &Visitor,
    req: &HttpRequest,
    csrf: Option<&str>,
) -> Result<(), PageError> {
    PageForm {
        fields: (),
        csrf: csrf.map(str::to_owned),
        same_origin: from_this_site(req),
    }
    .verified(visitor)
}

/// Whether the browser says the request comes from this site's own page.
///
/// A browser that sends `Sec-Fetch-Site` is believed (pages cannot forge
/// it): it must say `same-origin` (or `none`, typed by the person). Such a
/// browser sends `Origin: null` for our own forms, because the pages ask
/// for `Referrer-Policy: no-referrer`. Without `Sec-Fetch-Site`, an
/// `Origin` that is sent must name this site.
fn from_this_site(req: &HttpRequest) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let host = origin.split_once("://").map_or(origin, |(_, h)| h);
            let public = req
                .app_data::<web::Data<AppState>>()
                .map(|s| s.public_url.to_string())
                .unwrap_or_default();
            host == req.connection_info().host() || origin == public
        }
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for PageForm<T> {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<PageForm<T>, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let same_origin = from_this_site(req);
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bad = |detail: String| {
                PageError::from(ApiError::Malformed {
                    detail,
                    errors: Vec::new(),
                })
            };
            if !is_form {
                return Err(bad(
                    "A page form is sent as application/x-www-form-urlencoded.".into(),
                ));
            }
            let bytes = body
                .await
                .map_err(|e| bad(format!("The form could not be read: {e}.")))?;
            if bytes.len() > FORM_LIMIT {
                return Err(PageError::from(ApiError::PayloadTooLarge {
                    limit: FORM_LIMIT,
                }));
            }
            let fields: T = serde_html_form::from_bytes(&bytes)
                .map_err(|e| bad(format!("The form does not fit this page: {e}.")))?;
            let csrf = serde_html_form::from_bytes::<CsrfField>(&bytes)
                .ok()
                .and_then(|f| f.csrf);
            Ok(PageForm {
                fields,
                csrf,
                same_origin,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(
            local_target(Some("/complaints/1")).as_deref(),
            Some("/complaints/1")
        );
        assert_eq!(local_target(Some("//evil.example/")), None);
        assert_eq!(local_target(Some("https://evil.example/")), None);
        assert_eq!(local_target(Some("/\\evil.example")), None);
        assert_eq!(local_target(None), None);
    }

    #[test]
    fn only_this_sites_pages_may_post() {
        use actix_web::test::TestRequest;
        let ours = TestRequest::post()
            .insert_header(("sec-fetch-site", "same-origin"))
            .insert_header((header::ORIGIN, "null"))
            .to_http_request();
        assert!(from_this_site(&ours));
        let theirs = TestRequest::post()
            .insert_header(("sec-fetch-site", "cross-site"))
            .insert_header((header::ORIGIN, "https://evil.example"))
            .to_http_request();
        assert!(!from_this_site(&theirs));
        let old_browser = TestRequest::post()
            .insert_header((header::HOST, "shop.example:8080"))
            .insert_header((header::ORIGIN, "http://shop.example:8080"))
            .to_http_request();
        assert!(from_this_site(&old_browser));
        let null_without_fetch_metadata = TestRequest::post()
            .insert_header((header::ORIGIN, "null"))
            .to_http_request();
        assert!(!from_this_site(&null_without_fetch_metadata));
        let no_headers = TestRequest::post().to_http_request();
        assert!(from_this_site(&no_headers));
    }

    #[test]
    fn csrf_token_depends_on_the_session() {
        assert_ne!(csrf_for("a"), csrf_for("b"));
        assert_eq!(csrf_for("a"), csrf_for("a"));
        assert_eq!(csrf_for("a").len(), 32);
    }
}
