//! The one path every event takes, a person's or the engine's: the domain
//! decides on the complaint as stored, the store writes the outcome in one
//! transaction, and a lost race is checked again against the winner's
//! result so that nothing is ever applied twice.

use chrono::{DateTime, Utc};
use odr_domain::complaint::{
    Circumstances, Command, ComplaintState, EventRecord, MediatorRef, Policy, Refusal,
};
use odr_domain::{Actor, Role};

use crate::complaints::StoredComplaint;
use crate::{Retailer, Store, StoreError};

/// What a transition wrote, all of it known before the commit: nothing
/// needs reading back afterwards (a database that drops right after the
/// commit must not turn a committed event into an error answer).
#[derive(Debug, Clone)]
pub struct Committed {
    pub saved: StoredComplaint,
    /// The complaint's retailer as read for the decision (its calendar).
    pub retailer: Option<Retailer>,
    /// The event row as written.
    pub record: EventRecord,
}

#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    /// The machine refused the event (against the state as it is now).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Another event won the race and this one would still apply: the
    /// caller should look again before repeating it.
    #[error("the complaint changed at the same moment")]
    LostRace,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How the engine decides where the people do not.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineRules {
    /// `ODR_AUTO_ASSIGN`: an escalation assigns the least busy mediator.
    pub auto_assign: bool,
}

impl Store {
    /// Applies `command` by `actor` to `stored` and writes it. `fresh_id`
    /// names what the event creates (an offer, a message).
    pub fn transition(
        &self,
        stored: &StoredComplaint,
        command: &Command,
        actor: &Actor,
        now: DateTime<Utc>,
        policy: &Policy,
        rules: EngineRules,
    ) -> Result<Committed, TransitionError> {
        let fresh_id = uuid::Uuid::new_v4().to_string();
        let decide = |stored: &StoredComplaint| -> Result<_, TransitionError> {
            let f = stored.complaint.facts();
            let retailer = self.retailer(&f.retailer_id)?;
            let calendar = retailer
                .as_ref()
                .map(Retailer::calendar)
                .unwrap_or_default();
            let mediator = if rules.auto_assign && f.mediator.is_none() {
                self.least_busy_mediator()?
            } else {
                None
            };
            let at = Circumstances {
                now,
                policy,
                calendar: &calendar,
                fresh_id: &fresh_id,
                auto_mediator: mediator.as_ref(),
            };
            Ok((stored.complaint.apply_in(command, actor, &at)?, retailer))
        };
        let (t, retailer) = decide(stored)?;
        match self.record_transition(stored.version, &t, retailer.as_ref()) {
            Ok(saved) => Ok(Committed {
                saved,
                retailer,
                record: t.record,
            }),
            Err(StoreError::Conflict(_)) => {
                let id = &stored.complaint.facts().id;
                let current = self.complaint(id)?.ok_or(StoreError::NotFound)?;
                decide(&current)?;
                Err(TransitionError::LostRace)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The active mediator with the fewest open cases (oldest account first
    /// among equals).
    pub fn least_busy_mediator(&self) -> Result<Option<MediatorRef>, StoreError> {
        let mediators = self.users_with_role(Role::Mediator)?;
        let mut best: Option<(i64, MediatorRef)> = None;
        for m in mediators {
            let load = self.open_cases_of(&m.id)?;
            if best.as_ref().is_none_or(|(l, _)| load < *l) {
                best = Some((
                    load,
                    MediatorRef {
                        id: m.id,
                        display_name: m.display_name,
                    },
                ));
            }
        }
        Ok(best.map(|(_, m)| m))
    }

    fn open_cases_of(&self, mediator_id: &str) -> Result<i64, StoreError> {
        use crate::schema::complaints;
        use diesel::prelude::*;
        self.with_conn(|conn| {
            Ok(complaints::table
                .filter(complaints::mediator_id.eq(mediator_id))
                .filter(complaints::state.ne(ComplaintState::Closed.code()))
                .count()
                .get_result(conn)?)
        })
    }
}
