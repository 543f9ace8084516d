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
use statig::prelude::*;

use crate::actor::{Actor, Role};
use crate::taxonomy::EscalationReason;

use super::command::Command;
use super::effects::{Notification, NotificationTemplate as T, Recipient};
use super::facts::{ComplaintFacts, DeadlineMark, MediatorRef, Rejection};
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
    /// The mediator to assign at escalation (`ODR_AUTO_ASSIGN`), if any.
    pub auto_mediator: Option<&'a MediatorRef>,
    /// The reminder due now, worked out from the state by the aggregate.
    pub reminder: Option<Reminder>,
    pub verdict: Option<Result<Applied, Refusal>>,
}

/// A deadline the party who must act is about to miss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub deadline: DeadlineMark,
    pub to: Recipient,
}

/// An accepted event, before the aggregate numbers it and names its states.
#[derive(Debug)]
pub struct Applied {
    pub kind: EventKind,
    pub payload: serde_json::Value,
    pub notifications: Vec<Notification>,
}

pub(super) type Step = Outcome<State>;

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
            Command::Remind => self.remind(context),
            Command::Message {
                body,
                phrase_codes,
                attachment_ids,
            } => self.message(context, body.as_deref(), phrase_codes, attachment_ids),
            Command::Attach(evidence) => self.attach(context, evidence),
            _ => Super,
        }
    }

    /// Terminal: the state never changes again; only the customer's
    /// feedback is taken, once.
    #[state]
    fn closed(&mut self, outcome: &Ending, context: &mut Ctx<'_>, event: &Command) -> Step {
        let _ = outcome;
        match event {
            Command::Feedback { score, comment } => {
                self.give_feedback(context, *score, comment.as_deref())
            }
            _ => Super,
        }
    }
}

pub(super) fn refuse(context: &mut Ctx<'_>, refusal: Refusal) -> Step {
    context.verdict = Some(Err(refusal));
    Handled
}

/// Where an accepted event takes the complaint (statig's state
/// constructors are private to this module).
pub(super) enum Next {
    Acknowledged,
    Proposed,
    Accepted,
    Escalated,
    Closed(Ending),
}

pub(super) fn record(
    context: &mut Ctx<'_>,
    kind: EventKind,
    payload: serde_json::Value,
    notifications: Vec<Notification>,
    next: Next,
) -> Step {
    context.verdict = Some(Ok(Applied {
        kind,
        payload,
        notifications,
    }));
    Transition(match next {
        Next::Acknowledged => State::acknowledged(),
        Next::Proposed => State::proposed(),
        Next::Accepted => State::accepted(),
        Next::Escalated => State::escalated(),
        Next::Closed(outcome) => State::closed(outcome),
    })
}

/// Returns the refusal from the handler when a check fails.
macro_rules! check {
    ($context:expr, $result:expr) => {
        match $result {
            Ok(value) => value,
            Err(refusal) => return $crate::complaint::machine::refuse($context, refusal),
        }
    };
}
pub(super) use check;

pub(super) fn note(template: T, to: Recipient) -> Notification {
    Notification { template, to }
}

impl Ctx<'_> {
    /// Only the engine acts on a deadline, and only once it has passed.
    pub(super) fn deadline_has_passed(&self, due: Option<DateTime<Utc>>) -> bool {
        self.actor.role == Role::System && due.is_some_and(|d| self.now >= d)
    }

    /// Customer and mediator deadlines run in plain calendar time.
    pub(super) fn calendar_free_add(&self, span: std::time::Duration) -> DateTime<Utc> {
        Calendar::default().add(self.now, span)
    }
}
