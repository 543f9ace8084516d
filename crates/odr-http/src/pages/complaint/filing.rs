//! Filing by icons: the shop, what went wrong, what would put it right
//! (with the amount where the remedy has one), the order reference, a
//! description and photos. The complaint is filed by the API's own
//! `file_complaint`; the photos, checked before anything is filed, are then
//! added by the API's own `record_attachment`.
//!
//! The same form serves a shop's order link (`/report/order`: shop and
//! order fixed, the order's items shown, the complaints already filed for
//! it listed first) and filing without an account (`/report`: an email
//! instead of a session, no photos until the link is opened); see
//! `pages/report.rs`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use minijinja::{context, Value};
use odr_domain::money::{Currency, MoneyInput};
use odr_domain::taxonomy::{taxonomy_document, Code, Remedy};
use odr_domain::Role;
use serde::Deserialize;

use super::super::account::see_other;
use super::super::failure::PageError;
use super::super::render::render;
use super::super::session::Visitor;
use super::actions::amount_error;
use super::field_value;
use super::format::parse_amount;
use super::upload::{self, PageFile};
use crate::caller::Caller;
use crate::problem::{ApiError, FieldError};
use crate::routes::attachments::record_attachment;
use crate::routes::complaints::{file_complaint, visibility, FileComplaint, ItemBody};
use crate::routes::order_links::OrderItem;
use crate::state::AppState;
use odr_store::{ComplaintQuery, ComplaintSort};

/// The currencies a claim can be typed in, the most used first.
const CURRENCIES: &[&str] = &[
    "EUR", "USD", "GBP", "CHF", "CZK", "PLN", "HUF", "SEK", "DKK", "NOK", "RON", "BGN",
];

#[derive(Debug, Deserialize, Default)]
pub struct NewQuery {
    retailer: Option<String>,
}

/// What the form held, to show it again.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub(crate) struct Entered {
    pub retailer_id: String,
    pub category: String,
    pub desired_remedy: String,
    pub amount: String,
    pub currency: String,
    pub order_reference: String,
    pub description: String,
    /// The order's items as JSON (`[{sku, name, quantity}]`), carried by an
    /// order link's form; empty otherwise.
    pub items: String,
    /// Filing without an account: where the link goes.
    pub email: String,
}

/// Which form this is.
pub(crate) enum FormKind {
    /// A signed-in customer picks the shop and types the order number.
    Account,
    /// A shop's order link: shop and order fixed, the complaints already
    /// filed for it (`filed`) listed first.
    Order { filed: Vec<Value> },
    /// Filing without an account (`/report`).
    Guest,
}

/// The shops a customer can complain about (the public directory).
fn shops(s: &AppState) -> Result<Vec<Value>, ApiError> {
    let page = s.store.list_retailers(None, 500)?;
    Ok(page
        .items
        .into_iter()
        .map(|r| context! { id => r.id, name => r.name })
        .collect())
}

/// The items an order link's form carries (its hidden `items` field).
pub(crate) fn items_of(entered: &Entered) -> Option<Vec<ItemBody>> {
    if entered.items.trim().is_empty() {
        return None;
    }
    serde_json::from_str::<Vec<OrderItem>>(&entered.items)
        .ok()
        .map(|items| items.into_iter().map(ItemBody::from).collect())
}

pub(crate) async fn form_page(
    state: &web::Data<AppState>,
    v: &Visitor,
    entered: Entered,
    kind: FormKind,
    problem: Option<(String, Vec<Value>)>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let shops = v.blocking(state, shops).await?;
    let tax = taxonomy_document(v.locale);
    let (error, fields) = problem.map_or((None, Vec::new()), |(e, f)| (Some(e), f));
    let shop_name = shops
        .iter()
        .find(|s| {
            s.get_attr("id")
                .ok()
                .is_some_and(|id| id.as_str() == Some(entered.retailer_id.as_str()))
        })
        .and_then(|s| s.get_attr("name").ok());
    let items: Vec<OrderItem> = serde_json::from_str(&entered.items).unwrap_or_default();
    let (order, filed, guest) = match kind {
        FormKind::Account => (None, Vec::new(), false),
        FormKind::Order { filed } => (
            Some(context! { shop_name => shop_name, items => items }),
            filed,
            false,
        ),
        FormKind::Guest => (None, Vec::new(), true),
    };
    let mut res = render(
        v,
        "complaint_new.html",
        context! {
            shops => shops,
            categories => tax.categories,
            remedies => tax.remedies,
            currencies => CURRENCIES,
            form => entered,
            error => error,
            fields => fields,
            order => order,
            filed => filed,
            guest => guest,
            photos_hint => v.words().fill("new_photos_hint", &[
                ("count", &upload::MAX_FILES.to_string()),
                ("megabytes", &(state.http.attachment_max_bytes / (1024 * 1024)).to_string()),
            ]),
        },
    )?;
    *res.status_mut() = status;
    Ok(res)
}

/// The form again, 422, with what was entered and each problem named.
pub(crate) async fn refused(
    state: &web::Data<AppState>,
    v: &Visitor,
    entered: Entered,
    kind: FormKind,
    problems: &[FieldError],
) -> Result<HttpResponse, PageError> {
    let fields = problems.iter().map(|e| field_value(v, e)).collect();
    let error = v.words().get("filing_check_fields").to_owned();
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    form_page(state, v, entered, kind, Some((error, fields)), status).await
}

/// What a filing form holds, and the problems found before anything is
/// sent: refused photos, an amount that does not read.
pub(crate) fn read_form(
    v: &Visitor,
    form: &upload::MultipartForm,
) -> (Entered, Option<MoneyInput>, Vec<FieldError>) {
    let entered = Entered {
        retailer_id: form.text("retailer_id"),
        category: form.text("category"),
        desired_remedy: form.text("desired_remedy"),
        amount: form.text("amount"),
        currency: form.text("currency"),
        order_reference: form.text("order_reference"),
        description: form.text("description"),
        items: form.text("items"),
        email: form.text("email"),
    };
    let words = v.words();
    let mut problems: Vec<FieldError> = form
        .refused
        .iter()
        .map(|r| {
            let key = match r.error {
                ApiError::PayloadTooLarge { .. } => "why_photo_too_large",
                _ => "why_photo_type",
            };
            FieldError::new(
                "photos",
                "refused",
                words.fill(key, &[("file", &r.file_name)]),
            )
        })
        .collect();
    let needs_amount = Remedy::parse(&entered.desired_remedy).is_ok_and(Remedy::needs_amount);
    let claimed_amount = if needs_amount && !entered.amount.trim().is_empty() {
        let currency = Currency::parse(&entered.currency).unwrap_or_default();
        match parse_amount(&entered.amount, currency) {
            Ok(minor) => Some(MoneyInput {
                amount_minor: minor,
                currency: currency.code().to_owned(),
            }),
            Err(p) => {
                if let ApiError::Validation { errors } = amount_error("claimed_amount", p) {
                    problems.extend(errors);
                }
                None
            }
        }
    } else {
        None
    };
    (entered, claimed_amount, problems)
}

/// The complaints a session from an order link already filed for its
/// order, newest first, as links.
pub(crate) fn filed_for_order(s: &AppState, caller: &Caller) -> Result<Vec<Value>, ApiError> {
    let query = ComplaintQuery {
        visibility: visibility(caller)?,
        state: None,
        category: None,
        retailer_id: None,
        assigned_to: None,
        sort: ComplaintSort::Newest,
        after: None,
        limit: 50,
    };
    Ok(s.store
        .list_complaints(&query)?
        .items
        .iter()
        .map(|c| {
            let f = c.complaint.facts();
            context! {
                id => f.id.clone(),
                reference => f.reference.clone(),
                state => c.complaint.state().code(),
            }
        })
        .collect())
}

/// The form for the order of an order link's session: shop and order
/// fixed, `items` shown, the complaints already filed for it first.
pub(crate) async fn order_form(
    state: &web::Data<AppState>,
    v: &Visitor,
    caller: &Caller,
    items: Option<Vec<OrderItem>>,
) -> Result<HttpResponse, PageError> {
    let Some((retailer_id, order_reference)) = caller.order_scope() else {
        return Err(v.fail(ApiError::Forbidden(
            v.words().get("error_not_for_your_role").to_owned(),
        )));
    };
    let entered = Entered {
        retailer_id: retailer_id.to_owned(),
        order_reference: order_reference.to_owned(),
        currency: "EUR".into(),
        items: items
            .filter(|i| !i.is_empty())
            .and_then(|i| serde_json::to_string(&i).ok())
            .unwrap_or_default(),
        ..Entered::default()
    };
    let who = caller.clone();
    let filed = v.blocking(state, move |s| filed_for_order(s, &who)).await?;
    let kind = FormKind::Order { filed };
    form_page(state, v, entered, kind, None, StatusCode::OK).await
}

/// `GET /complaints/new` (customers); `?retailer=<id>` picks the shop.
pub async fn new_page(
    state: web::Data<AppState>,
    v: Visitor,
    q: web::Query<NewQuery>,
) -> Result<HttpResponse, PageError> {
    let caller = v.require(&[Role::Customer])?;
    // An order link's session files for its order only: that form.
    if caller.order_scope().is_some() {
        return Ok(see_other("/report/order"));
    }
    let entered = Entered {
        retailer_id: q.into_inner().retailer.unwrap_or_default(),
        currency: "EUR".into(),
        ..Entered::default()
    };
    form_page(&state, &v, entered, FormKind::Account, None, StatusCode::OK).await
}

/// `POST /complaints/new` (multipart: the fields and `photos`).
pub async fn file(
    state: web::Data<AppState>,
    v: Visitor,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let caller = v.require(&[Role::Customer])?.clone();
    let folder = state.http.attachment_dir.join(".incoming");
    let limit = state.http.attachment_max_bytes;
    let form = upload::read(&v, &req, payload, &folder, "photos", limit).await?;
    let (entered, claimed_amount, problems) = read_form(&v, &form);
    let kind = || {
        if caller.order_scope().is_some() {
            FormKind::Order { filed: Vec::new() }
        } else {
            FormKind::Account
        }
    };
    if !problems.is_empty() {
        return refused(&state, &v, entered, kind(), &problems).await;
    }
    let body = FileComplaint {
        retailer_id: entered.retailer_id.clone(),
        order_reference: entered.order_reference.trim().to_owned(),
        category: entered.category.clone(),
        desired_remedy: entered.desired_remedy.clone(),
        claimed_amount,
        description: entered.description.trim().to_owned(),
        locale: Some(v.locale.code().to_owned()),
        items: items_of(&entered),
    };
    let photos: Vec<PageFile> = form.files;
    let who = caller.clone();
    let filed = state
        .blocking(move |s| {
            let (stored, _) = file_complaint(s, &who, body)?;
            let id = stored.complaint.facts().id.clone();
            let mut all_attached = true;
            for photo in photos {
                let Some((received, name)) = photo.take() else {
                    continue;
                };
                if let Err(e) = record_attachment(s, &who, &id, received, name, None) {
                    // Filed already: the page says which step is missing.
                    tracing::warn!(complaint = %id, error = %e, "a photo of a new complaint was not attached");
                    all_attached = false;
                }
            }
            Ok((id, all_attached))
        })
        .await;
    match filed {
        Ok((id, all_attached)) => {
            state.mail_queued.notify_one();
            let done = if all_attached {
                "filed"
            } else {
                "filed_without_photos"
            };
            Ok(see_other(&format!("/complaints/{id}?done={done}")))
        }
        Err(e @ (ApiError::Validation { .. } | ApiError::Malformed { .. })) => {
            refused(&state, &v, entered, kind(), &e.explained().1).await
        }
        Err(e) => Err(v.fail(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_offered_currency_is_iso_4217() {
        for code in CURRENCIES {
            assert!(Currency::parse(code).is_some(), "{code}");
        }
    }

    #[test]
    fn remedies_with_an_amount_exist() {
        assert!(Remedy::ALL.iter().any(|r| r.needs_amount()));
        assert!(Remedy::ALL.iter().any(|r| !r.needs_amount()));
        assert!(Remedy::parse("full_refund").is_ok_and(|r| r.code() == "full_refund"));
    }
}
