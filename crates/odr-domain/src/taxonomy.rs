//! The structured vocabulary of a complaint: categories, remedies, rejection
//! and escalation reasons, and message phrases.
//!
//! The codes are the stable API (snake_case, never renamed); each has a label
//! in every [`Locale`] and, except phrases, an icon. Parties read each other's
//! coded choices in their own language, which is what lets a Slovak customer
//! and a German shop settle a complaint without a common language, and what
//! keeps the statistics comparable. Unknown codes are errors, never strings
//! passed through.

/// Runs a generic test check once per vocabulary, or (`iconic:`) once per
/// vocabulary that has icons. Declared before the submodules so their tests
/// can use it.
#[cfg(test)]
macro_rules! for_each_vocabulary {
    (iconic: $check:ident $(, $arg:expr)*) => {{
        $check::<$crate::taxonomy::Category>($($arg),*);
        $check::<$crate::taxonomy::Remedy>($($arg),*);
        $check::<$crate::taxonomy::RejectionReason>($($arg),*);
        $check::<$crate::taxonomy::EscalationReason>($($arg),*);
    }};
    ($check:ident $(, $arg:expr)*) => {{
        for_each_vocabulary!(iconic: $check $(, $arg)*);
        $check::<$crate::taxonomy::Phrase>($($arg),*);
    }};
}

mod document;
mod icons;
mod labels;

use std::fmt;
use std::str::FromStr;

use crate::locale::Locale;

pub use document::{taxonomy_document, IconEntry, PhraseEntry, RemedyEntry, Taxonomy};
pub use icons::{icon_path, icon_svg, IconFamily, Iconic};

/// A code that is not part of the vocabulary it was offered as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} code `{code}`")]
pub struct UnknownCode {
    /// Which vocabulary: `"category"`, `"remedy"`, `"locale"`, ...
    pub kind: &'static str,
    /// The code as it was received.
    pub code: String,
}

/// Implemented by every vocabulary enum.
pub trait Code: Sized + Copy + 'static {
    /// The vocabulary's name in errors: `"category"`, `"remedy"`,
    /// `"rejection_reason"`, `"escalation_reason"`, `"phrase"`.
    const KIND: &'static str;
    /// Every code, in the order the vocabulary is presented.
    const ALL: &'static [Self];
    /// The stable snake_case code.
    fn code(self) -> &'static str;
    /// The label a reader of `locale` sees.
    fn label(self, locale: Locale) -> &'static str;
    /// Exact snake_case only: no trimming, no case folding.
    fn parse(code: &str) -> Result<Self, UnknownCode> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.code() == code)
            .ok_or_else(|| UnknownCode {
                kind: Self::KIND,
                code: code.to_owned(),
            })
    }
}

/// Declares a vocabulary enum with its codes, its label table and the
/// `Code`/`Display`/`FromStr` impls, so the code string is written once.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident, kind = $kind:literal, labels = $labels:path,
        { $( $(#[$vmeta:meta])* $variant:ident => $code:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl Code for $name {
            const KIND: &'static str = $kind;
            const ALL: &'static [Self] = &[$($name::$variant),+];

            fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            fn label(self, locale: Locale) -> &'static str {
                $labels(self)[locale.index()]
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;

            fn from_str(code: &str) -> Result<Self, UnknownCode> {
                <Self as Code>::parse(code)
            }
        }
    };
}

vocabulary! {
    /// What went wrong, as the customer picks it when filing.
    Category, kind = "category", labels = labels::category,
    {
        NotDelivered => "not_delivered",
        LateDelivery => "late_delivery",
        Damaged => "damaged",
        WrongItem => "wrong_item",
        NotAsDescribed => "not_as_described",
        Defective => "defective",
        MissingParts => "missing_parts",
        BillingError => "billing_error",
        RefundNotReceived => "refund_not_received",
        ReturnProblem => "return_problem",
        Warranty => "warranty",
        Other => "other",
    }
}

vocabulary! {
    /// What would put it right: desired by the customer, offered by the
    /// retailer, or decided by a mediator.
    Remedy, kind = "remedy", labels = labels::remedy,
    {
        FullRefund => "full_refund",
        PartialRefund => "partial_refund",
        Replacement => "replacement",
        Repair => "repair",
        Redelivery => "redelivery",
        Voucher => "voucher",
        ReturnLabel => "return_label",
        Explanation => "explanation",
    }
}

impl Remedy {
    /// Whether an offer or decision of this remedy must state an amount.
    pub fn needs_amount(self) -> bool {
        matches!(
            self,
            Remedy::FullRefund | Remedy::PartialRefund | Remedy::Voucher
        )
    }
}

vocabulary! {
    /// Why the customer turned an offer down.
    RejectionReason, kind = "rejection_reason", labels = labels::rejection_reason,
    {
        AmountTooLow => "amount_too_low",
        WrongRemedy => "wrong_remedy",
        TooSlow => "too_slow",
        NotTrusted => "not_trusted",
        Other => "other",
    }
}

vocabulary! {
    /// Why a party asks for a mediator.
    EscalationReason, kind = "escalation_reason", labels = labels::escalation_reason,
    {
        NoAcknowledgement => "no_acknowledgement",
        NoOffer => "no_offer",
        OffersRejected => "offers_rejected",
        NotFulfilled => "not_fulfilled",
        CustomerUnreasonable => "customer_unreasonable",
        Other => "other",
    }
}

vocabulary! {
    /// A ready-made sentence for messages, shown in the reader's language.
    Phrase, kind = "phrase", labels = labels::phrase,
    {
        PleaseSendPhotos => "please_send_photos",
        PhotosAttached => "photos_attached",
        PleaseSendOrderNumber => "please_send_order_number",
        ItemSentBack => "item_sent_back",
        RefundIssued => "refund_issued",
        ReplacementShipped => "replacement_shipped",
        ThankYou => "thank_you",
        NeedMoreTime => "need_more_time",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use std::collections::HashSet;
    use std::fmt::Debug;

    fn assert_round_trips<T>()
    where
        T: Code + Debug + PartialEq + fmt::Display + FromStr<Err = UnknownCode>,
        T: Serialize + DeserializeOwned,
    {
        for &c in T::ALL {
            let code = c.code();
            assert_eq!(T::parse(code), Ok(c), "{} `{code}` must parse", T::KIND);
            assert_eq!(code.parse::<T>(), Ok(c));
            assert_eq!(c.to_string(), code);
            let json = serde_json::to_string(&c).expect("code serialises");
            assert_eq!(json, format!("\"{code}\""), "serde and code() disagree");
            let back: T = serde_json::from_str(&json).expect("code deserialises");
            assert_eq!(back, c);
        }
        let distinct: HashSet<&str> = T::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(distinct.len(), T::ALL.len(), "{} codes repeat", T::KIND);
    }

    fn assert_unknown_rejected<T>()
    where
        T: Code + Debug + FromStr<Err = UnknownCode> + DeserializeOwned,
    {
        let first = T::ALL[0].code();
        let near_misses = [
            String::new(),
            "no_such_code".to_owned(),
            first.to_uppercase(),
            format!(" {first}"),
            first.replace('_', "-"),
        ];
        for code in near_misses.iter().filter(|c| c.as_str() != first) {
            let err = T::parse(code).expect_err("unknown code must be rejected");
            assert_eq!(
                err,
                UnknownCode {
                    kind: T::KIND,
                    code: code.clone()
                }
            );
            assert!(code.parse::<T>().is_err());
            assert!(serde_json::from_value::<T>(serde_json::json!(code)).is_err());
        }
    }

    #[test]
    fn every_code_round_trips_through_parse_display_and_serde() {
        for_each_vocabulary!(assert_round_trips);
    }

    #[test]
    fn unknown_codes_are_errors_not_strings_passed_through() {
        for_each_vocabulary!(assert_unknown_rejected);
        let err = Category::parse("lost").expect_err("unknown");
        assert_eq!(err.to_string(), "unknown category code `lost`");
    }

    #[test]
    fn vocabularies_match_the_spec() {
        assert_eq!(Category::ALL.len(), 12);
        assert_eq!(Remedy::ALL.len(), 8);
        assert_eq!(RejectionReason::ALL.len(), 5);
        assert_eq!(EscalationReason::ALL.len(), 6);
        assert_eq!(Phrase::ALL.len(), 8);
        let with_amount: Vec<&str> = Remedy::ALL
            .iter()
            .filter(|r| r.needs_amount())
            .map(|r| r.code())
            .collect();
        assert_eq!(with_amount, ["full_refund", "partial_refund", "voucher"]);
    }
}
