//! The complaint as the API shows it to one viewer at one moment: what the
//! HTTP answers carry and what a webhook delivery's `data.complaint` holds
//! (built in the event's transaction, as the complaint was then).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::actor::Actor;
use crate::money::Money;
use crate::taxonomy::{Category, Remedy};

use super::aggregate::Complaint;
use super::facts::{Escalation, Item, Offer, Ruling};
use super::policy::{Calendar, Policy};
use super::vocabulary::{ComplaintState, Outcome};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NextDeadline {
    pub kind: &'static str,
    pub at: DateTime<Utc>,
    /// `retailer_staff`, `customer` or `mediator`.
    pub who_must_act: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplaintView {
    pub id: String,
    pub reference: String,
    pub state: ComplaintState,
    pub outcome: Option<Outcome>,
    pub category: Category,
    pub desired_remedy: Remedy,
    pub claimed_amount: Option<Money>,
    pub currency: &'static str,
    pub description: String,
    pub order_reference: String,
    pub locale: &'static str,
    pub items: Vec<Item>,
    pub retailer_id: String,
    pub customer_id: String,
    pub mediator_id: Option<String>,
    pub mediator_name: Option<String>,
    pub current_offer: Option<Offer>,
    pub offers: Vec<Offer>,
    pub escalation: Option<Escalation>,
    pub ruling: Option<Ruling>,
    /// The deadlines that run now, by name (`acknowledge_by`, `offer_by`,
    /// `expires_at`, `fulfil_by`, `decide_by`).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = std::collections::BTreeMap<String, DateTime<Utc>>)
    )]
    pub deadlines: serde_json::Map<String, serde_json::Value>,
    pub next_deadline: Option<NextDeadline>,
    pub allowed_actions: Vec<&'static str>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ComplaintView {
    /// `complaint` at `version` as `viewer` sees it at `now`: the actions
    /// it lists are those `viewer` could take then.
    pub fn new(
        complaint: &Complaint,
        version: i64,
        viewer: &Actor,
        now: DateTime<Utc>,
        policy: &Policy,
        calendar: &Calendar,
    ) -> ComplaintView {
        let c = complaint;
        let f = c.facts();
        let running = c.running_deadlines();
        let deadlines = running
            .iter()
            .map(|(k, at)| (k.code().to_owned(), serde_json::json!(at)))
            .collect();
        ComplaintView {
            id: f.id.clone(),
            reference: f.reference.clone(),
            state: c.state(),
            outcome: c.outcome(),
            category: f.category,
            desired_remedy: f.desired_remedy,
            claimed_amount: f.claimed_amount,
            currency: f.currency.code(),
            description: f.description.clone(),
            order_reference: f.order_reference.clone(),
            locale: f.locale.code(),
            items: f.items.clone(),
            retailer_id: f.retailer_id.clone(),
            customer_id: f.customer_id.clone(),
            mediator_id: f.mediator.as_ref().map(|m| m.id.clone()),
            mediator_name: f.mediator.as_ref().map(|m| m.display_name.clone()),
            current_offer: f.current_offer().cloned(),
            offers: f.offers.clone(),
            escalation: f.escalation.clone(),
            ruling: f.ruling.clone(),
            deadlines,
            next_deadline: running.first().map(|(k, at)| NextDeadline {
                kind: k.code(),
                at: *at,
                who_must_act: c.who_must_act().map(|r| r.code()),
            }),
            allowed_actions: c
                .allowed_actions(viewer, now, policy, calendar)
                .into_iter()
                .map(|a| a.code())
                .collect(),
            version,
            created_at: f.created_at,
            updated_at: c.updated_at(),
        }
    }
}
