//! The events between the two parties: acknowledging, offering,
//! answering an offer, carrying it out, withdrawing and writing messages.
//! Each checks the caller and the payload first, then changes the facts and
//! records the event; a refusal changes nothing.

use serde_json::json;
use statig::prelude::Outcome::{Handled, Super};

use crate::actor::Role;
use crate::validation::Violation;

use super::command::OfferTerms;
use super::effects::{NotificationTemplate as T, Recipient};
use super::facts::{ComplaintFacts, Offer, OfferStatus, Rejection};
use super::machine::{check, note, record, refuse, Applied, Ctx, Next, Step};
use super::refusal::Refusal;
use super::vocabulary::{EventKind, Outcome as Ending};

impl ComplaintFacts {
    pub(super) fn acknowledge(&mut self, context: &mut Ctx<'_>, message: Option<&str>) -> Step {
        check!(context, self.as_staff(context.actor));
        check!(context, Self::long_text("message", message));
        let payload = json!({ "message": message });
        let to = vec![note(T::Acknowledged, Recipient::Customer)];
        record(
            context,
            EventKind::Acknowledge,
            payload,
            to,
            Next::Acknowledged,
        )
    }

    pub(super) fn propose(&mut self, context: &mut Ctx<'_>, terms: &OfferTerms) -> Step {
        check!(context, self.as_staff(context.actor));
        if self.offers_made() >= context.policy.max_offers {
            return refuse(
                context,
                Refusal::Conflict("The shop has already made every offer it may make.".into()),
            );
        }
        let amount = check!(
            context,
            self.amount_for(Some(terms.remedy), terms.amount.as_ref(), "amount")
        );
        check!(
            context,
            Self::long_text("message", terms.message.as_deref())
        );
        let now = context.now;
        let expires_at = match terms.expires_at {
            None => context.calendar_free_add(context.policy.offer_expiry),
            Some(at) if at <= now => {
                return refuse(
                    context,
                    Refusal::invalid(Violation::new(
                        "expires_at",
                        "in_the_past",
                        "An offer must expire in the future.",
                    )),
                )
            }
            Some(at) if at > context.calendar_free_add(context.policy.max_offer_expiry) => {
                return refuse(
                    context,
                    Refusal::invalid(Violation::new(
                        "expires_at",
                        "too_far",
                        "An offer may stay open for at most 30 days.",
                    )),
                )
            }
            Some(at) => at,
        };
        let offer = Offer {
            id: context.fresh_id.to_owned(),
            round: self.offers_made() + 1,
            remedy: terms.remedy,
            amount,
            message: terms.message.clone(),
            expires_at,
            status: OfferStatus::Pending,
            created_at: now,
            answered_at: None,
            rejection: None,
        };
        let payload = json!({ "offer": offer, "max_offers": context.policy.max_offers });
        self.offers.push(offer);
        let to = vec![note(T::OfferProposed, Recipient::Customer)];
        record(context, EventKind::Propose, payload, to, Next::Proposed)
    }

    pub(super) fn accept(&mut self, context: &mut Ctx<'_>, offer_id: Option<&str>) -> Step {
        check!(context, self.as_customer(context.actor));
        let now = context.now;
        let fulfil_by = context.calendar.add(now, context.policy.fulfil);
        let Some(offer) = self.current_offer_mut() else {
            return Super;
        };
        if offer_id.is_some_and(|id| id != offer.id) {
            return refuse(
                context,
                Refusal::Conflict(
                    "The offer you answered is no longer the current one; please look at the newest offer."
                        .into(),
                ),
            );
        }
        offer.status = OfferStatus::Accepted;
        offer.answered_at = Some(now);
        let payload = json!({ "offer_id": offer.id, "fulfil_by": fulfil_by });
        self.deadlines.fulfil_by = Some(fulfil_by);
        let to = vec![note(T::OfferAccepted, Recipient::Retailer)];
        record(context, EventKind::Accept, payload, to, Next::Accepted)
    }

    pub(super) fn reject(&mut self, context: &mut Ctx<'_>, rejection: Rejection) -> Step {
        check!(context, self.as_customer(context.actor));
        if self.offers_made() >= context.policy.max_offers {
            return refuse(
                context,
                Refusal::OfferLimitReached {
                    max_offers: context.policy.max_offers,
                    state: super::ComplaintState::Proposed,
                    allowed_actions: Vec::new(),
                },
            );
        }
        check!(
            context,
            Self::long_text("message", rejection.message.as_deref())
        );
        let now = context.now;
        let offer_by = context.calendar.add(now, context.policy.reoffer);
        let Some(offer) = self.current_offer_mut() else {
            return Super;
        };
        offer.status = OfferStatus::Rejected;
        offer.answered_at = Some(now);
        let payload = json!({
            "offer_id": offer.id,
            "reason": rejection.reason,
            "counter_remedy": rejection.counter_remedy,
            "message": rejection.message,
            "offer_by": offer_by,
        });
        offer.rejection = Some(rejection);
        self.deadlines.offer_by = Some(offer_by);
        let to = vec![note(T::OfferRejected, Recipient::Retailer)];
        record(context, EventKind::Reject, payload, to, Next::Acknowledged)
    }

    pub(super) fn fulfil(&mut self, context: &mut Ctx<'_>, message: Option<&str>) -> Step {
        check!(context, self.as_staff(context.actor));
        check!(context, Self::long_text("message", message));
        let payload = json!({ "message": message });
        let to = self.every_party(T::Fulfilled);
        record(
            context,
            EventKind::Fulfil,
            payload,
            to,
            Next::Closed(Ending::Resolved),
        )
    }

    pub(super) fn withdraw(&mut self, context: &mut Ctx<'_>, reason: Option<&str>) -> Step {
        check!(context, self.as_customer(context.actor));
        check!(context, Self::long_text("reason", reason));
        for offer in &mut self.offers {
            if offer.status == OfferStatus::Pending {
                offer.status = OfferStatus::Superseded;
            }
        }
        let payload = json!({ "reason": reason });
        let to = self.every_party(T::Withdrawn);
        record(
            context,
            EventKind::Withdraw,
            payload,
            to,
            Next::Closed(Ending::Withdrawn),
        )
    }

    pub(super) fn message(
        &mut self,
        context: &mut Ctx<'_>,
        body: Option<&str>,
        phrase_codes: &[crate::taxonomy::Phrase],
        attachment_ids: &[String],
    ) -> Step {
        check!(context, self.as_party_or_mediator(context.actor));
        let body = body.filter(|b| !b.trim().is_empty());
        if body.is_none() && phrase_codes.is_empty() {
            return refuse(
                context,
                Refusal::invalid(Violation::new(
                    "body",
                    "required",
                    "Write a message or pick at least one phrase.",
                )),
            );
        }
        check!(context, Self::long_text("body", body));
        let author = context.actor.role;
        let mut to = Vec::new();
        if author != Role::Customer {
            to.push(note(T::MessageAdded, Recipient::Customer));
        }
        if author != Role::RetailerStaff {
            to.push(note(T::MessageAdded, Recipient::Retailer));
        }
        if let Some(m) = &self.mediator {
            if author != Role::Mediator {
                to.push(note(T::MessageAdded, Recipient::Mediator(m.id.clone())));
            }
        }
        let mut payload = json!({
            "message_id": context.fresh_id,
            "body": body,
            "phrase_codes": phrase_codes,
        });
        if !attachment_ids.is_empty() {
            payload["attachment_ids"] = json!(attachment_ids);
        }
        // A message changes nothing: the machine stays where it is.
        context.verdict = Some(Ok(Applied {
            kind: EventKind::Message,
            payload,
            notifications: to,
        }));
        Handled
    }
}
