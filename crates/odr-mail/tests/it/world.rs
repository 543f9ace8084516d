//! A throwaway database with a retailer, its staff and a customer; complaints filed and moved through the real store; a clock the
//! test moves; and workers wired as `odr serve` wires them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use odr_domain::complaint::{Calendar, Command, Complaint, Filing, NewComplaint, Policy};
use odr_domain::locale::Locale;
use odr_domain::money::Currency;
use odr_domain::taxonomy::{Category, Remedy};
use odr_domain::{Actor, Role};
use odr_mail::message::Sender;
use odr_mail::render::Renderer;
use odr_mail::transport::MailTransport;
use odr_mail::worker::{OutboxWorker, WorkerOptions};
use odr_store::delivery::RetryPolicy;
use odr_store::testing::TestDatabase;
use odr_store::{
    Backend, EngineRules, NewRetailer, NewUser, OutboxEntry, Retailer, Store, StoredComplaint, User,
};
use odr_tests::smtp::ReceivedMail;

pub const PUBLIC_URL: &str = "https://odr.test";
pub const HOST: &str = "odr.test";

/// A clock the test sets; the worker reads it.
#[derive(Clone)]
pub struct TestClock(Arc<Mutex<DateTime<Utc>>>);

impl TestClock {
    pub fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += chrono::Duration::from_std(by).unwrap();
    }
}

pub struct World {
    pub store: Store,
    pub clock: TestClock,
    pub retailer: Retailer,
    pub customer: User,
    pub staff: User,
    pub renderer: Arc<Renderer>,
    _db: TestDatabase,
}

/// Retries without jitter, so that a test knows when a row is due again.
pub fn exact_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base: Duration::from_secs(30),
        max: Duration::from_secs(3600),
        jitter: 0.0,
    }
}

pub fn options(retry: RetryPolicy) -> WorkerOptions {
    WorkerOptions {
        batch: 20,
        lease: Duration::from_secs(300),
        poll_every: Duration::from_millis(200),
        retry,
        concurrency: 8,
    }
}

pub fn smtp(url: &str) -> MailTransport {
    MailTransport::from_settings(Some(url), Path::new("/nonexistent"), Duration::from_secs(5))
        .unwrap()
}

impl World {
    pub fn new(backend: Backend) -> World {
        let db = TestDatabase::for_backend(backend);
        let store = db.migrated_store();
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let clock = TestClock(Arc::new(Mutex::new(start)));
        let retailer = store
            .create_retailer(
                NewRetailer {
                    name: "Teapot Shop".into(),
                    support_email: "support@teapot.test".into(),
                    locale: Locale::En,
                    currency: Currency::default(),
                    time_zone: "UTC".into(),
                },
                "retailer-teapot".into(),
                start,
            )
            .unwrap();
        let person = |email: &str, name: &str, role: Role, retailer: Option<&str>| {
            store
                .create_user(
                    NewUser {
                        email: email.into(),
                        password_hash: None,
                        display_name: name.into(),
                        role,
                        retailer_id: retailer.map(str::to_owned),
                        locale: Locale::En,
                        time_zone: "UTC".into(),
                    },
                    format!("user-{}", email.replace(['@', '.'], "-")),
                    start,
                )
                .unwrap()
        };
        let staff = person(
            "sam@teapot.test",
            "Sam",
            Role::RetailerStaff,
            Some(&retailer.id),
        );
        let customer = person("chris@example.test", "Chris Customer", Role::Customer, None);
        World {
            renderer: Arc::new(Renderer::new(PUBLIC_URL).unwrap()),
            store,
            clock,
            retailer,
            customer,
            staff,
            _db: db,
        }
    }

    pub fn worker(&self, transport: MailTransport, options: WorkerOptions) -> OutboxWorker {
        let clock = self.clock.clone();
        OutboxWorker::new(
            self.store.clone(),
            self.renderer.clone(),
            Arc::new(transport),
            Sender::new("ODR <no-reply@odr.test>", PUBLIC_URL).unwrap(),
            Arc::new(move || clock.now()),
            options,
        )
    }

    /// The customer files a complaint: mails to the support address and
    /// to the customer.
    pub fn file(&self, order: &str) -> StoredComplaint {
        let t = Complaint::file(
            &Filing {
                retailer_id: self.retailer.id.clone(),
                order_reference: order.into(),
                category: Category::Damaged,
                desired_remedy: Remedy::Replacement,
                claimed_amount: None,
                description: "The lid arrived cracked.".into(),
                locale: None,
                items: vec![],
            },
            &Actor::customer(self.customer.id.clone()),
            NewComplaint {
                id: uuid::Uuid::new_v4().to_string(),
                reference: format!("ODR-{order}"),
                retailer_currency: self.retailer.currency,
                customer_locale: Locale::En,
            },
            self.clock.now(),
            &Policy::default(),
            &Calendar::default(),
        )
        .unwrap();
        self.store.insert_filed(&t, &self.retailer).unwrap()
    }

    /// The retailer acknowledges: a second mail to the customer.
    pub fn acknowledge(&self, stored: &StoredComplaint) -> StoredComplaint {
        self.store
            .transition(
                stored,
                &Command::Acknowledge {
                    message: Some("We are on it.".into()),
                },
                &Actor::retailer_staff(self.staff.id.clone(), self.retailer.id.clone()),
                self.clock.now(),
                &Policy::default(),
                EngineRules::default(),
            )
            .unwrap()
            .saved
    }

    /// Every outbox row, oldest first.
    pub fn outbox(&self) -> Vec<OutboxEntry> {
        let mut rows = self.store.list_outbox(None, 1000).unwrap();
        rows.reverse();
        rows
    }
}

pub fn message_id(outbox_id: &str) -> String {
    format!("<{outbox_id}@{HOST}>")
}

/// How many mails carry each Message-ID.
pub fn count_by_message_id(mails: &[ReceivedMail]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for mail in mails {
        let id = mail
            .message_id
            .clone()
            .expect("every mail has a Message-ID");
        *counts.entry(id).or_default() += 1;
    }
    counts
}

/// Each row arrived exactly once, at its address and nowhere else.
#[track_caller]
pub fn assert_each_row_arrived_once(rows: &[OutboxEntry], mails: &[ReceivedMail]) {
    let counts = count_by_message_id(mails);
    for row in rows {
        let id = message_id(&row.id);
        assert_eq!(
            counts.get(&id),
            Some(&1),
            "the {} mail to {} should arrive exactly once",
            row.template,
            row.to_address
        );
        let mail = mails
            .iter()
            .find(|m| m.message_id.as_deref() == Some(&id))
            .unwrap();
        assert_eq!(
            mail.envelope_to,
            std::slice::from_ref(&row.to_address),
            "envelope of {id}"
        );
    }
    assert_eq!(mails.len(), rows.len(), "no other mails: {counts:?}");
}
