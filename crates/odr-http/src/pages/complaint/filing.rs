//! Filing by icons: the shop, what went wrong, what would put it right
//! (with the amount where the remedy has one), the order reference, a
//! description and photos. The complaint is filed by the API's own
//! `file_complaint`; the photos, checked before anything is filed, are then
//! added by the API's own `record_attachment`.

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
use crate::problem::{ApiError, FieldError};
use crate::routes::attachments::record_attachment;
use crate::routes::complaints::{file_complaint, FileComplaint};
use crate::state::AppState;

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
struct Entered {
    retailer_id: String,
    category: String,
    desired_remedy: String,
    amount: String,
    currency: String,
    order_reference: String,
    description: String,
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

async fn form_page(
    state: &web::Data<AppState>,
    v: &Visitor,
    entered: Entered,
    error: Option<String>,
    fields: Vec<Value>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let shops = v.blocking(state, shops).await?;
    let tax = taxonomy_document(v.locale);
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
async fn refused(
    state: &web::Data<AppState>,
    v: &Visitor,
    entered: Entered,
    problems: &[FieldError],
) -> Result<HttpResponse, PageError> {
    let fields = problems.iter().map(|e| field_value(v, e)).collect();
    let error = Some(v.words().get("filing_check_fields").to_owned());
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    form_page(state, v, entered, error, fields, status).await
}

/// `GET /complaints/new` (customers); `?retailer=<id>` picks the shop.
pub async fn new_page(
    state: web::Data<AppState>,
    v: Visitor,
    q: web::Query<NewQuery>,
) -> Result<HttpResponse, PageError> {
    v.require(&[Role::Customer])?;
    let entered = Entered {
        retailer_id: q.into_inner().retailer.unwrap_or_default(),
        currency: "EUR".into(),
        ..Entered::default()
    };
    form_page(&state, &v, entered, None, Vec::new(), StatusCode::OK).await
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
    let entered = Entered {
        retailer_id: form.text("retailer_id"),
        category: form.text("category"),
        desired_remedy: form.text("desired_remedy"),
        amount: form.text("amount"),
        currency: form.text("currency"),
        order_reference: form.text("order_reference"),
        description: form.text("description"),
    };
    let words = v.words();
    // Checked before anything is filed: photos, and the typed amount.
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
    if !problems.is_empty() {
        return refused(&state, &v, entered, &problems).await;
    }
    let body = FileComplaint {
        retailer_id: entered.retailer_id.clone(),
        order_reference: entered.order_reference.trim().to_owned(),
        category: entered.category.clone(),
        desired_remedy: entered.desired_remedy.clone(),
        claimed_amount,
        description: entered.description.trim().to_owned(),
        locale: Some(v.locale.code().to_owned()),
        items: None,
    };
    let photos: Vec<PageFile> = form.files;
    let filed = state
        .blocking(move |s| {
            let (stored, _) = file_complaint(s, &caller, body)?;
            let id = stored.complaint.facts().id.clone();
            let mut all_attached = true;
            for photo in photos {
                let Some((received, name)) = photo.take() else {
                    continue;
                };
                if let Err(e) = record_attachment(s, &caller, &id, received, name, None) {
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
            refused(&state, &v, entered, &e.explained().1).await
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
