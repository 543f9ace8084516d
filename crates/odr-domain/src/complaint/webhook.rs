//! Which webhook a logged event is announced as (api.md, "Shop
//! integration"). A deadline that acts is announced as the state it leads
//! to; reminders, attachments and feedback are announced as nothing (the
//! spec's list of types names none of them).

use serde::{Deserialize, Serialize};

use super::effects::EventRecord;
use super::vocabulary::{ComplaintState, EventKind};
use crate::taxonomy::UnknownCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum WebhookType {
    #[serde(rename = "complaint.filed")]
    Filed,
    #[serde(rename = "complaint.acknowledged")]
    Acknowledged,
    #[serde(rename = "complaint.offer_proposed")]
    OfferProposed,
    #[serde(rename = "complaint.offer_accepted")]
    OfferAccepted,
    #[serde(rename = "complaint.offer_rejected")]
    OfferRejected,
    #[serde(rename = "complaint.escalated")]
    Escalated,
    #[serde(rename = "complaint.mediator_assigned")]
    MediatorAssigned,
    #[serde(rename = "complaint.decided")]
    Decided,
    #[serde(rename = "complaint.fulfilled")]
    Fulfilled,
    #[serde(rename = "complaint.withdrawn")]
    Withdrawn,
    #[serde(rename = "complaint.lapsed")]
    Lapsed,
    #[serde(rename = "complaint.message_added")]
    MessageAdded,
}

impl WebhookType {
    pub const ALL: &'static [WebhookType] = &[
        WebhookType::Filed,
        WebhookType::Acknowledged,
        WebhookType::OfferProposed,
        WebhookType::OfferAccepted,
        WebhookType::OfferRejected,
        WebhookType::Escalated,
        WebhookType::MediatorAssigned,
        WebhookType::Decided,
        WebhookType::Fulfilled,
        WebhookType::Withdrawn,
        WebhookType::Lapsed,
        WebhookType::MessageAdded,
    ];

    pub fn code(self) -> &'static str {
        match self {
            WebhookType::Filed => "complaint.filed",
            WebhookType::Acknowledged => "complaint.acknowledged",
            WebhookType::OfferProposed => "complaint.offer_proposed",
            WebhookType::OfferAccepted => "complaint.offer_accepted",
            WebhookType::OfferRejected => "complaint.offer_rejected",
            WebhookType::Escalated => "complaint.escalated",
            WebhookType::MediatorAssigned => "complaint.mediator_assigned",
            WebhookType::Decided => "complaint.decided",
            WebhookType::Fulfilled => "complaint.fulfilled",
            WebhookType::Withdrawn => "complaint.withdrawn",
            WebhookType::Lapsed => "complaint.lapsed",
            WebhookType::MessageAdded => "complaint.message_added",
        }
    }

    pub fn parse(code: &str) -> Result<WebhookType, UnknownCode> {
        WebhookType::ALL
            .iter()
            .copied()
            .find(|t| t.code() == code)
            .ok_or_else(|| UnknownCode {
                kind: "webhook event type",
                code: code.to_owned(),
            })
    }

    /// The webhook `record` is announced as, if any.
    pub fn of(record: &EventRecord) -> Option<WebhookType> {
        Some(match record.kind {
            EventKind::File => WebhookType::Filed,
            EventKind::Acknowledge => WebhookType::Acknowledged,
            EventKind::Propose => WebhookType::OfferProposed,
            EventKind::Accept => WebhookType::OfferAccepted,
            EventKind::Reject => WebhookType::OfferRejected,
            EventKind::Escalate => WebhookType::Escalated,
            EventKind::AssignMediator => WebhookType::MediatorAssigned,
            EventKind::Decide => WebhookType::Decided,
            EventKind::Fulfil => WebhookType::Fulfilled,
            EventKind::Withdraw => WebhookType::Withdrawn,
            EventKind::Message => WebhookType::MessageAdded,
            EventKind::DeadlinePassed => return deadline_type(record),
            EventKind::Attachment | EventKind::Reminder | EventKind::Feedback => return None,
        })
    }
}

/// A deadline that escalates is `complaint.escalated`, one that lapses an
/// offer `complaint.lapsed`; an overdue decision changes nothing and is
/// announced as nothing.
fn deadline_type(record: &EventRecord) -> Option<WebhookType> {
    match (record.from_state, record.to_state) {
        (Some(ComplaintState::Escalated), _) => None,
        (_, ComplaintState::Escalated) => Some(WebhookType::Escalated),
        // The only deadline that closes is an offer that expired.
        (_, ComplaintState::Closed) => Some(WebhookType::Lapsed),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Role;

    fn record(kind: EventKind, from: ComplaintState, to: ComplaintState) -> EventRecord {
        EventRecord {
            seq: 2,
            kind,
            actor_id: None,
            actor_role: Role::System,
            from_state: Some(from),
            to_state: to,
            payload: serde_json::json!({}),
            at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn deadlines_are_announced_as_the_state_they_lead_to() {
        use ComplaintState::*;
        let of = |from, to| WebhookType::of(&record(EventKind::DeadlinePassed, from, to));
        assert_eq!(of(Filed, Escalated), Some(WebhookType::Escalated));
        assert_eq!(of(Accepted, Escalated), Some(WebhookType::Escalated));
        assert_eq!(of(Proposed, Closed), Some(WebhookType::Lapsed));
        assert_eq!(of(Escalated, Escalated), None);
    }

    #[test]
    fn reminders_attachments_and_feedback_send_nothing() {
        use ComplaintState::*;
        for kind in [
            EventKind::Reminder,
            EventKind::Attachment,
            EventKind::Feedback,
        ] {
            assert_eq!(WebhookType::of(&record(kind, Filed, Filed)), None);
        }
    }

    #[test]
    fn every_type_parses_back_from_its_code() {
        for t in WebhookType::ALL {
            assert_eq!(WebhookType::parse(t.code()).ok(), Some(*t));
            assert_eq!(
                serde_json::to_value(t).ok(),
                Some(serde_json::json!(t.code()))
            );
        }
        assert!(WebhookType::parse("complaint.reminded").is_err());
    }
}
