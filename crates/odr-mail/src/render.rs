//! Turns the facts of one notification into the mail a person reads: a
//! subject, a plain-text body and an HTML body, in the recipient's language
//! and time zone.
//!
//! The words live in `locales/*.toml` and the two layouts in `templates/`;
//! both are compiled into the binary. Rust code here only chooses which
//! sentences apply and fills in the facts. Every text a user typed reaches
//! the HTML through minijinja's auto-escaping and never reaches the subject
//! with a line break in it: the subject is the one header this crate writes.

mod compose;
mod format;
mod strings;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use odr_domain::locale::Locale;
use odr_domain::taxonomy::UnknownCode;
use odr_store::mail_facts::MailFacts;

use strings::Catalogue;

const TEXT_LAYOUT: &str = "mail.txt.j2";
const HTML_LAYOUT: &str = "mail.html.j2";

/// Renders notifications; built once at start-up and shared.
pub struct Renderer {
    env: Environment<'static>,
    catalogue: Catalogue,
    public_url: String,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RenderedMail {
    /// One line, never containing CR or LF.
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the public URL `{0}` is not an absolute http(s) URL")]
    PublicUrl(String),
    #[error("no mail template is called `{0}`")]
    UnknownTemplate(String),
    #[error("a mail cannot be addressed to the role `{0}`")]
    UnknownRecipientRole(String),
    #[error("the `{template}` mail needs the `{missing}` facts")]
    MissingFacts {
        template: String,
        missing: &'static str,
    },
    #[error(transparent)]
    UnknownCode(#[from] UnknownCode),
    #[error("the {locale} strings file is broken: {detail}")]
    Strings {
        locale: &'static str,
        detail: String,
    },
    #[error("the {locale} text `{key}` has no placeholder `{{{name}}}`")]
    Placeholder {
        locale: &'static str,
        key: String,
        name: String,
    },
    #[error("a mail layout failed: {0}")]
    Layout(#[from] minijinja::Error),
}

impl Renderer {
    /// `public_url` without trailing slash, e.g. "http://127.0.0.1:8080".
    pub fn new(public_url: &str) -> Result<Renderer, RenderError> {
        let public_url = public_url.trim_end_matches('/');
        let scheme_ok = public_url.starts_with("http://") || public_url.starts_with("https://");
        let clean = !public_url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>'));
        if !scheme_ok || !clean || public_url.len() <= "https://".len() {
            return Err(RenderError::PublicUrl(public_url.to_owned()));
        }
        Ok(Renderer {
            env: layouts()?,
            catalogue: Catalogue::load()?,
            public_url: public_url.to_owned(),
        })
    }

    pub fn render(&self, facts: &MailFacts) -> Result<RenderedMail, RenderError> {
        let locale = Locale::parse(&facts.locale).unwrap_or_default();
        let view = compose::view(&self.catalogue.reader(locale), &self.public_url, facts)?;
        Ok(RenderedMail {
            text: self.env.get_template(TEXT_LAYOUT)?.render(&view)?,
            html: self.env.get_template(HTML_LAYOUT)?.render(&view)?,
            subject: view.subject,
        })
    }
}

/// The two layouts, HTML-escaping chosen by file name (`.html.j2`).
fn layouts() -> Result<Environment<'static>, RenderError> {
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html.j2") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.set_formatter(format::escape_html_keeping_urls);
    env.add_template(TEXT_LAYOUT, include_str!("../templates/mail.txt.j2"))?;
    env.add_template(HTML_LAYOUT, include_str!("../templates/mail.html.j2"))?;
    Ok(env)
}

#[cfg(test)]
mod tests;
