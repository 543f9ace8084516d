//! The complaint pages: filing (`/complaints/new`), and one complaint's
//! page for everyone who may see it — who must act and the time left, the
//! offer card, the timeline in words, the claims of both sides (the
//! mediator's case file), messages with phrase buttons, evidence, the
//! decision and the feedback forms.
//!
//! Every button is there because `allowed_actions` (the machine) lists its
//! action for this visitor, and every form goes through the same code as
//! the API route of the same name (`routes/transitions.rs`,
//! `routes/complaints.rs::file_complaint`, `routes/attachments`).

mod actions;
mod filing;
mod format;
pub(crate) mod timeline;
mod upload;

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use minijinja::{context, Value};
use odr_domain::complaint::{Command, ComplaintState, OfferStatus};
use odr_domain::taxonomy::{taxonomy_document, Category, Code, EscalationReason, Remedy};
use odr_domain::Role;
use odr_store::{Retailer, StoredAttachment, StoredComplaint, StoredEvent, StoredMessage, User};
use serde::Deserialize;

use super::failure::PageError;
use super::render::render;
use super::session::Visitor;
use super::words::complaint_time_left;
use crate::caller::Caller;
use crate::problem::{ApiError, FieldError};
use crate::routes::attachments::probe as evidence_probe;
use crate::routes::complaints::{may_read_case_file, visible_complaint};
use crate::state::AppState;
use crate::views::complaint_view;

pub use actions::{
    evidence, message, transition, AcceptForm, Acknowledge, DecisionForm, EscalateForm,
    FeedbackForm, Fulfil, MediatorForm, NoteForm, OfferForm, RejectForm, WithdrawForm,
};
pub use filing::{file, new_page};
pub(crate) use filing::{form_page, order_form, read_form, refused, Entered, FormKind};
pub(crate) use upload::read as read_multipart;

pub(crate) use format::{money, when, zone_of};
use timeline::phrase;
pub(crate) use timeline::{icon, Reader};

/// The notices a page shows after a step succeeded (`?done=`); anything
/// else in the query is ignored, never echoed.
const DONE: &[&str] = &[
    "filed",
    "filed_without_photos",
    "acknowledged",
    "offered",
    "accepted",
    "rejected",
    "escalated",
    "fulfilled",
    "assigned",
    "claimed",
    "decided",
    "withdrawn",
    "message",
    "evidence",
    "feedback",
];

#[derive(Debug, Deserialize, Default)]
pub struct PageQuery {
    done: Option<String>,
    feedback: Option<String>,
}

/// A step that was refused, shown at its form with what was entered.
pub(crate) struct Problem {
    /// The form it belongs to (`offer`, `reject`, `message`, ...).
    pub form: &'static str,
    pub status: StatusCode,
    pub text: String,
    pub fields: Vec<Value>,
    pub values: Value,
}

/// What a page shows besides the complaint.
#[derive(Default)]
pub(crate) struct Shown {
    pub done: Option<String>,
    pub feedback: Option<i64>,
    pub problem: Option<Problem>,
}

/// `GET /complaints/{id}`
pub async fn page(
    state: web::Data<AppState>,
    v: Visitor,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let q = q.into_inner();
    let shown = Shown {
        done: q.done.filter(|d| DONE.contains(&d.as_str())),
        feedback: q
            .feedback
            .and_then(|f| f.trim().parse().ok())
            .filter(|f| (1..=5).contains(f)),
        problem: None,
    };
    show(&state, &v, path.into_inner(), shown).await
}

/// `GET /complaints/{id}/evidence/{attachment_id}`: the same bytes and
/// headers as the API's download, for the session.
pub async fn download(
    state: web::Data<AppState>,
    v: Visitor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let caller = v.signed_in()?.clone();
    let (id, attachment_id) = path.into_inner();
    let (attachment, bytes) = v
        .blocking(&state, move |s| {
            crate::routes::attachments::read_attachment(s, &caller, &id, &attachment_id)
        })
        .await?;
    Ok(crate::routes::attachments::download_response(
        attachment, bytes,
    ))
}

/// Everything one complaint page is made of, read in one go.
struct Loaded {
    stored: StoredComplaint,
    retailer: Option<Retailer>,
    actions: Vec<&'static str>,
    reads_case_file: bool,
    may_message: bool,
    may_attach: bool,
    events: Vec<StoredEvent>,
    messages: Vec<StoredMessage>,
    attachments: Vec<StoredAttachment>,
    mediators: Vec<User>,
    escalation_reasons: Vec<EscalationReason>,
    max_offers: u32,
    now: DateTime<Utc>,
}

fn load(s: &AppState, caller: &Caller, id: &str) -> Result<Loaded, ApiError> {
    let stored = visible_complaint(s, caller, id)?;
    let c = &stored.complaint;
    let retailer = s.store.retailer(&c.facts().retailer_id)?;
    let view = complaint_view(&stored, caller, s, retailer.as_ref());
    let reads_case_file = may_read_case_file(caller, &stored);
    let now = s.clock.now();
    let calendar = retailer
        .as_ref()
        .map(Retailer::calendar)
        .unwrap_or_default();
    // Asked of the machine like `allowed_actions`: would it take this now?
    let takes = |command: &Command| {
        c.apply(command, &caller.actor(), now, &s.policy, &calendar, "probe")
            .is_ok()
    };
    let may_message = reads_case_file
        && takes(&Command::Message {
            body: Some("probe".into()),
            phrase_codes: Vec::new(),
            attachment_ids: Vec::new(),
        });
    let may_attach = reads_case_file && takes(&evidence_probe());
    let escalation_reasons = if view.allowed_actions.contains(&"escalate") {
        EscalationReason::ALL
            .iter()
            .copied()
            .filter(|reason| {
                takes(&Command::Escalate {
                    reason: *reason,
                    message: None,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let (events, messages, attachments) = if reads_case_file {
        (
            s.store.events(id)?,
            s.store.messages(id)?,
            s.store.attachments_of(id)?,
        )
    } else {
        Default::default()
    };
    let mediators = if caller.is_admin() && view.allowed_actions.contains(&"assign_mediator") {
        s.store.users_with_role(Role::Mediator)?
    } else {
        Vec::new()
    };
    Ok(Loaded {
        actions: view.allowed_actions,
        stored,
        retailer,
        reads_case_file,
        may_message,
        may_attach,
        events,
        messages,
        attachments,
        mediators,
        escalation_reasons,
        max_offers: s.policy.max_offers,
        now,
    })
}

/// Renders the complaint page for `v` (after a GET, or at a refused form).
pub(crate) async fn show(
    state: &web::Data<AppState>,
    v: &Visitor,
    id: String,
    shown: Shown,
) -> Result<HttpResponse, PageError> {
    let caller = v.signed_in()?.clone();
    let page_path = format!("/complaints/{id}");
    let loaded = v.blocking(state, move |s| load(s, &caller, &id)).await?;
    // A refused POST shows the page; its language switch comes back here.
    let mut v = v.clone();
    v.path = page_path;
    let ctx = context(&v, &loaded, &shown);
    let mut res = render(&v, "complaint.html", ctx)?;
    if let Some(p) = &shown.problem {
        *res.status_mut() = p.status;
    }
    Ok(res)
}

fn size_in_words(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

fn context(v: &Visitor, l: &Loaded, shown: &Shown) -> Value {
    let words = v.words();
    let locale = v.locale;
    let caller = v.caller.as_ref();
    let role = caller.map(Caller::role);
    let me = caller.map(|c| c.id().to_owned()).unwrap_or_default();
    let tz = zone_of(caller.map(|c| c.user.time_zone.as_str()));
    let c = &l.stored.complaint;
    let f = c.facts();
    let reader = Reader {
        words,
        locale,
        tz,
        me: &me,
        complaint_id: &f.id,
    };
    let state = c.state();
    let tax = taxonomy_document(locale);
    let can: HashMap<&str, bool> = l.actions.iter().map(|a| (*a, true)).collect();
    let mediator = f
        .mediator
        .as_ref()
        .map(|m| (m.id.as_str(), m.display_name.as_str()));

    let offer_value = |o: &odr_domain::complaint::Offer| {
        context! {
            id => o.id.clone(),
            round => o.round,
            is_final => o.round >= l.max_offers,
            status => format!("{:?}", o.status).to_lowercase(),
            status_label => words.get(&format!("offer_status_{}", format!("{:?}", o.status).to_lowercase())),
            remedy => icon::<Remedy>(locale, o.remedy.code()),
            amount => o.amount.as_ref().map(|m| money(words, m)),
            message => o.message.clone(),
            made => when(words, o.created_at, tz),
            expires => when(words, o.expires_at, tz),
            rejection => o.rejection.as_ref().map(|r| context! {
                reason => icon::<odr_domain::taxonomy::RejectionReason>(locale, r.reason.code()),
                counter_remedy => r.counter_remedy.and_then(|x| icon::<Remedy>(locale, x.code())),
                message => r.message.clone(),
            }),
        }
    };
    let current_offer = f.current_offer().map(offer_value);
    let offers: Vec<Value> = f.offers.iter().map(offer_value).collect();

    let attachment_name = |aid: &str| {
        l.attachments
            .iter()
            .find(|a| a.id == aid)
            .map(|a| a.file_name.clone())
    };
    let messages: Vec<Value> = l
        .messages
        .iter()
        .map(|m| {
            context! {
                who => timeline::who(&reader, Some(&m.author_id), &m.author_role,
                    mediator.filter(|(id, _)| *id == m.author_id).map(|(_, n)| n)),
                mine => m.author_id == me,
                when => when(words, m.created_at, tz),
                at => m.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                phrases => m.phrase_codes.iter().map(|p| phrase(locale, p)).collect::<Vec<_>>(),
                body => m.body.clone(),
                files => m.attachment_ids.iter().map(|aid| context! {
                    name => attachment_name(aid).unwrap_or_else(|| aid.clone()),
                    href => format!("/complaints/{}/evidence/{aid}", f.id),
                }).collect::<Vec<_>>(),
            }
        })
        .collect();
    let evidence: Vec<Value> = l
        .attachments
        .iter()
        .map(|a| {
            context! {
                name => a.file_name.clone(),
                href => format!("/complaints/{}/evidence/{}", f.id, a.id),
                size => size_in_words(a.size),
                content_type => a.content_type.clone(),
                sha256 => a.sha256.clone(),
                caption => a.caption.clone(),
                who => timeline::who(&reader, Some(&a.uploaded_by), &a.uploader_role,
                    mediator.filter(|(id, _)| *id == a.uploaded_by).map(|(_, n)| n)),
                when => when(words, a.created_at, tz),
            }
        })
        .collect();
    let timeline: Vec<Value> = l
        .events
        .iter()
        .rev()
        .map(|e| timeline::entry(&reader, e, mediator))
        .collect();

    let escalation = f.escalation.as_ref().map(|e| {
        context! {
            reason => icon::<EscalationReason>(locale, e.reason.code()),
            by => words.get(&format!("role_{}", e.by.code())),
            message => e.message.clone(),
            when => when(words, e.at, tz),
        }
    });
    let ruling = f.ruling.as_ref().map(|r| {
        context! {
            favour => words.get(&format!("in_favour_of_{}", serde_json::to_value(r.in_favour_of).ok().and_then(|x| x.as_str().map(str::to_owned)).unwrap_or_default())),
            remedy => r.remedy.and_then(|x| icon::<Remedy>(locale, x.code())),
            amount => r.amount.as_ref().map(|m| money(words, m)),
            reasoning => r.reasoning.clone(),
            when => when(words, r.decided_at, tz),
        }
    });
    let feedback = f.feedback.as_ref().map(|fb| {
        context! {
            score => fb.score,
            comment => fb.comment.clone(),
            when => when(words, fb.given_at, tz),
        }
    });

    // The sentence at the top: who must act, and until when.
    let left = complaint_time_left(locale, l.now, c, role);
    let closed_text = c.outcome().map(|o| {
        words.fill(
            "closed_with",
            &[("outcome", words.get(&format!("outcome_{}", o.code())))],
        )
    });
    let claim_first = role == Some(Role::Mediator) && !l.reads_case_file;

    let escalation_reasons: Vec<Value> = l
        .escalation_reasons
        .iter()
        .filter_map(|r| icon::<EscalationReason>(locale, r.code()))
        .collect();
    let mediators: Vec<Value> = l
        .mediators
        .iter()
        .map(|m| context! { id => m.id.clone(), name => m.display_name.clone(), email => m.email.clone(), current => mediator.is_some_and(|(id, _)| id == m.id) })
        .collect();
    // A refused step whose form is gone now (the complaint moved on) is
    // explained at the top of the page instead.
    let form_shown = |form: &str| match form {
        "offer" => can.contains_key("propose"),
        "mediator" => can.contains_key("assign_mediator"),
        "decision" => can.contains_key("decide"),
        "message" => l.may_message,
        "evidence" => l.may_attach,
        other => can.contains_key(other),
    };
    let problem = shown.problem.as_ref().map(|p| {
        context! {
            form => p.form, text => p.text.clone(), fields => p.fields.clone(),
            values => p.values.clone(), at_top => !form_shown(p.form),
        }
    });
    let notice = shown
        .done
        .as_ref()
        .map(|d| words.get(&format!("done_{d}")).to_owned());

    context! {
        notice => notice,
        problem => problem,
        c => context! {
            id => f.id.clone(),
            reference => f.reference.clone(),
            shop => l.retailer.as_ref().map(|r| r.name.clone()),
            state => state.code(),
            state_label => words.get(&format!("state_{}", state.code())),
            is_open => state != ComplaintState::Closed,
            outcome_label => c.outcome().map(|o| words.get(&format!("outcome_{}", o.code())).to_owned()),
            category => icon::<Category>(locale, f.category.code()),
            remedy => icon::<Remedy>(locale, f.desired_remedy.code()),
            claimed_amount => f.claimed_amount.as_ref().map(|m| money(words, m)),
            currency => f.currency.code(),
            order_reference => f.order_reference.clone(),
            description => f.description.clone(),
            items => f.items.iter().map(|i| context! { sku => i.sku.clone(), name => i.name.clone(), quantity => i.quantity }).collect::<Vec<_>>(),
            filed => when(words, f.created_at, tz),
            mediator_name => f.mediator.as_ref().map(|m| m.display_name.clone()),
            version => l.stored.version,
            escalation => escalation,
            ruling => ruling,
            feedback => feedback,
            offers_left => l.max_offers.saturating_sub(f.offers_made()),
        },
        left => left,
        closed_text => closed_text,
        zone => tz.name(),
        can => can,
        role => role.map(|r| r.code()),
        claim_first => claim_first,
        reads_case_file => l.reads_case_file,
        may_message => l.may_message,
        may_attach => l.may_attach,
        current_offer => current_offer,
        offer_pending => f.current_offer().is_some_and(|o| o.status == OfferStatus::Pending),
        offers => offers,
        timeline => timeline,
        messages => messages,
        evidence => evidence,
        mediators => mediators,
        feedback_pick => shown.feedback,
        remedies => tax.remedies,
        rejection_reasons => tax.rejection_reasons,
        escalation_reasons => escalation_reasons,
        phrases => tax.phrases,
        scores => [1, 2, 3, 4, 5],
    }
}

/// A refusal as the page explains it at the form, in the visitor's words;
/// `None` for what is an error page instead (not found, broken, busy).
pub(crate) fn problem_of(
    v: &Visitor,
    form: &'static str,
    e: &ApiError,
    values: Value,
) -> Option<Problem> {
    let words = v.words();
    let (status, key) = match e {
        ApiError::Validation { .. } | ApiError::Malformed { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "problem_check_fields")
        }
        ApiError::InvalidTransition { .. } => (StatusCode::CONFLICT, "problem_not_open_now"),
        ApiError::OfferLimitReached { .. } => (StatusCode::CONFLICT, "problem_final_offer"),
        ApiError::Conflict(_) if form == "feedback" => {
            (StatusCode::CONFLICT, "problem_feedback_given")
        }
        ApiError::Conflict(_) | ApiError::PreconditionFailed(_) => {
            (StatusCode::CONFLICT, "problem_changed_meanwhile")
        }
        ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "problem_not_for_you"),
        ApiError::PayloadTooLarge { .. } => {
            (StatusCode::PAYLOAD_TOO_LARGE, "problem_file_too_large")
        }
        ApiError::UnsupportedMediaType(_) => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "problem_file_type")
        }
        _ => return None,
    };
    let (detail, fields) = e.explained();
    let mut text = words.get(key).to_owned();
    // A refusal the machine explains in its own words: say it too.
    if matches!(e, ApiError::Forbidden(_)) && !detail.is_empty() {
        text = format!("{text} ({detail})");
    }
    Some(Problem {
        form,
        status,
        text,
        fields: fields.iter().map(|x| field_value(v, x)).collect(),
        values,
    })
}

/// One bad field: its label and what to change, in the visitor's words
/// where we have them (the API's English otherwise).
pub(crate) fn field_value(v: &Visitor, e: &FieldError) -> Value {
    let words = v.words();
    let base = e
        .field
        .split(['.', '['])
        .next()
        .unwrap_or_default()
        .to_owned();
    let label_key = format!("label_{base}");
    let label = match words.get(&label_key) {
        l if l == label_key => e.field.clone(),
        l => l.to_owned(),
    };
    let why_key = format!("why_{}", e.code);
    let message = match words.get(&why_key) {
        m if m == why_key => e.message.clone(),
        m => m.to_owned(),
    };
    context! { field => e.field.clone(), label => label, message => message }
}
