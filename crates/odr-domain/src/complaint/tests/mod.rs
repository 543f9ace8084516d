//! The machine on its own: journeys of lifecycle.md and properties over
//! random sequences of (event, actor).

mod journeys;
mod properties;

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::actor::Actor;
use crate::locale::Locale;
use crate::money::{Currency, MoneyInput};
use crate::taxonomy::{Category, Remedy};

pub(super) const CUSTOMER: &str = "cust-1";
pub(super) const RETAILER: &str = "shop-1";

pub(super) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
        .single()
        .expect("valid instant")
}

pub(super) fn customer() -> Actor {
    Actor::customer(CUSTOMER)
}

pub(super) fn staff() -> Actor {
    Actor::retailer_staff("staff-1", RETAILER)
}

pub(super) fn filing() -> Filing {
    Filing {
        retailer_id: RETAILER.into(),
        order_reference: "A-1001".into(),
        category: Category::Damaged,
        desired_remedy: Remedy::PartialRefund,
        claimed_amount: Some(MoneyInput {
            amount_minor: 2500,
            currency: "EUR".into(),
        }),
        description: "The mug arrived in pieces.".into(),
        locale: None,
        items: vec![],
    }
}

pub(super) fn filed(policy: &Policy) -> Complaint {
    Complaint::file(
        &filing(),
        &customer(),
        NewComplaint {
            id: "c-1".into(),
            reference: "ODR-7Q4K-92XD".into(),
            retailer_currency: Currency::default(),
            customer_locale: Locale::Sk,
        },
        t0(),
        policy,
        &Calendar::default(),
    )
    .expect("a valid filing is accepted")
    .complaint
}
