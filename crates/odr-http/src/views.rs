//! The JSON shapes the API answers with, built from domain and store types.

use chrono::{DateTime, Utc};
use odr_domain::complaint::{Complaint, ComplaintState, Escalation, Item, Offer, Outcome, Ruling};
use odr_domain::money::Money;
use odr_domain::taxonomy::{Category, Remedy};
use odr_store::{Retailer, StoredComplaint, User};
use serde::Serialize;

use crate::caller::Caller;
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeView {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: &'static str,
    pub retailer_id: Option<String>,
    pub locale: &'static str,
    pub time_zone: String,
}

impl From<&User> for MeView {
    fn from(u: &User) -> MeView {
        MeView {
            id: u.id.clone(),
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            role: u.role.code(),
            retailer_id: u.retailer_id.clone(),
            locale: u.locale.code(),
            time_zone: u.time_zone.clone(),
        }
    }
}

/// A retailer as its staff and admins see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RetailerView {
    pub id: String,
    pub name: String,
    pub support_email: String,
    pub locale: &'static str,
    pub currency: &'static str,
    pub time_zone: String,
    pub business_days: bool,
    pub holidays: Vec<chrono::NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Retailer> for RetailerView {
    fn from(r: &Retailer) -> RetailerView {
        RetailerView {
            id: r.id.clone(),
            name: r.name.clone(),
            support_email: r.support_email.clone(),
            locale: r.locale.code(),
            currency: r.currency.code(),
            time_zone: r.time_zone.clone(),
            business_days: r.business_days,
            holidays: r.holidays.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A retailer in the public directory: never its support address.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicRetailerView {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffView {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub retailer_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&User> for StaffView {
    fn from(u: &User) -> StaffView {
        StaffView {
            id: u.id.clone(),
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            retailer_id: u.retailer_id.clone(),
            created_at: u.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NextDeadline {
    pub kind: &'static str,
    pub at: DateTime<Utc>,
    /// `retailer_staff`, `customer` or `mediator`.
    pub who_must_act: Option<&'static str>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
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
    #[schema(value_type = std::collections::BTreeMap<String, DateTime<Utc>>)]
    pub deadlines: serde_json::Map<String, serde_json::Value>,
    pub next_deadline: Option<NextDeadline>,
    pub allowed_actions: Vec<&'static str>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ComplaintView {
    pub fn build(
        stored: &StoredComplaint,
        caller: &Caller,
        state: &AppState,
        retailer: Option<&Retailer>,
    ) -> ComplaintView {
        let c: &Complaint = &stored.complaint;
        let f = c.facts();
        let now = state.clock.now();
        let calendar = retailer.map(Retailer::calendar).unwrap_or_default();
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
                .allowed_actions(&caller.actor(), now, &state.policy, &calendar)
                .into_iter()
                .map(|a| a.code())
                .collect(),
            version: stored.version,
            created_at: f.created_at,
            updated_at: c.updated_at(),
        }
    }
}
