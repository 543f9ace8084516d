//! Turns a claimed outbox row and its rendered text into an RFC 5322
//! message. The Message-ID is derived from the outbox id, so a resend of a
//! row is recognisable as the same mail, and every mail about a complaint
//! to one address names the first of them in `In-Reply-To`/`References`:
//! mail clients show one complaint as one thread.
//!
//! Header values are built only from data cleaned here: names and subjects
//! lose control characters (no header injection from a user's display
//! name); lettre encodes the rest (RFC 2047 for non-ASCII).

use std::time::SystemTime;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{Address, Message};
use odr_store::delivery::ClaimedMail;

use crate::render::RenderedMail;

#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("ODR_MAIL_FROM is not a mailbox like `ODR <no-reply@example.org>`: {0}")]
    InvalidFrom(String),
    #[error("ODR_PUBLIC_URL has no host to name Message-IDs after: {0}")]
    InvalidPublicUrl(String),
    #[error("the recipient address {address:?} is not valid: {reason}")]
    InvalidRecipient { address: String, reason: String },
    #[error("the message could not be built: {0}")]
    Build(#[from] lettre::error::Error),
}

/// Who mails are from, and the domain their Message-IDs are under.
#[derive(Debug, Clone)]
pub struct Sender {
    from: Mailbox,
    host: String,
}

/// Roles whose mails are addressed to a person by name; a retailer's
/// support address is addressed bare.
const PERSON_ROLES: [&str; 4] = ["customer", "retailer_staff", "mediator", "admin"];

impl Sender {
    /// `mail_from` as in `ODR_MAIL_FROM`, `public_url` as in `ODR_PUBLIC_URL`.
    pub fn new(mail_from: &str, public_url: &str) -> Result<Sender, MessageError> {
        let from: Mailbox = mail_from
            .parse()
            .map_err(|e| MessageError::InvalidFrom(format!("{mail_from:?}: {e}")))?;
        Ok(Sender {
            from,
            host: public_host(public_url)?,
        })
    }

    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// The host of the public URL, the right-hand side of Message-IDs.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `<{outbox id}@{host}>`.
    pub fn message_id(&self, outbox_id: &str) -> String {
        format!("<{outbox_id}@{}>", self.host)
    }

    /// The mail for `mail`, dated `date`.
    pub fn message(
        &self,
        mail: &ClaimedMail,
        rendered: &RenderedMail,
        date: SystemTime,
    ) -> Result<Message, MessageError> {
        let address: Address =
            mail.to_address
                .parse()
                .map_err(
                    |e: lettre::address::AddressError| MessageError::InvalidRecipient {
                        address: mail.to_address.clone(),
                        reason: e.to_string(),
                    },
                )?;
        let name = Some(clean_line(&mail.facts.recipient_name)).filter(|n| {
            !n.is_empty() && PERSON_ROLES.contains(&mail.facts.recipient_role.as_str())
        });
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(name, address))
            .subject(clean_line(&rendered.subject))
            .date(date)
            .message_id(Some(self.message_id(&mail.id)))
            .header(AutoSubmitted::auto_generated())
            .header(ContentLanguage(clean_token(&mail.facts.locale)));
        if let Some(root) = &mail.thread_root_id {
            let root = self.message_id(root);
            builder = builder.in_reply_to(root.clone()).references(root);
        }
        Ok(builder.multipart(MultiPart::alternative_plain_html(
            rendered.text.clone(),
            rendered.html.clone(),
        ))?)
    }
}

/// The host of an `http(s)://` URL (no user info, port or path).
fn public_host(public_url: &str) -> Result<String, MessageError> {
    let invalid = || MessageError::InvalidPublicUrl(public_url.to_owned());
    let rest = public_url.split_once("://").ok_or_else(invalid)?.1;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        // An IPv6 literal stays bracketed: `<id@[::1]>` is a valid msg-id.
        Some(v6) => format!("[{}]", v6.split(']').next().unwrap_or_default()),
        None => host_port.split(':').next().unwrap_or_default().to_owned(),
    };
    let valid = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-.[]:".contains(c));
    if host.is_empty() || host == "[]" || !valid {
        return Err(invalid());
    }
    Ok(host.to_ascii_lowercase())
}

/// One line of header text: control characters (CR, LF, tabs) become
/// spaces, runs of spaces collapse.
fn clean_line(text: &str) -> String {
    text.split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A language tag: letters, digits and `-` only.
fn clean_token(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// `Auto-Submitted: auto-generated` (RFC 3834): auto-responders must not
/// answer these mails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoSubmitted(String);

impl AutoSubmitted {
    pub fn auto_generated() -> Self {
        Self("auto-generated".into())
    }
}

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `Content-Language` (RFC 3282): the recipient's locale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentLanguage(pub String);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_named_after_the_public_host() {
        for (url, host) in [
            ("http://127.0.0.1:8080", "127.0.0.1"),
            ("https://ODR.example.org/base/", "odr.example.org"),
            (
                "https://user:pw@odr.example.org:8443?x=1",
                "odr.example.org",
            ),
            ("http://[::1]:8080/", "[::1]"),
        ] {
            let sender = Sender::new("ODR <no-reply@localhost>", url).expect(url);
            assert_eq!(sender.message_id("abc"), format!("<abc@{host}>"), "{url}");
        }
        for url in [
            "127.0.0.1:8080",
            "http://",
            "http://bad host/",
            "http://a\r\nb/",
        ] {
            assert!(Sender::new("no-reply@localhost", url).is_err(), "{url:?}");
        }
    }

    #[test]
    fn a_sender_that_is_not_a_mailbox_is_refused() {
        assert!(Sender::new("ODR <no-reply@localhost>", "http://x").is_ok());
        for from in ["", "not an address", "ODR <no-reply@localhost>\r\nBcc: a@b"] {
            assert!(Sender::new(from, "http://x").is_err(), "{from:?}");
        }
    }

    #[test]
    fn lettre_refuses_line_breaks_in_a_parsed_mailbox() {
        assert!("Eve\r\nBcc: victim@example.org <eve@example.org>"
            .parse::<Mailbox>()
            .is_err());
    }

    #[test]
    fn names_and_subjects_are_one_line() {
        assert_eq!(
            clean_line("Eve\r\nBcc: victim@example.org\t x"),
            "Eve Bcc: victim@example.org x"
        );
        assert_eq!(clean_token("de\r\nX: y"), "deXy");
    }

    fn claimed(name: &str, role: &str, root: Option<&str>) -> ClaimedMail {
        ClaimedMail {
            id: "row-2".into(),
            claim_token: "t".into(),
            to_address: "eve@example.org".into(),
            facts: odr_store::mail_facts::MailFacts {
                template: "invitation".into(),
                recipient_role: role.into(),
                recipient_name: name.into(),
                locale: "de".into(),
                time_zone: "UTC".into(),
                complaint: None,
                invitation: None,
                magic_link: None,
                webhook: None,
            },
            complaint_id: None,
            event_seq: None,
            attempts: 0,
            thread_root_id: root.map(str::to_owned),
        }
    }

    fn formatted(mail: &ClaimedMail, subject: &str) -> String {
        let rendered = RenderedMail {
            subject: subject.into(),
            text: "Hallo".into(),
            html: "<p>Hallo</p>".into(),
        };
        let sender = Sender::new("ODR <no-reply@localhost>", "https://odr.test").expect("sender");
        let message = sender
            .message(mail, &rendered, SystemTime::UNIX_EPOCH)
            .expect("message");
        String::from_utf8(message.formatted()).expect("utf-8")
    }

    #[test]
    fn a_display_name_or_subject_cannot_add_headers() {
        let raw = formatted(
            &claimed("Eve\r\nBcc: victim@example.org", "customer", None),
            "Hi\r\nBcc: victim@example.org",
        );
        let head = raw.split("\r\n\r\n").next().unwrap_or_default();
        assert!(
            !head
                .lines()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc")),
            "{head}"
        );
        // lettre encodes the (now one-line) name as an RFC 2047 word.
        let to: Vec<_> = head.lines().filter(|l| l.starts_with("To: ")).collect();
        assert_eq!(to.len(), 1, "{head}");
        assert!(to[0].ends_with(" <eve@example.org>"), "{head}");
        assert!(
            head.contains("Subject: Hi Bcc: victim@example.org\r\n"),
            "{head}"
        );
    }

    #[test]
    fn headers_name_the_row_its_thread_and_the_language() {
        let raw = formatted(&claimed("Eva", "customer", Some("row-1")), "Betreff");
        for header in [
            "Message-ID: <row-2@odr.test>",
            "In-Reply-To: <row-1@odr.test>",
            "References: <row-1@odr.test>",
            "Auto-Submitted: auto-generated",
            "Content-Language: de",
            "Content-Type: multipart/alternative",
        ] {
            assert!(raw.contains(header), "{header} missing in\n{raw}");
        }
        let first = formatted(&claimed("Eva", "customer", None), "Betreff");
        assert!(!first.contains("In-Reply-To") && !first.contains("References"));
    }

    #[test]
    fn a_support_address_is_addressed_without_a_name() {
        let raw = formatted(&claimed("Teapot Shop", "retailer", None), "New complaint");
        assert!(raw.contains("To: eve@example.org\r\n"), "{raw}");
    }
}
