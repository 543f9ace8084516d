//! The domain's refusals and the store's errors as the API answers them;
//! `problem.rs` then writes each as a problem document.

use odr_domain::complaint::{Action, Refusal};
use odr_domain::validation::Violation;
use odr_store::{StoreError, TransitionError};

use crate::problem::{ApiError, FieldError};

fn names(actions: &[Action]) -> Vec<String> {
    actions.iter().map(|a| a.code().to_owned()).collect()
}

pub fn field_errors(violations: Vec<Violation>) -> Vec<FieldError> {
    violations
        .into_iter()
        .map(|v| FieldError::new(v.field, v.code, v.message))
        .collect()
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        let detail = r.to_string();
        match r {
            Refusal::InvalidTransition {
                state,
                allowed_actions,
                ..
            } => {
                let allowed = names(&allowed_actions);
                let way_on = if allowed.is_empty() {
                    "Nothing can be done on it by you right now.".to_owned()
                } else {
                    format!("You can: {}.", allowed.join(", "))
                };
                ApiError::InvalidTransition {
                    detail: format!("{} ({way_on})", capitalise(&detail)),
                    state: state.code().to_owned(),
                    allowed_actions: allowed,
                }
            }
            Refusal::OfferLimitReached {
                state,
                allowed_actions,
                ..
            } => ApiError::OfferLimitReached {
                detail: format!(
                    "{}: use `escalate` to ask a mediator to decide.",
                    capitalise(&detail)
                ),
                state: state.code().to_owned(),
                allowed_actions: names(&allowed_actions),
            },
            Refusal::Forbidden(m) => ApiError::Forbidden(m),
            Refusal::Invalid(v) => ApiError::Validation {
                errors: field_errors(v),
            },
            Refusal::Conflict(m) => ApiError::Conflict(m),
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The store's errors as the API answers them.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Unavailable(m) => ApiError::Unavailable(m),
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(m) => {
                tracing::info!(detail = %m, "conflict in the store");
                ApiError::Conflict(
                    "Someone else changed this at the same moment; please reload and try again."
                        .into(),
                )
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<TransitionError> for ApiError {
    fn from(e: TransitionError) -> ApiError {
        match e {
            TransitionError::Refused(r) => r.into(),
            TransitionError::LostRace => ApiError::Conflict(
                "Someone else changed this complaint at the same moment; please look at it again."
                    .into(),
            ),
            TransitionError::Store(e) => e.into(),
        }
    }
}
