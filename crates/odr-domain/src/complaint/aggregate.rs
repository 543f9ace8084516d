//! A stored complaint: the statig machine over its facts, restored from the
//! store, handed one event, and giving back the new complaint plus what to
//! write. Nothing here touches the outside world.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use statig::blocking::StateMachine;

use crate::actor::{Actor, Role};
use crate::locale::Locale;
use crate::money::Currency;
use crate::taxonomy::{Code, EscalationReason, RejectionReason, Remedy};

use super::command::{Command, OfferTerms, RulingTerms};
use super::effects::{EventRecord, Notification};
use super::facts::{ComplaintFacts, InFavourOf, MediatorRef};
use super::machine::{Applied, Ctx, State};
use super::policy::{Calendar, Policy};
use super::refusal::Refusal;
use super::vocabulary::{Action, ComplaintState, DeadlineKind, Outcome};

#[derive(Clone, Serialize, Deserialize)]
pub struct Complaint {
    pub(super) machine: StateMachine<ComplaintFacts>,
    /// `seq` of the newest row in the event log; the log has no gaps.
    pub(super) last_seq: i64,
    pub(super) updated_at: DateTime<Utc>,
}

/// Equal when state and facts are: whether statig has run its (empty) entry
/// actions yet is no part of a complaint.
impl PartialEq for Complaint {
    fn eq(&self, other: &Self) -> bool {
        self.machine.state() == other.machine.state()
            && self.facts() == other.facts()
            && self.last_seq == other.last_seq
            && self.updated_at == other.updated_at
    }
}

impl std::fmt::Debug for Complaint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Complaint")
            .field("state", &self.state())
            .field("outcome", &self.outcome())
            .field("facts", self.facts())
            .field("last_seq", &self.last_seq)
            .finish()
    }
}

/// What the store chooses for a complaint about to be filed.
#[derive(Debug, Clone)]
pub struct NewComplaint {
    pub id: String,
    pub reference: String,
    /// The retailer's default, used when the claim names no amount.
    pub retailer_currency: Currency,
    /// The customer's own locale, used when the filing names none.
    pub customer_locale: Locale,
}

/// An accepted event: the complaint as it now is, the log row and the
/// notifications, to be written in one transaction.
#[derive(Debug, Clone)]
pub struct Transition {
    pub complaint: Complaint,
    pub record: EventRecord,
    pub notifications: Vec<Notification>,
    /// When the engine must next look at this complaint on its own (a
    /// deadline or a reminder); the scheduler's index.
    pub next_wakeup: Option<DateTime<Utc>>,
    /// The rules the event was judged by; what the event announces (a
    /// webhook's view of the complaint) is shown under the same rules.
    pub policy: Policy,
}

/// Everything outside the complaint an event is judged by.
#[derive(Debug, Clone, Copy)]
pub struct Circumstances<'a> {
    pub now: DateTime<Utc>,
    pub policy: &'a Policy,
    pub calendar: &'a Calendar,
    /// An id for whatever the event creates (an offer, a message).
    pub fresh_id: &'a str,
    /// The mediator an escalation assigns at once (`ODR_AUTO_ASSIGN`).
    pub auto_mediator: Option<&'a MediatorRef>,
}

impl Complaint {
    /// Hands one event to the machine. A refusal writes nothing; an
    /// accepted event yields exactly one log record.
    pub fn apply(
        &self,
        command: &Command,
        actor: &Actor,
        now: DateTime<Utc>,
        policy: &Policy,
        calendar: &Calendar,
        fresh_id: &str,
    ) -> Result<Transition, Refusal> {
        let at = Circumstances {
            now,
            policy,
            calendar,
            fresh_id,
            auto_mediator: None,
        };
        self.apply_in(command, actor, &at)
    }

    /// `apply`, with every circumstance spelled out.
    pub fn apply_in(
        &self,
        command: &Command,
        actor: &Actor,
        at: &Circumstances<'_>,
    ) -> Result<Transition, Refusal> {
        let (now, policy, calendar) = (at.now, at.policy, at.calendar);
        self.try_apply(command, actor, at)
            .map_err(|refusal| match refusal {
                Refusal::InvalidTransition {
                    attempted, state, ..
                } => Refusal::InvalidTransition {
                    attempted,
                    state,
                    allowed_actions: self.allowed_actions(actor, now, policy, calendar),
                },
                Refusal::OfferLimitReached {
                    max_offers, state, ..
                } => Refusal::OfferLimitReached {
                    max_offers,
                    state,
                    allowed_actions: self.allowed_actions(actor, now, policy, calendar),
                },
                other => other,
            })
    }

    fn try_apply(
        &self,
        command: &Command,
        actor: &Actor,
        at: &Circumstances<'_>,
    ) -> Result<Transition, Refusal> {
        let now = at.now;
        if !command.may_be_sent_by(actor.role) {
            let role = actor.role.code().replace('_', " ");
            let article = if role.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "An"
            } else {
                "A"
            };
            return Err(Refusal::Forbidden(format!(
                "{article} {role} cannot {}.",
                command.name().replace('_', " ")
            )));
        }
        let from = self.state();
        let mut machine = self.machine.clone();
        let mut context = Ctx {
            actor,
            now,
            policy: at.policy,
            calendar: at.calendar,
            fresh_id: at.fresh_id,
            auto_mediator: at.auto_mediator,
            reminder: self.reminder_due(now, at.policy),
            verdict: None,
        };
        machine.handle_with_context(command, &mut context);
        let Applied {
            kind,
            payload,
            notifications,
        } = match context.verdict {
            Some(Ok(applied)) => applied,
            Some(Err(refusal)) => return Err(refusal),
            None => {
                return Err(Refusal::InvalidTransition {
                    attempted: command.name().to_owned(),
                    state: from,
                    allowed_actions: Vec::new(),
                })
            }
        };
        let complaint = Complaint {
            machine,
            last_seq: self.last_seq + 1,
            updated_at: now,
        };
        let record = EventRecord {
            seq: complaint.last_seq,
            kind,
            actor_id: actor.id.clone(),
            actor_role: actor.role,
            from_state: Some(from),
            to_state: complaint.state(),
            payload,
            at: now,
        };
        Ok(Transition {
            next_wakeup: complaint.next_wakeup_at(at.policy, now),
            policy: at.policy.clone(),
            complaint,
            record,
            notifications,
        })
    }

    /// When the engine must next act on its own: the next deadline or the
    /// moment a reminder is owed, whichever comes first.
    pub fn next_wakeup_at(&self, policy: &Policy, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let reminder = self
            .owed_reminder(policy)
            .filter(|(_, r)| now < r.deadline.at)
            .map(|(from, _)| from);
        [self.next_deadline_at(), reminder]
            .into_iter()
            .flatten()
            .min()
    }

    /// The actions this caller could take now, found by offering the
    /// machine each of them with the least payload that could succeed.
    pub fn allowed_actions(
        &self,
        actor: &Actor,
        now: DateTime<Utc>,
        policy: &Policy,
        calendar: &Calendar,
    ) -> Vec<Action> {
        Action::ALL
            .iter()
            .copied()
            .filter(|action| {
                let at = Circumstances {
                    now,
                    policy,
                    calendar,
                    fresh_id: "probe",
                    auto_mediator: None,
                };
                probes(*action, actor)
                    .iter()
                    .any(|probe| self.try_apply(probe, actor, &at).is_ok())
            })
            .collect()
    }

    pub fn facts(&self) -> &ComplaintFacts {
        self.machine.inner()
    }

    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }

    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    pub fn state(&self) -> ComplaintState {
        match self.machine.state() {
            State::Filed {} => ComplaintState::Filed,
            State::Acknowledged {} => ComplaintState::Acknowledged,
            State::Proposed {} => ComplaintState::Proposed,
            State::Accepted {} => ComplaintState::Accepted,
            State::Escalated {} => ComplaintState::Escalated,
            State::Closed { .. } => ComplaintState::Closed,
        }
    }

    pub fn outcome(&self) -> Option<Outcome> {
        match self.machine.state() {
            State::Closed { outcome } => Some(*outcome),
            _ => None,
        }
    }

    /// The deadlines that run in the current state, soonest first.
    pub fn running_deadlines(&self) -> Vec<(DeadlineKind, DateTime<Utc>)> {
        let f = self.facts();
        let d = &f.deadlines;
        let mut running: Vec<(DeadlineKind, Option<DateTime<Utc>>)> = match self.state() {
            ComplaintState::Filed => vec![
                (DeadlineKind::AcknowledgeBy, d.acknowledge_by),
                (DeadlineKind::OfferBy, d.offer_by),
            ],
            ComplaintState::Acknowledged => vec![(DeadlineKind::OfferBy, d.offer_by)],
            ComplaintState::Proposed => vec![(
                DeadlineKind::ExpiresAt,
                f.current_offer().map(|o| o.expires_at),
            )],
            ComplaintState::Accepted => vec![(DeadlineKind::FulfilBy, d.fulfil_by)],
            ComplaintState::Escalated => vec![(DeadlineKind::DecideBy, d.decide_by)],
            ComplaintState::Closed => vec![],
        };
        running.sort_by_key(|(_, at)| *at);
        running
            .into_iter()
            .filter_map(|(k, at)| at.map(|at| (k, at)))
            .collect()
    }

    /// When the engine must next act on its own (`deadline_passed`).
    pub fn next_deadline_at(&self) -> Option<DateTime<Utc>> {
        let d = &self.facts().deadlines;
        match self.state() {
            ComplaintState::Filed => d.acknowledge_by,
            ComplaintState::Escalated => d.decision_reminder_at.or(d.decide_by),
            _ => self.running_deadlines().first().map(|(_, at)| *at),
        }
    }

    /// Who must act next, as lifecycle.md's states table says.
    pub fn who_must_act(&self) -> Option<Role> {
        match self.state() {
            ComplaintState::Filed | ComplaintState::Acknowledged | ComplaintState::Accepted => {
                Some(Role::RetailerStaff)
            }
            ComplaintState::Proposed => Some(Role::Customer),
            ComplaintState::Escalated => Some(Role::Mediator),
            ComplaintState::Closed => None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(stored: &str) -> Result<Complaint, serde_json::Error> {
        serde_json::from_str(stored)
    }
}

impl Command {
    /// The actor column of lifecycle.md: which roles may ever send this.
    pub fn may_be_sent_by(&self, role: Role) -> bool {
        use Role::*;
        let senders: &[Role] = match self {
            Command::Acknowledge { .. } | Command::Propose(_) | Command::Fulfil { .. } => {
                &[RetailerStaff]
            }
            Command::Accept { .. }
            | Command::Reject { .. }
            | Command::Withdraw { .. }
            | Command::Feedback { .. } => &[Customer],
            Command::Escalate { .. } => &[Customer, RetailerStaff],
            Command::AssignMediator { .. } => &[Admin, Mediator],
            Command::Decide(_) => &[Mediator],
            Command::DeadlinePassed | Command::Remind => &[System],
            Command::Message { .. } | Command::Attach(_) => &[Customer, RetailerStaff, Mediator],
        };
        senders.contains(&role)
    }
}

/// The least payloads that could make each action succeed.
fn probes(action: Action, actor: &Actor) -> Vec<Command> {
    match action {
        Action::Acknowledge => vec![Command::Acknowledge { message: None }],
        Action::Propose => vec![Command::Propose(OfferTerms {
            remedy: Remedy::Explanation,
            amount: None,
            message: None,
            expires_at: None,
        })],
        Action::Accept => vec![Command::Accept { offer_id: None }],
        Action::Reject => vec![Command::Reject {
            reason: RejectionReason::Other,
            counter_remedy: None,
            message: None,
        }],
        Action::Escalate => EscalationReason::ALL
            .iter()
            .map(|reason| Command::Escalate {
                reason: *reason,
                message: None,
            })
            .collect(),
        Action::Fulfil => vec![Command::Fulfil { message: None }],
        Action::AssignMediator => vec![Command::AssignMediator {
            mediator: MediatorRef {
                id: actor.id.clone().unwrap_or_default(),
                display_name: String::new(),
            },
        }],
        Action::Decide => vec![Command::Decide(RulingTerms {
            in_favour_of: InFavourOf::Retailer,
            remedy: None,
            amount: None,
            reasoning: "probe".into(),
        })],
        Action::Withdraw => vec![Command::Withdraw { reason: None }],
        Action::Feedback => vec![Command::Feedback {
            score: 5,
            comment: None,
        }],
    }
}
