//! What a mail says, fixed when the event happened and stored as the outbox
//! row's payload: rendering later needs no database and shows exactly what
//! was true at that moment.

use chrono::{DateTime, Utc};
use odr_domain::money::Money;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailFacts {
    /// `complaint_filed`, `complaint_receipt`, `acknowledged`,
    /// `offer_proposed`, `offer_accepted`, `offer_rejected`, `escalated`,
    /// `mediator_assigned`, `decided`, `withdrawn`, `fulfilled`, `lapsed`,
    /// `message_added`, `decision_overdue`, `deadline_reminder`, `invitation`,
    /// `magic_link`.
    pub template: String,
    /// `customer`, `retailer` (the support address), `retailer_staff`
    /// (a person of the retailer, for invitations), `mediator`, `admin`.
    pub recipient_role: String,
    /// The person's display name, or the retailer's name for its support address.
    pub recipient_name: String,
    /// en, de, fr, es or sk.
    pub locale: String,
    /// IANA zone in which the recipient reads times.
    pub time_zone: String,
    /// Absent for mails about no complaint (invitations).
    pub complaint: Option<ComplaintFacts>,
    /// For invitations: who invites, to which retailer.
    pub invitation: Option<InvitationFacts>,
    /// For `magic_link`: the sign-in link and how long it is valid.
    #[serde(default)]
    pub magic_link: Option<MagicLinkFacts>,
    /// For `webhook_disabled`: the endpoint the engine stopped calling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookFacts>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookFacts {
    pub url: String,
    pub retailer_id: String,
    /// When its deliveries began to fail, and when it was disabled.
    pub failing_since: DateTime<Utc>,
    pub disabled_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MagicLinkFacts {
    /// `{public_url}/sign-in?token=...`: single use.
    pub url: String,
    pub expires_at: DateTime<Utc>,
    /// The link's lifetime in whole minutes (at least 1).
    pub valid_minutes: i64,
    /// The shop a complaint filed without an account is about (template
    /// `guest_filing`); `None` for a plain sign-in link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplaintFacts {
    pub id: String,
    pub reference: String,
    pub retailer_name: String,
    pub customer_name: String,
    pub order_reference: String,
    /// Taxonomy codes.
    pub category: String,
    pub desired_remedy: String,
    pub claimed_amount: Option<Money>,
    /// The event that caused the mail.
    pub event_type: String,
    pub event_seq: i64,
    pub event_at: DateTime<Utc>,
    /// `customer`, `retailer_staff`, `mediator`, `admin` or `system`.
    pub actor_role: String,
    /// State after the event, and the outcome when closed.
    pub state: String,
    pub outcome: Option<String>,
    /// `retailer_staff`, `customer` or `mediator`; none when closed.
    pub who_must_act: Option<String>,
    /// The deadline that runs now (`acknowledge_by`, `offer_by`,
    /// `expires_at`, `fulfil_by`, `decide_by`) and its instant.
    pub next_deadline: Option<DeadlineFacts>,
    pub offer: Option<OfferFacts>,
    pub rejection: Option<RejectionFacts>,
    pub escalation_reason: Option<String>,
    pub mediator_name: Option<String>,
    pub ruling: Option<RulingFacts>,
    pub message: Option<MessageFacts>,
    /// For `deadline_reminder`: the deadline the recipient must meet.
    pub reminder: Option<DeadlineFacts>,
    /// Free text a party wrote with the event (acknowledge, fulfil,
    /// withdraw reason), if any.
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadlineFacts {
    pub kind: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfferFacts {
    pub round: u32,
    pub max_offers: u32,
    pub remedy: String,
    pub amount: Option<Money>,
    pub message: Option<String>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectionFacts {
    pub reason: String,
    pub counter_remedy: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulingFacts {
    /// `customer`, `retailer` or `split`.
    pub in_favour_of: String,
    pub remedy: Option<String>,
    pub amount: Option<Money>,
    pub reasoning: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageFacts {
    pub author_role: String,
    pub body: Option<String>,
    pub phrase_codes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvitationFacts {
    pub retailer_name: Option<String>,
    pub role: String,
}

/// The complaint part of every mail one transition causes.
pub(crate) fn about_complaint(
    t: &odr_domain::complaint::Transition,
    retailer_name: &str,
    customer_name: &str,
) -> ComplaintFacts {
    use odr_domain::complaint::EventKind;
    use odr_domain::taxonomy::Code;

    let c = &t.complaint;
    let f = c.facts();
    let p = &t.record.payload;
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    let offer = f.current_offer().map(|o| OfferFacts {
        round: o.round,
        max_offers: p
            .get("max_offers")
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(o.round),
        remedy: o.remedy.code().to_owned(),
        amount: o.amount,
        message: o.message.clone(),
        expires_at: o.expires_at,
    });
    let rejection = (t.record.kind == EventKind::Reject)
        .then(|| f.offers.iter().rev().find_map(|o| o.rejection.clone()))
        .flatten()
        .map(|r| RejectionFacts {
            reason: r.reason.code().to_owned(),
            counter_remedy: r.counter_remedy.map(|x| x.code().to_owned()),
            message: r.message,
        });
    let message = (t.record.kind == EventKind::Message).then(|| MessageFacts {
        author_role: t.record.actor_role.code().to_owned(),
        body: text(&p["body"]),
        phrase_codes: p["phrase_codes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    });
    let reminder = (t.record.kind == EventKind::Reminder)
        .then(|| {
            Some(DeadlineFacts {
                kind: text(&p["deadline"])?,
                at: serde_json::from_value(p["at"].clone()).ok()?,
            })
        })
        .flatten();
    let note = match t.record.kind {
        EventKind::Acknowledge | EventKind::Fulfil | EventKind::Escalate => text(&p["message"]),
        EventKind::Withdraw => text(&p["reason"]),
        _ => None,
    };
    ComplaintFacts {
        id: f.id.clone(),
        reference: f.reference.clone(),
        retailer_name: retailer_name.to_owned(),
        customer_name: customer_name.to_owned(),
        order_reference: f.order_reference.clone(),
        category: f.category.code().to_owned(),
        desired_remedy: f.desired_remedy.code().to_owned(),
        claimed_amount: f.claimed_amount,
        event_type: t.record.kind.code().to_owned(),
        event_seq: t.record.seq,
        event_at: t.record.at,
        actor_role: t.record.actor_role.code().to_owned(),
        state: c.state().code().to_owned(),
        outcome: c.outcome().map(|o| o.code().to_owned()),
        who_must_act: c.who_must_act().map(|r| r.code().to_owned()),
        next_deadline: c.running_deadlines().first().map(|(k, at)| DeadlineFacts {
            kind: k.code().to_owned(),
            at: *at,
        }),
        offer,
        rejection,
        escalation_reason: f.escalation.as_ref().map(|e| e.reason.code().to_owned()),
        mediator_name: f.mediator.as_ref().map(|m| m.display_name.clone()),
        ruling: f.ruling.as_ref().map(|r| RulingFacts {
            in_favour_of: match r.in_favour_of {
                odr_domain::complaint::InFavourOf::Customer => "customer",
                odr_domain::complaint::InFavourOf::Retailer => "retailer",
                odr_domain::complaint::InFavourOf::Split => "split",
            }
            .to_owned(),
            remedy: r.remedy.map(|x| x.code().to_owned()),
            amount: r.amount,
            reasoning: r.reasoning.clone(),
        }),
        message,
        reminder,
        note,
    }
}
