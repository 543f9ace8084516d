//! Order links: a shop signs a deep link to one of its orders (a JWT, HS256,
//! keyed with one of its link secrets, whose id is the `kid`), and the
//! customer who opens it is signed in for that order only.
//!
//! The token is checked strictly: the algorithm is pinned, `kid` and `exp`
//! are required, the secret must be live and belong to the retailer the
//! claims name, and `exp` may lie at most 30 days ahead. The session it
//! gives carries the order in its claims (`ord`), and `Caller::order_scope`
//! narrows everything the caller sees and does to that order.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use odr_domain::locale::Locale;
use odr_domain::validation::limits;
use odr_domain::Role;
use serde::{Deserialize, Serialize};

use crate::auth::normalize_email;
use crate::auth::token::OrderScope;
use crate::auth::IssuedToken;
use crate::body::JsonBody;
use crate::problem::ApiError;
use crate::rate_limit::{client_key, limited};
use crate::state::AppState;

/// How far ahead a link's `exp` may lie.
pub const MAX_LINK_DAYS: i64 = 30;

/// Clock skew tolerated between the shop and the engine.
const LEEWAY_SECS: i64 = 30;

/// The longest token taken (a link with many items is still far shorter).
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The claims a shop signs.
#[derive(Debug, Clone, Deserialize)]
struct LinkClaims {
    retailer_id: String,
    order_reference: String,
    customer_email: String,
    exp: i64,
    #[serde(default)]
    customer_name: Option<String>,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    items: Option<Vec<OrderItem>>,
}

/// One line of the order, as the shop names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrderItem {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
}

impl From<OrderItem> for super::complaints::ItemBody {
    fn from(i: OrderItem) -> Self {
        super::complaints::ItemBody {
            sku: i.sku,
            name: i.name,
            quantity: i.quantity,
        }
    }
}

/// The order a link is for.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    pub retailer_id: String,
    pub order_reference: String,
    pub customer_email: String,
    /// The claim's language, else the customer's.
    pub locale: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<OrderItem>>,
}

/// The login answer plus the order.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderLinkLogin {
    #[serde(flatten)]
    pub token: IssuedToken,
    pub order: OrderView,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "eyJhbGciOiJIUzI1NiIsImtpZCI6Ii4uLiJ9.eyJyZXRhaWxlcl9pZCI6Ii4uLiJ9.c2ln"}))]
pub struct OrderLinkRedeem {
    token: String,
}

/// Why an order link is refused.
#[derive(Debug, thiserror::Error)]
pub enum OrderLinkError {
    /// Signed right, but `exp` has passed: the shop can send a new one.
    #[error("the order link has expired")]
    Expired,
    /// Anything else wrong with the token (forged, revoked secret, other
    /// retailer, too long-lived, malformed); the detail is for logs and
    /// the problem document, never the secret.
    #[error("the order link is not valid: {0}")]
    Invalid(&'static str),
    /// The email belongs to staff, a mediator or an admin.
    #[error("the order link's email belongs to an account that does not file complaints")]
    NotACustomer,
    /// Not about the link: the store, a rate limit.
    #[error(transparent)]
    Other(#[from] ApiError),
}

impl From<OrderLinkError> for ApiError {
    fn from(e: OrderLinkError) -> ApiError {
        match e {
            OrderLinkError::Expired => ApiError::Unauthenticated(
                "This order link has expired. Ask the shop for a new one.".into(),
            ),
            OrderLinkError::Invalid(why) => ApiError::Unauthenticated(format!(
                "This order link is not valid ({why}). Ask the shop for a new one, or file without an account."
            )),
            OrderLinkError::NotACustomer => ApiError::Forbidden(
                "This email belongs to a staff, mediator or admin account, which cannot file complaints through an order link."
                    .into(),
            ),
            OrderLinkError::Other(e) => e,
        }
    }
}

impl From<odr_store::StoreError> for OrderLinkError {
    fn from(e: odr_store::StoreError) -> Self {
        OrderLinkError::Other(e.into())
    }
}

/// The checked claims of a shop's order link, valid at `now`.
fn verify(s: &AppState, token: &str) -> Result<LinkClaims, OrderLinkError> {
    use OrderLinkError::Invalid;
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return Err(Invalid("no token, or far too long"));
    }
    let head = jsonwebtoken::decode_header(token).map_err(|_| Invalid("malformed"))?;
    if head.alg != Algorithm::HS256 {
        return Err(Invalid("not signed with HS256"));
    }
    let kid = head.kid.ok_or(Invalid("no kid in the header"))?;
    let secret = s
        .store
        .live_link_secret(&kid)?
        .ok_or(Invalid("unknown or revoked link secret"))?;
    let key = s
        .secrets
        .open(&secret.sealed_secret)
        .map_err(|e| ApiError::Internal(format!("a link secret does not open: {e}")))?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.algorithms = vec![Algorithm::HS256];
    validation.set_required_spec_claims(&["exp"]);
    // Time is the engine's clock (below), not the system's.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.leeway = 0;
    let claims = jsonwebtoken::decode::<LinkClaims>(
        token,
        &DecodingKey::from_secret(key.as_bytes()),
        &validation,
    )
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidSignature => Invalid("bad signature"),
        _ => Invalid("malformed claims"),
    })?
    .claims;
    if claims.retailer_id != secret.retailer_id {
        return Err(Invalid("signed by another retailer's secret"));
    }
    let now = s.clock.now().timestamp();
    if claims.exp > now + MAX_LINK_DAYS * 24 * 3600 + LEEWAY_SECS {
        return Err(Invalid("expires more than 30 days ahead"));
    }
    if claims.exp + LEEWAY_SECS <= now {
        return Err(OrderLinkError::Expired);
    }
    let reference = claims.order_reference.trim();
    if reference.is_empty() || reference.chars().count() > limits::ORDER_REFERENCE {
        return Err(Invalid("order_reference empty or too long"));
    }
    s.store.touch_link_secret(&secret.id, s.clock.now())?;
    Ok(claims)
}

/// Signs in the customer of a shop's order link, for that order only: the
/// session token, and the order it is for. A new email becomes a customer
/// without password; staff, mediators and admins are refused.
pub(crate) fn redeem_order_token(
    s: &AppState,
    peer: Option<std::net::SocketAddr>,
    token: &str,
) -> Result<OrderLinkLogin, OrderLinkError> {
    let now = s.clock.now();
    limited(s.rate_limits.login_by_address.hit(&client_key(peer), now))?;
    let claims = verify(s, token)?;
    let email = normalize_email(&claims.customer_email)
        .map_err(|_| OrderLinkError::Invalid("customer_email is not an email address"))?;
    let claimed_locale = claims.locale.as_deref().and_then(Locale::parse);
    let name = claims
        .customer_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(limits::NAME).collect::<String>())
        .unwrap_or_else(|| email.split('@').next().unwrap_or("Customer").to_owned());
    let user = s
        .store
        .order_customer(&email, &name, claimed_locale.unwrap_or_default(), now)?;
    if user.role != Role::Customer {
        return Err(OrderLinkError::NotACustomer);
    }
    if !user.is_active() {
        return Err(OrderLinkError::Invalid("the account is disabled"));
    }
    let scope = OrderScope {
        rid: claims.retailer_id.clone(),
        reference: claims.order_reference.trim().to_owned(),
        items: claims.items.as_ref().map(|items| {
            items
                .iter()
                .take(crate::auth::token::MAX_SCOPE_ITEMS)
                .map(|i| OrderItem {
                    sku: i.sku.chars().take(limits::SKU).collect(),
                    name: i.name.chars().take(limits::NAME).collect(),
                    quantity: i.quantity,
                })
                .collect()
        }),
    };
    let token = s
        .tokens
        .issue_order(&user.id, user.role.code(), user.session_epoch, now, scope)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(OrderLinkLogin {
        token,
        order: OrderView {
            retailer_id: claims.retailer_id,
            order_reference: claims.order_reference.trim().to_owned(),
            customer_email: email,
            locale: claimed_locale.unwrap_or(user.locale).code().to_owned(),
            items: claims.items,
        },
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/order-link/redeem",
    tag = "auth",
    summary = "Sign in with a shop's order link",
    description = "The login answer plus the order. The session is scoped to that order: it files for it and sees and acts on its complaints only, even when the email has a full account. A forged, expired, too long-lived (over 30 days), other-retailer or revoked-secret token is 401; an email of staff, a mediator or an admin is 403.",
    request_body = OrderLinkRedeem,
    params(
        crate::routes::openapi::IdempotencyHeader
    ),
    responses(
        (status = 200, description = "A bearer token scoped to the order, and the order.", body = OrderLinkLogin),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 429, response = super::openapi::RateLimited),
        (status = 503, response = super::openapi::Unavailable)
    )
)]
pub async fn redeem(
    state: web::Data<AppState>,
    req: HttpRequest,
    JsonBody(body): JsonBody<OrderLinkRedeem>,
) -> Result<HttpResponse, ApiError> {
    let peer = req.peer_addr();
    let login = state
        .blocking(move |s| redeem_order_token(s, peer, &body.token).map_err(ApiError::from))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(login))
}
