//! The JSON shapes the API answers with, built from domain and store types.

use chrono::{DateTime, Utc};
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

/// The complaint view lives in the domain, which also builds it for
/// webhook deliveries (as the retailer's staff see it at the event).
pub use odr_domain::complaint::ComplaintView;

/// The complaint as `caller` sees it now.
pub fn complaint_view(
    stored: &StoredComplaint,
    caller: &Caller,
    state: &AppState,
    retailer: Option<&Retailer>,
) -> ComplaintView {
    let calendar = retailer.map(Retailer::calendar).unwrap_or_default();
    ComplaintView::new(
        &stored.complaint,
        stored.version,
        &caller.actor(),
        state.clock.now(),
        &state.policy,
        &calendar,
    )
}
