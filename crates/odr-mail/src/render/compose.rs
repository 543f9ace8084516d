//! From the facts of one notification to the view both layouts show: which
//! sentences apply to this recipient, filled with the complaint's facts in
//! the recipient's language.

mod parts;
mod webhook;

use odr_domain::complaint::{ComplaintState, Outcome};
use odr_store::mail_facts::{ComplaintFacts, MailFacts};
use serde::Serialize;

use super::format;
use super::strings::{Reader, Vars};
use super::RenderError;

/// Every template the store writes, as `MailFacts::template` names them.
pub(super) const TEMPLATES: [&str; 19] = [
    "complaint_filed",
    "complaint_receipt",
    "acknowledged",
    "offer_proposed",
    "offer_accepted",
    "offer_rejected",
    "escalated",
    "mediator_assigned",
    "decided",
    "withdrawn",
    "fulfilled",
    "lapsed",
    "message_added",
    "decision_overdue",
    "deadline_reminder",
    "invitation",
    "magic_link",
    "guest_filing",
    "webhook_disabled",
];

#[derive(Debug, Serialize)]
pub(super) struct View {
    pub lang: &'static str,
    /// After a label, as this language writes it (French: "\u{a0}:").
    pub colon: String,
    pub subject: String,
    pub reference: Option<String>,
    pub preheader: String,
    pub headline: String,
    pub greeting: String,
    pub paragraphs: Vec<String>,
    pub details_title: String,
    pub details: Vec<Detail>,
    pub quotes: Vec<Quote>,
    pub status: Option<Status>,
    pub action: Link,
    pub link_hint: String,
    pub no_reply: String,
    pub sign_in: Option<SignIn>,
    pub signature: Vec<String>,
    /// The one question to the customer of a closed complaint.
    pub feedback: Option<FeedbackAsk>,
}

/// How satisfied the customer is, asked once a complaint closes: five links
/// to the complaint page, each choosing a score there.
#[derive(Debug, Serialize)]
pub(super) struct FeedbackAsk {
    pub question: String,
    pub scale: String,
    /// Score 1 to 5, in order; the label is the number.
    pub links: Vec<Link>,
    pub comment: String,
}

#[derive(Debug, Serialize)]
pub(super) struct Detail {
    pub label: String,
    pub value: String,
}

/// Something a person wrote (or picked as a ready-made phrase), shown as a
/// quotation and attributed, never as our own words.
#[derive(Debug, Serialize)]
pub(super) struct Quote {
    pub by: String,
    pub phrases: Vec<String>,
    pub text: Option<String>,
    /// `text` line by line, for the `> ` of the plain-text layout.
    pub lines: Vec<String>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct Status {
    pub label: String,
    pub state: String,
    pub next_label: String,
    pub next: String,
    pub deadline: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct Link {
    pub label: String,
    pub url: String,
}

/// The sign-in sentence split around its link, so HTML can make it one.
#[derive(Debug, Serialize)]
pub(super) struct SignIn {
    pub before: String,
    pub url: String,
    pub after: String,
}

/// Which side of the complaint a person stands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Customer,
    Shop,
    Mediator,
    Admin,
}

impl Side {
    fn of_recipient(role: &str) -> Result<Side, RenderError> {
        Side::of(role).ok_or_else(|| RenderError::UnknownRecipientRole(role.to_owned()))
    }

    /// `None` for the system (a deadline acting) and unknown roles.
    pub(super) fn of(role: &str) -> Option<Side> {
        match role {
            "customer" => Some(Side::Customer),
            "retailer" | "retailer_staff" => Some(Side::Shop),
            "mediator" => Some(Side::Mediator),
            "admin" => Some(Side::Admin),
            _ => None,
        }
    }

    /// The key of this side's texts in the strings files.
    pub(super) fn key(self) -> &'static str {
        match self {
            Side::Customer => "customer",
            Side::Shop => "retailer",
            Side::Mediator => "mediator",
            Side::Admin => "admin",
        }
    }

    /// Whether `who_must_act` (a role code) means this side.
    fn is(self, role: &str) -> bool {
        Side::of(role) == Some(self)
    }
}

/// What a mail about a complaint is composed from.
pub(super) struct Mail<'a> {
    pub s: Reader<'a>,
    pub facts: &'a MailFacts,
    pub c: &'a ComplaintFacts,
    pub side: Side,
    pub vars: Vars,
}

pub(super) fn view(
    s: &Reader<'_>,
    public_url: &str,
    facts: &MailFacts,
) -> Result<View, RenderError> {
    let template = facts.template.as_str();
    if !TEMPLATES.contains(&template) {
        return Err(RenderError::UnknownTemplate(facts.template.clone()));
    }
    let side = Side::of_recipient(&facts.recipient_role)?;
    let tz = format::zone(&facts.time_zone);
    if template == "invitation" {
        return invitation(s, public_url, facts, side);
    }
    if template == "webhook_disabled" {
        return webhook::webhook_disabled(s, public_url, facts);
    }
    if template == "magic_link" || template == "guest_filing" {
        return magic_link(s, facts);
    }
    let c = facts.complaint.as_ref().ok_or(RenderError::MissingFacts {
        template: facts.template.clone(),
        missing: "complaint",
    })?;
    let mail = Mail {
        s: *s,
        facts,
        c,
        side,
        vars: parts::vars(s, facts, c, side, tz)?,
    };
    complaint_mail(&mail, public_url)
}

fn complaint_mail(m: &Mail<'_>, public_url: &str) -> Result<View, RenderError> {
    let s = &m.s;
    let state = state_key(m.c)?;
    let base = text_base(s, &m.facts.template, m.side, state == "escalated_waiting")?;
    let mut paragraphs = fill_list(s, &format!("{base}.body"), &m.vars)?;
    paragraphs.extend(parts::extra_paragraphs(m)?);
    let final_offer = m.c.offer.as_ref().is_some_and(|o| o.round >= o.max_offers);
    // The last allowed offer cannot be turned down, only accepted or escalated.
    let next = match state {
        "proposed" if final_offer => "proposed_final",
        state => state,
    };
    let next_keys = [
        format!("next.{next}.{}", m.side.key()),
        format!("next.{next}.other"),
    ];
    let status = Status {
        label: s.text("common.status")?.to_owned(),
        state: s.fill(&format!("state.{state}"), &m.vars)?,
        next_label: s.text("common.next")?.to_owned(),
        next: s.fill(&s.first_key(&next_keys)?, &m.vars)?,
        deadline: parts::deadline_sentence(m)?,
    };
    let complaint_url = format!("{public_url}/complaints/{}", path_segment(&m.c.id));
    let feedback = if m.side == Side::Customer && m.c.state == ComplaintState::Closed.code() {
        Some(feedback_ask(s, &complaint_url)?)
    } else {
        None
    };
    let sign_in_url = format!("{public_url}/sign-in");
    let (before, after) = split_at_url(s.text("common.sign_in")?);
    Ok(View {
        lang: s.locale.code(),
        colon: s.text("common.colon")?.to_owned(),
        subject: format::subject(
            Some(&m.c.reference),
            &s.fill(&format!("{base}.subject"), &m.vars)?,
        ),
        reference: Some(format::one_line(&m.c.reference)),
        preheader: paragraphs.first().cloned().unwrap_or_default(),
        headline: s.fill(&format!("{base}.headline"), &m.vars)?,
        greeting: greeting(s, &m.facts.recipient_name)?,
        paragraphs,
        details_title: s.text("common.details")?.to_owned(),
        details: parts::details(m)?,
        quotes: parts::quotes(m)?,
        status: Some(status),
        action: Link {
            label: s.text("common.open_complaint")?.to_owned(),
            url: complaint_url,
        },
        link_hint: s.text("common.link_hint")?.to_owned(),
        no_reply: s.text("common.no_reply")?.to_owned(),
        sign_in: Some(SignIn {
            before: before.to_owned(),
            url: sign_in_url,
            after: after.to_owned(),
        }),
        signature: s.list("common.signature")?.to_vec(),
        feedback,
    })
}

/// The question and its five links (`?feedback=N#feedback` on the complaint
/// page, which preselects the score and offers a comment).
fn feedback_ask(s: &Reader<'_>, complaint_url: &str) -> Result<FeedbackAsk, RenderError> {
    Ok(FeedbackAsk {
        question: s.text("feedback.question")?.to_owned(),
        scale: s.text("feedback.scale")?.to_owned(),
        links: (1..=5)
            .map(|score| Link {
                label: score.to_string(),
                url: format!("{complaint_url}?feedback={score}#feedback"),
            })
            .collect(),
        comment: s.text("feedback.comment")?.to_owned(),
    })
}

fn invitation(
    s: &Reader<'_>,
    public_url: &str,
    facts: &MailFacts,
    side: Side,
) -> Result<View, RenderError> {
    let invited_as = facts
        .invitation
        .as_ref()
        .and_then(|i| Side::of(&i.role))
        .unwrap_or(side);
    let shop = facts
        .invitation
        .as_ref()
        .and_then(|i| i.retailer_name.as_deref())
        .map(format::one_line)
        .filter(|n| !n.is_empty());
    let vars = Vars::from([
        (
            "shop",
            match shop.clone() {
                Some(name) => name,
                None => s.text("common.your_shop")?.to_owned(),
            },
        ),
        ("name", format::one_line(&facts.recipient_name)),
    ]);
    let base = text_base(s, "invitation", invited_as, false)?;
    let paragraphs = fill_list(s, &format!("{base}.body"), &vars)?;
    let details = match shop {
        Some(name) => vec![Detail {
            label: s.text("labels.shop")?.to_owned(),
            value: name,
        }],
        None => Vec::new(),
    };
    Ok(View {
        lang: s.locale.code(),
        colon: s.text("common.colon")?.to_owned(),
        subject: format::subject(None, &s.fill(&format!("{base}.subject"), &vars)?),
        reference: None,
        preheader: paragraphs.first().cloned().unwrap_or_default(),
        headline: s.fill(&format!("{base}.headline"), &vars)?,
        greeting: greeting(s, &facts.recipient_name)?,
        paragraphs,
        details_title: s.text("common.details")?.to_owned(),
        details,
        quotes: Vec::new(),
        status: None,
        action: Link {
            label: s.text("common.open_sign_in")?.to_owned(),
            url: format!("{public_url}/sign-in"),
        },
        link_hint: s.text("common.link_hint")?.to_owned(),
        no_reply: s.text("common.no_reply_invitation")?.to_owned(),
        sign_in: None,
        signature: s.list("common.signature")?.to_vec(),
        feedback: None,
    })
}

/// A single-use sign-in link (about no complaint): kind and short. As
/// `guest_filing` it also sends the complaint the person filed without an
/// account to the shop it names.
fn magic_link(s: &Reader<'_>, facts: &MailFacts) -> Result<View, RenderError> {
    let link = facts.magic_link.as_ref().ok_or(RenderError::MissingFacts {
        template: facts.template.clone(),
        missing: "magic_link",
    })?;
    let vars = Vars::from([
        ("minutes", link.valid_minutes.max(1).to_string()),
        ("name", format::one_line(&facts.recipient_name)),
        (
            "shop",
            format::one_line(link.shop_name.as_deref().unwrap_or_default()),
        ),
    ]);
    let base = if facts.template == "guest_filing" {
        "template.guest_filing.other"
    } else {
        "template.magic_link.other"
    };
    let paragraphs = fill_list(s, &format!("{base}.body"), &vars)?;
    Ok(View {
        lang: s.locale.code(),
        colon: s.text("common.colon")?.to_owned(),
        subject: format::subject(None, &s.fill(&format!("{base}.subject"), &vars)?),
        reference: None,
        preheader: paragraphs.first().cloned().unwrap_or_default(),
        headline: s.fill(&format!("{base}.headline"), &vars)?,
        greeting: greeting(s, &facts.recipient_name)?,
        paragraphs,
        details_title: s.text("common.details")?.to_owned(),
        details: Vec::new(),
        quotes: Vec::new(),
        status: None,
        action: Link {
            label: s.text(&format!("{base}.button"))?.to_owned(),
            url: link.url.clone(),
        },
        link_hint: s.text("common.link_hint")?.to_owned(),
        no_reply: s.text(&format!("{base}.no_reply"))?.to_owned(),
        sign_in: None,
        signature: s.list("common.signature")?.to_vec(),
        feedback: None,
    })
}

/// The state in words is keyed by the state, by how a closed complaint
/// ended, and by whether an escalated one still waits for its mediator.
fn state_key(c: &ComplaintFacts) -> Result<&'static str, RenderError> {
    Ok(match ComplaintState::parse(&c.state)? {
        ComplaintState::Closed => match c.outcome.as_deref().map(Outcome::parse).transpose()? {
            Some(outcome) => outcome.code(),
            None => "closed",
        },
        ComplaintState::Escalated if c.mediator_name.is_none() => "escalated_waiting",
        state => state.code(),
    })
}

/// `template.<name>.<role>`: the recipient's own texts, else the shared ones.
fn text_base(
    s: &Reader<'_>,
    template: &str,
    side: Side,
    waiting: bool,
) -> Result<String, RenderError> {
    let mut roles = Vec::with_capacity(3);
    if waiting {
        roles.push(format!("{}_waiting", side.key()));
    }
    roles.push(side.key().to_owned());
    roles.push("other".to_owned());
    let keys: Vec<String> = roles
        .iter()
        .map(|r| format!("template.{template}.{r}.subject"))
        .collect();
    let key = s.first_key(&keys)?;
    Ok(key.trim_end_matches(".subject").to_owned())
}

fn fill_list(s: &Reader<'_>, key: &str, vars: &Vars) -> Result<Vec<String>, RenderError> {
    s.list(key)?
        .iter()
        .map(|text| s.fill_text(key, text, vars))
        .collect()
}

fn greeting(s: &Reader<'_>, name: &str) -> Result<String, RenderError> {
    let name = format::one_line(name);
    if name.is_empty() {
        return Ok(s.text("common.greeting_plain")?.to_owned());
    }
    s.fill("common.greeting", &Vars::from([("name", name)]))
}

fn split_at_url(sentence: &str) -> (&str, &str) {
    sentence.split_once("{url}").unwrap_or((sentence, ""))
}

/// A complaint id as one URL path segment (ids are UUIDs; this only keeps
/// anything unexpected from breaking out of the link).
fn path_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
