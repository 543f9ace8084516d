//! Escalation and what follows it: a party or a passed deadline sends the
//! complaint to a mediator, who is assigned and decides; deadlines that
//! lapse an offer or remind admins of an overdue decision live here too.

use chrono::{DateTime, Utc};
use serde_json::json;
use statig::prelude::Outcome::Super;

use crate::actor::Role;
use crate::taxonomy::{Code, EscalationReason};
use crate::validation::{self, limits, Violation};

use super::command::RulingTerms;
use super::effects::{NotificationTemplate as T, Recipient};
use super::facts::{ComplaintFacts, Escalation, InFavourOf, OfferStatus, Ruling};
use super::machine::{check, note, record, refuse, Ctx, Next, Step};
use super::refusal::Refusal;
use super::vocabulary::{DeadlineKind, EventKind, Outcome as Ending};

impl ComplaintFacts {
    pub(super) fn escalate_by_party(
        &mut self,
        context: &mut Ctx<'_>,
        reason: EscalationReason,
        message: Option<&str>,
    ) -> Step {
        use EscalationReason as R;
        let actor = context.actor;
        let allowed: &[R] = if self.as_customer(actor).is_ok() {
            &[
                R::NoAcknowledgement,
                R::NoOffer,
                R::OffersRejected,
                R::Other,
            ]
        } else if self.as_staff(actor).is_ok() {
            &[R::CustomerUnreasonable, R::Other]
        } else {
            return refuse(
                context,
                Refusal::Forbidden("Only the customer or the shop can escalate.".into()),
            );
        };
        if !allowed.contains(&reason) {
            let list: Vec<&str> = allowed.iter().map(|r| r.code()).collect();
            return refuse(
                context,
                Refusal::invalid(Violation::new(
                    "reason",
                    "not_allowed",
                    format!("You can escalate with one of: {}.", list.join(", ")),
                )),
            );
        }
        check!(context, Self::long_text("message", message));
        self.escalate(
            context,
            EventKind::Escalate,
            reason,
            actor.role,
            message,
            None,
        )
    }

    pub(super) fn escalate_unfulfilled(
        &mut self,
        context: &mut Ctx<'_>,
        reason: EscalationReason,
        message: Option<&str>,
    ) -> Step {
        check!(context, self.as_customer(context.actor));
        if self.deadlines.fulfil_by.is_none_or(|by| context.now <= by) {
            // Not yet: the shop still has time to carry out the offer.
            return Super;
        }
        if reason != EscalationReason::NotFulfilled {
            return refuse(
                context,
                Refusal::invalid(Violation::new(
                    "reason",
                    "not_allowed",
                    "An accepted offer can only be escalated as not_fulfilled.",
                )),
            );
        }
        check!(context, Self::long_text("message", message));
        self.escalate(
            context,
            EventKind::Escalate,
            reason,
            Role::Customer,
            message,
            None,
        )
    }

    pub(super) fn escalate(
        &mut self,
        context: &mut Ctx<'_>,
        kind: EventKind,
        reason: EscalationReason,
        by: Role,
        message: Option<&str>,
        deadline: Option<DeadlineKind>,
    ) -> Step {
        let now = context.now;
        for offer in &mut self.offers {
            if offer.status == OfferStatus::Pending {
                offer.status = OfferStatus::Superseded;
            }
        }
        let decide_by = context.calendar_free_add(context.policy.decide);
        self.deadlines.decide_by = Some(decide_by);
        self.escalation = Some(Escalation {
            reason,
            by,
            message: message.map(str::to_owned),
            at: now,
        });
        let mut payload = json!({ "reason": reason, "message": message, "decide_by": decide_by });
        if let Some(d) = deadline {
            payload["deadline"] = json!(d);
        }
        if self.mediator.is_none() {
            if let Some(m) = context.auto_mediator {
                // Assigned by load at once: nobody waits for an admin.
                self.mediator = Some(m.clone());
                payload["mediator_id"] = json!(m.id);
                payload["mediator_name"] = json!(m.display_name);
                payload["auto_assigned"] = json!(true);
            }
        }
        let mut to = vec![
            note(T::Escalated, Recipient::Customer),
            note(T::Escalated, Recipient::Retailer),
        ];
        match &self.mediator {
            Some(m) => to.push(note(T::Escalated, Recipient::Mediator(m.id.clone()))),
            None => to.push(note(T::Escalated, Recipient::Admins)),
        }
        record(context, kind, payload, to, Next::Escalated)
    }

    pub(super) fn deadline_escalates(
        &mut self,
        context: &mut Ctx<'_>,
        deadline: DeadlineKind,
        due: Option<DateTime<Utc>>,
        reason: EscalationReason,
    ) -> Step {
        if !context.deadline_has_passed(due) {
            return Super;
        }
        self.escalate(
            context,
            EventKind::DeadlinePassed,
            reason,
            Role::System,
            None,
            Some(deadline),
        )
    }

    pub(super) fn lapse(&mut self, context: &mut Ctx<'_>) -> Step {
        let now = context.now;
        let due = self.current_offer().map(|o| o.expires_at);
        if !context.deadline_has_passed(due) {
            return Super;
        }
        let Some(offer) = self.current_offer_mut() else {
            return Super;
        };
        offer.status = OfferStatus::Lapsed;
        offer.answered_at = Some(now);
        let payload = json!({
            "deadline": DeadlineKind::ExpiresAt,
            "reason": "offer_expired",
            "offer_id": offer.id,
        });
        let to = self.every_party(T::Lapsed);
        record(
            context,
            EventKind::DeadlinePassed,
            payload,
            to,
            Next::Closed(Ending::Lapsed),
        )
    }

    pub(super) fn assign(&mut self, context: &mut Ctx<'_>, mediator: &super::MediatorRef) -> Step {
        let actor = context.actor;
        match actor.role {
            Role::Admin => {}
            Role::Mediator if self.mediator.is_some() => {
                return refuse(
                    context,
                    Refusal::Forbidden("Another mediator already handles this case.".into()),
                )
            }
            Role::Mediator if !actor.is(&mediator.id) => {
                return refuse(
                    context,
                    Refusal::Forbidden(
                        "A mediator can claim a case for themself only; an admin assigns others."
                            .into(),
                    ),
                )
            }
            Role::Mediator => {}
            _ => {
                return refuse(
                    context,
                    Refusal::Forbidden("Only an admin or a mediator can assign a mediator.".into()),
                )
            }
        }
        let previous = self.mediator.replace(mediator.clone());
        let payload = json!({
            "mediator_id": mediator.id,
            "mediator_name": mediator.display_name,
            "previous_mediator_id": previous.map(|m| m.id),
        });
        let to = vec![note(
            T::MediatorAssigned,
            Recipient::Mediator(mediator.id.clone()),
        )];
        record(
            context,
            EventKind::AssignMediator,
            payload,
            to,
            Next::Escalated,
        )
    }

    pub(super) fn decide(&mut self, context: &mut Ctx<'_>, terms: &RulingTerms) -> Step {
        check!(context, self.as_assigned_mediator(context.actor));
        if terms.remedy.is_none() && terms.in_favour_of != InFavourOf::Retailer {
            return refuse(
                context,
                Refusal::invalid(Violation::new(
                    "remedy",
                    "required",
                    "A ruling for the customer or a split names the remedy.",
                )),
            );
        }
        let amount = check!(
            context,
            self.amount_for(terms.remedy, terms.amount.as_ref(), "amount")
        );
        check!(
            context,
            validation::text("reasoning", &terms.reasoning, limits::LONG_TEXT, true)
                .map_err(Refusal::invalid)
        );
        let ruling = Ruling {
            in_favour_of: terms.in_favour_of,
            remedy: terms.remedy,
            amount,
            reasoning: terms.reasoning.clone(),
            mediator_id: context.actor.id.clone().unwrap_or_default(),
            decided_at: context.now,
        };
        let payload = json!({ "ruling": ruling });
        self.ruling = Some(ruling);
        let to = self.every_party(T::Decided);
        record(
            context,
            EventKind::Decide,
            payload,
            to,
            Next::Closed(Ending::Decided),
        )
    }

    pub(super) fn decision_overdue(&mut self, context: &mut Ctx<'_>) -> Step {
        let now = context.now;
        if !context.deadline_has_passed(self.deadlines.decide_by) {
            return Super;
        }
        let next = context.calendar_free_add(context.policy.decision_reminder_every);
        let to = vec![note(T::DecisionOverdue, Recipient::Admins)];
        match self.deadlines.decision_reminder_at {
            None => {
                self.deadlines.decision_reminder_at = Some(next);
                let payload =
                    json!({ "deadline": DeadlineKind::DecideBy, "reason": "decision_overdue" });
                record(
                    context,
                    EventKind::DeadlinePassed,
                    payload,
                    to,
                    Next::Escalated,
                )
            }
            Some(at) if now >= at => {
                self.deadlines.decision_reminder_at = Some(next);
                let payload =
                    json!({ "deadline": DeadlineKind::DecideBy, "reminded": Recipient::Admins });
                record(context, EventKind::Reminder, payload, to, Next::Escalated)
            }
            Some(_) => Super,
        }
    }
}
