//! The steps a complaint page's forms take. Each builds the API's request
//! body, converts it with the API's own `into_command` (same checks), and
//! sends it down the same `send` as the API route; success answers 303 to
//! the complaint page with a notice, a refusal shows the page again with
//! the reason at the form (409/422) and what was entered.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use minijinja::{context, Value};
use odr_domain::complaint::Command;
use odr_domain::money::MoneyInput;
use odr_domain::taxonomy::{Code, Remedy};
use serde::Deserialize;

use super::super::account::see_other;
use super::super::failure::PageError;
use super::super::session::{PageForm, Visitor};
use super::format::{end_of_day, parse_amount, zone_of, AmountProblem};
use super::upload::{self, MultipartForm};
use super::{problem_of, show, Shown};
use crate::caller::Caller;
use crate::preconditions::{complaint_etag, Condition, IfMatch};
use crate::problem::{ApiError, FieldError};
use crate::routes::attachments::{may_attach, record_attachment};
use crate::routes::complaints::visible_complaint;
use crate::routes::transitions::{
    send, send_message, AcceptOffer, AssignMediator, Decision, Escalate, GiveFeedback, MakeOffer,
    PostMessage, RejectOffer, WithMessage, Withdraw,
};
use crate::state::AppState;

type Id = web::Path<String>;

/// A text field left empty is no text at all.
fn given(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The version the page showed, as the API's `If-Match`: a step taken on
/// a page someone else's step has overtaken is refused, never applied to
/// what the visitor did not see.
fn seen_version(caller: &Caller, version: &str) -> IfMatch {
    IfMatch(
        version
            .trim()
            .parse::<i64>()
            .ok()
            .map(|n| Condition::Tags(vec![complaint_etag(n, caller.role())])),
    )
}

/// An amount typed for a remedy that needs one, in the complaint's
/// currency; `None` for a remedy without one (the field is hidden then).
fn typed_amount(
    remedy: Option<&str>,
    typed: &str,
    currency: &str,
    field: &str,
) -> Result<Option<MoneyInput>, ApiError> {
    let needs = remedy
        .and_then(|r| Remedy::parse(r).ok())
        .is_some_and(Remedy::needs_amount);
    if !needs || typed.trim().is_empty() {
        return Ok(None);
    }
    let currency_code = odr_domain::money::Currency::parse(currency).unwrap_or_default();
    match parse_amount(typed, currency_code) {
        Ok(minor) => Ok(Some(MoneyInput {
            amount_minor: minor,
            currency: currency.to_owned(),
        })),
        Err(p) => Err(amount_error(field, p)),
    }
}

pub(crate) fn amount_error(field: &str, p: AmountProblem) -> ApiError {
    ApiError::Validation {
        errors: vec![FieldError::new(
            field,
            p.key(),
            "Type the amount as a number, such as 19.99.",
        )],
    }
}

/// Runs a step: `command` builds the command (it may read the store), then
/// it is sent as the API sends it. 303 to the page with `done`, or the
/// page again with the refusal at `form`.
async fn step<F>(
    state: web::Data<AppState>,
    v: Visitor,
    id: String,
    at: At,
    if_match: IfMatch,
    command: F,
) -> Result<HttpResponse, PageError>
where
    F: FnOnce(&AppState, &Caller) -> Result<Command, ApiError> + Send + 'static,
{
    let caller = v.signed_in()?.clone();
    let target = id.clone();
    let outcome = state
        .blocking(move |s| {
            let command = command(s, &caller)?;
            send(s, &caller, &if_match, &target, &command).map(drop)
        })
        .await;
    finish(&state, &v, id, at.form, at.done, at.values, outcome).await
}

/// Which form a step was sent from, the notice it leaves, and what was
/// entered (shown again when refused).
struct At {
    form: &'static str,
    done: &'static str,
    values: Value,
}

/// Success: mail goes out, 303 to the page. Refusal: the page again.
async fn finish<T>(
    state: &web::Data<AppState>,
    v: &Visitor,
    id: String,
    form: &'static str,
    done: &str,
    values: Value,
    outcome: Result<T, ApiError>,
) -> Result<HttpResponse, PageError> {
    match outcome {
        Ok(_) => {
            state.mail_queued.notify_one();
            Ok(see_other(&format!("/complaints/{id}?done={done}")))
        }
        Err(e) => match problem_of(v, form, &e, values) {
            Some(problem) => {
                let shown = Shown {
                    problem: Some(problem),
                    ..Shown::default()
                };
                show(state, v, id, shown).await
            }
            None => Err(v.fail(e)),
        },
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct NoteForm {
    #[serde(default)]
    message: String,
    #[serde(default)]
    version: String,
}

/// `POST /complaints/{id}/acknowledge` (the shop)
pub async fn acknowledge(
    state: web::Data<AppState>,
    v: Visitor,
    id: Id,
    form: PageForm<NoteForm>,
) -> Result<HttpResponse, PageError> {
    with_note(
        state,
        v,
        id,
        form,
        ("acknowledge", "acknowledged"),
        WithMessage::into_acknowledge,
    )
    .await
}

/// `POST /complaints/{id}/fulfil` (the shop)
pub async fn fulfil(
    state: web::Data<AppState>,
    v: Visitor,
    id: Id,
    form: PageForm<NoteForm>,
) -> Result<HttpResponse, PageError> {
    with_note(
        state,
        v,
        id,
        form,
        ("fulfil", "fulfilled"),
        WithMessage::into_fulfil,
    )
    .await
}

/// A step whose only field is an optional message: (form, done) names it,
/// `into` is the API's conversion.
async fn with_note(
    state: web::Data<AppState>,
    v: Visitor,
    id: Id,
    form: PageForm<NoteForm>,
    (form_name, done): (&'static str, &'static str),
    into: fn(WithMessage) -> Command,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let if_match = seen_version(v.signed_in()?, &f.version);
    let values = context! { message => f.message.clone() };
    let body = WithMessage {
        message: given(&f.message),
    };
    let at = At {
        form: form_name,
        done,
        values,
    };
    step(state, v, id.into_inner(), at, if_match, move |_, _| {
        Ok(into(body))
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
pub struct OfferForm {
    #[serde(default)]
    remedy: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    expires_on: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    version: String,
}

/// `POST /complaints/{id}/offers` (the shop): remedy, amount where it has
/// one, an optional last day, a message.
pub async fn offer(
    state: web::Data<AppState>,
    v: Visitor,
    id: Id,
    form: PageForm<OfferForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let caller = v.signed_in()?;
    let if_match = seen_version(caller, &f.version);
    let tz = zone_of(Some(&caller.user.time_zone));
    let values = context! {
        remedy => f.remedy.clone(), amount => f.amount.clone(),
        expires_on => f.expires_on.clone(), message => f.message.clone(),
    };
    let id = id.into_inner();
    let target = id.clone();
    step(
        state,
        v,
        id,
        At {
            form: "offer",
            done: "offered",
            values,
        },
        if_match,
        move |s, caller| {
            let stored = visible_complaint(s, caller, &target)?;
            let currency = stored.complaint.facts().currency.code();
            let amount = typed_amount(Some(&f.remedy), &f.amount, currency, "amount")?;
            let expires_at = match given(&f.expires_on) {
                None => None,
                Some(day) => Some(
                    NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| end_of_day(d, tz))
                        .ok_or_else(|| {
                            ApiError::validation_one(
                                "expires_at",
                                "not_a_date",
                                "Give the last day as a date.",
                            )
                        })?,
                ),
            };
            MakeOffer {
                remedy: f.remedy,
                amount,
                message: given(&f.message),
                expires_at,
            }
            .into_command()
        },
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
pub struct AcceptForm {
    #[serde(default)]
    offer_id: String,
}

/// `POST /complaints/{id}/accept` (the customer): names the offer the page
/// showed, so a newer one is never accepted unseen.
pub async fn accept(
    state: web::Data<AppState>,
    v: Visitor,
    id: Id,
    form: PageForm<AcceptForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let body = AcceptOffer {
        offer_id: given(&f.offer_id),
    };
    step(
        state,
        v,
        id.into_inner(),
        At {
            form: "accept",
            done: "accepted",
            values: context! {},
        },
        IfMatch::default(),
        move |_, _| Ok(body.into_command()),
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
pub struct RejectForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    counter_remedy: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    version: String,
}

/// `POST /complaints/{id}/reject` (the customer)
pub async fn reject(
    state: web::Data<AppState>,
    v: Visitor,
    id: Id,
    form: PageForm<RejectForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let if_match = seen_version(v.signed_in()?, &f.version);
    let values = context! {
        reason => f.reason.clone(), counter_remedy => f.counter_remedy.clone(), message => f.message.clone(),
    };
    let body = RejectOffer {
        reason: f.reason,
        counter_remedy: given(&f.counter_remedy),
        message: given(&f.message),
    };
    step(
        state,
        v,
        id.into_inner(),
        At {
            form: "reject",
            done: "rejected",
            values,
        },
        if_match,
        move |_, _| body.into_command(),
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
pub struct EscalateForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    version: String,
}

/// `POST /complaints/{id}/escalate` (the customer or the shop)
pub async fn escalate(
    state: web::Data<AppState>,
    v: Visitor,
    id: Id,
    form: PageForm<EscalateForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let if_match = seen_version(v.signed_in()?, &f.version);
    let values = context! { reason => f.reason.clone(), message => f.message.clone() };
    let body = Escalate {
        reason: f.reason,
        message: given(&f.message),
    };
    step(
        state,
        v,
        id.into_inner(),
        At {
            form: "escalate",
            done: "escalated",
            values,
        },
        if_match,
        move |_, _| body.into_command(),
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
pub struct MediatorForm {
    #[serde(default)]
    mediator_id: String,
    #[serde(default)]
    version: String,
}

/// `POST /complaints/{id}/mediator`: an admin assigns anyone; a mediator
/// takes an unassigned case for themself.
pub async fn assign_mediator(
    state: web::Data<AppState>,
    v: Visitor,
    id: Id,
    form: PageForm<MediatorForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let caller = v.signed_in()?;
    let if_match = seen_version(caller, &f.version);
    let claims = f.mediator_id == caller.id();
    let done = if claims { "claimed" } else { "assigned" };
    let values = context! { mediator_id => f.mediator_id.clone() };
    let body = AssignMediator {
        mediator_id: f.mediator_id,
    };
    step(
        state,
        v,
        id.into_inner(),
        At {
            form: "mediator",
            done,
            values,
        },
        if_match,
        move |s, _| body.into_command(s),
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
pub struct DecisionForm {
    #[serde(default)]
    in_favour_of: String,
    #[serde(default)]
    remedy: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reasoning: String,
    #[serde(default)]
    version: String,
}

/// `POST /complaints/{id}/decision` (the assigned mediator)
pub async fn decide(
    state: web::Data<AppState>,
    v: Visitor,
    id: Id,
    form: PageForm<DecisionForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let if_match = seen_version(v.signed_in()?, &f.version);
    let values = context! {
        in_favour_of => f.in_favour_of.clone(), remedy => f.remedy.clone(),
        amount => f.amount.clone(), reasoning => f.reasoning.clone(),
    };
    let id = id.into_inner();
    let target = id.clone();
    step(
        state,
        v,
        id,
        At {
            form: "decision",
            done: "decided",
            values,
        },
        if_match,
        move |s, caller| {
            let stored = visible_complaint(s, caller, &target)?;
            let currency = stored.complaint.facts().currency.code();
            let remedy = given(&f.remedy);
            let amount = typed_amount(remedy.as_deref(), &f.amount, currency, "amount")?;
            Decision {
                in_favour_of: f.in_favour_of,
                remedy,
                amount,
                reasoning: f.reasoning,
            }
            .into_command()
        },
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
pub struct WithdrawForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    version: String,
}

/// `POST /complaints/{id}/withdraw` (the customer)
pub async fn withdraw(
    state: web::Data<AppState>,
    v: Visitor,
    id: Id,
    form: PageForm<WithdrawForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let if_match = seen_version(v.signed_in()?, &f.version);
    let values = context! { reason => f.reason.clone() };
    let body = Withdraw {
        reason: given(&f.reason),
    };
    step(
        state,
        v,
        id.into_inner(),
        At {
            form: "withdraw",
            done: "withdrawn",
            values,
        },
        if_match,
        move |_, _| Ok(body.into_command()),
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
pub struct FeedbackForm {
    #[serde(default)]
    score: String,
    #[serde(default)]
    comment: String,
}

/// `POST /complaints/{id}/feedback` (the customer, once, when closed)
pub async fn feedback(
    state: web::Data<AppState>,
    v: Visitor,
    id: Id,
    form: PageForm<FeedbackForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let values = context! { score => f.score.clone(), comment => f.comment.clone() };
    let score = f.score.trim().parse::<i64>();
    let comment = given(&f.comment);
    step(
        state,
        v,
        id.into_inner(),
        At {
            form: "feedback",
            done: "feedback",
            values,
        },
        IfMatch::default(),
        move |_, _| {
            let score = score.map_err(|_| {
                ApiError::validation_one("score", "required", "Choose how satisfied you are.")
            })?;
            Ok(GiveFeedback { score, comment }.into_command())
        },
    )
    .await
}

/// Reads a multipart form of the complaint page, for a visitor who may add
/// evidence when it carries a file.
async fn read_multipart(
    state: &web::Data<AppState>,
    v: &Visitor,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<MultipartForm, PageError> {
    v.signed_in()?;
    let folder = state.http.attachment_dir.join(".incoming");
    let limit = state.http.attachment_max_bytes;
    upload::read(v, req, payload, &folder, "file", limit).await
}

/// The first refused file of a form as the API would answer it.
fn refused_file(form: &mut MultipartForm) -> Option<ApiError> {
    form.refused.drain(..).next().map(|r| r.error)
}

/// `POST /complaints/{id}/messages` (multipart): phrases, text and an
/// optional file, which is added as evidence and named by the message.
pub async fn message(
    state: web::Data<AppState>,
    v: Visitor,
    req: HttpRequest,
    id: Id,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let mut form = read_multipart(&state, &v, &req, payload).await?;
    let values = context! {
        body => form.text("body"), phrase_codes => form.all("phrase_codes"),
    };
    if let Some(e) = refused_file(&mut form) {
        return finish(
            &state,
            &v,
            id,
            "message",
            "message",
            values,
            Err::<(), _>(e),
        )
        .await;
    }
    let caller = v.signed_in()?.clone();
    let body = PostMessage {
        body: given(&form.text("body")),
        phrase_codes: Some(form.all("phrase_codes")),
        attachment_ids: None,
    };
    let file = form.files.pop();
    let target = id.clone();
    let outcome = state
        .blocking(move |s| {
            let Command::Message {
                body,
                phrase_codes,
                attachment_ids: _,
            } = body.into_command()?
            else {
                return Err(ApiError::Internal("not a message".into()));
            };
            let says_something = body.is_some() || !phrase_codes.is_empty();
            let mut attachment_ids = Vec::new();
            // Everything is checked while the file is still a `PageFile`:
            // a refusal removes its temporary copy.
            if let Some(file) = file {
                may_attach(s, &caller, &target)?;
                if says_something {
                    // Checked before the file is recorded: a message the
                    // machine refuses leaves no evidence behind either.
                    let probe = Command::Message {
                        body: body.clone(),
                        phrase_codes: phrase_codes.clone(),
                        attachment_ids: Vec::new(),
                    };
                    let stored = visible_complaint(s, &caller, &target)?;
                    stored.complaint.apply(
                        &probe,
                        &caller.actor(),
                        s.clock.now(),
                        &s.policy,
                        &Default::default(),
                        "probe",
                    )?;
                }
                if let Some((received, name)) = file.take() {
                    let a = record_attachment(s, &caller, &target, received, name, None)?;
                    attachment_ids.push(a.id);
                }
                if !says_something {
                    return Ok("evidence");
                }
            }
            let command = Command::Message {
                body,
                phrase_codes,
                attachment_ids,
            };
            send_message(s, &caller, &IfMatch::default(), &target, &command)?;
            Ok("message")
        })
        .await;
    let done = outcome.as_ref().map_or("message", |d| *d);
    finish(&state, &v, id, "message", done, values, outcome).await
}

/// `POST /complaints/{id}/evidence` (multipart): a file and a caption.
pub async fn evidence(
    state: web::Data<AppState>,
    v: Visitor,
    req: HttpRequest,
    id: Id,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let mut form = read_multipart(&state, &v, &req, payload).await?;
    let caption = given(&form.text("caption"));
    let values = context! { caption => caption.clone() };
    if let Some(e) = refused_file(&mut form) {
        return finish(
            &state,
            &v,
            id,
            "evidence",
            "evidence",
            values,
            Err::<(), _>(e),
        )
        .await;
    }
    let caller = v.signed_in()?.clone();
    let file = form.files.pop();
    let target = id.clone();
    let outcome = state
        .blocking(move |s| {
            let file = file.ok_or_else(|| {
                ApiError::validation_one("file", "required", "Choose a file to add.")
            })?;
            may_attach(s, &caller, &target)?;
            if caption.as_ref().is_some_and(|c| c.chars().count() > 200) {
                return Err(ApiError::validation_one(
                    "caption",
                    "too_long",
                    "At most 200 characters.",
                ));
            }
            let (received, name) = file
                .take()
                .ok_or_else(|| ApiError::Internal("the file was taken".into()))?;
            record_attachment(s, &caller, &target, received, name, caption)
        })
        .await;
    finish(&state, &v, id, "evidence", "evidence", values, outcome).await
}
