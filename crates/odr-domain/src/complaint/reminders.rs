//! Reminders: `ODR_REMINDER_LEAD` before a deadline falls, the party who
//! must act hears of it once. A deadline set less than the lead ahead gets
//! none: the mail that set it already named it.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use statig::prelude::Outcome::{Handled, Super};

use crate::actor::Role;

use super::aggregate::Complaint;
use super::effects::{NotificationTemplate as T, Recipient};
use super::facts::{ComplaintFacts, DeadlineMark, OfferStatus};
use super::machine::{note, Applied, Ctx, Reminder, Step};
use super::policy::Policy;
use super::vocabulary::{ComplaintState, DeadlineKind, EventKind};

impl ComplaintFacts {
    pub(super) fn remind(&mut self, context: &mut Ctx<'_>) -> Step {
        let Some(reminder) = context.reminder.clone() else {
            return Super;
        };
        if context.actor.role != Role::System {
            return Super;
        }
        let payload = json!({
            "deadline": reminder.deadline.kind,
            "at": reminder.deadline.at,
            "reminded": reminder.to,
        });
        self.deadlines.reminded.push(reminder.deadline);
        context.verdict = Some(Ok(Applied {
            kind: EventKind::Reminder,
            payload,
            notifications: vec![note(T::DeadlineReminder, reminder.to)],
        }));
        Handled
    }

    /// When the deadline of `kind` was set, for the "set less than the lead
    /// ahead" rule.
    fn deadline_set_at(&self, kind: DeadlineKind) -> Option<DateTime<Utc>> {
        let answered = |status: OfferStatus| {
            self.offers
                .iter()
                .rev()
                .find(|o| o.status == status)
                .and_then(|o| o.answered_at)
        };
        match kind {
            DeadlineKind::AcknowledgeBy => Some(self.created_at),
            DeadlineKind::OfferBy => answered(OfferStatus::Rejected).or(Some(self.created_at)),
            DeadlineKind::ExpiresAt => self.current_offer().map(|o| o.created_at),
            DeadlineKind::FulfilBy => answered(OfferStatus::Accepted),
            DeadlineKind::DecideBy => self.escalation.as_ref().map(|e| e.at),
        }
    }
}

impl Complaint {
    /// The reminder this complaint is owed, once its time has come or not:
    /// the soonest running deadline, if it was set at least the lead ahead
    /// and has not been reminded.
    pub(super) fn owed_reminder(&self, policy: &Policy) -> Option<(DateTime<Utc>, Reminder)> {
        let facts = self.facts();
        let (kind, at) = *self.running_deadlines().first()?;
        let lead = TimeDelta::from_std(policy.reminder_lead).ok()?;
        if lead.is_zero() {
            return None;
        }
        let set_at = facts.deadline_set_at(kind)?;
        let mark = DeadlineMark { kind, at };
        if at - set_at < lead || facts.deadlines.reminded.contains(&mark) {
            return None;
        }
        let to = match self.state() {
            ComplaintState::Proposed => Recipient::Customer,
            ComplaintState::Escalated => match &facts.mediator {
                Some(m) => Recipient::Mediator(m.id.clone()),
                None => Recipient::Admins,
            },
            ComplaintState::Closed => return None,
            _ => Recipient::Retailer,
        };
        Some((at - lead, Reminder { deadline: mark, to }))
    }

    /// The reminder due at `now`, if any.
    pub(super) fn reminder_due(&self, now: DateTime<Utc>, policy: &Policy) -> Option<Reminder> {
        self.owed_reminder(policy)
            .filter(|(from, r)| now >= *from && now < r.deadline.at)
            .map(|(_, r)| r)
    }
}
