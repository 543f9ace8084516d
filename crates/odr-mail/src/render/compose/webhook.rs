//! `webhook_disabled`: a shop's webhook endpoint failed for days and the
//! engine stopped calling it. Said to the shop's support address and its
//! staff, with the way back (fix the endpoint, enable it again).

use odr_store::mail_facts::MailFacts;

use super::{fill_list, greeting, Detail, Link, View};
use crate::render::format;
use crate::render::strings::{Reader, Vars};
use crate::render::RenderError;

const BASE: &str = "template.webhook_disabled.other";

pub(super) fn webhook_disabled(
    s: &Reader<'_>,
    public_url: &str,
    facts: &MailFacts,
) -> Result<View, RenderError> {
    let hook = facts.webhook.as_ref().ok_or(RenderError::MissingFacts {
        template: facts.template.clone(),
        missing: "webhook",
    })?;
    let tz = format::zone(&facts.time_zone);
    let since = format::when(s, hook.failing_since, tz)?;
    let url = format::one_line(&hook.url);
    let vars = Vars::from([
        ("name", format::one_line(&facts.recipient_name)),
        ("url", url.clone()),
        ("since", since.clone()),
    ]);
    let paragraphs = fill_list(s, &format!("{BASE}.body"), &vars)?;
    Ok(View {
        lang: s.locale.code(),
        colon: s.text("common.colon")?.to_owned(),
        subject: format::subject(None, &s.fill(&format!("{BASE}.subject"), &vars)?),
        reference: None,
        preheader: paragraphs.first().cloned().unwrap_or_default(),
        headline: s.fill(&format!("{BASE}.headline"), &vars)?,
        greeting: greeting(s, &facts.recipient_name)?,
        paragraphs,
        details_title: s.text("common.details")?.to_owned(),
        details: vec![
            Detail {
                label: s.text(&format!("{BASE}.endpoint"))?.to_owned(),
                value: url,
            },
            Detail {
                label: s.text(&format!("{BASE}.failing_since"))?.to_owned(),
                value: since,
            },
            Detail {
                label: s.text(&format!("{BASE}.disabled_at"))?.to_owned(),
                value: format::when(s, hook.disabled_at, tz)?,
            },
        ],
        quotes: Vec::new(),
        status: None,
        action: Link {
            label: s.text(&format!("{BASE}.button"))?.to_owned(),
            url: format!("{public_url}/sign-in"),
        },
        link_hint: s.text("common.link_hint")?.to_owned(),
        no_reply: s.text(&format!("{BASE}.no_reply"))?.to_owned(),
        sign_in: None,
        signature: s.list("common.signature")?.to_vec(),
        feedback: None,
    })
}
