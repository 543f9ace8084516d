//! One complaint is one state machine (lifecycle.md). The machine lives in
//! `machine.rs`; everything else here is the plain data it works on and
//! hands back.

mod aggregate;
mod command;
mod effects;
mod escalation;
mod evidence;
mod facts;
mod feedback;
mod filing;
pub(crate) mod machine;
mod negotiation;
mod policy;
mod refusal;
mod reminders;
mod rules;
mod view;
mod vocabulary;
mod webhook;

pub use aggregate::{Circumstances, Complaint, NewComplaint, Transition};
pub use command::{Command, Evidence, Filing, ItemInput, OfferTerms, RulingTerms};
pub use effects::{EventRecord, Notification, NotificationTemplate, Recipient};
pub use facts::{
    ComplaintFacts, DeadlineMark, Deadlines, Escalation, Feedback, InFavourOf, Item, MediatorRef,
    Offer, OfferStatus, Rejection, Ruling,
};
pub use feedback::{SCORE_MAX, SCORE_MIN};
pub use policy::{Calendar, Policy};
pub use refusal::Refusal;
pub use view::{ComplaintView, NextDeadline};
pub use vocabulary::{Action, ComplaintState, DeadlineKind, EventKind, Outcome};
pub use webhook::WebhookType;

#[cfg(test)]
mod tests;
