//! The routes that send an event to a complaint's machine. Each one loads
//! the complaint, lets the domain decide, and writes the outcome in one
//! transaction that loses cleanly to a concurrent one.

use actix_web::{http::header, web, HttpResponse};
use chrono::{DateTime, Utc};
use odr_domain::complaint::{Command, InFavourOf, MediatorRef, OfferTerms, RulingTerms};
use odr_domain::money::MoneyInput;
use odr_domain::taxonomy::Phrase;
use odr_domain::Role;
use serde::Deserialize;

use super::complaints::{view, visible_complaint};
use super::input::Checks;
use crate::body::JsonBody;
use crate::caller::Caller;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::ComplaintView;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WithMessage {
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MakeOffer {
    remedy: String,
    amount: Option<MoneyInput>,
    message: Option<String>,
    expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AcceptOffer {
    offer_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectOffer {
    reason: String,
    counter_remedy: Option<String>,
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalate {
    reason: String,
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignMediator {
    mediator_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    in_favour_of: String,
    remedy: Option<String>,
    amount: Option<MoneyInput>,
    reasoning: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Withdraw {
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostMessage {
    body: Option<String>,
    phrase_codes: Option<Vec<String>>,
}

/// Loads what the caller may see and sends the event down the one
/// transition path (`Store::transition`).
fn send(
    s: &AppState,
    caller: &Caller,
    id: &str,
    command: &Command,
) -> Result<odr_store::StoredComplaint, ApiError> {
    let stored = visible_complaint(s, caller, id)?;
    Ok(s.store.transition(
        &stored,
        command,
        &caller.actor(),
        s.clock.now(),
        &s.policy,
        s.rules,
    )?)
}

async fn transition(
    state: web::Data<AppState>,
    caller: Caller,
    id: String,
    command: Command,
) -> Result<HttpResponse, ApiError> {
    let view: ComplaintView = state
        .blocking(move |s| {
            let saved = send(s, &caller, &id, &command)?;
            view(s, &caller, &saved)
        })
        .await?;
    state.mail_queued.notify_one();
    Ok(HttpResponse::Ok().json(view))
}

type Id = web::Path<String>;

pub async fn acknowledge(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    JsonBody(body): JsonBody<WithMessage>,
) -> Result<HttpResponse, ApiError> {
    let command = Command::Acknowledge {
        message: body.message,
    };
    transition(state, caller, id.into_inner(), command).await
}

pub async fn offer(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    JsonBody(body): JsonBody<MakeOffer>,
) -> Result<HttpResponse, ApiError> {
    let mut checks = Checks::default();
    let remedy = checks.code("remedy", &body.remedy);
    checks.finish()?;
    let command = Command::Propose(OfferTerms {
        remedy: remedy.ok_or(ApiError::Internal("checked".into()))?,
        amount: body.amount,
        message: body.message,
        expires_at: body.expires_at,
    });
    transition(state, caller, id.into_inner(), command).await
}

pub async fn accept(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    JsonBody(body): JsonBody<AcceptOffer>,
) -> Result<HttpResponse, ApiError> {
    let command = Command::Accept {
        offer_id: body.offer_id,
    };
    transition(state, caller, id.into_inner(), command).await
}

pub async fn reject(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    JsonBody(body): JsonBody<RejectOffer>,
) -> Result<HttpResponse, ApiError> {
    let mut checks = Checks::default();
    let reason = checks.code("reason", &body.reason);
    let counter_remedy = checks.optional_code("counter_remedy", body.counter_remedy.as_deref());
    checks.finish()?;
    let command = Command::Reject {
        reason: reason.ok_or(ApiError::Internal("checked".into()))?,
        counter_remedy,
        message: body.message,
    };
    transition(state, caller, id.into_inner(), command).await
}

pub async fn escalate(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    JsonBody(body): JsonBody<Escalate>,
) -> Result<HttpResponse, ApiError> {
    let mut checks = Checks::default();
    let reason = checks.code("reason", &body.reason);
    checks.finish()?;
    let command = Command::Escalate {
        reason: reason.ok_or(ApiError::Internal("checked".into()))?,
        message: body.message,
    };
    transition(state, caller, id.into_inner(), command).await
}

pub async fn fulfil(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    JsonBody(body): JsonBody<WithMessage>,
) -> Result<HttpResponse, ApiError> {
    let command = Command::Fulfil {
        message: body.message,
    };
    transition(state, caller, id.into_inner(), command).await
}

pub async fn assign_mediator(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    JsonBody(body): JsonBody<AssignMediator>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let view = state
        .blocking(move |s| {
            let mediator = s
                .store
                .user(&body.mediator_id)?
                .filter(|u| u.role == Role::Mediator && u.is_active())
                .ok_or_else(|| {
                    ApiError::validation_one(
                        "mediator_id",
                        "unknown_mediator",
                        "No active mediator has this id.",
                    )
                })?;
            let command = Command::AssignMediator {
                mediator: MediatorRef {
                    id: mediator.id,
                    display_name: mediator.display_name,
                },
            };
            let saved = send(s, &caller, &id, &command)?;
            view(s, &caller, &saved)
        })
        .await?;
    state.mail_queued.notify_one();
    Ok(HttpResponse::Ok().json(view))
}

pub async fn decide(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    JsonBody(body): JsonBody<Decision>,
) -> Result<HttpResponse, ApiError> {
    let mut checks = Checks::default();
    let remedy = checks.optional_code("remedy", body.remedy.as_deref());
    let in_favour_of = match body.in_favour_of.as_str() {
        "customer" => Some(InFavourOf::Customer),
        "retailer" => Some(InFavourOf::Retailer),
        "split" => Some(InFavourOf::Split),
        _ => {
            checks.push(Err(odr_domain::validation::Violation::new(
                "in_favour_of",
                "unknown_code",
                "Use customer, retailer or split.",
            )));
            None
        }
    };
    checks.finish()?;
    let command = Command::Decide(RulingTerms {
        in_favour_of: in_favour_of.ok_or(ApiError::Internal("checked".into()))?,
        remedy,
        amount: body.amount,
        reasoning: body.reasoning,
    });
    transition(state, caller, id.into_inner(), command).await
}

pub async fn withdraw(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    JsonBody(body): JsonBody<Withdraw>,
) -> Result<HttpResponse, ApiError> {
    let command = Command::Withdraw {
        reason: body.reason,
    };
    transition(state, caller, id.into_inner(), command).await
}

/// Adds a message to the thread: 201 with the message.
pub async fn post_message(
    state: web::Data<AppState>,
    caller: Caller,
    id: Id,
    JsonBody(body): JsonBody<PostMessage>,
) -> Result<HttpResponse, ApiError> {
    let mut checks = Checks::default();
    let codes = body.phrase_codes.unwrap_or_default();
    if codes.len() > 20 {
        checks.push(Err(odr_domain::validation::Violation::new(
            "phrase_codes",
            "too_many",
            "At most 20 phrases in one message.",
        )));
    }
    let phrase_codes: Vec<Phrase> = codes
        .iter()
        .enumerate()
        .filter_map(|(i, c)| checks.code(&format!("phrase_codes[{i}]"), c))
        .collect();
    checks.finish()?;
    let command = Command::Message {
        body: body.body,
        phrase_codes,
    };
    let id = id.into_inner();
    let location = format!("/api/v1/complaints/{id}/messages");
    let message = state
        .blocking(move |s| {
            let saved = send(s, &caller, &id, &command)?;
            let seq = saved.complaint.last_seq();
            s.store
                .messages(&id)?
                .into_iter()
                .find(|m| m.seq == seq)
                .ok_or_else(|| ApiError::Internal("message row missing".into()))
        })
        .await?;
    state.mail_queued.notify_one();
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(message))
}
