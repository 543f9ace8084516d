//! The rules the event handlers share: who may act on a complaint, who
//! hears of what happened, and how amounts and texts are checked.

use crate::actor::{Actor, Role};
use crate::money::{Money, MoneyInput};
use crate::taxonomy::Remedy;
use crate::validation::{self, limits, Violation};

use super::effects::{Notification, NotificationTemplate as T, Recipient};
use super::facts::ComplaintFacts;
use super::machine::note;
use super::refusal::Refusal;

impl ComplaintFacts {
    // --- who may act -----------------------------------------------------

    pub(super) fn as_customer(&self, actor: &Actor) -> Result<(), Refusal> {
        if actor.role == Role::Customer && actor.is(&self.customer_id) {
            Ok(())
        } else {
            Err(Refusal::Forbidden(
                "Only the customer who filed this complaint can do this.".into(),
            ))
        }
    }

    pub(super) fn as_staff(&self, actor: &Actor) -> Result<(), Refusal> {
        if actor.role == Role::RetailerStaff
            && actor.retailer_id.as_deref() == Some(self.retailer_id.as_str())
        {
            Ok(())
        } else {
            Err(Refusal::Forbidden(
                "Only the shop this complaint is about can do this.".into(),
            ))
        }
    }

    pub(super) fn as_assigned_mediator(&self, actor: &Actor) -> Result<(), Refusal> {
        match (&self.mediator, &actor.id) {
            (Some(m), Some(id)) if actor.role == Role::Mediator && &m.id == id => Ok(()),
            _ => Err(Refusal::Forbidden(
                "Only the mediator assigned to this complaint can do this.".into(),
            )),
        }
    }

    pub(super) fn as_party_or_mediator(&self, actor: &Actor) -> Result<(), Refusal> {
        self.as_customer(actor)
            .or_else(|_| self.as_staff(actor))
            .or_else(|_| self.as_assigned_mediator(actor))
            .map_err(|_| {
                Refusal::Forbidden(
                    "Only the customer, the shop and the assigned mediator can write here.".into(),
                )
            })
    }

    // --- who hears of it -------------------------------------------------

    pub(super) fn every_party(&self, template: T) -> Vec<Notification> {
        let mut to = vec![
            note(template, Recipient::Customer),
            note(template, Recipient::Retailer),
        ];
        if let Some(m) = &self.mediator {
            to.push(note(template, Recipient::Mediator(m.id.clone())));
        }
        to
    }

    // --- payload checks --------------------------------------------------

    pub(super) fn amount_for(
        &self,
        remedy: Option<Remedy>,
        amount: Option<&MoneyInput>,
        field: &str,
    ) -> Result<Option<Money>, Refusal> {
        let needs = remedy.is_some_and(Remedy::needs_amount);
        match (needs, amount) {
            (true, None) => Err(Refusal::invalid(Violation::new(
                field,
                "required",
                "This remedy needs an amount.",
            ))),
            (false, Some(_)) => Err(Refusal::invalid(Violation::new(
                field,
                "not_allowed",
                "This remedy has no amount; leave the amount out.",
            ))),
            (false, None) => Ok(None),
            (true, Some(input)) => {
                let money = input.validate(field).map_err(Refusal::invalid)?;
                if money.currency != self.currency {
                    return Err(Refusal::invalid(Violation::new(
                        format!("{field}.currency"),
                        "currency_mismatch",
                        format!("This complaint is in {}.", self.currency),
                    )));
                }
                Ok(Some(money))
            }
        }
    }

    pub(super) fn long_text(field: &str, text: Option<&str>) -> Result<(), Refusal> {
        validation::optional_text(field, text, limits::LONG_TEXT).map_err(Refusal::invalid)
    }
}
