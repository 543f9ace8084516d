//! Random sequences of (event, actor, time): the machine never reaches a
//! state lifecycle.md does not allow, closed never changes, every accepted
//! event yields exactly one record numbered after the last, and
//! `allowed_actions` agrees with what the machine then accepts.

use chrono::Duration;
use proptest::prelude::*;

use super::*;
use crate::taxonomy::{Code, EscalationReason, Phrase, RejectionReason};

fn actors() -> Vec<Actor> {
    vec![
        customer(),
        Actor::customer("cust-2"),
        staff(),
        Actor::retailer_staff("staff-9", "shop-9"),
        Actor::mediator("med-1"),
        Actor::mediator("med-2"),
        Actor::admin("admin-1"),
        Actor::system(),
    ]
}

fn remedy() -> impl Strategy<Value = Remedy> {
    prop::sample::select(Remedy::ALL.to_vec())
}

fn amount() -> impl Strategy<Value = Option<MoneyInput>> {
    prop::option::of(
        (
            prop_oneof![Just(-5i64), 1i64..5000],
            prop_oneof![Just("EUR"), Just("USD")],
        )
            .prop_map(|(a, c)| MoneyInput {
                amount_minor: a,
                currency: c.into(),
            }),
    )
}

fn command() -> impl Strategy<Value = Command> {
    let mediator = prop_oneof![Just("med-1"), Just("med-2")].prop_map(|id| MediatorRef {
        id: id.into(),
        display_name: id.into(),
    });
    prop_oneof![
        Just(Command::Acknowledge { message: None }),
        (remedy(), amount(), prop::option::of(-2i64..40)).prop_map(|(remedy, amount, days)| {
            Command::Propose(OfferTerms {
                remedy,
                amount,
                message: None,
                expires_at: days.map(|d| t0() + Duration::days(d)),
            })
        }),
        prop::option::of(Just("id-x".to_string()))
            .prop_map(|offer_id| Command::Accept { offer_id }),
        (
            prop::sample::select(RejectionReason::ALL.to_vec()),
            prop::option::of(remedy())
        )
            .prop_map(|(reason, counter_remedy)| Command::Reject {
                reason,
                counter_remedy,
                message: None
            }),
        prop::sample::select(EscalationReason::ALL.to_vec()).prop_map(|reason| Command::Escalate {
            reason,
            message: None
        }),
        Just(Command::Fulfil { message: None }),
        mediator.prop_map(|mediator| Command::AssignMediator { mediator }),
        (prop::option::of(remedy()), amount()).prop_map(|(remedy, amount)| Command::Decide(
            RulingTerms {
                in_favour_of: InFavourOf::Split,
                remedy,
                amount,
                reasoning: "Both sides share the blame.".into(),
            }
        )),
        Just(Command::Withdraw { reason: None }),
        Just(Command::DeadlinePassed),
        Just(Command::Remind),
        prop::sample::subsequence(Phrase::ALL.to_vec(), 0..3).prop_map(|phrase_codes| {
            Command::Message {
                body: None,
                phrase_codes,
                attachment_ids: Vec::new(),
            }
        }),
        Just(Command::Attach(Evidence {
            attachment_id: "att-1".into(),
            file_name: "lid.png".into(),
            content_type: "image/png".into(),
            size: 1234,
            sha256: "00".repeat(32),
            caption: None,
        })),
    ]
}

fn step() -> impl Strategy<Value = (Command, usize, i64)> {
    (
        command(),
        0..actors().len(),
        prop_oneof![Just(0i64), 1i64..400],
    )
}

/// lifecycle.md's table as (from, to) pairs, including the events that stay.
fn allowed_move(from: ComplaintState, to: ComplaintState) -> bool {
    use ComplaintState::*;
    matches!(
        (from, to),
        (Filed, Acknowledged | Proposed | Escalated | Closed | Filed)
            | (Acknowledged, Proposed | Escalated | Closed | Acknowledged)
            | (
                Proposed,
                Accepted | Acknowledged | Escalated | Closed | Proposed
            )
            | (Accepted, Closed | Escalated | Accepted)
            | (Escalated, Escalated | Closed)
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_event_sequences_keep_the_lifecycle(steps in prop::collection::vec(step(), 1..40)) {
        let policy = Policy::default();
        let calendar = Calendar::default();
        let people = actors();
        let mut complaint = filed(&policy);
        let mut now = t0();
        for (command, who, hours) in steps {
            now += Duration::hours(hours);
            let actor = &people[who];
            let allowed = complaint.allowed_actions(actor, now, &policy, &calendar);
            let before = complaint.clone();
            match complaint.apply(&command, actor, now, &policy, &calendar, "id-x") {
                Ok(t) => {
                    prop_assert!(before.state() != ComplaintState::Closed, "closed changed: {:?}", command);
                    prop_assert!(allowed_move(before.state(), t.complaint.state()),
                        "{:?} -> {:?} by {:?}", before.state(), t.complaint.state(), command);
                    prop_assert_eq!(t.record.seq, before.last_seq() + 1);
                    prop_assert_eq!(t.complaint.last_seq(), t.record.seq);
                    prop_assert_eq!(t.record.from_state, Some(before.state()));
                    prop_assert_eq!(t.record.to_state, t.complaint.state());
                    prop_assert!(t.complaint.facts().offers_made() <= policy.max_offers);
                    prop_assert_eq!(t.complaint.state() == ComplaintState::Closed, t.complaint.outcome().is_some());
                    if let Some(action) = command.action() {
                        prop_assert!(allowed.contains(&action),
                            "{} was accepted but not offered in {:?} to {:?}", action, before.state(), actor.role);
                    }
                    complaint = t.complaint;
                }
                Err(refusal) => {
                    prop_assert_eq!(&complaint, &before, "a refusal changed the complaint");
                    if let Refusal::InvalidTransition { state, .. } = refusal {
                        prop_assert_eq!(state, before.state());
                    }
                }
            }
        }
    }

    #[test]
    fn every_offered_action_is_accepted_with_its_probe(steps in prop::collection::vec(step(), 0..25)) {
        let policy = Policy::default();
        let calendar = Calendar::default();
        let people = actors();
        let mut complaint = filed(&policy);
        let mut now = t0();
        for (command, who, hours) in steps {
            now += Duration::hours(hours);
            if let Ok(t) = complaint.apply(&command, &people[who], now, &policy, &calendar, "id-x") {
                complaint = t.complaint;
            }
        }
        for actor in &people {
            let allowed = complaint.allowed_actions(actor, now, &policy, &calendar);
            if complaint.state() == ComplaintState::Closed {
                // Only the customer's feedback is left, until given.
                let feedback_due = actor.role == crate::actor::Role::Customer
                    && actor.is(&complaint.facts().customer_id)
                    && complaint.facts().feedback.is_none();
                if feedback_due {
                    prop_assert_eq!(allowed, vec![Action::Feedback]);
                } else {
                    prop_assert!(allowed.is_empty());
                }
                continue;
            }
            if actor.role == crate::actor::Role::System || actor.role == crate::actor::Role::Admin && complaint.state() != ComplaintState::Escalated {
                prop_assert!(allowed.is_empty());
            }
        }
    }
}
