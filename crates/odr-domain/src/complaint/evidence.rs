//! Evidence: a party or the assigned mediator adds a file to an open
//! complaint. The file is stored and checked by the caller; the machine
//! decides who may add it and logs it. Nothing changes state and nobody is
//! notified (lifecycle.md lists no notification for it).

use serde_json::json;
use statig::prelude::Outcome::Handled;

use crate::validation::{self, limits, Violation};

use super::command::Evidence;
use super::facts::ComplaintFacts;
use super::machine::{check, refuse, Applied, Ctx, Step};
use super::refusal::Refusal;
use super::vocabulary::EventKind;

/// Longest caption, in characters.
pub const CAPTION_MAX: usize = 200;

impl ComplaintFacts {
    pub(super) fn attach(&mut self, context: &mut Ctx<'_>, evidence: &Evidence) -> Step {
        check!(context, self.as_party_or_mediator(context.actor));
        check!(
            context,
            validation::optional_text("caption", evidence.caption.as_deref(), CAPTION_MAX)
                .map_err(Refusal::invalid)
        );
        if evidence.file_name.trim().is_empty() || evidence.file_name.chars().count() > limits::NAME
        {
            return refuse(
                context,
                Refusal::invalid(Violation::new(
                    "file",
                    "invalid_file_name",
                    "The file needs a name of at most 200 characters.",
                )),
            );
        }
        let payload = json!({
            "attachment_id": evidence.attachment_id,
            "file_name": evidence.file_name,
            "content_type": evidence.content_type,
            "size": evidence.size,
            "sha256": evidence.sha256,
            "caption": evidence.caption,
        });
        // Evidence changes nothing: the machine stays where it is.
        context.verdict = Some(Ok(Applied {
            kind: EventKind::Attachment,
            payload,
            notifications: Vec::new(),
        }));
        Handled
    }
}
