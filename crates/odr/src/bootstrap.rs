//! The first admin (from settings or `odr create-admin`) and the demo data
//! of `odr seed-demo`. Both are idempotent.

use chrono::Utc;
use odr_domain::complaint::{Complaint, Filing, NewComplaint};
use odr_domain::locale::Locale;
use odr_domain::money::{Currency, MoneyInput};
use odr_domain::taxonomy::{Category, Remedy};
use odr_domain::{reference, Actor, Role};
use odr_http::auth::password::{normalize_email, validate_password, PasswordHasher};
use odr_store::{NewRetailer, NewUser, Store, StoreError, User};
use rand::Rng;

use crate::config::Settings;
use crate::serve::{policy, Failure};

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Creates the person unless the email is taken; returns the account.
fn ensure_person(
    store: &Store,
    email: &str,
    password: &str,
    display_name: &str,
    role: Role,
    retailer_id: Option<String>,
) -> Result<(User, bool), Failure> {
    let email = normalize_email(email).map_err(|e| e.message)?;
    if let Some(existing) = store.user_by_email(&email)? {
        return Ok((existing, false));
    }
    validate_password(password).map_err(|e| e.message)?;
    let hash = PasswordHasher::production().hash(password)?;
    let new = NewUser {
        email: email.clone(),
        password_hash: Some(hash),
        display_name: display_name.to_owned(),
        role,
        retailer_id,
        locale: Locale::En,
        time_zone: "UTC".into(),
    };
    match store.create_user(new, new_id(), Utc::now()) {
        Ok(user) => Ok((user, true)),
        // Another process created it at the same moment.
        Err(StoreError::Conflict(_)) => Ok((
            store.user_by_email(&email)?.ok_or("account vanished")?,
            false,
        )),
        Err(e) => Err(e.into()),
    }
}

pub fn create_admin(
    store: &Store,
    email: &str,
    password: &str,
    display_name: &str,
) -> Result<bool, Failure> {
    let (user, created) = ensure_person(store, email, password, display_name, Role::Admin, None)?;
    if !created && user.role != Role::Admin {
        return Err(format!("{email} already has an account as {}", user.role).into());
    }
    Ok(created)
}

pub const DEMO_PEOPLE: [(&str, &str, &str); 4] = [
    ("admin@demo.odr.test", "demo-admin-pass", "Ada Admin"),
    (
        "staff@demo-shop.test",
        "demo-staff-pass",
        "Sam from Demo Shop",
    ),
    (
        "mediator@demo.odr.test",
        "demo-mediator-pass",
        "Mia Mediator",
    ),
    (
        "customer@demo.odr.test",
        "demo-customer-pass",
        "Chris Customer",
    ),
];

pub fn seed_demo(store: &Store, settings: &Settings) -> Result<(), Failure> {
    let [admin, staff, mediator, customer] = DEMO_PEOPLE;
    ensure_person(store, admin.0, admin.1, admin.2, Role::Admin, None)?;
    let retailer = match store.user_by_email(staff.0)?.and_then(|u| u.retailer_id) {
        Some(id) => store.retailer(&id)?.ok_or("demo retailer vanished")?,
        None => store.create_retailer(
            NewRetailer {
                name: "Demo Shop".into(),
                support_email: "support@demo-shop.test".into(),
                locale: Locale::En,
                currency: Currency::default(),
                time_zone: "Europe/Bratislava".into(),
            },
            new_id(),
            Utc::now(),
        )?,
    };
    ensure_person(
        store,
        staff.0,
        staff.1,
        staff.2,
        Role::RetailerStaff,
        Some(retailer.id.clone()),
    )?;
    ensure_person(
        store,
        mediator.0,
        mediator.1,
        mediator.2,
        Role::Mediator,
        None,
    )?;
    let (chris, created) = ensure_person(
        store,
        customer.0,
        customer.1,
        customer.2,
        Role::Customer,
        None,
    )?;
    if created {
        let mut rng = rand::rng();
        let t = Complaint::file(
            &Filing {
                retailer_id: retailer.id.clone(),
                order_reference: "DEMO-1001".into(),
                category: Category::Damaged,
                desired_remedy: Remedy::PartialRefund,
                claimed_amount: Some(MoneyInput {
                    amount_minor: 1500,
                    currency: "EUR".into(),
                }),
                description: "The teapot arrived with a cracked lid. Photos on request.".into(),
                locale: None,
                items: vec![],
            },
            &Actor::customer(chris.id.clone()),
            NewComplaint {
                id: new_id(),
                reference: reference::from_random(std::array::from_fn(|_| rng.random())),
                retailer_currency: retailer.currency,
                customer_locale: chris.locale,
            },
            Utc::now(),
            &policy(settings),
            &retailer.calendar(),
        )?;
        store.insert_filed(&t, &retailer)?;
    }
    println!("Demo data is ready (for local trials only). Sign in with:");
    println!("  role            email                      password");
    for ((email, password, _), role) in
        DEMO_PEOPLE
            .iter()
            .zip(["admin", "retailer staff", "mediator", "customer"])
    {
        println!("  {role:<15} {email:<26} {password}");
    }
    println!("  demo retailer id: {}", retailer.id);
    Ok(())
}
