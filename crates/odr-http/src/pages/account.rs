//! Home, sign-in (password or a link by mail), register, sign-out and the
//! language switch. They call the same functions as the API's auth routes
//! (same checks, same rate limits); the session is the API's access token
//! kept in an `HttpOnly` cookie.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use minijinja::{context, Value};
use odr_domain::locale::Locale;
use odr_domain::Role;
use odr_store::ProfileChange;
use serde::Deserialize;

use super::failure::PageError;
use super::render::render;
use super::session::{
    ended_session_cookie, local_target, locale_cookie, session_cookie, PageForm, Visitor,
};
use crate::auth::IssuedToken;
use crate::problem::ApiError;
use crate::routes::auth::{
    new_session, password_sign_in, redeem_magic_token, register_customer, send_magic_link, Register,
};
use crate::state::AppState;

/// Where each role starts.
pub fn role_home(role: Role) -> &'static str {
    match role {
        Role::Customer => "/complaints",
        Role::RetailerStaff => "/inbox",
        Role::Mediator => "/queue",
        Role::Admin | Role::System => "/admin",
    }
}

pub(crate) fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .finish()
}

/// `GET /`: a signed-in person goes to their start page; anyone else sees
/// what this is and how to begin.
pub async fn home(v: Visitor) -> Result<HttpResponse, PageError> {
    match &v.caller {
        Some(c) => Ok(see_other(role_home(c.role()))),
        None => render(&v, "home.html", context! {}),
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct SignInQuery {
    next: Option<String>,
    token: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct SignInForm {
    email: String,
    password: String,
    next: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct LinkForm {
    email: String,
    next: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct RedeemForm {
    token: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct RegisterForm {
    display_name: String,
    email: String,
    password: String,
    next: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct LocaleForm {
    locale: String,
    next: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct EmptyForm {}

/// The sign-in page with a message, answered with `status`.
fn sign_in_again(
    v: &Visitor,
    status: StatusCode,
    error: &str,
    email: &str,
    next: Option<String>,
) -> Result<HttpResponse, PageError> {
    let mut res = render(
        v,
        "sign_in.html",
        context! { error => error, email => email, next => local_target(next.as_deref()) },
    )?;
    *res.status_mut() = status;
    Ok(res)
}

/// What a refused sign-in says: why, in the visitor's words where we
/// know the reason.
fn refusal(v: &Visitor, e: &ApiError, unauthenticated_key: &str) -> String {
    let words = v.words();
    match e {
        ApiError::Unauthenticated(_) => words.get(unauthenticated_key).to_owned(),
        ApiError::RateLimited { retry_after_secs } => words.fill(
            "error_slow_down",
            &[("seconds", &retry_after_secs.to_string())],
        ),
        ApiError::Validation { .. } | ApiError::Malformed { .. } => {
            words.get("sign_in_check_email").to_owned()
        }
        other => other.explained().0,
    }
}

/// The new session: cookie set, on to `next` (or the role's start page).
fn signed_in(state: &AppState, token: &IssuedToken, next: Option<String>) -> HttpResponse {
    let target = local_target(next.as_deref()).unwrap_or_else(|| "/".into());
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, target))
        .cookie(session_cookie(state, &token.access_token, token.expires_in))
        .finish()
}

/// A sign-in attempt's answer: the new session, or the sign-in page again
/// saying why (`refused` names the words for a refused credential).
fn after_sign_in(
    state: &AppState,
    v: &Visitor,
    outcome: Result<IssuedToken, ApiError>,
    refused: &str,
    email: &str,
    next: Option<String>,
) -> Result<HttpResponse, PageError> {
    match outcome {
        Ok(token) => Ok(signed_in(state, &token, next)),
        Err(e) => sign_in_again(v, e.status_code(), &refusal(v, &e, refused), email, next),
    }
}

/// `GET /sign-in`: password, or a link by mail; with `?token=` (the link
/// from the mail) a button that uses it. Using it takes a POST, so that a
/// mail scanner opening the link does not spend it.
pub async fn sign_in_page(
    v: Visitor,
    q: web::Query<SignInQuery>,
) -> Result<HttpResponse, PageError> {
    let q = q.into_inner();
    render(
        &v,
        "sign_in.html",
        context! { next => local_target(q.next.as_deref()), token => q.token, email => "" },
    )
}

/// `POST /sign-in`
pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: Visitor,
    form: PageForm<SignInForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let peer = req.peer_addr();
    let (email, password) = (f.email.clone(), f.password);
    let outcome = state
        .blocking(move |s| password_sign_in(s, peer, &email, &password))
        .await;
    after_sign_in(&state, &v, outcome, "sign_in_failed", &f.email, f.next)
}

/// `POST /sign-in/link`: mails a sign-in link; the answer is the same
/// whether the address has an account or not.
pub async fn send_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: Visitor,
    form: PageForm<LinkForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let peer = req.peer_addr();
    let (email, locale) = (f.email.clone(), v.locale.code());
    match state
        .blocking(move |s| send_magic_link(s, peer, &email, Some(locale)))
        .await
    {
        Ok(()) => {
            state.mail_queued.notify_one();
            render(&v, "link_sent.html", context! { email => f.email })
        }
        Err(e) => sign_in_again(
            &v,
            e.status_code(),
            &refusal(&v, &e, "sign_in_failed"),
            &f.email,
            f.next,
        ),
    }
}

/// `POST /sign-in/redeem`: uses the link's token (once). A link that sent
/// a complaint filed without an account leads to that complaint.
pub async fn redeem_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: Visitor,
    form: PageForm<RedeemForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let peer = req.peer_addr();
    let outcome = state
        .blocking(move |s| redeem_magic_token(s, peer, &f.token))
        .await;
    let next = match &outcome {
        Ok(login) => login.complaint_id.as_ref().map(|id| {
            state.mail_queued.notify_one();
            format!("/complaints/{id}?done=filed")
        }),
        Err(_) => None,
    };
    let outcome = outcome.map(|login| login.token);
    after_sign_in(&state, &v, outcome, "sign_in_link_invalid", "", next)
}

/// `GET /register`
pub async fn register_page(
    v: Visitor,
    q: web::Query<SignInQuery>,
) -> Result<HttpResponse, PageError> {
    render(
        &v,
        "register.html",
        context! { next => local_target(q.next.as_deref()), form => context! {} },
    )
}

/// `POST /register`: a customer account in the visitor's language, signed
/// in at once.
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: Visitor,
    form: PageForm<RegisterForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let peer = req.peer_addr();
    let body = Register {
        email: f.email.clone(),
        password: f.password,
        display_name: f.display_name.clone(),
        locale: Some(v.locale.code().to_owned()),
    };
    let created = state
        .blocking(move |s| {
            let user = register_customer(s, peer, body)?;
            new_session(s, &user)
        })
        .await;
    match created {
        Ok(token) => Ok(signed_in(&state, &token, f.next)),
        Err(e) => {
            let words = v.words();
            let error = match &e {
                ApiError::EmailTaken => words.get("register_email_taken").to_owned(),
                ApiError::Validation { .. } => words.get("register_check_fields").to_owned(),
                other => refusal(&v, other, "sign_in_failed"),
            };
            let (_, fields) = e.explained();
            let mut res = render(
                &v,
                "register.html",
                context! {
                    error => error,
                    fields => fields.iter().map(|x| context! {
                        field => x.field.clone(), message => x.message.clone()
                    }).collect::<Vec<Value>>(),
                    form => context! { display_name => f.display_name, email => f.email },
                    next => local_target(f.next.as_deref()),
                },
            )?;
            *res.status_mut() = e.status_code();
            Ok(res)
        }
    }
}

/// `POST /sign-out`: ends the sessions and forgets the cookie.
pub async fn sign_out(
    state: web::Data<AppState>,
    v: Visitor,
    form: PageForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    form.verified(&v)?;
    if let Some(caller) = v.caller.clone() {
        v.blocking(&state, move |s| {
            Ok(s.store.end_sessions(caller.id(), s.clock.now())?)
        })
        .await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .cookie(ended_session_cookie())
        .finish())
}

/// `POST /locale`: remembered in a cookie, and in the account (mail
/// follows it) when signed in.
pub async fn switch_locale(
    state: web::Data<AppState>,
    v: Visitor,
    form: PageForm<LocaleForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let locale = Locale::parse(&f.locale).ok_or_else(|| {
        v.fail(ApiError::validation_one(
            "locale",
            "unknown_locale",
            "Choose en, de, fr, es or sk.",
        ))
    })?;
    // Only a full session changes the account; an order link's session
    // keeps the choice in the cookie alone.
    if let Some(caller) = v.caller.clone().filter(|c| c.may_manage_credentials()) {
        v.blocking(&state, move |s| {
            let change = ProfileChange {
                locale: Some(locale),
                ..ProfileChange::default()
            };
            Ok(s.store.update_profile(caller.id(), change, s.clock.now())?)
        })
        .await?;
    }
    let target = local_target(f.next.as_deref()).unwrap_or_else(|| "/".into());
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, target))
        .cookie(locale_cookie(&state, locale))
        .finish())
}
