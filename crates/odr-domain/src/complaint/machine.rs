//! The complaint machine (statig). Each state handler decides, for the
//! events lifecycle.md allows in that state, whether the caller may send it
//! and whether its payload fits; the superstates `open` and `negotiating`
//! take what their children share. An event that no handler takes is refused
//! as an invalid transition by the caller (`aggregate.rs`).
//!
//! Handlers never do IO: an accepted event is written into the context as
//! plain data (log payload and notifications) for the store to persist.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use statig::prelude::*;

use crate::actor::{Actor, Role};
use crate::money::{Money, MoneyInput};
use crate::taxonomy::{Code, EscalationReason, Remedy};
use crate::validation::{self, limits, Violation};

use super::command::{Command, OfferTerms, RulingTerms};
use super::effects::{Notification, NotificationTemplate as T, Recipient};
use super::facts::{ComplaintFacts, Escalation, InFavourOf, Offer, OfferStatus, Rejection, Ruling};
use super::policy::{Calendar, Policy};
use super::refusal::Refusal;
use super::vocabulary::{DeadlineKind, EventKind, Outcome as Ending};

/// What one `handle` call needs from outside, and where it leaves its verdict.
pub struct Ctx<'a> {
    pub actor: &'a Actor,
    pub now: DateTime<Utc>,
    pub policy: &'a Policy,
    pub calendar: &'a Calendar,
    /// An id for whatever the event creates (an offer, a message).
    pub fresh_id: &'a str,
    pub verdict: Option<Result<Applied, Refusal>>,
}

/// An accepted event, before the aggregate numbers it and names its states.
#[derive(Debug)]
pub struct Applied {
    pub kind: EventKind,
    pub payload: serde_json::Value,
    pub notifications: Vec<Notification>,
}

type Step = Outcome<State>;

#[state_machine(
    initial = "State::filed()",
    state(derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)),
    superstate(derive(Debug))
)]
impl ComplaintFacts {
    #[state(superstate = "open")]
    fn filed(&mut self, context: &mut Ctx<'_>, event: &Command) -> Step {
        match event {
            Command::Acknowledge { message } => self.acknowledge(context, message.as_deref()),
            Command::Propose(terms) => self.propose(context, terms),
            Command::Escalate { reason, message } => {
                self.escalate_by_party(context, *reason, message.as_deref())
            }
            Command::DeadlinePassed => self.deadline_escalates(
                context,
                DeadlineKind::AcknowledgeBy,
                self.deadlines.acknowledge_by,
                EscalationReason::NoAcknowledgement,
            ),
            _ => Super,
        }
    }

    #[state(superstate = "negotiating")]
    fn acknowledged(&mut self, context: &mut Ctx<'_>, event: &Command) -> Step {
        match event {
            Command::Propose(terms) => self.propose(context, terms),
            Command::DeadlinePassed => self.deadline_escalates(
                context,
                DeadlineKind::OfferBy,
                self.deadlines.offer_by,
                EscalationReason::NoOffer,
            ),
            _ => Super,
        }
    }

    #[state(superstate = "negotiating")]
    fn proposed(&mut self, context: &mut Ctx<'_>, event: &Command) -> Step {
        match event {
            Command::Accept { offer_id } => self.accept(context, offer_id.as_deref()),
            Command::Reject {
                reason,
                counter_remedy,
                message,
            } => self.reject(
                context,
                Rejection {
                    reason: *reason,
                    counter_remedy: *counter_remedy,
                    message: message.clone(),
                },
            ),
            Command::DeadlinePassed => self.lapse(context),
            _ => Super,
        }
    }

    #[superstate(superstate = "open")]
    fn negotiating(&mut self, context: &mut Ctx<'_>, event: &Command) -> Step {
        match event {
            Command::Escalate { reason, message } => {
                self.escalate_by_party(context, *reason, message.as_deref())
            }
            _ => Super,
        }
    }

    #[state(superstate = "open")]
    fn accepted(&mut self, context: &mut Ctx<'_>, event: &Command) -> Step {
        match event {
            Command::Fulfil { message } => self.fulfil(context, message.as_deref()),
            Command::Escalate { reason, message } => {
                self.escalate_unfulfilled(context, *reason, message.as_deref())
            }
            Command::DeadlinePassed => self.deadline_escalates(
                context,
                DeadlineKind::FulfilBy,
                self.deadlines.fulfil_by,
                EscalationReason::NotFulfilled,
            ),
            _ => Super,
        }
    }

    #[state(superstate = "open")]
    fn escalated(&mut self, context: &mut Ctx<'_>, event: &Command) -> Step {
        match event {
            Command::AssignMediator { mediator } => self.assign(context, mediator),
            Command::Decide(terms) => self.decide(context, terms),
            Command::DeadlinePassed => self.decision_overdue(context),
            _ => Super,
        }
    }

    #[superstate]
    fn open(&mut self, context: &mut Ctx<'_>, event: &Command) -> Step {
        match event {
            Command::Withdraw { reason } => self.withdraw(context, reason.as_deref()),
            Command::Message { body, phrase_codes } => {
                self.message(context, body.as_deref(), phrase_codes)
            }
            _ => Super,
        }
    }

    /// Terminal: takes no event at all.
    #[state]
    fn closed(outcome: &Ending, event: &Command) -> Step {
        let _ = (outcome, event);
        Super
    }
}

fn refuse(context: &mut Ctx<'_>, refusal: Refusal) -> Step {
    context.verdict = Some(Err(refusal));
    Handled
}

fn record(
    context: &mut Ctx<'_>,
    kind: EventKind,
    payload: serde_json::Value,
    notifications: Vec<Notification>,
    next: State,
) -> Step {
    context.verdict = Some(Ok(Applied {
        kind,
        payload,
        notifications,
    }));
    Transition(next)
}

fn note(template: T, to: Recipient) -> Notification {
    Notification { template, to }
}

macro_rules! check {
    ($context:expr, $result:expr) => {
        match $result {
            Ok(value) => value,
            Err(refusal) => return refuse($context, refusal),
        }
    };
}

impl ComplaintFacts {
    // --- who may act -----------------------------------------------------

    fn as_customer(&self, actor: &Actor) -> Result<(), Refusal> {
        if actor.role == Role::Customer && actor.is(&self.customer_id) {
            Ok(())
        } else {
            Err(Refusal::Forbidden(
                "Only the customer who filed this complaint can do this.".into(),
            ))
        }
    }

    fn as_staff(&self, actor: &Actor) -> Result<(), Refusal> {
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

    fn as_assigned_mediator(&self, actor: &Actor) -> Result<(), Refusal> {
        match (&self.mediator, &actor.id) {
            (Some(m), Some(id)) if actor.role == Role::Mediator && &m.id == id => Ok(()),
            _ => Err(Refusal::Forbidden(
                "Only the mediator assigned to this complaint can do this.".into(),
            )),
        }
    }

    fn as_party_or_mediator(&self, actor: &Actor) -> Result<(), Refusal> {
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

    fn every_party(&self, template: T) -> Vec<Notification> {
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

    fn amount_for(
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

    fn long_text(field: &str, text: Option<&str>) -> Result<(), Refusal> {
        validation::optional_text(field, text, limits::LONG_TEXT).map_err(Refusal::invalid)
    }

    // --- the events ------------------------------------------------------

    fn acknowledge(&mut self, context: &mut Ctx<'_>, message: Option<&str>) -> Step {
        check!(context, self.as_staff(context.actor));
        check!(context, Self::long_text("message", message));
        let payload = json!({ "message": message });
        let to = vec![note(T::Acknowledged, Recipient::Customer)];
        record(
            context,
            EventKind::Acknowledge,
            payload,
            to,
            State::acknowledged(),
        )
    }

    fn propose(&mut self, context: &mut Ctx<'_>, terms: &OfferTerms) -> Step {
        check!(context, self.as_staff(context.actor));
        if self.offers_made() >= context.policy.max_offers {
            return refuse(
                context,
                Refusal::Conflict("The shop has already made every offer it may make.".into()),
            );
        }
        let amount = check!(
            context,
            self.amount_for(Some(terms.remedy), terms.amount.as_ref(), "amount")
        );
        check!(
            context,
            Self::long_text("message", terms.message.as_deref())
        );
        let now = context.now;
        let expires_at = match terms.expires_at {
            None => context.calendar_free_add(context.policy.offer_expiry),
            Some(at) if at <= now => {
                return refuse(
                    context,
                    Refusal::invalid(Violation::new(
                        "expires_at",
                        "in_the_past",
                        "An offer must expire in the future.",
                    )),
                )
            }
            Some(at) if at > context.calendar_free_add(context.policy.max_offer_expiry) => {
                return refuse(
                    context,
                    Refusal::invalid(Violation::new(
                        "expires_at",
                        "too_far",
                        "An offer may stay open for at most 30 days.",
                    )),
                )
            }
            Some(at) => at,
        };
        let offer = Offer {
            id: context.fresh_id.to_owned(),
            round: self.offers_made() + 1,
            remedy: terms.remedy,
            amount,
            message: terms.message.clone(),
            expires_at,
            status: OfferStatus::Pending,
            created_at: now,
            answered_at: None,
            rejection: None,
        };
        let payload = json!({ "offer": offer });
        self.offers.push(offer);
        let to = vec![note(T::OfferProposed, Recipient::Customer)];
        record(context, EventKind::Propose, payload, to, State::proposed())
    }

    fn accept(&mut self, context: &mut Ctx<'_>, offer_id: Option<&str>) -> Step {
        check!(context, self.as_customer(context.actor));
        let now = context.now;
        let fulfil_by = context.calendar.add(now, context.policy.fulfil);
        let Some(offer) = self.current_offer_mut() else {
            return Super;
        };
        if offer_id.is_some_and(|id| id != offer.id) {
            return refuse(
                context,
                Refusal::Conflict(
                    "The offer you answered is no longer the current one; please look at the newest offer."
                        .into(),
                ),
            );
        }
        offer.status = OfferStatus::Accepted;
        offer.answered_at = Some(now);
        let payload = json!({ "offer_id": offer.id, "fulfil_by": fulfil_by });
        self.deadlines.fulfil_by = Some(fulfil_by);
        let to = vec![note(T::OfferAccepted, Recipient::Retailer)];
        record(context, EventKind::Accept, payload, to, State::accepted())
    }

    fn reject(&mut self, context: &mut Ctx<'_>, rejection: Rejection) -> Step {
        check!(context, self.as_customer(context.actor));
        if self.offers_made() >= context.policy.max_offers {
            return refuse(
                context,
                Refusal::OfferLimitReached {
                    max_offers: context.policy.max_offers,
                    state: super::ComplaintState::Proposed,
                    allowed_actions: Vec::new(),
                },
            );
        }
        check!(
            context,
            Self::long_text("message", rejection.message.as_deref())
        );
        let now = context.now;
        let offer_by = context.calendar.add(now, context.policy.reoffer);
        let Some(offer) = self.current_offer_mut() else {
            return Super;
        };
        offer.status = OfferStatus::Rejected;
        offer.answered_at = Some(now);
        let payload = json!({
            "offer_id": offer.id,
            "reason": rejection.reason,
            "counter_remedy": rejection.counter_remedy,
            "message": rejection.message,
            "offer_by": offer_by,
        });
        offer.rejection = Some(rejection);
        self.deadlines.offer_by = Some(offer_by);
        let to = vec![note(T::OfferRejected, Recipient::Retailer)];
        record(
            context,
            EventKind::Reject,
            payload,
            to,
            State::acknowledged(),
        )
    }

    fn escalate_by_party(
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

    fn escalate_unfulfilled(
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

    fn escalate(
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
        let mut to = vec![
            note(T::Escalated, Recipient::Customer),
            note(T::Escalated, Recipient::Retailer),
        ];
        match &self.mediator {
            Some(m) => to.push(note(T::Escalated, Recipient::Mediator(m.id.clone()))),
            None => to.push(note(T::Escalated, Recipient::Admins)),
        }
        record(context, kind, payload, to, State::escalated())
    }

    fn deadline_escalates(
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

    fn lapse(&mut self, context: &mut Ctx<'_>) -> Step {
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
            State::closed(Ending::Lapsed),
        )
    }

    fn fulfil(&mut self, context: &mut Ctx<'_>, message: Option<&str>) -> Step {
        check!(context, self.as_staff(context.actor));
        check!(context, Self::long_text("message", message));
        let payload = json!({ "message": message });
        let to = self.every_party(T::Fulfilled);
        record(
            context,
            EventKind::Fulfil,
            payload,
            to,
            State::closed(Ending::Resolved),
        )
    }

    fn assign(&mut self, context: &mut Ctx<'_>, mediator: &super::MediatorRef) -> Step {
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
            State::escalated(),
        )
    }

    fn decide(&mut self, context: &mut Ctx<'_>, terms: &RulingTerms) -> Step {
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
            State::closed(Ending::Decided),
        )
    }

    fn decision_overdue(&mut self, context: &mut Ctx<'_>) -> Step {
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
                    State::escalated(),
                )
            }
            Some(at) if now >= at => {
                self.deadlines.decision_reminder_at = Some(next);
                let payload = json!({ "deadline": DeadlineKind::DecideBy, "reminded": "admins" });
                record(
                    context,
                    EventKind::Reminder,
                    payload,
                    to,
                    State::escalated(),
                )
            }
            Some(_) => Super,
        }
    }

    fn withdraw(&mut self, context: &mut Ctx<'_>, reason: Option<&str>) -> Step {
        check!(context, self.as_customer(context.actor));
        check!(context, Self::long_text("reason", reason));
        for offer in &mut self.offers {
            if offer.status == OfferStatus::Pending {
                offer.status = OfferStatus::Superseded;
            }
        }
        let payload = json!({ "reason": reason });
        let to = self.every_party(T::Withdrawn);
        record(
            context,
            EventKind::Withdraw,
            payload,
            to,
            State::closed(Ending::Withdrawn),
        )
    }

    fn message(
        &mut self,
        context: &mut Ctx<'_>,
        body: Option<&str>,
        phrase_codes: &[crate::taxonomy::Phrase],
    ) -> Step {
        check!(context, self.as_party_or_mediator(context.actor));
        let body = body.filter(|b| !b.trim().is_empty());
        if body.is_none() && phrase_codes.is_empty() {
            return refuse(
                context,
                Refusal::invalid(Violation::new(
                    "body",
                    "required",
                    "Write a message or pick at least one phrase.",
                )),
            );
        }
        check!(context, Self::long_text("body", body));
        let author = context.actor.role;
        let mut to = Vec::new();
        if author != Role::Customer {
            to.push(note(T::MessageAdded, Recipient::Customer));
        }
        if author != Role::RetailerStaff {
            to.push(note(T::MessageAdded, Recipient::Retailer));
        }
        if let Some(m) = &self.mediator {
            if author != Role::Mediator {
                to.push(note(T::MessageAdded, Recipient::Mediator(m.id.clone())));
            }
        }
        let payload = json!({
            "message_id": context.fresh_id,
            "body": body,
            "phrase_codes": phrase_codes,
        });
        // A message changes nothing: the machine stays where it is.
        context.verdict = Some(Ok(Applied {
            kind: EventKind::Message,
            payload,
            notifications: to,
        }));
        Handled
    }
}

impl Ctx<'_> {
    /// Only the engine acts on a deadline, and only once it has passed.
    fn deadline_has_passed(&self, due: Option<DateTime<Utc>>) -> bool {
        self.actor.role == Role::System && due.is_some_and(|d| self.now >= d)
    }

    /// Customer and mediator deadlines run in plain calendar time.
    fn calendar_free_add(&self, span: std::time::Duration) -> DateTime<Utc> {
        Calendar::default().add(self.now, span)
    }
}
