//! Sample facts for every mail, consistent with the state each template is
//! sent in, so a test can start from a realistic mail and change one thing.

use chrono::{DateTime, TimeZone, Utc};
use odr_domain::money::{Currency, Money};
use odr_store::mail_facts::{
    ComplaintFacts, DeadlineFacts, InvitationFacts, MagicLinkFacts, MailFacts, MessageFacts,
    OfferFacts, RejectionFacts, RulingFacts, WebhookFacts,
};

pub const REFERENCE: &str = "ODR-7Q4K-92XD";
pub const COMPLAINT_ID: &str = "0190f1a2-7b3c-7d4e-8f50-6a7b8c9d0e1f";
pub const PUBLIC_URL: &str = "http://127.0.0.1:8080";
pub const ZONE: &str = "Europe/Bratislava";

/// Every template with the recipient roles it can go to.
pub const MATRIX: [(&str, &[&str]); 19] = [
    ("complaint_filed", &["retailer"]),
    ("complaint_receipt", &["customer"]),
    ("acknowledged", &["customer"]),
    ("offer_proposed", &["customer"]),
    ("offer_accepted", &["retailer"]),
    ("offer_rejected", &["retailer"]),
    ("escalated", &["customer", "retailer", "mediator", "admin"]),
    ("mediator_assigned", &["mediator", "customer", "retailer"]),
    ("decided", &["customer", "retailer", "mediator"]),
    ("withdrawn", &["customer", "retailer", "mediator"]),
    ("fulfilled", &["customer", "retailer", "mediator"]),
    ("lapsed", &["customer", "retailer", "mediator"]),
    ("message_added", &["customer", "retailer", "mediator"]),
    ("decision_overdue", &["admin"]),
    (
        "deadline_reminder",
        &["customer", "retailer", "mediator", "admin"],
    ),
    ("invitation", &["retailer_staff", "mediator", "admin"]),
    (
        "magic_link",
        &["customer", "retailer_staff", "mediator", "admin"],
    ),
    ("guest_filing", &["customer"]),
    ("webhook_disabled", &["retailer", "retailer_staff"]),
];

pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// Friday, 4 December 2026, 10:00 in Bratislava.
pub fn deadline_at() -> DateTime<Utc> {
    at(2026, 12, 4, 9, 0)
}

pub fn eur(minor: i64) -> Money {
    money(minor, "EUR")
}

pub fn money(minor: i64, code: &str) -> Money {
    Money {
        amount_minor: minor,
        currency: Currency::parse(code).unwrap(),
    }
}

fn deadline(kind: &str) -> Option<DeadlineFacts> {
    Some(DeadlineFacts {
        kind: kind.into(),
        at: deadline_at(),
    })
}

fn offer(round: u32) -> OfferFacts {
    OfferFacts {
        round,
        max_offers: 3,
        remedy: "partial_refund".into(),
        amount: Some(eur(2500)),
        message: Some("We are sorry about the scratch.\nWe would like to make it right.".into()),
        expires_at: deadline_at(),
    }
}

fn complaint() -> ComplaintFacts {
    ComplaintFacts {
        id: COMPLAINT_ID.into(),
        reference: REFERENCE.into(),
        retailer_name: "Alpen Outdoor".into(),
        customer_name: "Jana Nováková".into(),
        order_reference: "A-10042".into(),
        category: "damaged".into(),
        desired_remedy: "full_refund".into(),
        claimed_amount: Some(eur(8999)),
        event_type: "file".into(),
        event_seq: 1,
        event_at: at(2026, 11, 20, 9, 0),
        actor_role: "customer".into(),
        state: "filed".into(),
        outcome: None,
        who_must_act: Some("retailer_staff".into()),
        next_deadline: deadline("acknowledge_by"),
        offer: None,
        rejection: None,
        escalation_reason: None,
        mediator_name: None,
        ruling: None,
        message: None,
        reminder: None,
        note: None,
    }
}

fn close(c: &mut ComplaintFacts, outcome: &str) {
    c.state = "closed".into();
    c.outcome = Some(outcome.into());
    c.who_must_act = None;
    c.next_deadline = None;
}

fn escalate(c: &mut ComplaintFacts, with_mediator: bool) {
    c.state = "escalated".into();
    c.who_must_act = Some("mediator".into());
    c.next_deadline = deadline("decide_by");
    c.escalation_reason = Some("offers_rejected".into());
    if with_mediator {
        c.mediator_name = Some("Dr. Eva Horváth".into());
    }
}

/// The complaint as it stands when `template` is sent to `role`.
fn complaint_for(template: &str, role: &str) -> ComplaintFacts {
    let mut c = complaint();
    c.event_seq = 4;
    match template {
        "complaint_filed" | "complaint_receipt" => c.event_seq = 1,
        "acknowledged" => {
            c.event_type = "acknowledge".into();
            c.actor_role = "retailer_staff".into();
            c.state = "acknowledged".into();
            c.next_deadline = deadline("offer_by");
            c.note = Some("Thank you, we are looking into it.".into());
        }
        "offer_proposed" => {
            c.event_type = "propose".into();
            c.actor_role = "retailer_staff".into();
            c.state = "proposed".into();
            c.who_must_act = Some("customer".into());
            c.next_deadline = deadline("expires_at");
            c.offer = Some(offer(1));
        }
        "offer_accepted" => {
            c.event_type = "accept".into();
            c.state = "accepted".into();
            c.next_deadline = deadline("fulfil_by");
            c.offer = Some(offer(1));
        }
        "offer_rejected" => {
            c.event_type = "reject".into();
            c.state = "acknowledged".into();
            c.next_deadline = deadline("offer_by");
            c.offer = Some(offer(1));
            c.rejection = Some(RejectionFacts {
                reason: "amount_too_low".into(),
                counter_remedy: Some("replacement".into()),
                message: Some("The jacket cost much more than that.".into()),
            });
        }
        "escalated" => {
            c.event_type = "escalate".into();
            escalate(&mut c, role == "mediator");
        }
        "mediator_assigned" => {
            c.event_type = "assign_mediator".into();
            c.actor_role = "admin".into();
            escalate(&mut c, true);
        }
        "decided" => {
            c.event_type = "decide".into();
            c.actor_role = "mediator".into();
            escalate(&mut c, true);
            close(&mut c, "decided");
            c.ruling = Some(RulingFacts {
                in_favour_of: "customer".into(),
                remedy: Some("partial_refund".into()),
                amount: Some(eur(4000)),
                reasoning: "The photos show the damage clearly.".into(),
            });
        }
        "withdrawn" => {
            c.event_type = "withdraw".into();
            if role == "mediator" {
                escalate(&mut c, true);
            }
            close(&mut c, "withdrawn");
            c.note = Some("The shop called me and we sorted it out.".into());
        }
        "fulfilled" => {
            c.event_type = "fulfil".into();
            c.actor_role = "retailer_staff".into();
            c.offer = Some(offer(1));
            if role == "mediator" {
                c.mediator_name = Some("Dr. Eva Horváth".into());
            }
            close(&mut c, "resolved");
        }
        "lapsed" => {
            c.event_type = "deadline_passed".into();
            c.actor_role = "system".into();
            c.offer = Some(offer(2));
            if role == "mediator" {
                c.mediator_name = Some("Dr. Eva Horváth".into());
            }
            close(&mut c, "lapsed");
        }
        "message_added" => {
            c.event_type = "message".into();
            c.state = "acknowledged".into();
            c.next_deadline = deadline("offer_by");
            if role == "mediator" {
                escalate(&mut c, true);
            }
            c.actor_role = if role == "customer" {
                "retailer_staff"
            } else {
                "customer"
            }
            .into();
            c.message = Some(MessageFacts {
                author_role: c.actor_role.clone(),
                body: Some("Here is the box it came in.".into()),
                phrase_codes: vec!["photos_attached".into(), "thank_you".into()],
            });
        }
        "decision_overdue" => {
            c.event_type = "deadline_passed".into();
            c.actor_role = "system".into();
            escalate(&mut c, true);
            c.event_at = at(2026, 12, 5, 9, 0);
        }
        "deadline_reminder" => {
            c.event_type = "reminder".into();
            c.actor_role = "system".into();
            match role {
                "customer" => {
                    c.state = "proposed".into();
                    c.who_must_act = Some("customer".into());
                    c.next_deadline = deadline("expires_at");
                    c.offer = Some(offer(1));
                }
                "mediator" => escalate(&mut c, true),
                "admin" => escalate(&mut c, false),
                _ => {}
            }
            c.reminder = c.next_deadline.clone();
            c.event_at = at(2026, 12, 3, 9, 0);
        }
        _ => {}
    }
    c
}

/// A mail of `template` to `role` in `locale`, read in Bratislava.
pub fn facts(template: &str, role: &str, locale: &str) -> MailFacts {
    let recipient_name = match role {
        "customer" => "Jana Nováková",
        "retailer" => "Alpen Outdoor",
        "retailer_staff" => "Max Huber",
        "mediator" => "Dr. Eva Horváth",
        _ => "Alex Admin",
    };
    let by_link = template == "magic_link" || template == "guest_filing";
    let magic_link = by_link.then(|| MagicLinkFacts {
        url: format!("{PUBLIC_URL}/sign-in?token=c2FtcGxlLXRva2Vu"),
        expires_at: at(2026, 12, 3, 9, 15),
        valid_minutes: 15,
        shop_name: (template == "guest_filing").then(|| "Alpen Outdoor".to_owned()),
    });
    let webhook = (template == "webhook_disabled").then(|| WebhookFacts {
        url: "https://alpen-outdoor.example/odr/webhook".into(),
        retailer_id: "0190f1a2-0000-7000-8000-000000000001".into(),
        failing_since: at(2026, 11, 30, 8, 0),
        disabled_at: deadline_at(),
    });
    let (complaint, invitation) = if by_link || webhook.is_some() {
        (None, None)
    } else if template == "invitation" {
        let invitation = InvitationFacts {
            retailer_name: (role == "retailer_staff").then(|| "Alpen Outdoor".to_owned()),
            role: role.into(),
        };
        (None, Some(invitation))
    } else {
        (Some(complaint_for(template, role)), None)
    };
    MailFacts {
        template: template.into(),
        recipient_role: role.into(),
        recipient_name: recipient_name.into(),
        locale: locale.into(),
        time_zone: ZONE.into(),
        complaint,
        invitation,
        magic_link,
        webhook,
    }
}

/// The complaint of a sample, to change one of its facts.
pub fn complaint_of(facts: &mut MailFacts) -> &mut ComplaintFacts {
    facts.complaint.as_mut().unwrap()
}
