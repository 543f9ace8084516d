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
    },
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
            Command::DeadlinePassed | Command::Remind | Command::Message { .. } => return None,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Command::DeadlinePassed => EventKind::DeadlinePassed.code(),
            Command::Remind => EventKind::Reminder.code(),
            Command::Message { .. } => EventKind::Message.code(),
            other => other.action().map_or("event", Action::code),
        }
    }
}
