//! The pieces of a complaint mail that depend on its facts: the values of
//! the placeholders, the details table, the quoted texts and the sentence
//! saying who must act by when.

use chrono_tz::Tz;
use odr_domain::money::Money;
use odr_domain::taxonomy::{
    Category, Code, EscalationReason, Phrase, RejectionReason, Remedy, UnknownCode,
};
use odr_store::mail_facts::{ComplaintFacts, DeadlineFacts, MailFacts};

use super::{Detail, Mail, Quote, Side};
use crate::render::format;
use crate::render::strings::{Reader, Vars};
use crate::render::RenderError;

/// The label of a taxonomy code in the reader's language.
fn label<C: Code>(s: &Reader<'_>, code: &str) -> Result<&'static str, RenderError> {
    Ok(C::parse(code)?.label(s.locale))
}

/// "Partial refund of EUR 25.00", or just the remedy when it has no amount.
fn remedy_text(
    s: &Reader<'_>,
    remedy: &str,
    amount: Option<&Money>,
) -> Result<String, RenderError> {
    let remedy = label::<Remedy>(s, remedy)?.to_owned();
    match amount {
        Some(m) => s.fill(
            "common.remedy_amount",
            &Vars::from([("remedy", remedy), ("amount", format::money(s, m)?)]),
        ),
        None => Ok(remedy),
    }
}

fn mediator_name(s: &Reader<'_>, c: &ComplaintFacts) -> Result<String, RenderError> {
    match c.mediator_name.as_deref().map(format::one_line) {
        Some(name) if !name.is_empty() => Ok(name),
        _ => Ok(s.text("common.a_mediator")?.to_owned()),
    }
}

/// The name that goes with a role: the customer's, the shop's, the mediator's.
fn name_of(s: &Reader<'_>, c: &ComplaintFacts, role: &str) -> Result<String, RenderError> {
    Ok(match Side::of(role) {
        Some(Side::Customer) => format::one_line(&c.customer_name),
        Some(Side::Shop) => format::one_line(&c.retailer_name),
        Some(Side::Mediator) => mediator_name(s, c)?,
        _ => s.text("common.odr_team")?.to_owned(),
    })
}

fn in_favour_of(side: Side, in_favour_of: &str) -> Result<&'static str, RenderError> {
    Ok(match (in_favour_of, side) {
        ("customer", Side::Customer) | ("retailer", Side::Shop) => "ruling.you",
        ("customer", _) => "ruling.customer",
        ("retailer", _) => "ruling.retailer",
        ("split", _) => "ruling.split",
        (other, _) => {
            return Err(UnknownCode {
                kind: "in_favour_of",
                code: other.to_owned(),
            }
            .into())
        }
    })
}

/// Every placeholder a complaint mail's sentences may use.
pub(super) fn vars(
    s: &Reader<'_>,
    facts: &MailFacts,
    c: &ComplaintFacts,
    side: Side,
    tz: Tz,
) -> Result<Vars, RenderError> {
    let mut v = Vars::from([
        ("name", format::one_line(&facts.recipient_name)),
        ("reference", format::one_line(&c.reference)),
        ("shop", format::one_line(&c.retailer_name)),
        ("customer", format::one_line(&c.customer_name)),
        ("order", format::one_line(&c.order_reference)),
        ("category", label::<Category>(s, &c.category)?.to_owned()),
        (
            "desired_remedy",
            remedy_text(s, &c.desired_remedy, c.claimed_amount.as_ref())?,
        ),
        ("mediator", mediator_name(s, c)?),
    ]);
    if let Some(o) = &c.offer {
        v.insert("offer", remedy_text(s, &o.remedy, o.amount.as_ref())?);
        v.insert("offer_expires", format::when(s, o.expires_at, tz)?);
    }
    if let Some(r) = &c.rejection {
        v.insert("reason", label::<RejectionReason>(s, &r.reason)?.to_owned());
    }
    if let Some(reason) = &c.escalation_reason {
        let reason = label::<EscalationReason>(s, reason)?.to_owned();
        v.insert("escalation_reason", reason);
    }
    if let Some(r) = &c.ruling {
        v.insert(
            "ruling",
            s.text(in_favour_of(side, &r.in_favour_of)?)?.to_owned(),
        );
        if let Some(remedy) = &r.remedy {
            v.insert("ruling_remedy", remedy_text(s, remedy, r.amount.as_ref())?);
        }
    }
    if let Some(m) = &c.message {
        v.insert("author", name_of(s, c, &m.author_role)?);
    }
    if let Some(d) = deadline_of(facts, c) {
        v.insert("when", format::when(s, d.at, tz)?);
    }
    if facts.template == "escalated" {
        let key = format!("escalated_by.{}", escalated_by(c, side));
        let sentence = s.fill(&key, &v)?;
        v.insert("escalated_by", sentence);
    }
    Ok(v)
}

/// The deadline a mail is about: a reminder's own, else the one that runs.
fn deadline_of<'a>(facts: &MailFacts, c: &'a ComplaintFacts) -> Option<&'a DeadlineFacts> {
    match facts.template.as_str() {
        "deadline_reminder" => c.reminder.as_ref().or(c.next_deadline.as_ref()),
        _ => c.next_deadline.as_ref(),
    }
}

/// Who sent the complaint to a mediator, as this reader hears it.
fn escalated_by(c: &ComplaintFacts, reader: Side) -> &'static str {
    match (Side::of(&c.actor_role), reader) {
        (None, Side::Customer) => "deadline_to_customer",
        (None, Side::Shop) => "deadline_to_shop",
        (None, _) => "deadline",
        (Some(actor), reader) if actor == reader => "you",
        (Some(Side::Shop), Side::Customer) => "shop_to_customer",
        (Some(Side::Shop), _) => "shop",
        (Some(Side::Customer), _) => "customer",
        (Some(_), _) => "other",
    }
}

/// Sentences that only some facts call for.
pub(super) fn extra_paragraphs(m: &Mail<'_>) -> Result<Vec<String>, RenderError> {
    let s = &m.s;
    let mut out = Vec::new();
    match m.facts.template.as_str() {
        "offer_proposed" => {
            let offer = m.c.offer.as_ref().ok_or_else(|| missing(m, "offer"))?;
            if offer.round >= offer.max_offers {
                out.push(s.fill("common.final_offer", &m.vars)?);
            }
        }
        "offer_accepted" if m.c.offer.is_none() => return Err(missing(m, "offer")),
        "offer_rejected" if m.c.rejection.is_none() => return Err(missing(m, "rejection")),
        "message_added" if m.c.message.is_none() => return Err(missing(m, "message")),
        "decided" => {
            let ruling = m.c.ruling.as_ref().ok_or_else(|| missing(m, "ruling"))?;
            let winner = Side::of(&ruling.in_favour_of);
            let lost = matches!(m.side, Side::Customer | Side::Shop)
                && winner.is_some_and(|w| w != m.side);
            if lost {
                out.push(s.fill("ruling.not_your_way", &m.vars)?);
            }
            if m.side == Side::Shop && ruling.remedy.is_some() && winner != Some(Side::Shop) {
                out.push(s.fill("ruling.carry_out", &m.vars)?);
            }
        }
        _ => {}
    }
    Ok(out)
}

fn missing(m: &Mail<'_>, what: &'static str) -> RenderError {
    RenderError::MissingFacts {
        template: m.facts.template.clone(),
        missing: what,
    }
}

/// The facts table: always where the complaint stands, then what this
/// event is about.
pub(super) fn details(m: &Mail<'_>) -> Result<Vec<Detail>, RenderError> {
    let s = &m.s;
    let c = m.c;
    let template = m.facts.template.as_str();
    let mut rows: Vec<(&str, String)> = vec![("reference", m.vars["reference"].clone())];
    if m.side != Side::Shop {
        rows.push(("shop", m.vars["shop"].clone()));
    }
    if m.side != Side::Customer {
        rows.push(("customer", m.vars["customer"].clone()));
    }
    rows.push(("order", m.vars["order"].clone()));
    rows.push(("category", m.vars["category"].clone()));
    if matches!(template, "complaint_filed" | "complaint_receipt") || m.side == Side::Mediator {
        rows.push(("desired_remedy", m.vars["desired_remedy"].clone()));
    }
    let offer_matters = matches!(
        template,
        "offer_proposed" | "offer_accepted" | "offer_rejected" | "fulfilled" | "lapsed"
    );
    if let (Some(o), true) = (&c.offer, offer_matters) {
        let round = s.fill(
            "labels.offer_round",
            &Vars::from([
                ("round", o.round.to_string()),
                ("max", o.max_offers.to_string()),
            ]),
        )?;
        rows.push(("offer", format!("{} ({round})", m.vars["offer"])));
        if template == "offer_proposed" {
            rows.push(("valid_until", m.vars["offer_expires"].clone()));
        }
    }
    if let (Some(r), "offer_rejected") = (&c.rejection, template) {
        rows.push(("rejection_reason", m.vars["reason"].clone()));
        if let Some(counter) = &r.counter_remedy {
            rows.push(("counter_remedy", label::<Remedy>(s, counter)?.to_owned()));
        }
    }
    if let Some(reason) = m.vars.get("escalation_reason") {
        if c.state == "escalated" {
            rows.push(("escalation_reason", reason.clone()));
        }
    }
    if c.mediator_name.is_some() && m.side != Side::Mediator {
        rows.push(("mediator", m.vars["mediator"].clone()));
    }
    if let Some(ruling) = m.vars.get("ruling") {
        rows.push(("decision", ruling.clone()));
        if let Some(remedy) = m.vars.get("ruling_remedy") {
            rows.push(("remedy", remedy.clone()));
        }
    }
    if let (Some(when), "deadline_reminder") = (m.vars.get("when"), template) {
        rows.push(("deadline", when.clone()));
    }
    rows.into_iter()
        .map(|(key, value)| {
            Ok(Detail {
                label: s.text(&format!("labels.{key}"))?.to_owned(),
                value,
            })
        })
        .collect()
}

/// What people wrote with this event, each attributed to its author.
pub(super) fn quotes(m: &Mail<'_>) -> Result<Vec<Quote>, RenderError> {
    let c = m.c;
    let mut out = Vec::new();
    let template = m.facts.template.as_str();
    if let (Some(o), "offer_proposed") = (&c.offer, template) {
        out.push(quote(m, "retailer_staff", &[], o.message.as_deref())?);
    }
    if let (Some(r), "offer_rejected") = (&c.rejection, template) {
        out.push(quote(m, "customer", &[], r.message.as_deref())?);
    }
    if let (Some(r), "decided") = (&c.ruling, template) {
        out.push(quote(m, "mediator", &[], Some(&r.reasoning))?);
    }
    if let Some(msg) = &c.message {
        out.push(quote(
            m,
            &msg.author_role,
            &msg.phrase_codes,
            msg.body.as_deref(),
        )?);
    }
    if c.note.is_some() {
        out.push(quote(m, &c.actor_role, &[], c.note.as_deref())?);
    }
    Ok(out.into_iter().flatten().collect())
}

/// `None` when there is nothing to quote.
fn quote(
    m: &Mail<'_>,
    author_role: &str,
    phrase_codes: &[String],
    text: Option<&str>,
) -> Result<Option<Quote>, RenderError> {
    let s = &m.s;
    let text = text
        .map(|t| t.replace("\r\n", "\n").replace('\r', "\n"))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    if text.is_none() && phrase_codes.is_empty() {
        return Ok(None);
    }
    let phrases = phrase_codes
        .iter()
        .map(|code| Ok(label::<Phrase>(s, code)?.to_owned()))
        .collect::<Result<Vec<_>, RenderError>>()?;
    let by_key = match Side::of(author_role) {
        Some(side) => format!("written_by.{}", side.key()),
        None => "written_by.system".to_owned(),
    };
    let name = Vars::from([("name", name_of(s, m.c, author_role)?)]);
    let note = if phrases.is_empty() {
        None
    } else {
        Some(s.text("common.phrases_note")?.to_owned())
    };
    Ok(Some(Quote {
        by: s.fill(&by_key, &name)?,
        phrases,
        lines: text
            .as_deref()
            .map(|t| t.lines().map(str::to_owned).collect())
            .unwrap_or_default(),
        text,
        note,
    }))
}

/// "The shop has until …", "You have until …", or for a closed complaint
/// that nobody needs to act.
pub(super) fn deadline_sentence(m: &Mail<'_>) -> Result<Option<String>, RenderError> {
    let s = &m.s;
    let c = m.c;
    if c.state == "closed" {
        return Ok(Some(s.fill("deadline.closed", &m.vars)?));
    }
    let reminder = m.facts.template == "deadline_reminder";
    let who = c.who_must_act.as_deref();
    let yours = who.is_some_and(|w| m.side.is(w)) || (reminder && m.side != Side::Admin);
    let Some(deadline) = deadline_of(m.facts, c) else {
        return match who {
            Some(_) if yours => Ok(Some(s.fill("waiting_on.you", &m.vars)?)),
            Some(w) => Ok(Some(s.fill(&format!("waiting_on.{w}"), &m.vars)?)),
            None => Ok(None),
        };
    };
    let form = if deadline.at <= c.event_at {
        "overdue"
    } else if yours {
        "you"
    } else {
        "other"
    };
    let kind = odr_domain::complaint::DeadlineKind::parse(&deadline.kind)?;
    let key = format!("deadline.{}.{form}", kind.code());
    Ok(Some(s.fill(&key, &m.vars)?))
}
