//! Filing without an account: an email, the order reference and the
//! complaint. Nothing is filed until the person proves the email: the
//! checked filing is kept with a magic link, and the mail "Open this link to
//! send your complaint to <shop>" carries it. Using the link (the API's
//! magic-link redeem or the sign-in page) files the complaint for that
//! email's customer, in the transaction that spends the link, and signs
//! them in. The answer is the same whether the email has an account or
//! not, and nobody gains an account by claiming an email: only the mailbox
//! owner can use the link.

use actix_web::{web, HttpRequest, HttpResponse};
use odr_domain::complaint::Filing;
use odr_domain::money::MoneyInput;
use serde::{Deserialize, Serialize};

use super::complaints::{checked_filing, FileComplaint, ItemBody};
use super::order_links::OrderItem;
use crate::auth::normalize_email;
use crate::body::JsonBody;
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ana@example.com", "retailer_id": "0193a6f2-8d4e-7c1b-9a55-3e2f1b0c4d5e", "order_reference": "SO-10023", "category": "damaged", "desired_remedy": "full_refund", "claimed_amount": {"amount_minor": 1999, "currency": "EUR"}, "description": "The kettle arrived with a cracked lid.", "locale": "en"}))]
pub struct GuestComplaint {
    /// Where the link that sends the complaint is mailed.
    pub(crate) email: String,
    pub(crate) retailer_id: String,
    pub(crate) order_reference: String,
    #[schema(value_type = odr_domain::taxonomy::Category)]
    pub(crate) category: String,
    #[schema(value_type = odr_domain::taxonomy::Remedy)]
    pub(crate) desired_remedy: String,
    pub(crate) claimed_amount: Option<MoneyInput>,
    pub(crate) description: String,
    pub(crate) locale: Option<String>,
    pub(crate) items: Option<Vec<OrderItem>>,
}

/// The answer: alike for every well-formed request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConfirmationSent {
    /// Always `confirmation_sent`.
    pub status: String,
    /// The address the link went to (as normalised).
    pub email: String,
}

/// The filing a magic link keeps, checked again (the shop may be gone),
/// ready for the domain's `file`.
pub(crate) fn kept_filing(
    s: &AppState,
    json: &str,
) -> Result<(Filing, odr_store::Retailer), ApiError> {
    // Kept as the body of `POST /complaints` it would have been.
    let kept: FileComplaint = serde_json::from_str(json)
        .map_err(|e| ApiError::Internal(format!("a kept filing does not parse: {e}")))?;
    checked_filing(s, kept)
}

/// Checks a filing without an account (every bad field named at once, the
/// same checks as filing with one) and mails the link that sends it. The
/// caller wakes the mail worker.
pub(crate) fn send_guest_filing(
    s: &AppState,
    peer: Option<std::net::SocketAddr>,
    body: GuestComplaint,
) -> Result<ConfirmationSent, ApiError> {
    let email = normalize_email(&body.email);
    let kept = FileComplaint {
        retailer_id: body.retailer_id,
        order_reference: body.order_reference.trim().to_owned(),
        category: body.category,
        desired_remedy: body.desired_remedy,
        claimed_amount: body.claimed_amount,
        description: body.description.trim().to_owned(),
        locale: body.locale,
        items: body
            .items
            .map(|items| items.into_iter().map(ItemBody::from).collect()),
    };
    let json = serde_json::to_string(&kept).map_err(|e| ApiError::Internal(e.to_string()))?;
    let checked = checked_filing(s, kept);
    let (email, (filing, retailer)) = match (email, checked) {
        (Ok(email), Ok(checked)) => (email, checked),
        (Err(bad), Err(ApiError::Validation { mut errors })) => {
            errors.insert(0, bad);
            return Err(ApiError::Validation { errors });
        }
        (Err(bad), Ok(_)) => return Err(ApiError::Validation { errors: vec![bad] }),
        (_, Err(e)) => return Err(e),
    };
    let new = super::auth::fresh_link(s, peer, email.clone(), filing.locale.unwrap_or_default())?;
    // An API key's backing user never signs in: no link for its address,
    // and the same answer as for any other.
    if odr_store::api_keys::is_key_holder_address(&new.email) {
        return Ok(ConfirmationSent {
            status: "confirmation_sent".into(),
            email,
        });
    }
    let kept = odr_store::magic_links::KeptFiling {
        json,
        shop_name: retailer.name,
    };
    s.store.create_guest_filing(new, kept, s.clock.now())?;
    Ok(ConfirmationSent {
        status: "confirmation_sent".into(),
        email,
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/complaints/guest",
    tag = "complaints",
    summary = "File without an account: mail the link that sends the complaint",
    description = "Checks the complaint like `POST /api/v1/complaints` (422 names every bad field) and mails a single-use link, valid `ODR_MAGIC_LINK_TTL`, to `email`. Nothing is filed until the link is used (`POST /api/v1/auth/magic-link/redeem` or the sign-in page): then the complaint is filed for that email's customer (a customer without password is created for a new email) and the person is signed in. 202 alike whether the email has an account. Rate limited like magic links.",
    request_body = GuestComplaint,
    params(
        crate::routes::openapi::IdempotencyHeader
    ),
    responses(
        (status = 202, description = "The link is on its way.", body = ConfirmationSent),
        (status = 400, response = super::openapi::Malformed),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 429, response = super::openapi::RateLimited),
        (status = 503, response = super::openapi::Unavailable)
    )
)]
pub async fn file_as_guest(
    state: web::Data<AppState>,
    req: HttpRequest,
    JsonBody(body): JsonBody<GuestComplaint>,
) -> Result<HttpResponse, ApiError> {
    let peer = req.peer_addr();
    let sent = state
        .blocking(move |s| send_guest_filing(s, peer, body))
        .await?;
    state.mail_queued.notify_one();
    Ok(HttpResponse::Accepted().json(sent))
}
