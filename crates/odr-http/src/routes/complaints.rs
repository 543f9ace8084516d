//! Filing and reading complaints, their event log and message thread.

use actix_web::{http::header, web, HttpResponse};
use odr_domain::complaint::{Complaint, ComplaintState, Filing, ItemInput, NewComplaint};
use odr_domain::money::MoneyInput;
use odr_domain::taxonomy::Category;
use odr_domain::validation::limits;
use odr_domain::{reference, Role};
use odr_store::{
    clamp_limit, ComplaintQuery, ComplaintSort, Cursor, DueCursor, SeqCursor, Store, StoreError,
    StoredComplaint, Visibility,
};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::input::Checks;
use super::paging::{checked_cursor, PageQuery};
use crate::body::{JsonBody, QueryParams};
use crate::caller::{Caller, Credential};
use crate::preconditions::{complaint_etag, not_modified, tag_complaint, IfNoneMatch};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{complaint_view, ComplaintView, Items};

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"retailer_id": "0193a6f2-8d4e-7c1b-9a55-3e2f1b0c4d5e", "order_reference": "SO-10023", "category": "damaged", "desired_remedy": "full_refund", "claimed_amount": {"amount_minor": 1999, "currency": "EUR"}, "description": "The kettle arrived with a cracked lid.", "items": [{"sku": "KT-200", "name": "Kettle", "quantity": 1}]}))]
pub struct FileComplaint {
    pub(crate) retailer_id: String,
    pub(crate) order_reference: String,
    #[schema(value_type = odr_domain::taxonomy::Category)]
    pub(crate) category: String,
    #[schema(value_type = odr_domain::taxonomy::Remedy)]
    pub(crate) desired_remedy: String,
    pub(crate) claimed_amount: Option<MoneyInput>,
    pub(crate) description: String,
    pub(crate) locale: Option<String>,
    pub(crate) items: Option<Vec<ItemBody>>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemBody {
    pub(crate) sku: String,
    pub(crate) name: String,
    pub(crate) quantity: i64,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListComplaints {
    state: Option<String>,
    category: Option<String>,
    retailer_id: Option<String>,
    /// `me`: a mediator's own cases only.
    assigned: Option<String>,
    /// `newest` (default) or `next_deadline`.
    sort: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Whether the caller may see this complaint at all (else 404).
pub fn may_see(caller: &Caller, stored: &StoredComplaint) -> bool {
    let f = stored.complaint.facts();
    if let Some((retailer_id, order_reference)) = caller.order_scope() {
        return caller.role() == Role::Customer
            && f.customer_id == caller.id()
            && f.retailer_id == retailer_id
            && f.order_reference == order_reference;
    }
    match caller.role() {
        Role::Admin => true,
        Role::Customer => f.customer_id == caller.id(),
        Role::RetailerStaff => caller.user.retailer_id.as_deref() == Some(f.retailer_id.as_str()),
        Role::Mediator => match &f.mediator {
            Some(m) => m.id == caller.id(),
            None => stored.complaint.state() == ComplaintState::Escalated,
        },
        Role::System => false,
    }
}

/// Whose complaints a list shows the caller (the same rule as [`may_see`]).
pub(crate) fn visibility(caller: &Caller) -> Result<Visibility, ApiError> {
    if let Some((retailer_id, order_reference)) = caller.order_scope() {
        return Ok(Visibility::Order {
            customer_id: caller.id().to_owned(),
            retailer_id: retailer_id.to_owned(),
            order_reference: order_reference.to_owned(),
        });
    }
    Ok(match caller.role() {
        Role::Admin => Visibility::Everything,
        Role::Customer => Visibility::Customer(caller.id().to_owned()),
        Role::RetailerStaff => {
            Visibility::Retailer(caller.user.retailer_id.clone().unwrap_or_default())
        }
        Role::Mediator => Visibility::Mediator(caller.id().to_owned()),
        Role::System => return Err(ApiError::Forbidden("not a person".into())),
    })
}

/// Whether the caller may read the case file (log and thread): the
/// parties, the assigned mediator, admins.
pub(crate) fn may_read_case_file(caller: &Caller, stored: &StoredComplaint) -> bool {
    let assigned = stored
        .complaint
        .facts()
        .mediator
        .as_ref()
        .is_some_and(|m| m.id == caller.id());
    may_see(caller, stored) && (caller.role() != Role::Mediator || assigned)
}

/// The complaint if the caller may see it; 404 otherwise.
pub fn visible_complaint(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<StoredComplaint, ApiError> {
    state
        .store
        .complaint(id)?
        .filter(|c| may_see(caller, c))
        .ok_or(ApiError::NotFound)
}

pub(crate) fn case_file(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<StoredComplaint, ApiError> {
    let stored = visible_complaint(state, caller, id)?;
    check_case_file(caller, &stored)?;
    Ok(stored)
}

/// 404 when the caller may not see the complaint, 403 when they see it
/// but may not read its case file (a mediator before claiming the case).
pub(crate) fn check_case_file(caller: &Caller, stored: &StoredComplaint) -> Result<(), ApiError> {
    if !may_see(caller, stored) {
        return Err(ApiError::NotFound);
    }
    if !may_read_case_file(caller, stored) {
        return Err(ApiError::Forbidden(
            "Claim the case first to read its messages and history.".into(),
        ));
    }
    Ok(())
}

pub fn view(
    state: &AppState,
    caller: &Caller,
    stored: &StoredComplaint,
) -> Result<ComplaintView, ApiError> {
    let retailer = state
        .store
        .retailer(&stored.complaint.facts().retailer_id)?;
    Ok(complaint_view(stored, caller, state, retailer.as_ref()))
}

/// Files a complaint for `caller` (a customer): the checks of every field
/// (one answer names every bad one), the domain's `file`, the row with its
/// first event and mails. The API route and the filing page share it.
pub(crate) fn file_complaint(
    s: &AppState,
    caller: &Caller,
    body: FileComplaint,
) -> Result<(StoredComplaint, odr_store::Retailer), ApiError> {
    if let Some((retailer_id, order_reference)) = caller.order_scope() {
        if body.retailer_id != retailer_id || body.order_reference.trim() != order_reference {
            return Err(ApiError::Forbidden(
                "A session from a shop's order link files for that order only.".into(),
            ));
        }
    }
    let (filing, retailer) = checked_filing(s, body)?;
    let mut attempts = 0;
    let stored = loop {
        let t = filed_by(s, &filing, &retailer, &caller.user)?;
        match s.store.insert_filed(&t, &retailer) {
            // A reference already taken: draw another.
            Err(StoreError::Conflict(_)) if attempts < 5 => attempts += 1,
            other => break other?,
        }
    };
    s.metrics
        .transition(odr_domain::complaint::EventKind::File.code());
    Ok((stored, retailer))
}

/// The domain's `file` of a checked filing by `customer`, not yet written.
pub(crate) fn filed_by(
    s: &AppState,
    filing: &Filing,
    retailer: &odr_store::Retailer,
    customer: &odr_store::User,
) -> Result<odr_domain::complaint::Transition, ApiError> {
    let mut rng = rand::rng();
    let new = NewComplaint {
        id: uuid::Uuid::new_v4().to_string(),
        reference: reference::from_random(std::array::from_fn(|_| rng.random())),
        retailer_currency: retailer.currency,
        customer_locale: customer.locale,
    };
    let actor = odr_domain::Actor {
        id: Some(customer.id.clone()),
        role: customer.role,
        retailer_id: customer.retailer_id.clone(),
    };
    Ok(Complaint::file(
        filing,
        &actor,
        new,
        s.clock.now(),
        &s.policy,
        &retailer.calendar(),
    )?)
}

/// Every check of a filing (one answer names every bad field): the
/// domain's `Filing` and its retailer. Filing with an account and without
/// one share it.
pub(crate) fn checked_filing(
    s: &AppState,
    body: FileComplaint,
) -> Result<(Filing, odr_store::Retailer), ApiError> {
    let mut checks = Checks::default();
    let category = checks.code("category", &body.category);
    let remedy = checks.code("desired_remedy", &body.desired_remedy);
    let locale = checks.locale("locale", body.locale.as_deref());
    let retailer = s.store.retailer(&body.retailer_id)?;
    if retailer.is_none() {
        checks.push(Err(odr_domain::validation::Violation::new(
            "retailer_id",
            "unknown_retailer",
            "No retailer with this id; see GET /api/v1/retailers.",
        )));
    }
    // Texts and amounts are checked with the codes, so that one
    // answer names every bad field.
    checks.text(
        "order_reference",
        &body.order_reference,
        limits::ORDER_REFERENCE,
    );
    checks.text("description", &body.description, limits::LONG_TEXT);
    if let Some(amount) = &body.claimed_amount {
        checks.push(amount.validate("claimed_amount").map(drop));
    }
    checks.finish()?;
    let (Some(category), Some(desired_remedy), Some(retailer)) = (category, remedy, retailer)
    else {
        return Err(ApiError::Internal("checked fields missing".into()));
    };
    let filing = Filing {
        retailer_id: retailer.id.clone(),
        order_reference: body.order_reference,
        category,
        desired_remedy,
        claimed_amount: body.claimed_amount,
        description: body.description,
        locale,
        items: body
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|i| ItemInput {
                sku: i.sku,
                name: i.name,
                quantity: i.quantity,
            })
            .collect(),
    };
    Ok((filing, retailer))
}

#[utoipa::path(
    post,
    path = "/api/v1/complaints",
    tag = "complaints",
    summary = "File a complaint (customer)",
    request_body = FileComplaint,
    params(
        crate::routes::openapi::IdempotencyHeader
    ),
    responses(
        (status = 201, description = "The new complaint.", body = crate::views::ComplaintView, headers(("Location" = String, description = "Where the new resource is."))),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn file(
    state: web::Data<AppState>,
    credential: Credential,
    JsonBody(body): JsonBody<FileComplaint>,
) -> Result<HttpResponse, ApiError> {
    let (view, role) = state
        .blocking_for(credential, move |s, caller| {
            caller.require(&[Role::Customer], "file complaints")?;
            let (stored, retailer) = file_complaint(s, caller, body)?;
            Ok((
                complaint_view(&stored, caller, s, Some(&retailer)),
                caller.role(),
            ))
        })
        .await?;
    state.mail_queued.notify_one();
    Ok(
        tag_complaint(&mut HttpResponse::Created(), view.version, role)
            .insert_header((header::LOCATION, format!("/api/v1/complaints/{}", view.id)))
            .json(view),
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/complaints",
    tag = "complaints",
    summary = "The complaints the caller may see",
    params(
        ListComplaints
    ),
    responses(
        (status = 200, description = "A page of complaints.", body = crate::views::Items<crate::views::ComplaintView>),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    credential: Credential,
    QueryParams(q): QueryParams<ListComplaints>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .blocking_for(credential, move |s, caller| {
            let mut checks = Checks::default();
            let state_filter = q.state.as_deref().and_then(|v| {
                let parsed = ComplaintState::parse(v).ok();
                if parsed.is_none() {
                    checks.push(Err(odr_domain::validation::Violation::new(
                        "state",
                        "unknown_code",
                        "Use one of filed, acknowledged, proposed, accepted, escalated, closed.",
                    )));
                }
                parsed
            });
            let category: Option<Category> =
                checks.optional_code("category", q.category.as_deref());
            let sort = match q.sort.as_deref() {
                None | Some("newest") => ComplaintSort::Newest,
                Some("next_deadline") => ComplaintSort::NextDeadline,
                Some(_) => {
                    checks.push(Err(odr_domain::validation::Violation::new(
                        "sort",
                        "unknown_code",
                        "Use newest or next_deadline.",
                    )));
                    ComplaintSort::Newest
                }
            };
            // `assigned=me` narrows a mediator's list to their own cases
            // (without it they also see escalated cases nobody has claimed).
            let assigned_to = match q.assigned.as_deref() {
                None => None,
                Some("me") if caller.role() == Role::Mediator => Some(caller.id().to_owned()),
                Some("me") => {
                    checks.push(Err(odr_domain::validation::Violation::new(
                        "assigned",
                        "not_a_mediator",
                        "Only mediators have cases assigned to them.",
                    )));
                    None
                }
                Some(_) => {
                    checks.push(Err(odr_domain::validation::Violation::new(
                        "assigned",
                        "unknown_code",
                        "The only value is `me`.",
                    )));
                    None
                }
            };
            match sort {
                ComplaintSort::Newest => {
                    checked_cursor(q.cursor.as_deref(), Cursor::decode).map(drop)
                }
                ComplaintSort::NextDeadline => {
                    checked_cursor(q.cursor.as_deref(), DueCursor::decode).map(drop)
                }
            }?;
            checks.finish()?;
            let query = ComplaintQuery {
                visibility: visibility(caller)?,
                state: state_filter,
                category,
                // Only admins choose a retailer; everyone else sees their own.
                retailer_id: q.retailer_id.filter(|_| caller.is_admin()),
                assigned_to,
                sort,
                after: q.cursor,
                limit: clamp_limit(q.limit),
            };
            let page = s.store.list_complaints(&query)?;
            // A page is mostly one retailer's complaints: read each retailer once.
            let mut retailers = std::collections::HashMap::new();
            let mut items = Vec::with_capacity(page.items.len());
            for c in &page.items {
                let id = &c.complaint.facts().retailer_id;
                if !retailers.contains_key(id) {
                    retailers.insert(id.clone(), s.store.retailer(id)?);
                }
                let retailer = retailers.get(id).and_then(Option::as_ref);
                items.push(complaint_view(c, caller, s, retailer));
            }
            Ok(Items {
                items,
                next_cursor: page.next_cursor,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(
    get,
    path = "/api/v1/complaints/{id}",
    tag = "complaints",
    summary = "One complaint",
    params(
        ("id" = String, Path, description = "Complaint id."),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` the caller holds; 304 when the complaint has not changed.")
    ),
    responses(
        (status = 200, description = "The complaint.", body = crate::views::ComplaintView, headers(("ETag" = String, description = "Version of the complaint for this caller's role."))),
        (status = 304, description = "Not modified since the `ETag` in `If-None-Match`."),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 404, response = super::openapi::NotFound),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn get(
    state: web::Data<AppState>,
    credential: Credential,
    if_none_match: IfNoneMatch,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (view, role) = state
        .blocking_for(credential, move |s, caller| {
            let stored = visible_complaint(s, caller, &id)?;
            Ok((view(s, caller, &stored)?, caller.role()))
        })
        .await?;
    if if_none_match.has(&complaint_etag(view.version, role)) {
        return Ok(not_modified(view.version, role));
    }
    Ok(tag_complaint(&mut HttpResponse::Ok(), view.version, role).json(view))
}

#[utoipa::path(
    get,
    path = "/api/v1/complaints/{id}/events",
    tag = "complaints",
    summary = "The event log, oldest first",
    params(
        ("id" = String, Path, description = "Complaint id."),
        PageQuery
    ),
    responses(
        (status = 200, description = "The events.", body = crate::views::Items<odr_store::StoredEvent>),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 404, response = super::openapi::NotFound),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn events(
    state: web::Data<AppState>,
    credential: Credential,
    path: web::Path<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    case_file_page(state, credential, path.into_inner(), q, Store::events_page).await
}

#[utoipa::path(
    get,
    path = "/api/v1/complaints/{id}/messages",
    tag = "messages",
    summary = "The message thread",
    params(
        ("id" = String, Path, description = "Complaint id."),
        PageQuery
    ),
    responses(
        (status = 200, description = "The messages.", body = crate::views::Items<odr_store::StoredMessage>),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 404, response = super::openapi::NotFound),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn messages(
    state: web::Data<AppState>,
    credential: Credential,
    path: web::Path<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    case_file_page(
        state,
        credential,
        path.into_inner(),
        q,
        Store::messages_page,
    )
    .await
}

/// Reads one page of a case-file list: (store, complaint id, cursor, limit).
type CaseFilePage<T> =
    fn(&Store, &str, Option<&str>, i64) -> Result<odr_store::Page<T>, StoreError>;

/// One page of a list from the case file (events, messages), for those
/// who may read it.
async fn case_file_page<T: serde::Serialize + Send + 'static>(
    state: web::Data<AppState>,
    credential: Credential,
    id: String,
    q: PageQuery,
    page: CaseFilePage<T>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .blocking_for(credential, move |s, caller| {
            case_file(s, caller, &id)?;
            checked_cursor(q.cursor.as_deref(), SeqCursor::decode)?;
            Ok(page(
                &s.store,
                &id,
                q.cursor.as_deref(),
                clamp_limit(q.limit),
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Items {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}
