//! The event log in words: one entry per event, with who, when, what it
//! said, and the icons of the codes it names, in the reader's language.

use chrono_tz::Tz;
use minijinja::{context, Value};
use odr_domain::locale::Locale;
use odr_domain::money::Money;
use odr_domain::taxonomy::{
    Category, Code, EscalationReason, Iconic, Phrase, RejectionReason, Remedy,
};
use odr_store::StoredEvent;
use serde_json::Value as Json;

use super::super::render::Strings;
use super::format::{money, when};

/// Who and how the page reads: language, zone, the reader's id.
pub struct Reader<'a> {
    pub words: &'static Strings,
    pub locale: Locale,
    pub tz: Tz,
    pub me: &'a str,
    pub complaint_id: &'a str,
}

/// A coded choice as an icon with its label; `None` for an unknown code.
pub fn icon<T: Iconic>(locale: Locale, code: &str) -> Option<Value> {
    T::parse(code).ok().map(|c| {
        context! { code => c.code(), icon => c.icon_path(), label => c.label(locale) }
    })
}

/// A phrase in the reader's language (the code itself if unknown).
pub fn phrase(locale: Locale, code: &str) -> String {
    Phrase::parse(code).map_or_else(|_| code.to_owned(), |p| p.label(locale).to_owned())
}

/// Who acted, in words: "You", the mediator's name, or the role.
pub fn who(r: &Reader<'_>, actor_id: Option<&str>, role: &str, name: Option<&str>) -> String {
    if actor_id.is_some_and(|id| id == r.me) {
        return r.words.get("by_you").to_owned();
    }
    match (role, name) {
        ("mediator", Some(n)) => format!("{} ({n})", r.words.get("role_mediator")),
        _ => r.words.get(&format!("role_{role}")).to_owned(),
    }
}

fn text(payload: &Json, key: &str) -> Option<String> {
    payload
        .get(key)
        .and_then(Json::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

fn amount(r: &Reader<'_>, payload: Option<&Json>) -> Option<String> {
    let m: Money = serde_json::from_value(payload?.clone()).ok()?;
    Some(money(r.words, &m))
}

/// One event as the timeline shows it.
/// `mediator` is the complaint's mediator (id, name), named where they acted.
pub fn entry(r: &Reader<'_>, e: &StoredEvent, mediator: Option<(&str, &str)>) -> Value {
    let mediator_name = mediator
        .filter(|(id, _)| e.actor_id.as_deref() == Some(*id))
        .map(|(_, name)| name);
    let w = r.words;
    let p = &e.payload;
    let mut icons: Vec<Value> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let mut quote: Option<String> = None;
    let mut phrases: Vec<String> = Vec::new();
    let mut file: Option<Value> = None;
    let title = match e.event_type.as_str() {
        "file" => {
            icons.extend(text(p, "category").and_then(|c| icon::<Category>(r.locale, &c)));
            icons.extend(text(p, "desired_remedy").and_then(|c| icon::<Remedy>(r.locale, &c)));
            if let Some(a) = amount(r, p.get("claimed_amount")) {
                lines.push(w.fill("claimed_amount_is", &[("amount", &a)]));
            }
            w.get("ev_file").to_owned()
        }
        "propose" => {
            let offer = p.get("offer").cloned().unwrap_or_default();
            icons.extend(text(&offer, "remedy").and_then(|c| icon::<Remedy>(r.locale, &c)));
            if let Some(a) = amount(r, offer.get("amount")) {
                lines.push(w.fill("amount_is", &[("amount", &a)]));
            }
            if let Some(at) = offer
                .get("expires_at")
                .and_then(|t| serde_json::from_value(t.clone()).ok())
            {
                lines.push(w.fill("offer_open_until", &[("when", &when(w, at, r.tz))]));
            }
            quote = text(&offer, "message");
            w.get("ev_propose").to_owned()
        }
        "reject" => {
            icons.extend(text(p, "reason").and_then(|c| icon::<RejectionReason>(r.locale, &c)));
            if let Some(counter) = text(p, "counter_remedy")
                .and_then(|c| Remedy::parse(&c).ok())
                .map(|c| c.label(r.locale))
            {
                lines.push(w.fill("counter_remedy_is", &[("remedy", counter)]));
            }
            quote = text(p, "message");
            w.get("ev_reject").to_owned()
        }
        "escalate" => {
            icons.extend(text(p, "reason").and_then(|c| icon::<EscalationReason>(r.locale, &c)));
            quote = text(p, "message");
            w.get("ev_escalate").to_owned()
        }
        "assign_mediator" => w.fill(
            "ev_assign_mediator",
            &[(
                "name",
                &text(p, "mediator_name")
                    .or_else(|| mediator_name.map(str::to_owned))
                    .unwrap_or_default(),
            )],
        ),
        "decide" => {
            let ruling = p.get("ruling").cloned().unwrap_or_default();
            let favour = text(&ruling, "in_favour_of").unwrap_or_default();
            lines.push(w.get(&format!("in_favour_of_{favour}")).to_owned());
            icons.extend(text(&ruling, "remedy").and_then(|c| icon::<Remedy>(r.locale, &c)));
            if let Some(a) = amount(r, ruling.get("amount")) {
                lines.push(w.fill("amount_is", &[("amount", &a)]));
            }
            quote = text(&ruling, "reasoning");
            w.get("ev_decide").to_owned()
        }
        "withdraw" => {
            quote = text(p, "reason");
            w.get("ev_withdraw").to_owned()
        }
        "deadline_passed" => {
            let reason = text(p, "reason").unwrap_or_default();
            if let Some(i) = icon::<EscalationReason>(r.locale, &reason) {
                icons.push(i);
            }
            match reason.as_str() {
                "no_acknowledgement" | "no_offer" | "not_fulfilled" | "offer_expired"
                | "decision_overdue" => w.get(&format!("ev_deadline_{reason}")).to_owned(),
                _ => w.get("ev_deadline_passed").to_owned(),
            }
        }
        "message" => {
            phrases = p
                .get("phrase_codes")
                .and_then(Json::as_array)
                .map(|codes| {
                    codes
                        .iter()
                        .filter_map(Json::as_str)
                        .map(|c| phrase(r.locale, c))
                        .collect()
                })
                .unwrap_or_default();
            quote = text(p, "body");
            w.get("ev_message").to_owned()
        }
        "attachment" => {
            let name = text(p, "file_name").unwrap_or_default();
            if let Some(id) = text(p, "attachment_id") {
                file = Some(context! {
                    name => name.clone(),
                    href => format!("/complaints/{}/evidence/{id}", r.complaint_id),
                });
            }
            quote = text(p, "caption");
            w.fill("ev_attachment", &[("file", &name)])
        }
        "reminder" => {
            let to = p
                .get("reminded")
                .and_then(|t| t.get("kind"))
                .and_then(Json::as_str)
                .unwrap_or("anyone");
            w.get(&format!("ev_reminder_{to}")).to_owned()
        }
        "feedback" => {
            let score = p.get("score").and_then(Json::as_i64).unwrap_or_default();
            quote = text(p, "comment");
            w.fill("ev_feedback", &[("score", &score.to_string())])
        }
        other @ ("acknowledge" | "accept" | "fulfil") => {
            quote = text(p, "message");
            w.get(&format!("ev_{other}")).to_owned()
        }
        other => other.to_owned(),
    };
    context! {
        kind => e.event_type.clone(),
        seq => e.seq,
        title => title,
        who => who(r, e.actor_id.as_deref(), &e.actor_role, mediator_name),
        when => when(w, e.at, r.tz),
        at => e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        icons => icons,
        lines => lines,
        quote => quote,
        phrases => phrases,
        file => file,
    }
}
