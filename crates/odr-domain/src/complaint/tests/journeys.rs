use chrono::{Duration, Utc};

use super::*;
use crate::taxonomy::{EscalationReason, RejectionReason};

fn apply(
    c: &Complaint,
    cmd: Command,
    actor: &Actor,
    at: chrono::DateTime<Utc>,
) -> Result<Transition, Refusal> {
    c.apply(
        cmd_ref(&cmd),
        actor,
        at,
        &Policy::default(),
        &Calendar::default(),
        "id-x",
    )
}

fn cmd_ref(c: &Command) -> &Command {
    c
}

fn offer(remedy: Remedy, amount: Option<i64>) -> Command {
    Command::Propose(OfferTerms {
        remedy,
        amount: amount.map(|a| MoneyInput {
            amount_minor: a,
            currency: "EUR".into(),
        }),
        message: None,
        expires_at: None,
    })
}

fn reject() -> Command {
    Command::Reject {
        reason: RejectionReason::AmountTooLow,
        counter_remedy: None,
        message: None,
    }
}

#[test]
fn filing_starts_in_filed_with_both_retailer_deadlines_and_two_notifications() {
    let c = filed(&Policy::default());
    assert_eq!(c.state(), ComplaintState::Filed);
    assert_eq!(c.last_seq(), 1);
    let d = &c.facts().deadlines;
    assert_eq!(d.acknowledge_by, Some(t0() + Duration::days(2)));
    assert_eq!(d.offer_by, Some(t0() + Duration::days(14)));
    assert_eq!(
        c.facts().locale,
        Locale::Sk,
        "the customer's own locale is the default"
    );
}

#[test]
fn the_allowed_actions_of_each_party_follow_the_state() {
    let p = Policy::default();
    let cal = Calendar::default();
    let c = filed(&p);
    assert_eq!(
        c.allowed_actions(&staff(), t0(), &p, &cal),
        vec![Action::Acknowledge, Action::Propose, Action::Escalate]
    );
    assert_eq!(
        c.allowed_actions(&customer(), t0(), &p, &cal),
        vec![Action::Escalate, Action::Withdraw]
    );
    assert!(c
        .allowed_actions(&Actor::admin("a"), t0(), &p, &cal)
        .is_empty());
    assert!(c
        .allowed_actions(&Actor::customer("someone-else"), t0(), &p, &cal)
        .is_empty());
}

#[test]
fn offer_reject_offer_escalate_assign_decide() {
    let c = filed(&Policy::default());
    let c = apply(&c, Command::Acknowledge { message: None }, &staff(), t0())
        .unwrap()
        .complaint;
    let c = apply(&c, offer(Remedy::PartialRefund, Some(1000)), &staff(), t0())
        .unwrap()
        .complaint;
    assert_eq!(c.state(), ComplaintState::Proposed);
    let t = apply(&c, reject(), &customer(), t0()).unwrap();
    assert_eq!(t.record.from_state, Some(ComplaintState::Proposed));
    assert_eq!(t.record.to_state, ComplaintState::Acknowledged);
    assert_eq!(
        t.notifications,
        vec![Notification {
            template: NotificationTemplate::OfferRejected,
            to: Recipient::Retailer
        }]
    );
    let c = apply(
        &t.complaint,
        offer(Remedy::Replacement, None),
        &staff(),
        t0(),
    )
    .unwrap()
    .complaint;
    let t = apply(
        &c,
        Command::Escalate {
            reason: EscalationReason::OffersRejected,
            message: None,
        },
        &customer(),
        t0(),
    )
    .unwrap();
    let c = t.complaint;
    assert_eq!(c.state(), ComplaintState::Escalated);
    assert!(
        t.notifications.iter().any(|n| n.to == Recipient::Admins),
        "admins hear of an unassigned escalation"
    );
    let m = MediatorRef {
        id: "med-1".into(),
        display_name: "Mia".into(),
    };
    let mediator = Actor::mediator("med-1");
    let c = apply(&c, Command::AssignMediator { mediator: m }, &mediator, t0())
        .unwrap()
        .complaint;
    let t = apply(
        &c,
        Command::Decide(RulingTerms {
            in_favour_of: InFavourOf::Customer,
            remedy: Some(Remedy::FullRefund),
            amount: Some(MoneyInput {
                amount_minor: 2500,
                currency: "EUR".into(),
            }),
            reasoning: "The photos show the damage.".into(),
        }),
        &mediator,
        t0(),
    )
    .unwrap();
    assert_eq!(t.complaint.state(), ComplaintState::Closed);
    assert_eq!(t.complaint.outcome(), Some(Outcome::Decided));
    assert_eq!(t.record.seq, 8);
    assert_eq!(
        t.notifications.len(),
        3,
        "customer, retailer and mediator hear of the ruling"
    );
}

#[test]
fn the_last_offer_cannot_be_rejected_and_names_escalate() {
    let mut c = filed(&Policy::default());
    for round in 1..=3 {
        c = apply(
            &c,
            offer(Remedy::Voucher, Some(500 * round)),
            &staff(),
            t0(),
        )
        .unwrap()
        .complaint;
        if round < 3 {
            c = apply(&c, reject(), &customer(), t0()).unwrap().complaint;
        }
    }
    let refusal = apply(&c, reject(), &customer(), t0()).unwrap_err();
    match &refusal {
        Refusal::OfferLimitReached {
            allowed_actions, ..
        } => assert_eq!(
            allowed_actions,
            &vec![Action::Accept, Action::Escalate, Action::Withdraw]
        ),
        other => panic!("expected offer_limit_reached, got {other:?}"),
    }
    assert!(refusal.to_string().contains("escalated"), "{refusal}");
}

#[test]
fn escalating_an_accepted_offer_waits_for_fulfil_by() {
    let c = filed(&Policy::default());
    let c = apply(&c, offer(Remedy::Replacement, None), &staff(), t0())
        .unwrap()
        .complaint;
    let c = apply(
        &c,
        Command::Accept {
            offer_id: Some("id-x".into()),
        },
        &customer(),
        t0(),
    )
    .unwrap()
    .complaint;
    let escalate = Command::Escalate {
        reason: EscalationReason::NotFulfilled,
        message: None,
    };
    let early = apply(&c, escalate.clone(), &customer(), t0() + Duration::days(13)).unwrap_err();
    assert!(early.is_invalid_transition(), "{early:?}");
    let late = apply(&c, escalate, &customer(), t0() + Duration::days(15)).unwrap();
    assert_eq!(late.complaint.state(), ComplaintState::Escalated);
}

#[test]
fn accepting_a_stale_offer_is_a_conflict() {
    let c = filed(&Policy::default());
    let c = apply(&c, offer(Remedy::Replacement, None), &staff(), t0())
        .unwrap()
        .complaint;
    let r = apply(
        &c,
        Command::Accept {
            offer_id: Some("old".into()),
        },
        &customer(),
        t0(),
    )
    .unwrap_err();
    assert!(matches!(r, Refusal::Conflict(_)), "{r:?}");
}

#[test]
fn offer_then_accept_then_fulfil_resolves() {
    let c = filed(&Policy::default());
    let c = apply(&c, offer(Remedy::FullRefund, Some(2500)), &staff(), t0())
        .unwrap()
        .complaint;
    let c = apply(&c, Command::Accept { offer_id: None }, &customer(), t0())
        .unwrap()
        .complaint;
    let t = apply(&c, Command::Fulfil { message: None }, &staff(), t0()).unwrap();
    assert_eq!(t.complaint.outcome(), Some(Outcome::Resolved));
}

#[test]
fn deadlines_act_only_when_due() {
    let c = filed(&Policy::default());
    let sys = Actor::system();
    assert!(apply(&c, Command::DeadlinePassed, &sys, t0() + Duration::days(1)).is_err());
    let t = apply(&c, Command::DeadlinePassed, &sys, t0() + Duration::days(2)).unwrap();
    assert_eq!(t.complaint.state(), ComplaintState::Escalated);
    assert_eq!(t.record.kind, EventKind::DeadlinePassed);
    assert_eq!(t.record.actor_id, None);
    assert_eq!(t.record.payload["reason"], "no_acknowledgement");
}

#[test]
fn an_expired_offer_lapses() {
    let c = filed(&Policy::default());
    let c = apply(&c, offer(Remedy::Replacement, None), &staff(), t0())
        .unwrap()
        .complaint;
    let t = apply(
        &c,
        Command::DeadlinePassed,
        &Actor::system(),
        t0() + Duration::days(7),
    )
    .unwrap();
    assert_eq!(t.complaint.outcome(), Some(Outcome::Lapsed));
    assert_eq!(t.record.payload["reason"], "offer_expired");
}

#[test]
fn wrong_roles_are_forbidden_and_closed_is_terminal() {
    let c = filed(&Policy::default());
    let r = apply(
        &c,
        Command::Acknowledge { message: None },
        &customer(),
        t0(),
    )
    .unwrap_err();
    assert!(matches!(r, Refusal::Forbidden(_)));
    let c = apply(&c, Command::Withdraw { reason: None }, &customer(), t0())
        .unwrap()
        .complaint;
    assert_eq!(c.outcome(), Some(Outcome::Withdrawn));
    let r = apply(&c, Command::Withdraw { reason: None }, &customer(), t0()).unwrap_err();
    assert!(r.is_invalid_transition());
}

#[test]
fn a_stored_complaint_restores_to_the_same_machine() {
    let c = filed(&Policy::default());
    let c = apply(&c, offer(Remedy::Replacement, None), &staff(), t0())
        .unwrap()
        .complaint;
    let restored = Complaint::from_json(&c.to_json()).unwrap();
    assert_eq!(restored, c);
    assert_eq!(restored.state(), ComplaintState::Proposed);
}

#[test]
fn the_party_who_must_act_is_reminded_once_a_lead_before_the_deadline() {
    let p = Policy::default();
    let cal = Calendar::default();
    let c = filed(&p);
    let sys = Actor::system();
    // acknowledge_by falls at t0 + 2 days; the reminder is owed from t0 + 1 day.
    assert_eq!(c.next_wakeup_at(&p, t0()), Some(t0() + Duration::days(1)));
    assert!(c
        .apply(
            &Command::Remind,
            &sys,
            t0() + Duration::hours(23),
            &p,
            &cal,
            "x"
        )
        .is_err());
    let t = c
        .apply(
            &Command::Remind,
            &sys,
            t0() + Duration::hours(25),
            &p,
            &cal,
            "x",
        )
        .unwrap();
    assert_eq!(t.record.kind, EventKind::Reminder);
    assert_eq!(t.complaint.state(), ComplaintState::Filed);
    assert_eq!(
        t.notifications,
        vec![Notification {
            template: NotificationTemplate::DeadlineReminder,
            to: Recipient::Retailer
        }]
    );
    assert_eq!(
        t.next_wakeup,
        Some(t0() + Duration::days(2)),
        "next: the deadline itself"
    );
    let again = t.complaint.apply(
        &Command::Remind,
        &sys,
        t0() + Duration::hours(26),
        &p,
        &cal,
        "x",
    );
    assert!(again.is_err(), "once per deadline");
}

#[test]
fn a_deadline_set_less_than_the_lead_ahead_gets_no_reminder() {
    let p = Policy::default();
    let cal = Calendar::default();
    let c = filed(&p);
    let short = Command::Propose(OfferTerms {
        remedy: Remedy::Replacement,
        amount: None,
        message: None,
        expires_at: Some(t0() + Duration::hours(12)),
    });
    let c = c
        .apply(&short, &staff(), t0(), &p, &cal, "o1")
        .unwrap()
        .complaint;
    assert_eq!(c.next_wakeup_at(&p, t0()), Some(t0() + Duration::hours(12)));
    assert!(c
        .apply(
            &Command::Remind,
            &Actor::system(),
            t0() + Duration::hours(1),
            &p,
            &cal,
            "x"
        )
        .is_err());
}

#[test]
fn auto_assignment_names_the_mediator_at_escalation() {
    let p = Policy::default();
    let cal = Calendar::default();
    let c = filed(&p);
    let m = MediatorRef {
        id: "med-7".into(),
        display_name: "Mira".into(),
    };
    let at = Circumstances {
        now: t0(),
        policy: &p,
        calendar: &cal,
        fresh_id: "x",
        auto_mediator: Some(&m),
    };
    let t = c
        .apply_in(
            &Command::Escalate {
                reason: EscalationReason::Other,
                message: None,
            },
            &customer(),
            &at,
        )
        .unwrap();
    assert_eq!(
        t.complaint.facts().mediator.as_ref().map(|m| m.id.as_str()),
        Some("med-7")
    );
    assert!(t.notifications.contains(&Notification {
        template: NotificationTemplate::Escalated,
        to: Recipient::Mediator("med-7".into())
    }));
    assert!(
        !t.notifications.iter().any(|n| n.to == Recipient::Admins),
        "nobody waits, so admins are not asked"
    );
}

fn evidence(caption: Option<&str>) -> Command {
    Command::Attach(Evidence {
        attachment_id: "att-1".into(),
        file_name: "lid.png".into(),
        content_type: "image/png".into(),
        size: 68,
        sha256: "ab".repeat(32),
        caption: caption.map(str::to_owned),
    })
}

#[test]
fn parties_attach_evidence_without_changing_state_or_telling_anyone() {
    let c = filed(&Policy::default());
    let t = apply(&c, evidence(Some("The cracked lid")), &customer(), t0()).unwrap();
    assert_eq!(t.record.kind, EventKind::Attachment);
    assert_eq!(t.record.from_state, Some(ComplaintState::Filed));
    assert_eq!(t.record.to_state, ComplaintState::Filed);
    assert_eq!(t.record.payload["attachment_id"], "att-1");
    assert_eq!(t.record.payload["file_name"], "lid.png");
    assert_eq!(t.record.payload["sha256"], "ab".repeat(32));
    assert_eq!(t.record.payload["caption"], "The cracked lid");
    assert!(t.notifications.is_empty(), "evidence sends no mail");
    assert_eq!(t.complaint.last_seq(), c.last_seq() + 1);
    // The shop may add its own evidence too.
    apply(&t.complaint, evidence(None), &staff(), t0()).unwrap();
    // Outsiders, admins and the system may not.
    for outsider in [
        Actor::customer("cust-2"),
        Actor::retailer_staff("staff-9", "shop-9"),
        Actor::mediator("med-1"),
        Actor::admin("admin-1"),
    ] {
        let r = apply(&c, evidence(None), &outsider, t0()).unwrap_err();
        assert!(matches!(r, Refusal::Forbidden(_)), "{outsider:?}: {r:?}");
    }
    // A caption over 200 characters is refused.
    let long = "x".repeat(201);
    let r = apply(&c, evidence(Some(&long)), &customer(), t0()).unwrap_err();
    assert!(!matches!(r, Refusal::Forbidden(_)) && !r.is_invalid_transition());
    // A closed complaint takes no evidence.
    let closed = apply(&c, Command::Withdraw { reason: None }, &customer(), t0())
        .unwrap()
        .complaint;
    let r = apply(&closed, evidence(None), &customer(), t0()).unwrap_err();
    assert!(r.is_invalid_transition());
}

#[test]
fn the_assigned_mediator_attaches_evidence() {
    let c = filed(&Policy::default());
    let c = apply(
        &c,
        Command::Escalate {
            reason: EscalationReason::Other,
            message: None,
        },
        &customer(),
        t0(),
    )
    .unwrap()
    .complaint;
    let mediator = Actor::mediator("med-1");
    let r = apply(&c, evidence(None), &mediator, t0()).unwrap_err();
    assert!(matches!(r, Refusal::Forbidden(_)), "not yet assigned");
    let m = MediatorRef {
        id: "med-1".into(),
        display_name: "Mia".into(),
    };
    let c = apply(&c, Command::AssignMediator { mediator: m }, &mediator, t0())
        .unwrap()
        .complaint;
    let t = apply(&c, evidence(None), &mediator, t0()).unwrap();
    assert_eq!(t.record.to_state, ComplaintState::Escalated);
}

#[test]
fn the_customer_gives_feedback_on_a_closed_complaint_once() {
    let c = filed(&Policy::default());
    let feedback = |score: i64| Command::Feedback {
        score,
        comment: Some(" Fair. ".into()),
    };
    // Not while open.
    let r = apply(&c, feedback(5), &customer(), t0()).unwrap_err();
    assert!(r.is_invalid_transition());
    let closed = apply(&c, Command::Withdraw { reason: None }, &customer(), t0())
        .unwrap()
        .complaint;
    let now = t0() + Duration::hours(1);
    let (p, cal) = (Policy::default(), Calendar::default());
    assert_eq!(
        closed.allowed_actions(&customer(), now, &p, &cal),
        vec![Action::Feedback]
    );
    assert!(closed.allowed_actions(&staff(), now, &p, &cal).is_empty());
    assert!(matches!(
        apply(&closed, feedback(5), &staff(), now).unwrap_err(),
        Refusal::Forbidden(_)
    ));
    for score in [0, 6] {
        assert!(matches!(
            apply(&closed, feedback(score), &customer(), now).unwrap_err(),
            Refusal::Invalid(_)
        ));
    }
    let t = apply(&closed, feedback(4), &customer(), now).unwrap();
    assert_eq!(t.record.kind, EventKind::Feedback);
    assert_eq!(t.record.from_state, Some(ComplaintState::Closed));
    assert_eq!(t.record.to_state, ComplaintState::Closed);
    assert_eq!(t.record.payload["score"], 4);
    assert_eq!(t.record.payload["comment"], "Fair.");
    assert!(t.notifications.is_empty());
    assert_eq!(t.complaint.outcome(), Some(Outcome::Withdrawn));
    assert_eq!(
        t.complaint.facts().feedback.as_ref().map(|f| f.score),
        Some(4)
    );
    // Once only.
    let again = apply(&t.complaint, feedback(1), &customer(), now).unwrap_err();
    assert!(matches!(again, Refusal::Conflict(_)));
    assert!(t
        .complaint
        .allowed_actions(&customer(), now, &p, &cal)
        .is_empty());
}
