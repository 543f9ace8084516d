//! The `file` event: a customer creates a complaint, which starts in
//! `filed` with both retailer deadlines running.

use chrono::{DateTime, Utc};
use statig::blocking::IntoStateMachineExt;

use crate::actor::{Actor, Role};
use crate::taxonomy::Code;
use crate::validation::{self, limits, Violation, Violations};

use super::aggregate::{Complaint, NewComplaint, Transition};
use super::command::Filing;
use super::effects::{EventRecord, Notification, NotificationTemplate, Recipient};
use super::facts::{ComplaintFacts, Deadlines, Item};
use super::policy::{Calendar, Policy};
use super::refusal::Refusal;
use super::vocabulary::{ComplaintState, EventKind};

impl Complaint {
    /// The `file` event: a customer creates the complaint in state `filed`.
    pub fn file(
        filing: &Filing,
        actor: &Actor,
        new: NewComplaint,
        now: DateTime<Utc>,
        policy: &Policy,
        calendar: &Calendar,
    ) -> Result<Transition, Refusal> {
        let customer_id = match (&actor.role, &actor.id) {
            (Role::Customer, Some(id)) => id.clone(),
            _ => {
                return Err(Refusal::Forbidden(
                    "Only a customer can file a complaint.".into(),
                ))
            }
        };
        let (claimed_amount, items) = validate_filing(filing)?;
        let currency = claimed_amount.map_or(new.retailer_currency, |m| m.currency);
        let facts = ComplaintFacts {
            id: new.id,
            reference: new.reference,
            retailer_id: filing.retailer_id.clone(),
            customer_id,
            mediator: None,
            order_reference: filing.order_reference.trim().to_owned(),
            category: filing.category,
            desired_remedy: filing.desired_remedy,
            claimed_amount,
            currency,
            description: filing.description.clone(),
            locale: filing.locale.unwrap_or(new.customer_locale),
            items,
            offers: Vec::new(),
            deadlines: Deadlines {
                acknowledge_by: Some(calendar.add(now, policy.acknowledge)),
                offer_by: Some(calendar.add(now, policy.offer)),
                ..Deadlines::default()
            },
            escalation: None,
            ruling: None,
            feedback: None,
            created_at: now,
        };
        let record = EventRecord {
            seq: 1,
            kind: EventKind::File,
            actor_id: actor.id.clone(),
            actor_role: actor.role,
            from_state: None,
            to_state: ComplaintState::Filed,
            payload: serde_json::json!({
                "retailer_id": facts.retailer_id,
                "order_reference": facts.order_reference,
                "category": facts.category,
                "desired_remedy": facts.desired_remedy,
                "claimed_amount": facts.claimed_amount,
                "description": facts.description,
                "locale": facts.locale,
                "items": facts.items,
                "acknowledge_by": facts.deadlines.acknowledge_by,
                "offer_by": facts.deadlines.offer_by,
            }),
            at: now,
        };
        let notifications = vec![
            Notification {
                template: NotificationTemplate::ComplaintFiled,
                to: Recipient::Retailer,
            },
            Notification {
                template: NotificationTemplate::ComplaintReceipt,
                to: Recipient::Customer,
            },
        ];
        let complaint = Complaint {
            machine: facts.state_machine(),
            last_seq: 1,
            updated_at: now,
        };
        Ok(Transition {
            next_wakeup: complaint.next_wakeup_at(policy, now),
            policy: policy.clone(),
            complaint,
            record,
            notifications,
        })
    }
}

fn validate_filing(filing: &Filing) -> Result<(Option<crate::money::Money>, Vec<Item>), Refusal> {
    let mut v = Violations::default();
    v.check(validation::text(
        "order_reference",
        &filing.order_reference,
        limits::ORDER_REFERENCE,
        true,
    ));
    v.check(validation::text(
        "description",
        &filing.description,
        limits::LONG_TEXT,
        true,
    ));
    let claimed = match (filing.desired_remedy.needs_amount(), &filing.claimed_amount) {
        (true, None) => {
            v.push(Violation::new(
                "claimed_amount",
                "required",
                format!(
                    "The remedy `{}` needs the amount you claim.",
                    filing.desired_remedy.code()
                ),
            ));
            None
        }
        (false, Some(_)) => {
            v.push(Violation::new(
                "claimed_amount",
                "not_allowed",
                format!(
                    "The remedy `{}` has no amount; leave claimed_amount out.",
                    filing.desired_remedy.code()
                ),
            ));
            None
        }
        (_, Some(input)) => v.check(input.validate("claimed_amount")),
        (false, None) => None,
    };
    if filing.items.len() > limits::ITEMS {
        v.push(Violation::new(
            "items",
            "too_many",
            format!("At most {} items.", limits::ITEMS),
        ));
    }
    let mut items = Vec::new();
    for (i, item) in filing.items.iter().enumerate() {
        v.check(validation::text(
            &format!("items[{i}].sku"),
            &item.sku,
            limits::SKU,
            true,
        ));
        v.check(validation::text(
            &format!("items[{i}].name"),
            &item.name,
            limits::NAME,
            true,
        ));
        match u32::try_from(item.quantity) {
            Ok(q @ 1..=100_000) => items.push(Item {
                sku: item.sku.clone(),
                name: item.name.clone(),
                quantity: q,
            }),
            _ => v.push(Violation::new(
                format!("items[{i}].quantity"),
                "out_of_range",
                "The quantity must be between 1 and 100000.",
            )),
        }
    }
    v.into_result().map_err(Refusal::Invalid)?;
    Ok((claimed, items))
}
