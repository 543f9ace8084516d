//! Why the machine refused an event. Each refusal writes nothing.

use crate::validation::Violation;

use super::vocabulary::{Action, ComplaintState};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The machine does not take this event in this state (409).
    #[error("`{attempted}` is not possible while the complaint is {state}")]
    InvalidTransition {
        attempted: String,
        state: ComplaintState,
        allowed_actions: Vec<Action>,
    },
    /// The last allowed offer was rejected (409); `escalate` is the way on.
    #[error("this was the final offer ({max_offers} of {max_offers}); it can be accepted, or the complaint escalated to a mediator")]
    OfferLimitReached {
        max_offers: u32,
        state: ComplaintState,
        allowed_actions: Vec<Action>,
    },
    /// This caller may never send this event to this complaint (403).
    #[error("{0}")]
    Forbidden(String),
    /// The event is possible, but its payload is not (422).
    #[error("the request has invalid fields")]
    Invalid(Vec<Violation>),
    /// The caller acted on something that has changed meanwhile (409).
    #[error("{0}")]
    Conflict(String),
}

impl Refusal {
    pub fn invalid(v: Violation) -> Refusal {
        Refusal::Invalid(vec![v])
    }

    pub fn is_invalid_transition(&self) -> bool {
        matches!(self, Refusal::InvalidTransition { .. })
    }
}
