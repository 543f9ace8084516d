//! The report pages: where a shop's order link lands, and filing without
//! an account. Both reuse the filing form of `complaint/filing.rs`.
//!
//! - `GET /report?token=T`: a shop's order link. It is redeemed at once
//!   (the API's `redeem_order_token`), the session cookie is set (the
//!   sign-in page's cookie, scoped to the order by its claims) and the
//!   browser goes on to `/report/order` with 303, so that the token leaves
//!   the address bar and the history. Redeeming on a GET is acceptable
//!   here, unlike a magic link: an order link is not single-use (the shop
//!   may show it on every order page until it expires), so a mail scanner
//!   opening it spends nothing; it only creates a customer without
//!   password for the email the shop vouched for, which the shop could do
//!   anyway. A refused link gets a page (401, 403 for a staff email) that
//!   says why in plain words and offers filing without an account.
//! - `GET /report/order`: the filing form for that order: shop and order
//!   fixed, its items shown, its complaints already filed listed first.
//! - `GET /report` (no token) and `POST /report`: filing without an
//!   account; after sending, "One step left: open the link we sent to …".
//!
//! Every answer says `Referrer-Policy: no-referrer`.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use minijinja::context;
use odr_domain::locale::Locale;
use odr_domain::Role;
use serde::Deserialize;

use super::account::see_other;
use super::complaint::{
    form_page, order_form, read_form, read_multipart, refused, Entered, FormKind,
};
use super::failure::PageError;
use super::render::render;
use super::session::{locale_cookie, session_cookie, Visitor, SESSION_COOKIE};
use crate::problem::ApiError;
use crate::routes::guest::{send_guest_filing, GuestComplaint};
use crate::routes::order_links::{redeem_order_token, OrderLinkError};
use crate::state::AppState;

#[derive(Debug, Deserialize, Default)]
pub struct ReportQuery {
    token: Option<String>,
}

/// The page's own referrer policy, whatever the default: the address may
/// hold a shop's token.
fn no_referrer(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    res
}

/// `GET /report`: with `?token=` a shop's order link, else the form for
/// filing without an account.
pub async fn report(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: Visitor,
    q: web::Query<ReportQuery>,
) -> Result<HttpResponse, PageError> {
    let token = q.into_inner().token.filter(|t| !t.trim().is_empty());
    let res = match token {
        Some(token) => open_order_link(&state, &req, &v, token).await?,
        None => guest_form(&state, &v).await?,
    };
    Ok(no_referrer(res))
}

/// Redeems an order link: on to the order's form with the new session, or
/// a page saying why the link is refused.
async fn open_order_link(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    v: &Visitor,
    token: String,
) -> Result<HttpResponse, PageError> {
    let peer = req.peer_addr();
    let outcome = v
        .blocking(state, move |s| Ok(redeem_order_token(s, peer, &token)))
        .await?;
    let login = match outcome {
        Ok(login) => login,
        Err(OrderLinkError::Other(e)) => return Err(v.fail(e)),
        Err(refusal) => return refused_link(v, &refusal),
    };
    let mut res = HttpResponse::SeeOther();
    res.insert_header((header::LOCATION, "/report/order"))
        .cookie(session_cookie(
            state,
            &login.token.access_token,
            login.token.expires_in,
        ));
    // The page opens in the language the shop named.
    if let Some(locale) = Locale::parse(&login.order.locale) {
        res.cookie(locale_cookie(state, locale));
    }
    Ok(res.finish())
}

/// Why a link is refused, in the visitor's words, with the way on.
fn refused_link(v: &Visitor, refusal: &OrderLinkError) -> Result<HttpResponse, PageError> {
    let (status, why) = match refusal {
        OrderLinkError::Expired => (StatusCode::UNAUTHORIZED, "report_link_expired"),
        OrderLinkError::NotACustomer => (StatusCode::FORBIDDEN, "report_link_not_customer"),
        OrderLinkError::Invalid(_) | OrderLinkError::Other(_) => {
            (StatusCode::UNAUTHORIZED, "report_link_invalid")
        }
    };
    let mut res = render(
        v,
        "report_refused.html",
        context! { why => v.words().get(why) },
    )?;
    *res.status_mut() = status;
    Ok(res)
}

/// `GET /report/order`: the form for the order of an order link's session.
pub async fn order(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: Visitor,
) -> Result<HttpResponse, PageError> {
    let caller = v.require(&[Role::Customer])?.clone();
    if caller.order_scope().is_none() {
        return Ok(see_other("/complaints/new"));
    }
    // The items the shop named travel in the session's own claims.
    let items = req
        .cookie(SESSION_COOKIE)
        .and_then(|c| state.tokens.verify(c.value(), state.clock.now()).ok())
        .and_then(|claims| claims.ord)
        .and_then(|scope| scope.items);
    let res = order_form(&state, &v, &caller, items).await?;
    Ok(no_referrer(res))
}

/// The form for filing without an account; a signed-in customer goes to
/// their own form.
async fn guest_form(state: &web::Data<AppState>, v: &Visitor) -> Result<HttpResponse, PageError> {
    if let Some(caller) = v.caller.as_ref().filter(|c| c.role() == Role::Customer) {
        return Ok(see_other(if caller.order_scope().is_some() {
            "/report/order"
        } else {
            "/complaints/new"
        }));
    }
    let entered = Entered {
        currency: "EUR".into(),
        ..Entered::default()
    };
    form_page(state, v, entered, FormKind::Guest, None, StatusCode::OK).await
}

/// `POST /report` (multipart, as the filing form): checks the complaint
/// and mails the link that sends it.
pub async fn send(
    state: web::Data<AppState>,
    v: Visitor,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let folder = state.http.attachment_dir.join(".incoming");
    let limit = state.http.attachment_max_bytes;
    let form = read_multipart(&v, &req, payload, &folder, "photos", limit).await?;
    let (entered, claimed_amount, problems) = read_form(&v, &form);
    if !problems.is_empty() {
        return refused(&state, &v, entered, FormKind::Guest, &problems).await;
    }
    let body = GuestComplaint {
        email: entered.email.clone(),
        retailer_id: entered.retailer_id.clone(),
        order_reference: entered.order_reference.clone(),
        category: entered.category.clone(),
        desired_remedy: entered.desired_remedy.clone(),
        claimed_amount,
        description: entered.description.clone(),
        locale: Some(v.locale.code().to_owned()),
        items: None,
    };
    let peer = req.peer_addr();
    match state
        .blocking(move |s| send_guest_filing(s, peer, body))
        .await
    {
        Ok(sent) => {
            state.mail_queued.notify_one();
            let res = render(&v, "report_sent.html", context! { email => sent.email })?;
            Ok(no_referrer(res))
        }
        Err(e @ (ApiError::Validation { .. } | ApiError::Malformed { .. })) => {
            refused(&state, &v, entered, FormKind::Guest, &e.explained().1).await
        }
        Err(e) => Err(v.fail(e)),
    }
}
