//! The vocabulary as one document, the body of `GET /api/v1/taxonomy`.

use super::{Category, Code, EscalationReason, Iconic, Phrase, RejectionReason, Remedy};
use crate::locale::Locale;

/// Every code with its label in one locale, in vocabulary order.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Taxonomy {
    pub categories: Vec<IconEntry>,
    pub remedies: Vec<RemedyEntry>,
    pub rejection_reasons: Vec<IconEntry>,
    pub escalation_reasons: Vec<IconEntry>,
    pub phrases: Vec<PhraseEntry>,
}

/// A code picked by icon.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IconEntry {
    pub code: &'static str,
    /// Path of the SVG relative to the server (`/icons/{family}/{code}.svg`);
    /// the HTTP layer prefixes it with the public base URL.
    pub icon: String,
    pub label: &'static str,
}

/// A remedy, and whether offering it requires an amount.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemedyEntry {
    pub code: &'static str,
    /// Path of the SVG relative to the server (`/icons/remedies/{code}.svg`);
    /// the HTTP layer prefixes it with the public base URL.
    pub icon: String,
    pub label: &'static str,
    pub needs_amount: bool,
}

/// A message phrase: its code and the sentence in the reader's language.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhraseEntry {
    pub code: &'static str,
    pub label: &'static str,
}

/// The whole vocabulary with labels in `locale`. Icon fields are server-relative
/// paths; see [`IconEntry::icon`].
pub fn taxonomy_document(locale: Locale) -> Taxonomy {
    fn entries<T: Iconic>(locale: Locale) -> Vec<IconEntry> {
        T::ALL
            .iter()
            .map(|&c| IconEntry {
                code: c.code(),
                icon: c.icon_path(),
                label: c.label(locale),
            })
            .collect()
    }
    Taxonomy {
        categories: entries::<Category>(locale),
        remedies: Remedy::ALL
            .iter()
            .map(|&r| RemedyEntry {
                code: r.code(),
                icon: r.icon_path(),
                label: r.label(locale),
                needs_amount: r.needs_amount(),
            })
            .collect(),
        rejection_reasons: entries::<RejectionReason>(locale),
        escalation_reasons: entries::<EscalationReason>(locale),
        phrases: Phrase::ALL
            .iter()
            .map(|&p| PhraseEntry {
                code: p.code(),
                label: p.label(locale),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn document_has_the_shape_the_api_promises() {
        let doc = serde_json::to_value(taxonomy_document(Locale::De)).expect("serialises");
        assert_eq!(
            doc["categories"][0],
            json!({"code": "not_delivered", "icon": "/icons/categories/not_delivered.svg", "label": "Nicht geliefert"})
        );
        assert_eq!(
            doc["remedies"][0],
            json!({"code": "full_refund", "icon": "/icons/remedies/full_refund.svg", "label": "Volle Erstattung", "needs_amount": true})
        );
        assert_eq!(doc["remedies"][2]["needs_amount"], json!(false));
        assert_eq!(
            doc["rejection_reasons"][2]["icon"],
            json!("/icons/rejection_reasons/too_slow.svg")
        );
        assert_eq!(
            doc["escalation_reasons"][0]["icon"],
            json!("/icons/escalation_reasons/no_acknowledgement.svg")
        );
        assert_eq!(
            doc["phrases"][6],
            json!({"code": "thank_you", "label": "Vielen Dank."})
        );
        let keys: Vec<&String> = doc.as_object().expect("an object").keys().collect();
        assert_eq!(keys.len(), 5);
    }

    #[test]
    fn document_lists_every_code_in_every_locale() {
        for locale in Locale::ALL {
            let doc = taxonomy_document(locale);
            assert_eq!(doc.categories.len(), Category::ALL.len());
            assert_eq!(doc.remedies.len(), Remedy::ALL.len());
            assert_eq!(doc.rejection_reasons.len(), RejectionReason::ALL.len());
            assert_eq!(doc.escalation_reasons.len(), EscalationReason::ALL.len());
            assert_eq!(doc.phrases.len(), Phrase::ALL.len());
            assert_eq!(
                doc.categories[0].label,
                Category::NotDelivered.label(locale)
            );
        }
        assert_eq!(
            taxonomy_document(Locale::Sk).categories[0].label,
            "Nedoručené"
        );
    }
}
