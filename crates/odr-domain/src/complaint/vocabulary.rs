//! The names of states, outcomes, actions and logged events, as the API
//! spells them.

use serde::{Deserialize, Serialize};

use crate::taxonomy::UnknownCode;

macro_rules! codes {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(code: &str) -> Result<$name, UnknownCode> {
                match code {
                    $($code => Ok($name::$variant),)+
                    _ => Err(UnknownCode { kind: $kind, code: code.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

codes!(
    /// The states of lifecycle.md.
    ComplaintState, "state" {
        Filed => "filed",
        Acknowledged => "acknowledged",
        Proposed => "proposed",
        Accepted => "accepted",
        Escalated => "escalated",
        Closed => "closed",
    }
);

codes!(
    /// How a closed complaint ended.
    Outcome, "outcome" {
        Resolved => "resolved",
        Decided => "decided",
        Withdrawn => "withdrawn",
        Lapsed => "lapsed",
    }
);

codes!(
    /// The events a person may send, in the order of lifecycle.md's table;
    /// `allowed_actions` lists these.
    Action, "action" {
        Acknowledge => "acknowledge",
        Propose => "propose",
        Accept => "accept",
        Reject => "reject",
        Escalate => "escalate",
        Fulfil => "fulfil",
        AssignMediator => "assign_mediator",
        Decide => "decide",
        Withdraw => "withdraw",
        Feedback => "feedback",
    }
);

codes!(
    /// Every `type` a row of the event log can have.
    EventKind, "event" {
        File => "file",
        Acknowledge => "acknowledge",
        Propose => "propose",
        Accept => "accept",
        Reject => "reject",
        Escalate => "escalate",
        Fulfil => "fulfil",
        AssignMediator => "assign_mediator",
        Decide => "decide",
        Withdraw => "withdraw",
        DeadlinePassed => "deadline_passed",
        Message => "message",
        Attachment => "attachment",
        Reminder => "reminder",
        Feedback => "feedback",
    }
);

codes!(
    /// The deadlines that run in the states of lifecycle.md.
    DeadlineKind, "deadline" {
        AcknowledgeBy => "acknowledge_by",
        OfferBy => "offer_by",
        ExpiresAt => "expires_at",
        FulfilBy => "fulfil_by",
        DecideBy => "decide_by",
    }
);

impl ComplaintState {
    /// `open` superstate: every state but `closed`.
    pub fn is_open(self) -> bool {
        self != ComplaintState::Closed
    }
}
