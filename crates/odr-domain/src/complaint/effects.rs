//! What an accepted event hands back for the store to write in the same
//! transaction: one event-log row and the notifications it causes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::Role;

use super::vocabulary::{ComplaintState, EventKind};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRecord {
    pub seq: i64,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub actor_id: Option<String>,
    pub actor_role: Role,
    pub from_state: Option<ComplaintState>,
    pub to_state: ComplaintState,
    pub payload: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// Who a notification goes to; the store resolves it to an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Recipient {
    Customer,
    /// The retailer's support address.
    Retailer,
    Mediator(String),
    /// Every active admin.
    Admins,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationTemplate {
    /// To the retailer: a new complaint arrived.
    ComplaintFiled,
    /// To the customer: the receipt with the reference.
    ComplaintReceipt,
    Acknowledged,
    OfferProposed,
    OfferAccepted,
    OfferRejected,
    Escalated,
    MediatorAssigned,
    Decided,
    Withdrawn,
    Fulfilled,
    Lapsed,
    MessageAdded,
    DecisionOverdue,
    /// To the party who must act: a deadline nears.
    DeadlineReminder,
}

impl NotificationTemplate {
    pub fn code(self) -> &'static str {
        match self {
            NotificationTemplate::ComplaintFiled => "complaint_filed",
            NotificationTemplate::ComplaintReceipt => "complaint_receipt",
            NotificationTemplate::Acknowledged => "acknowledged",
            NotificationTemplate::OfferProposed => "offer_proposed",
            NotificationTemplate::OfferAccepted => "offer_accepted",
            NotificationTemplate::OfferRejected => "offer_rejected",
            NotificationTemplate::Escalated => "escalated",
            NotificationTemplate::MediatorAssigned => "mediator_assigned",
            NotificationTemplate::Decided => "decided",
            NotificationTemplate::Withdrawn => "withdrawn",
            NotificationTemplate::Fulfilled => "fulfilled",
            NotificationTemplate::Lapsed => "lapsed",
            NotificationTemplate::MessageAdded => "message_added",
            NotificationTemplate::DecisionOverdue => "decision_overdue",
            NotificationTemplate::DeadlineReminder => "deadline_reminder",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub template: NotificationTemplate,
    pub to: Recipient,
}
