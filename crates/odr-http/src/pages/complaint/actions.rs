//! The steps a complaint page's forms take. Each builds the API's request
//! body, converts it with the API's own `into_command` (same checks), and
//! sends it down the same `send` as the API route; success answers 303 to
//! the complaint page with a notice, a refusal shows the page again with
//! the reason at the form (409/422) and what was entered.

use std::marker::PhantomData;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use minijinja::{context, Value};
use odr_domain::complaint::Command;
use odr_domain::money::MoneyInput;
use odr_domain::taxonomy::{Code, Remedy};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

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

/// A complaint page's form for one step of the machine: the API's body it
/// builds, and its fields, shown again as they were entered when refused.
pub trait StepForm: DeserializeOwned + Serialize + Send + 'static {
    /// The form's name on the page, where a refusal is shown.
    const FORM: &'static str;
    /// The notice after success (`?done=`).
    const DONE: &'static str;

    /// The notice after success, when it depends on who acted.
    fn done(&self, _caller: &Caller) -> &'static str {
        Self::DONE
    }

    /// The command, as the API route converts its body (same checks). Runs
    /// on a blocking thread; may read the store.
    fn command(self, s: &AppState, caller: &Caller, id: &str) -> Result<Command, ApiError>;
}

/// `POST /complaints/{id}/<step>`: the form checked (origin, CSRF), its
/// command sent as the API sends it; 303 to the page with the notice, or
/// the page again with the refusal at the form.
pub async fn transition<F: StepForm>(
    state: web::Data<AppState>,
    v: Visitor,
    id: Id,
    form: PageForm<F>,
) -> Result<HttpResponse, PageError> {
    let f = form.verified(&v)?;
    let caller = v.signed_in()?.clone();
    let (done, values) = (f.done(&caller), Value::from_serialize(&f));
    // A form's `version` field, when it has one, is the version its page
    // showed.
    let if_match = values
        .get_attr("version")
        .ok()
        .and_then(|n| n.as_str().map(|n| seen_version(&caller, n)))
        .unwrap_or_default();
    let id = id.into_inner();
    let target = id.clone();
    let outcome = state
        .blocking(move |s| {
            let command = f.command(s, &caller, &target)?;
            send(s, &caller, &if_match, &target, &command).map(drop)
        })
        .await;
    finish(&state, &v, id, F::FORM, done, values, outcome).await
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

/// A step whose only field is an optional message: the shop's
/// *Acknowledge* and *Mark as fulfilled*.
pub trait NoteStep: Send + 'static {
    const FORM: &'static str;
    const DONE: &'static str;
    /// The API's conversion of its body.
    const INTO: fn(WithMessage) -> Command;
}

/// `POST /complaints/{id}/acknowledge` (the shop)
pub enum Acknowledge {}

impl NoteStep for Acknowledge {
    const FORM: &'static str = "acknowledge";
    const DONE: &'static str = "acknowledged";
    const INTO: fn(WithMessage) -> Command = WithMessage::into_acknowledge;
}

/// `POST /complaints/{id}/fulfil` (the shop)
pub enum Fulfil {}

impl NoteStep for Fulfil {
    const FORM: &'static str = "fulfil";
    const DONE: &'static str = "fulfilled";
    const INTO: fn(WithMessage) -> Command = WithMessage::into_fulfil;
}

/// The form of a [`NoteStep`]: the message and the version shown.
#[derive(Deserialize, Serialize)]
#[serde(bound = "")]
pub struct NoteForm<K> {
    #[serde(default)]
    message: String,
    #[serde(default)]
    version: String,
    #[serde(skip)]
    step: PhantomData<K>,
}

impl<K: NoteStep> StepForm for NoteForm<K> {
    const FORM: &'static str = K::FORM;
    const DONE: &'static str = K::DONE;
    fn command(self, _: &AppState, _: &Caller, _: &str) -> Result<Command, ApiError> {
        let body = WithMessage {
            message: given(&self.message),
        };
        Ok((K::INTO)(body))
    }
}

/// `POST /complaints/{id}/offers` (the shop): remedy, amount where it has
/// one, an optional last day, a message.
#[derive(Debug, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct OfferForm {
    remedy: String,
    amount: String,
    expires_on: String,
    message: String,
    version: String,
}

impl StepForm for OfferForm {
    const FORM: &'static str = "offer";
    const DONE: &'static str = "offered";
    fn command(self, s: &AppState, caller: &Caller, id: &str) -> Result<Command, ApiError> {
        let stored = visible_complaint(s, caller, id)?;
        let currency = stored.complaint.facts().currency.code();
        let amount = typed_amount(Some(&self.remedy), &self.amount, currency, "amount")?;
        let tz = zone_of(Some(&caller.user.time_zone));
        let expires_at = match given(&self.expires_on) {
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
            remedy: self.remedy,
            amount,
            message: given(&self.message),
            expires_at,
        }
        .into_command()
    }
}

/// `POST /complaints/{id}/accept` (the customer): names the offer the page
/// showed, so a newer one is never accepted unseen.
#[derive(Debug, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct AcceptForm {
    offer_id: String,
}

impl StepForm for AcceptForm {
    const FORM: &'static str = "accept";
    const DONE: &'static str = "accepted";
    fn command(self, _: &AppState, _: &Caller, _: &str) -> Result<Command, ApiError> {
        let body = AcceptOffer {
            offer_id: given(&self.offer_id),
        };
        Ok(body.into_command())
    }
}

/// `POST /complaints/{id}/reject` (the customer)
#[derive(Debug, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct RejectForm {
    reason: String,
    counter_remedy: String,
    message: String,
    version: String,
}

impl StepForm for RejectForm {
    const FORM: &'static str = "reject";
    const DONE: &'static str = "rejected";
    fn command(self, _: &AppState, _: &Caller, _: &str) -> Result<Command, ApiError> {
        RejectOffer {
            reason: self.reason,
            counter_remedy: given(&self.counter_remedy),
            message: given(&self.message),
        }
        .into_command()
    }
}

/// `POST /complaints/{id}/escalate` (the customer or the shop)
#[derive(Debug, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct EscalateForm {
    reason: String,
    message: String,
    version: String,
}

impl StepForm for EscalateForm {
    const FORM: &'static str = "escalate";
    const DONE: &'static str = "escalated";
    fn command(self, _: &AppState, _: &Caller, _: &str) -> Result<Command, ApiError> {
        Escalate {
            reason: self.reason,
            message: given(&self.message),
        }
        .into_command()
    }
}

/// `POST /complaints/{id}/mediator`: an admin assigns anyone; a mediator
/// takes an unassigned case for themself.
#[derive(Debug, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct MediatorForm {
    mediator_id: String,
    version: String,
}

impl StepForm for MediatorForm {
    const FORM: &'static str = "mediator";
    const DONE: &'static str = "assigned";
    fn done(&self, caller: &Caller) -> &'static str {
        if self.mediator_id == caller.id() {
            "claimed"
        } else {
            "assigned"
        }
    }
    fn command(self, s: &AppState, _: &Caller, _: &str) -> Result<Command, ApiError> {
        AssignMediator {
            mediator_id: self.mediator_id,
        }
        .into_command(s)
    }
}

/// `POST /complaints/{id}/decision` (the assigned mediator)
#[derive(Debug, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct DecisionForm {
    in_favour_of: String,
    remedy: String,
    amount: String,
    reasoning: String,
    version: String,
}

impl StepForm for DecisionForm {
    const FORM: &'static str = "decision";
    const DONE: &'static str = "decided";
    fn command(self, s: &AppState, caller: &Caller, id: &str) -> Result<Command, ApiError> {
        let stored = visible_complaint(s, caller, id)?;
        let currency = stored.complaint.facts().currency.code();
        let remedy = given(&self.remedy);
        let amount = typed_amount(remedy.as_deref(), &self.amount, currency, "amount")?;
        Decision {
            in_favour_of: self.in_favour_of,
            remedy,
            amount,
            reasoning: self.reasoning,
        }
        .into_command()
    }
}

/// `POST /complaints/{id}/withdraw` (the customer)
#[derive(Debug, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct WithdrawForm {
    reason: String,
    version: String,
}

impl StepForm for WithdrawForm {
    const FORM: &'static str = "withdraw";
    const DONE: &'static str = "withdrawn";
    fn command(self, _: &AppState, _: &Caller, _: &str) -> Result<Command, ApiError> {
        let body = Withdraw {
            reason: given(&self.reason),
        };
        Ok(body.into_command())
    }
}

/// `POST /complaints/{id}/feedback` (the customer, once, when closed)
#[derive(Debug, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct FeedbackForm {
    score: String,
    comment: String,
}

impl StepForm for FeedbackForm {
    const FORM: &'static str = "feedback";
    const DONE: &'static str = "feedback";
    fn command(self, _: &AppState, _: &Caller, _: &str) -> Result<Command, ApiError> {
        let score = self.score.trim().parse::<i64>().map_err(|_| {
            ApiError::validation_one("score", "required", "Choose how satisfied you are.")
        })?;
        let comment = given(&self.comment);
        Ok(GiveFeedback { score, comment }.into_command())
    }
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
