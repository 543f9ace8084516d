//! The case handed on: `GET /complaints/{id}/case-file`, a print-friendly
//! page of the whole case in the reader's language (the browser prints it
//! or saves it as PDF), and `GET /complaints/{id}/export.json`, the API's
//! JSON export for the session cookie. Both read the record the API's
//! export reads (`routes::export::read_case`: one snapshot, the case
//! file's access rule).

use actix_web::{web, HttpResponse};
use minijinja::{context, Value};
use odr_domain::complaint::Offer;
use odr_domain::taxonomy::{Category, Code, EscalationReason, RejectionReason, Remedy};

use super::failure::PageError;
use super::render::render;
use super::session::Visitor;
use crate::routes::export::{case_export, engine, export_response, read_case};
use crate::state::AppState;

// The complaint page's own formatting of times, amounts and the event log,
// so that the printed case reads exactly like the page.
use super::complaint::timeline;
use super::complaint::{icon, money, when, zone_of, Reader};

/// `GET /complaints/{id}/export.json`: the same document as
/// `GET /api/v1/complaints/{id}/export`, for the signed-in visitor.
pub async fn export_json(
    state: web::Data<AppState>,
    v: Visitor,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let caller = v.signed_in()?.clone();
    let id = path.into_inner();
    let doc = v
        .blocking(&state, move |s| case_export(s, &caller, &id))
        .await?;
    export_response(&doc).map_err(|e| v.fail(e))
}

/// `GET /complaints/{id}/case-file`
pub async fn print(
    state: web::Data<AppState>,
    v: Visitor,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let caller = v.signed_in()?.clone();
    let id = path.into_inner();
    let (record, retailer, customer, now) = v
        .blocking(&state, move |s| {
            let (record, retailer) = read_case(s, &caller, &id)?;
            let customer = s
                .store
                .user(&record.complaint.complaint.facts().customer_id)?;
            Ok((record, retailer, customer, s.clock.now()))
        })
        .await?;
    let words = v.words();
    let locale = v.locale;
    let tz = zone_of(v.caller.as_ref().map(|c| c.user.time_zone.as_str()));
    let c = &record.complaint.complaint;
    let f = c.facts();
    // A printed record names roles, never "you".
    let reader = Reader {
        words,
        locale,
        tz,
        me: "",
        complaint_id: &f.id,
    };
    let mediator = f
        .mediator
        .as_ref()
        .map(|m| (m.id.as_str(), m.display_name.as_str()));
    let who = |id: &str, role: &str| {
        timeline::who(
            &reader,
            Some(id),
            role,
            mediator.filter(|(m, _)| *m == id).map(|(_, n)| n),
        )
    };
    let offer = |o: &Offer| {
        let status = format!("{:?}", o.status).to_lowercase();
        context! {
            round => o.round,
            status => words.get(&format!("offer_status_{status}")),
            remedy => icon::<Remedy>(locale, o.remedy.code()),
            amount => o.amount.as_ref().map(|m| money(words, m)),
            message => o.message.clone(),
            made => when(words, o.created_at, tz),
            expires => when(words, o.expires_at, tz),
            answered => o.answered_at.map(|at| when(words, at, tz)),
            rejection => o.rejection.as_ref().map(|r| context! {
                reason => icon::<RejectionReason>(locale, r.reason.code()),
                counter_remedy => r.counter_remedy.and_then(|x| icon::<Remedy>(locale, x.code())),
                message => r.message.clone(),
            }),
        }
    };
    let file_name = |aid: &str| {
        record
            .attachments
            .iter()
            .find(|a| a.id == aid)
            .map_or_else(|| aid.to_owned(), |a| a.file_name.clone())
    };
    let messages: Vec<Value> = record
        .messages
        .iter()
        .map(|m| {
            context! {
                seq => m.seq,
                who => who(&m.author_id, &m.author_role),
                when => when(words, m.created_at, tz),
                phrases => m.phrase_codes.iter().map(|p| timeline::phrase(locale, p)).collect::<Vec<_>>(),
                body => m.body.clone(),
                files => m.attachment_ids.iter().map(|a| file_name(a)).collect::<Vec<_>>(),
            }
        })
        .collect();
    let evidence: Vec<Value> = record
        .attachments
        .iter()
        .map(|a| {
            context! {
                seq => a.seq,
                name => a.file_name.clone(),
                content_type => a.content_type.clone(),
                size => a.size,
                sha256 => a.sha256.clone(),
                caption => a.caption.clone(),
                who => who(&a.uploaded_by, &a.uploader_role),
                when => when(words, a.created_at, tz),
            }
        })
        .collect();
    let timeline: Vec<Value> = record
        .events
        .iter()
        .map(|e| timeline::entry(&reader, e, mediator))
        .collect();
    let closed = record
        .events
        .iter()
        .find(|e| e.to_state == "closed" && e.from_state.as_deref() != Some("closed"))
        .map(|e| when(words, e.at, tz));
    let favour = |r: &odr_domain::complaint::Ruling| {
        let code = serde_json::to_value(r.in_favour_of)
            .ok()
            .and_then(|x| x.as_str().map(str::to_owned))
            .unwrap_or_default();
        words.get(&format!("in_favour_of_{code}")).to_owned()
    };
    let engine = engine();
    let ctx = context! {
        c => context! {
            id => f.id.clone(),
            reference => f.reference.clone(),
            shop => retailer.as_ref().map(|r| r.name.clone()),
            customer => customer.as_ref().map(|u| context! { name => u.display_name.clone(), email => u.email.clone() }),
            mediator => f.mediator.as_ref().map(|m| m.display_name.clone()),
            state => words.get(&format!("state_{}", c.state().code())),
            outcome => c.outcome().map(|o| words.get(&format!("outcome_{}", o.code())).to_owned()),
            filed => when(words, f.created_at, tz),
            updated => when(words, c.updated_at(), tz),
            closed => closed,
            order_reference => f.order_reference.clone(),
            category => icon::<Category>(locale, f.category.code()),
            remedy => icon::<Remedy>(locale, f.desired_remedy.code()),
            claimed_amount => f.claimed_amount.as_ref().map(|m| money(words, m)),
            description => f.description.clone(),
            items => f.items.iter().map(|i| context! { sku => i.sku.clone(), name => i.name.clone(), quantity => i.quantity }).collect::<Vec<_>>(),
            version => record.complaint.version,
            escalation => f.escalation.as_ref().map(|e| context! {
                reason => icon::<EscalationReason>(locale, e.reason.code()),
                by => words.get(&format!("role_{}", e.by.code())),
                message => e.message.clone(),
                when => when(words, e.at, tz),
            }),
            ruling => f.ruling.as_ref().map(|r| context! {
                favour => favour(r),
                remedy => r.remedy.and_then(|x| icon::<Remedy>(locale, x.code())),
                amount => r.amount.as_ref().map(|m| money(words, m)),
                reasoning => r.reasoning.clone(),
                when => when(words, r.decided_at, tz),
            }),
            feedback => f.feedback.as_ref().map(|fb| context! {
                score => fb.score,
                comment => fb.comment.clone(),
                when => when(words, fb.given_at, tz),
            }),
        },
        offers => f.offers.iter().map(offer).collect::<Vec<_>>(),
        messages => messages,
        evidence => evidence,
        timeline => timeline,
        engine => format!("{} {}", engine.name, engine.version),
        exported_at => when(words, now, tz),
        zone => tz.name(),
    };
    render(&v, "case_file_print.html", ctx)
}
