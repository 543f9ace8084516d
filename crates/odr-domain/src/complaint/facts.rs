//! What the machine knows about one complaint: the statig shared storage,
//! serialized whole into the store beside the state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::Role;

use super::vocabulary::DeadlineKind;
use crate::locale::Locale;
use crate::money::{Currency, Money};
use crate::taxonomy::{Category, EscalationReason, RejectionReason, Remedy};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintFacts {
    pub id: String,
    pub reference: String,
    pub retailer_id: String,
    pub customer_id: String,
    pub mediator: Option<MediatorRef>,
    pub order_reference: String,
    pub category: Category,
    pub desired_remedy: Remedy,
    pub claimed_amount: Option<Money>,
    /// Fixed at filing; offers and rulings use it.
    pub currency: Currency,
    pub description: String,
    pub locale: Locale,
    pub items: Vec<Item>,
    pub offers: Vec<Offer>,
    pub deadlines: Deadlines,
    pub escalation: Option<Escalation>,
    pub ruling: Option<Ruling>,
    pub created_at: DateTime<Utc>,
    /// The customer's rating once the complaint closed; given at most once.
    #[serde(default)]
    pub feedback: Option<Feedback>,
}

impl ComplaintFacts {
    /// The offer on the table (state `proposed`) or the accepted one.
    pub fn current_offer(&self) -> Option<&Offer> {
        self.offers
            .last()
            .filter(|o| matches!(o.status, OfferStatus::Pending | OfferStatus::Accepted))
    }

    pub fn current_offer_mut(&mut self) -> Option<&mut Offer> {
        self.offers
            .last_mut()
            .filter(|o| matches!(o.status, OfferStatus::Pending | OfferStatus::Accepted))
    }

    pub fn offers_made(&self) -> u32 {
        u32::try_from(self.offers.len()).unwrap_or(u32::MAX)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediatorRef {
    pub id: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Item {
    pub sku: String,
    pub name: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OfferStatus {
    Pending,
    Accepted,
    Rejected,
    Lapsed,
    /// Taken off the table by an escalation or a withdrawal.
    Superseded,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Offer {
    pub id: String,
    /// 1 for the first offer; at most `max_offers`.
    pub round: u32,
    pub remedy: Remedy,
    pub amount: Option<Money>,
    pub message: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub status: OfferStatus,
    pub created_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub rejection: Option<Rejection>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rejection {
    pub reason: RejectionReason,
    pub counter_remedy: Option<Remedy>,
    pub message: Option<String>,
}

/// The deadlines of lifecycle.md, set as the complaint moves; which of them
/// runs depends on the state (see `Complaint::running_deadlines`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    pub acknowledge_by: Option<DateTime<Utc>>,
    pub offer_by: Option<DateTime<Utc>>,
    pub fulfil_by: Option<DateTime<Utc>>,
    pub decide_by: Option<DateTime<Utc>>,
    /// After `decide_by` passed: when admins are reminded next.
    pub decision_reminder_at: Option<DateTime<Utc>>,
    /// Deadlines whose reminder went out: each is reminded once.
    #[serde(default)]
    pub reminded: Vec<DeadlineMark>,
}

/// One deadline, by its name and the instant it falls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineMark {
    pub kind: DeadlineKind,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Escalation {
    pub reason: EscalationReason,
    pub by: Role,
    pub message: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum InFavourOf {
    Customer,
    Retailer,
    Split,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ruling {
    pub in_favour_of: InFavourOf,
    pub remedy: Option<Remedy>,
    pub amount: Option<Money>,
    pub reasoning: String,
    pub mediator_id: String,
    pub decided_at: DateTime<Utc>,
}

/// How satisfied the customer was with a closed complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// 1 (not at all satisfied) to 5 (very satisfied).
    pub score: u8,
    pub comment: Option<String>,
    pub given_at: DateTime<Utc>,
}
