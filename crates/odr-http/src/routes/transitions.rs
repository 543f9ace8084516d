//! The routes that send an event to a complaint's machine. Each one loads
//! the complaint, lets the domain decide, and writes the outcome in one
//! transaction that loses cleanly to a concurrent one.

use actix_web::{http::header, web, HttpResponse};
use chrono::{DateTime, Utc};
use odr_domain::complaint::{Command, InFavourOf, MediatorRef, OfferTerms, RulingTerms};
use odr_domain::money::MoneyInput;
use odr_domain::taxonomy::Phrase;
use odr_domain::Role;
use odr_store::{Committed, TransitionError};
use serde::Deserialize;

use super::complaints::visible_complaint;
use super::input::Checks;
use crate::body::JsonBody;
use crate::caller::{Caller, Credential};
use crate::preconditions::{complaint_etag, tag_complaint, IfMatch};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{complaint_view, ComplaintView};

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"message": "Thank you, we are looking into it."}))]
pub struct WithMessage {
    pub(crate) message: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"remedy": "partial_refund", "amount": {"amount_minor": 1000, "currency": "EUR"}, "message": "We can refund half."}))]
pub struct MakeOffer {
    #[schema(value_type = odr_domain::taxonomy::Remedy)]
    pub(crate) remedy: String,
    pub(crate) amount: Option<MoneyInput>,
    pub(crate) message: Option<String>,
    pub(crate) expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({}))]
pub struct AcceptOffer {
    pub(crate) offer_id: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "amount_too_low", "counter_remedy": "full_refund", "message": "I paid 19.99."}))]
pub struct RejectOffer {
    #[schema(value_type = odr_domain::taxonomy::RejectionReason)]
    pub(crate) reason: String,
    #[schema(value_type = Option<odr_domain::taxonomy::Remedy>)]
    pub(crate) counter_remedy: Option<String>,
    pub(crate) message: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "no_offer", "message": "No answer for two weeks."}))]
pub struct Escalate {
    #[schema(value_type = odr_domain::taxonomy::EscalationReason)]
    pub(crate) reason: String,
    pub(crate) message: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"mediator_id": "0193a6f2-8d4e-7c1b-9a55-3e2f1b0c4d60"}))]
pub struct AssignMediator {
    pub(crate) mediator_id: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"in_favour_of": "customer", "remedy": "full_refund", "amount": {"amount_minor": 1999, "currency": "EUR"}, "reasoning": "The photos show the damage on arrival."}))]
pub struct Decision {
    #[schema(value_type = odr_domain::complaint::InFavourOf)]
    pub(crate) in_favour_of: String,
    #[schema(value_type = Option<odr_domain::taxonomy::Remedy>)]
    pub(crate) remedy: Option<String>,
    pub(crate) amount: Option<MoneyInput>,
    pub(crate) reasoning: String,
}

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Sorted out directly."}))]
pub struct Withdraw {
    pub(crate) reason: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "Here is the photo of the lid.", "phrase_codes": ["photos_attached"]}))]
pub struct PostMessage {
    pub(crate) body: Option<String>,
    #[schema(value_type = Option<Vec<odr_domain::taxonomy::Phrase>>)]
    pub(crate) phrase_codes: Option<Vec<String>>,
    /// Attachments of this complaint the message points at.
    pub(crate) attachment_ids: Option<Vec<String>>,
}

// The conversions from a request body to the domain's command, with the
// checks of its codes: the API routes and the web pages share them.

impl WithMessage {
    pub(crate) fn into_acknowledge(self) -> Command {
        Command::Acknowledge {
            message: self.message,
        }
    }

    pub(crate) fn into_fulfil(self) -> Command {
        Command::Fulfil {
            message: self.message,
        }
    }
}

impl MakeOffer {
    pub(crate) fn into_command(self) -> Result<Command, ApiError> {
        let mut checks = Checks::default();
        let remedy = checks.code("remedy", &self.remedy);
        checks.finish()?;
        Ok(Command::Propose(OfferTerms {
            remedy: remedy.ok_or(ApiError::Internal("checked".into()))?,
            amount: self.amount,
            message: self.message,
            expires_at: self.expires_at,
        }))
    }
}

impl AcceptOffer {
    pub(crate) fn into_command(self) -> Command {
        Command::Accept {
            offer_id: self.offer_id,
        }
    }
}

impl RejectOffer {
    pub(crate) fn into_command(self) -> Result<Command, ApiError> {
        let mut checks = Checks::default();
        let reason = checks.code("reason", &self.reason);
        let counter_remedy = checks.optional_code("counter_remedy", self.counter_remedy.as_deref());
        checks.finish()?;
        Ok(Command::Reject {
            reason: reason.ok_or(ApiError::Internal("checked".into()))?,
            counter_remedy,
            message: self.message,
        })
    }
}

impl Escalate {
    pub(crate) fn into_command(self) -> Result<Command, ApiError> {
        let mut checks = Checks::default();
        let reason = checks.code("reason", &self.reason);
        checks.finish()?;
        Ok(Command::Escalate {
            reason: reason.ok_or(ApiError::Internal("checked".into()))?,
            message: self.message,
        })
    }
}

impl AssignMediator {
    /// The mediator must be an active one (read from the store).
    pub(crate) fn into_command(self, s: &AppState) -> Result<Command, ApiError> {
        let mediator = s
            .store
            .user(&self.mediator_id)?
            .filter(|u| u.role == Role::Mediator && u.is_active())
            .ok_or_else(|| {
                ApiError::validation_one(
                    "mediator_id",
                    "unknown_mediator",
                    "No active mediator has this id.",
                )
            })?;
        Ok(Command::AssignMediator {
            mediator: MediatorRef {
                id: mediator.id,
                display_name: mediator.display_name,
            },
        })
    }
}

impl Decision {
    pub(crate) fn into_command(self) -> Result<Command, ApiError> {
        let mut checks = Checks::default();
        let remedy = checks.optional_code("remedy", self.remedy.as_deref());
        let in_favour_of = match self.in_favour_of.as_str() {
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
        Ok(Command::Decide(RulingTerms {
            in_favour_of: in_favour_of.ok_or(ApiError::Internal("checked".into()))?,
            remedy,
            amount: self.amount,
            reasoning: self.reasoning,
        }))
    }
}

impl Withdraw {
    pub(crate) fn into_command(self) -> Command {
        Command::Withdraw {
            reason: self.reason,
        }
    }
}

impl PostMessage {
    pub(crate) fn into_command(self) -> Result<Command, ApiError> {
        let mut checks = Checks::default();
        let codes = self.phrase_codes.unwrap_or_default();
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
        let attachment_ids = self.attachment_ids.unwrap_or_default();
        if attachment_ids.len() > 20 {
            checks.push(Err(odr_domain::validation::Violation::new(
                "attachment_ids",
                "too_many",
                "At most 20 attachments in one message.",
            )));
        }
        checks.finish()?;
        Ok(Command::Message {
            body: self.body,
            phrase_codes,
            attachment_ids,
        })
    }
}

impl GiveFeedback {
    pub(crate) fn into_command(self) -> Command {
        Command::Feedback {
            score: self.score,
            comment: self.comment,
        }
    }
}

/// Loads what the caller may see and sends the event down the one
/// transition path (`Store::transition`). The web pages send through here
/// too.
pub(crate) fn send(
    s: &AppState,
    caller: &Caller,
    if_match: &IfMatch,
    id: &str,
    command: &Command,
) -> Result<Committed, ApiError> {
    let stored = visible_complaint(s, caller, id)?;
    // Checked against the version the transition is then written on (the
    // write fails if the version moved meanwhile), so a stale `If-Match`
    // can never slip through between check and write.
    if_match.check(&complaint_etag(stored.version, caller.role()))?;
    let outcome = s.store.transition(
        &stored,
        command,
        &caller.actor(),
        s.clock.now(),
        &s.policy,
        s.rules,
    );
    match outcome {
        // The caller's tag named the version another event just replaced.
        Err(TransitionError::LostRace) if if_match.0.is_some() => {
            Err(ApiError::PreconditionFailed(
                "The complaint changed while this request was applied; \
                 GET it again and decide on what it says now."
                    .into(),
            ))
        }
        other => {
            let committed = other?;
            // Committed: count it (`odr_transitions_total`).
            s.metrics.transition(command.name());
            Ok(committed)
        }
    }
}

/// The complaint as the caller now sees it, from what the transition wrote
/// (nothing is read after the commit).
fn answer(s: &AppState, caller: &Caller, committed: &Committed) -> ComplaintView {
    complaint_view(&committed.saved, caller, s, committed.retailer.as_ref())
}

async fn transition(
    state: web::Data<AppState>,
    credential: Credential,
    if_match: IfMatch,
    id: String,
    command: Command,
) -> Result<HttpResponse, ApiError> {
    let (view, role): (ComplaintView, Role) = state
        .blocking_for(credential, move |s, caller| {
            let committed = send(s, caller, &if_match, &id, &command)?;
            Ok((answer(s, caller, &committed), caller.role()))
        })
        .await?;
    state.mail_queued.notify_one();
    Ok(tag_complaint(&mut HttpResponse::Ok(), view.version, role).json(view))
}

type Id = web::Path<String>;

#[utoipa::path(
    post,
    path = "/api/v1/complaints/{id}/acknowledge",
    tag = "transitions",
    summary = "Acknowledge (retailer staff)",
    request_body = WithMessage,
    params(
        ("id" = String, Path, description = "Complaint id."),
        super::openapi::TransitionHeaders,
        super::openapi::IdempotencyHeader
    ),
    responses(
        (status = 200, description = "The updated complaint.", body = crate::views::ComplaintView, headers(("ETag" = String, description = "Version of the complaint for this caller's role."))),
        super::openapi::TransitionErrors
    ),
    security(("bearer" = []))
)]
pub async fn acknowledge(
    state: web::Data<AppState>,
    credential: Credential,
    if_match: IfMatch,
    id: Id,
    JsonBody(body): JsonBody<WithMessage>,
) -> Result<HttpResponse, ApiError> {
    let command = body.into_acknowledge();
    transition(state, credential, if_match, id.into_inner(), command).await
}

#[utoipa::path(
    post,
    path = "/api/v1/complaints/{id}/offers",
    tag = "transitions",
    summary = "Propose an offer (retailer staff)",
    request_body = MakeOffer,
    params(
        ("id" = String, Path, description = "Complaint id."),
        super::openapi::TransitionHeaders,
        super::openapi::IdempotencyHeader
    ),
    responses(
        (status = 200, description = "The updated complaint.", body = crate::views::ComplaintView, headers(("ETag" = String, description = "Version of the complaint for this caller's role."))),
        super::openapi::TransitionErrors
    ),
    security(("bearer" = []))
)]
pub async fn offer(
    state: web::Data<AppState>,
    credential: Credential,
    if_match: IfMatch,
    id: Id,
    JsonBody(body): JsonBody<MakeOffer>,
) -> Result<HttpResponse, ApiError> {
    let command = body.into_command()?;
    transition(state, credential, if_match, id.into_inner(), command).await
}

#[utoipa::path(
    post,
    path = "/api/v1/complaints/{id}/accept",
    tag = "transitions",
    summary = "Accept the current offer (customer)",
    request_body = AcceptOffer,
    params(
        ("id" = String, Path, description = "Complaint id."),
        super::openapi::TransitionHeaders,
        super::openapi::IdempotencyHeader
    ),
    responses(
        (status = 200, description = "The updated complaint.", body = crate::views::ComplaintView, headers(("ETag" = String, description = "Version of the complaint for this caller's role."))),
        super::openapi::TransitionErrors
    ),
    security(("bearer" = []))
)]
pub async fn accept(
    state: web::Data<AppState>,
    credential: Credential,
    if_match: IfMatch,
    id: Id,
    JsonBody(body): JsonBody<AcceptOffer>,
) -> Result<HttpResponse, ApiError> {
    let command = body.into_command();
    transition(state, credential, if_match, id.into_inner(), command).await
}

#[utoipa::path(
    post,
    path = "/api/v1/complaints/{id}/reject",
    tag = "transitions",
    summary = "Reject the current offer (customer)",
    request_body = RejectOffer,
    params(
        ("id" = String, Path, description = "Complaint id."),
        super::openapi::TransitionHeaders,
        super::openapi::IdempotencyHeader
    ),
    responses(
        (status = 200, description = "The updated complaint.", body = crate::views::ComplaintView, headers(("ETag" = String, description = "Version of the complaint for this caller's role."))),
        super::openapi::TransitionErrors
    ),
    security(("bearer" = []))
)]
pub async fn reject(
    state: web::Data<AppState>,
    credential: Credential,
    if_match: IfMatch,
    id: Id,
    JsonBody(body): JsonBody<RejectOffer>,
) -> Result<HttpResponse, ApiError> {
    let command = body.into_command()?;
    transition(state, credential, if_match, id.into_inner(), command).await
}

#[utoipa::path(
    post,
    path = "/api/v1/complaints/{id}/escalate",
    tag = "transitions",
    summary = "Escalate to mediation",
    request_body = Escalate,
    params(
        ("id" = String, Path, description = "Complaint id."),
        super::openapi::TransitionHeaders,
        super::openapi::IdempotencyHeader
    ),
    responses(
        (status = 200, description = "The updated complaint.", body = crate::views::ComplaintView, headers(("ETag" = String, description = "Version of the complaint for this caller's role."))),
        super::openapi::TransitionErrors
    ),
    security(("bearer" = []))
)]
pub async fn escalate(
    state: web::Data<AppState>,
    credential: Credential,
    if_match: IfMatch,
    id: Id,
    JsonBody(body): JsonBody<Escalate>,
) -> Result<HttpResponse, ApiError> {
    let command = body.into_command()?;
    transition(state, credential, if_match, id.into_inner(), command).await
}

#[utoipa::path(
    post,
    path = "/api/v1/complaints/{id}/fulfil",
    tag = "transitions",
    summary = "Confirm fulfilment (retailer staff)",
    request_body = WithMessage,
    params(
        ("id" = String, Path, description = "Complaint id."),
        super::openapi::TransitionHeaders,
        super::openapi::IdempotencyHeader
    ),
    responses(
        (status = 200, description = "The updated complaint.", body = crate::views::ComplaintView, headers(("ETag" = String, description = "Version of the complaint for this caller's role."))),
        super::openapi::TransitionErrors
    ),
    security(("bearer" = []))
)]
pub async fn fulfil(
    state: web::Data<AppState>,
    credential: Credential,
    if_match: IfMatch,
    id: Id,
    JsonBody(body): JsonBody<WithMessage>,
) -> Result<HttpResponse, ApiError> {
    let command = body.into_fulfil();
    transition(state, credential, if_match, id.into_inner(), command).await
}

#[utoipa::path(
    post,
    path = "/api/v1/complaints/{id}/mediator",
    tag = "transitions",
    summary = "Assign a mediator",
    request_body = AssignMediator,
    params(
        ("id" = String, Path, description = "Complaint id."),
        super::openapi::TransitionHeaders,
        super::openapi::IdempotencyHeader
    ),
    responses(
        (status = 200, description = "The updated complaint.", body = crate::views::ComplaintView, headers(("ETag" = String, description = "Version of the complaint for this caller's role."))),
        super::openapi::TransitionErrors
    ),
    security(("bearer" = []))
)]
pub async fn assign_mediator(
    state: web::Data<AppState>,
    credential: Credential,
    if_match: IfMatch,
    id: Id,
    JsonBody(body): JsonBody<AssignMediator>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let (view, role) = state
        .blocking_for(credential, move |s, caller| {
            let command = body.into_command(s)?;
            let committed = send(s, caller, &if_match, &id, &command)?;
            Ok((answer(s, caller, &committed), caller.role()))
        })
        .await?;
    state.mail_queued.notify_one();
    Ok(tag_complaint(&mut HttpResponse::Ok(), view.version, role).json(view))
}

#[utoipa::path(
    post,
    path = "/api/v1/complaints/{id}/decision",
    tag = "transitions",
    summary = "Decide (assigned mediator)",
    request_body = Decision,
    params(
        ("id" = String, Path, description = "Complaint id."),
        super::openapi::TransitionHeaders,
        super::openapi::IdempotencyHeader
    ),
    responses(
        (status = 200, description = "The updated complaint.", body = crate::views::ComplaintView, headers(("ETag" = String, description = "Version of the complaint for this caller's role."))),
        super::openapi::TransitionErrors
    ),
    security(("bearer" = []))
)]
pub async fn decide(
    state: web::Data<AppState>,
    credential: Credential,
    if_match: IfMatch,
    id: Id,
    JsonBody(body): JsonBody<Decision>,
) -> Result<HttpResponse, ApiError> {
    let command = body.into_command()?;
    transition(state, credential, if_match, id.into_inner(), command).await
}

#[utoipa::path(
    post,
    path = "/api/v1/complaints/{id}/withdraw",
    tag = "transitions",
    summary = "Withdraw (customer)",
    request_body = Withdraw,
    params(
        ("id" = String, Path, description = "Complaint id."),
        super::openapi::TransitionHeaders,
        super::openapi::IdempotencyHeader
    ),
    responses(
        (status = 200, description = "The updated complaint.", body = crate::views::ComplaintView, headers(("ETag" = String, description = "Version of the complaint for this caller's role."))),
        super::openapi::TransitionErrors
    ),
    security(("bearer" = []))
)]
pub async fn withdraw(
    state: web::Data<AppState>,
    credential: Credential,
    if_match: IfMatch,
    id: Id,
    JsonBody(body): JsonBody<Withdraw>,
) -> Result<HttpResponse, ApiError> {
    let command = body.into_command();
    transition(state, credential, if_match, id.into_inner(), command).await
}

/// Adds a message to the thread: 201 with the message.
#[utoipa::path(
    post,
    path = "/api/v1/complaints/{id}/messages",
    tag = "messages",
    summary = "Post a message (text and/or phrases)",
    request_body = PostMessage,
    params(
        ("id" = String, Path, description = "Complaint id."),
        super::openapi::TransitionHeaders,
        super::openapi::IdempotencyHeader
    ),
    responses(
        (status = 201, description = "The message.", body = odr_store::StoredMessage, headers(("Location" = String, description = "Where the new resource is."))),
        super::openapi::TransitionErrors
    ),
    security(("bearer" = []))
)]
pub async fn post_message(
    state: web::Data<AppState>,
    credential: Credential,
    if_match: IfMatch,
    id: Id,
    JsonBody(body): JsonBody<PostMessage>,
) -> Result<HttpResponse, ApiError> {
    let command = body.into_command()?;
    let id = id.into_inner();
    let location = format!("/api/v1/complaints/{id}/messages");
    let message = state
        .blocking_for(credential, move |s, caller| {
            send_message(s, caller, &if_match, &id, &command)
        })
        .await?;
    state.mail_queued.notify_one();
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(message))
}

/// Sends a `message` command (from [`PostMessage::into_command`]) after
/// checking the attachments it points at; the message as stored.
pub(crate) fn send_message(
    s: &AppState,
    caller: &Caller,
    if_match: &IfMatch,
    id: &str,
    command: &Command,
) -> Result<odr_store::StoredMessage, ApiError> {
    if let Command::Message { attachment_ids, .. } = command {
        if !attachment_ids.is_empty() {
            visible_complaint(s, caller, id)?;
            unknown_attachments(s, id, attachment_ids)?;
        }
    }
    let committed = send(s, caller, if_match, id, command)?;
    Ok(odr_store::StoredMessage::from_record(
        id,
        &committed.record,
    )?)
}

/// 422 naming each `attachment_ids[i]` that is not an attachment of this
/// complaint.
fn unknown_attachments(s: &AppState, id: &str, wanted: &[String]) -> Result<(), ApiError> {
    let known = s.store.attachments_of(id)?;
    let errors: Vec<_> = wanted
        .iter()
        .enumerate()
        .filter(|(_, w)| !known.iter().any(|k| &k.id == *w))
        .map(|(i, _)| {
            crate::problem::FieldError::new(
                format!("attachment_ids[{i}]"),
                "unknown_attachment",
                "No attachment of this complaint has this id.",
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation { errors })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"score": 4, "comment": "Quick and fair."}))]
pub struct GiveFeedback {
    /// 1 (not at all satisfied) to 5 (very satisfied).
    #[schema(minimum = 1, maximum = 5)]
    pub(crate) score: i64,
    /// At most 5,000 characters.
    pub(crate) comment: Option<String>,
}

/// The customer rates a closed complaint, once: 201 with the feedback. The
/// complaint stays `closed`; the log gains a `feedback` event.
#[utoipa::path(
    post,
    path = "/api/v1/complaints/{id}/feedback",
    tag = "transitions",
    summary = "Give feedback on a closed complaint (its customer, once)",
    request_body = GiveFeedback,
    params(
        ("id" = String, Path, description = "Complaint id."),
        super::openapi::TransitionHeaders,
        super::openapi::IdempotencyHeader
    ),
    responses(
        (status = 201, description = "The feedback.", body = odr_store::StoredFeedback),
        super::openapi::TransitionErrors
    ),
    security(("bearer" = []))
)]
pub async fn feedback(
    state: web::Data<AppState>,
    credential: Credential,
    if_match: IfMatch,
    id: Id,
    JsonBody(body): JsonBody<GiveFeedback>,
) -> Result<HttpResponse, ApiError> {
    let command = body.into_command();
    let id = id.into_inner();
    let given = state
        .blocking_for(credential, move |s, caller| {
            let committed = send(s, caller, &if_match, &id, &command)?;
            Ok(odr_store::StoredFeedback::from_record(
                committed.saved.complaint.facts(),
                &committed.record,
            )?)
        })
        .await?;
    Ok(HttpResponse::Created().json(given))
}
