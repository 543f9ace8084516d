//! Deadlines that act by themselves: each tick finds the complaints whose
//! wake-up time has come and sends them `deadline_passed` or `remind` as the
//! `system` actor, through the same transition path as a person's action.
//! Several schedulers may tick at once (several processes on PostgreSQL):
//! the version check lets one of them apply each deadline, once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use odr_domain::complaint::{Command, Policy, Refusal};
use odr_domain::Actor;

use crate::complaints::StoredComplaint;
use crate::schema::complaints;
use crate::time::to_db;
use crate::transitions::{EngineRules, TransitionError};
use crate::{Store, StoreError};

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tick {
    /// `deadline_passed` events applied.
    pub deadlines: usize,
    /// `reminder` events applied.
    pub reminders: usize,
    /// Complaints another process acted on first.
    pub lost_races: usize,
    /// Complaints due but with nothing to do (the wake-up time moved).
    pub idle: usize,
}

impl Store {
    /// The ids of complaints whose wake-up time is at or before `now`,
    /// soonest first.
    pub fn due_complaints(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        self.with_conn(|conn| {
            Ok(complaints::table
                .filter(complaints::next_deadline_at.le(to_db(now)))
                .order((complaints::next_deadline_at.asc(), complaints::id.asc()))
                .select(complaints::id)
                .limit(limit)
                .load(conn)?)
        })
    }

    /// The earliest wake-up time at or before `now` (the most overdue
    /// complaint), if any is due: the scheduler's lag is `now` minus this.
    pub fn oldest_due(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.with_conn(|conn| {
            let oldest: Option<chrono::NaiveDateTime> = complaints::table
                .filter(complaints::next_deadline_at.le(to_db(now)))
                .select(diesel::dsl::min(complaints::next_deadline_at))
                .first(conn)?;
            Ok(oldest.map(crate::time::from_db))
        })
    }

    /// Acts on every complaint due at `now` (in batches of `batch`).
    pub fn act_on_deadlines(
        &self,
        now: DateTime<Utc>,
        policy: &Policy,
        rules: EngineRules,
        batch: i64,
    ) -> Result<Tick, StoreError> {
        let mut tick = Tick::default();
        let mut seen = std::collections::HashSet::new();
        loop {
            let due: Vec<String> = self
                .due_complaints(now, batch)?
                .into_iter()
                .filter(|id| seen.insert(id.clone()))
                .collect();
            if due.is_empty() {
                return Ok(tick);
            }
            for id in due {
                // A complaint may owe both (a reminder, then its deadline):
                // act until it owes nothing at this moment.
                for _ in 0..4 {
                    let Some(stored) = self.complaint(&id)? else {
                        break;
                    };
                    match self.act_once(&stored, now, policy, rules)? {
                        Acted::Deadline => tick.deadlines += 1,
                        Acted::Reminder => tick.reminders += 1,
                        Acted::LostRace => {
                            tick.lost_races += 1;
                            break;
                        }
                        Acted::Nothing => {
                            tick.idle += 1;
                            break;
                        }
                    }
                }
            }
        }
    }

    fn act_once(
        &self,
        stored: &StoredComplaint,
        now: DateTime<Utc>,
        policy: &Policy,
        rules: EngineRules,
    ) -> Result<Acted, StoreError> {
        let system = Actor::system();
        for (command, acted) in [
            (Command::DeadlinePassed, Acted::Deadline),
            (Command::Remind, Acted::Reminder),
        ] {
            match self.transition(stored, &command, &system, now, policy, rules) {
                Ok(_) => {
                    tracing::info!(
                        complaint = %stored.complaint.facts().reference,
                        event = command.name(),
                        "deadline acted"
                    );
                    return Ok(acted);
                }
                Err(TransitionError::Refused(Refusal::InvalidTransition { .. })) => continue,
                Err(TransitionError::Refused(other)) => {
                    tracing::warn!(refusal = %other, "a deadline event was refused");
                    continue;
                }
                Err(TransitionError::LostRace) => return Ok(Acted::LostRace),
                Err(TransitionError::Store(e)) => return Err(e),
            }
        }
        Ok(Acted::Nothing)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Acted {
    Deadline,
    Reminder,
    LostRace,
    Nothing,
}
