//! Feedback: once a complaint is closed, its customer may say how satisfied
//! they are, once, on a scale of 1 to 5 with an optional comment. The state
//! stays `closed`; the rating becomes a fact of the complaint (so the
//! machine refuses a second one) and a `feedback` row of the log. Nobody is
//! notified.

use serde_json::json;
use statig::prelude::Outcome::Handled;

use crate::validation::Violation;

use super::facts::{ComplaintFacts, Feedback};
use super::machine::{check, refuse, Applied, Ctx, Step};
use super::refusal::Refusal;
use super::vocabulary::EventKind;

/// The lowest score: not at all satisfied.
pub const SCORE_MIN: u8 = 1;
/// The highest score: very satisfied.
pub const SCORE_MAX: u8 = 5;

impl ComplaintFacts {
    pub(super) fn give_feedback(
        &mut self,
        context: &mut Ctx<'_>,
        score: i64,
        comment: Option<&str>,
    ) -> Step {
        check!(context, self.as_customer(context.actor));
        if self.feedback.is_some() {
            return refuse(
                context,
                Refusal::Conflict("Feedback on this complaint has already been given.".into()),
            );
        }
        let Some(score) = u8::try_from(score)
            .ok()
            .filter(|s| (SCORE_MIN..=SCORE_MAX).contains(s))
        else {
            return refuse(
                context,
                Refusal::invalid(Violation::new(
                    "score",
                    "out_of_range",
                    "Give a score from 1 (not at all satisfied) to 5 (very satisfied).",
                )),
            );
        };
        check!(context, Self::long_text("comment", comment));
        let comment = comment
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        let mut payload = json!({ "score": score });
        if let Some(text) = &comment {
            payload["comment"] = json!(text);
        }
        self.feedback = Some(Feedback {
            score,
            comment,
            given_at: context.now,
        });
        // Feedback changes nothing else: the complaint stays closed.
        context.verdict = Some(Ok(Applied {
            kind: EventKind::Feedback,
            payload,
            notifications: Vec::new(),
        }));
        Handled
    }
}
