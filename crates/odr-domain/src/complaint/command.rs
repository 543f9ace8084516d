//! The events a complaint's machine takes, with their payloads as the
//! caller sent them (codes already parsed; amounts and texts checked by the
//! machine against the complaint).

use chrono::{DateTime, Utc};

use crate::locale::Locale;
use crate::money::MoneyInput;
use crate::taxonomy::{Category, EscalationReason, Phrase, RejectionReason, Remedy};

use super::facts::{InFavourOf, MediatorRef};
use super::vocabulary::{Action, EventKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Acknowledge {
        message: Option<String>,
    },
    Propose(OfferTerms),
    Accept {
        offer_id: Option<String>,
    },
    Reject {
        reason: RejectionReason,
        counter_remedy: Option<Remedy>,
        message: Option<String>,
    },
    Escalate {
        reason: EscalationReason,
        message: Option<String>,
    },
    Fulfil {
        message: Option<String>,
    },
    AssignMediator {
        mediator: MediatorRef,
    },
    Decide(RulingTerms),
    Withdraw {
        reason: Option<String>,
    },
    /// The engine acting on the deadline that runs in the current state.
    DeadlinePassed,
    /// The engine reminding the party who must act that a deadline nears.
    Remind,
    Message {
        body: Option<String>,
        phrase_codes: Vec<Phrase>,
        /// Attachments of this complaint the message points at (the
        /// caller has checked that they exist).
        attachment_ids: Vec<String>,
    },
    /// A file of evidence, already stored and checked by the caller.
    Attach(Evidence),
    /// The customer's rating of a closed complaint (1 to 5), once.
    Feedback {
        /// As sent; the machine checks that it lies in 1..=5.
        score: i64,
        comment: Option<String>,
    },
}

/// What an uploaded file is, as the log and the attachment row keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub attachment_id: String,
    /// The client's name, sanitised; for display only.
    pub file_name: String,
    /// Found from the content, never taken from the client.
    pub content_type: String,
    pub size: i64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    pub caption: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferTerms {
    pub remedy: Remedy,
    pub amount: Option<MoneyInput>,
    pub message: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulingTerms {
    pub in_favour_of: InFavourOf,
    pub remedy: Option<Remedy>,
    pub amount: Option<MoneyInput>,
    pub reasoning: String,
}

/// What a customer files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filing {
    pub retailer_id: String,
    pub order_reference: String,
    pub category: Category,
    pub desired_remedy: Remedy,
    pub claimed_amount: Option<MoneyInput>,
    pub description: String,
    pub locale: Option<Locale>,
    pub items: Vec<ItemInput>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInput {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
}

impl Command {
    /// The action name a caller would use for this event, if any.
    pub fn action(&self) -> Option<Action> {
        Some(match self {
            Command::Acknowledge { .. } => Action::Acknowledge,
            Command::Propose(_) => Action::Propose,
            Command::Accept { .. } => Action::Accept,
            Command::Reject { .. } => Action::Reject,
            Command::Escalate { .. } => Action::Escalate,
            Command::Fulfil { .. } => Action::Fulfil,
            Command::AssignMediator { .. } => Action::AssignMediator,
            Command::Decide(_) => Action::Decide,
            Command::Withdraw { .. } => Action::Withdraw,
            Command::Feedback { .. } => Action::Feedback,
            Command::DeadlinePassed
            | Command::Remind
            | Command::Message { .. }
            | Command::Attach(_) => return None,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Command::DeadlinePassed => EventKind::DeadlinePassed.code(),
            Command::Remind => EventKind::Reminder.code(),
            Command::Message { .. } => EventKind::Message.code(),
            Command::Attach(_) => EventKind::Attachment.code(),
            other => other.action().map_or("event", Action::code),
        }
    }
}
