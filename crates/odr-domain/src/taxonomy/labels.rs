//! Labels for every code, one row per code in [`Locale::ALL`] order:
//! `[en, de, fr, es, sk]`.
//!
//! Short labels fit under an icon; phrases are whole sentences the other
//! party reads. The tone is polite and calm: these words land in the middle of
//! a dispute, so they describe the situation and never blame. Formal address
//! (Sie, vous, usted, Vy) throughout; Slovak past tenses are passive so they
//! do not depend on the writer's gender.

use super::{Category, EscalationReason, Phrase, RejectionReason, Remedy};

type Row = [&'static str; 5];

const OTHER: Row = ["Other", "Sonstiges", "Autre", "Otro", "Iné"];
const OTHER_REASON: Row = [
    "Other reason",
    "Anderer Grund",
    "Autre raison",
    "Otro motivo",
    "Iný dôvod",
];

pub(super) fn category(c: Category) -> Row {
    match c {
        Category::NotDelivered => [
            "Not delivered",
            "Nicht geliefert",
            "Non livré",
            "No entregado",
            "Nedoručené",
        ],
        Category::LateDelivery => [
            "Late delivery",
            "Verspätete Lieferung",
            "Livraison en retard",
            "Entrega con retraso",
            "Oneskorené doručenie",
        ],
        Category::Damaged => ["Damaged", "Beschädigt", "Endommagé", "Dañado", "Poškodené"],
        Category::WrongItem => [
            "Wrong item",
            "Falscher Artikel",
            "Mauvais article",
            "Artículo equivocado",
            "Nesprávny tovar",
        ],
        Category::NotAsDescribed => [
            "Not as described",
            "Nicht wie beschrieben",
            "Non conforme à l'annonce",
            "Distinto a lo descrito",
            "Nezodpovedá popisu",
        ],
        Category::Defective => [
            "Defective",
            "Defekt",
            "Défectueux",
            "Defectuoso",
            "Nefunkčné",
        ],
        Category::MissingParts => [
            "Missing parts",
            "Fehlende Teile",
            "Pièces manquantes",
            "Faltan piezas",
            "Chýbajúce časti",
        ],
        Category::BillingError => [
            "Billing error",
            "Fehler in der Rechnung",
            "Erreur de facturation",
            "Error de facturación",
            "Chyba vo vyúčtovaní",
        ],
        Category::RefundNotReceived => [
            "Refund not received",
            "Erstattung nicht erhalten",
            "Remboursement non reçu",
            "Reembolso no recibido",
            "Nevrátené peniaze",
        ],
        Category::ReturnProblem => [
            "Problem with a return",
            "Problem mit der Rücksendung",
            "Problème de retour",
            "Problema con la devolución",
            "Problém s vrátením tovaru",
        ],
        Category::Warranty => ["Warranty", "Garantie", "Garantie", "Garantía", "Záruka"],
        Category::Other => OTHER,
    }
}

pub(super) fn remedy(r: Remedy) -> Row {
    match r {
        Remedy::FullRefund => [
            "Full refund",
            "Volle Erstattung",
            "Remboursement intégral",
            "Reembolso completo",
            "Vrátenie celej sumy",
        ],
        Remedy::PartialRefund => [
            "Partial refund",
            "Teilerstattung",
            "Remboursement partiel",
            "Reembolso parcial",
            "Vrátenie časti sumy",
        ],
        Remedy::Replacement => [
            "Replacement",
            "Ersatzlieferung",
            "Remplacement",
            "Sustitución",
            "Výmena",
        ],
        Remedy::Repair => ["Repair", "Reparatur", "Réparation", "Reparación", "Oprava"],
        Remedy::Redelivery => [
            "Redelivery",
            "Erneute Zustellung",
            "Nouvelle livraison",
            "Nuevo envío",
            "Opätovné doručenie",
        ],
        Remedy::Voucher => [
            "Voucher",
            "Gutschein",
            "Bon d'achat",
            "Vale de compra",
            "Poukážka",
        ],
        Remedy::ReturnLabel => [
            "Return label",
            "Rücksendeetikett",
            "Étiquette de retour",
            "Etiqueta de devolución",
            "Štítok na vrátenie",
        ],
        Remedy::Explanation => [
            "Explanation",
            "Erklärung",
            "Explication",
            "Explicación",
            "Vysvetlenie",
        ],
    }
}

pub(super) fn rejection_reason(r: RejectionReason) -> Row {
    match r {
        RejectionReason::AmountTooLow => [
            "Amount too low",
            "Betrag zu niedrig",
            "Montant insuffisant",
            "Importe demasiado bajo",
            "Príliš nízka suma",
        ],
        RejectionReason::WrongRemedy => [
            "Different remedy wanted",
            "Andere Lösung gewünscht",
            "Autre solution souhaitée",
            "Prefiero otra solución",
            "Želám si iné riešenie",
        ],
        RejectionReason::TooSlow => [
            "Too slow",
            "Zu langsam",
            "Trop lent",
            "Demasiado lento",
            "Príliš pomalé",
        ],
        RejectionReason::NotTrusted => [
            "Lack of trust",
            "Fehlendes Vertrauen",
            "Manque de confiance",
            "Falta de confianza",
            "Nedôvera",
        ],
        RejectionReason::Other => OTHER_REASON,
    }
}

pub(super) fn escalation_reason(e: EscalationReason) -> Row {
    match e {
        EscalationReason::NoAcknowledgement => [
            "No response",
            "Keine Rückmeldung",
            "Aucune réponse",
            "Sin respuesta",
            "Bez odozvy",
        ],
        EscalationReason::NoOffer => [
            "No offer made",
            "Kein Angebot",
            "Aucune proposition",
            "Sin oferta",
            "Žiadna ponuka",
        ],
        EscalationReason::OffersRejected => [
            "Offers rejected",
            "Angebote abgelehnt",
            "Propositions refusées",
            "Ofertas rechazadas",
            "Ponuky odmietnuté",
        ],
        EscalationReason::NotFulfilled => [
            "Not fulfilled",
            "Nicht erfüllt",
            "Non exécuté",
            "No cumplido",
            "Nesplnené",
        ],
        EscalationReason::CustomerUnreasonable => [
            "Unreasonable request",
            "Unangemessene Forderung",
            "Demande excessive",
            "Reclamación desproporcionada",
            "Neprimeraná požiadavka",
        ],
        EscalationReason::Other => OTHER_REASON,
    }
}

pub(super) fn phrase(p: Phrase) -> Row {
    match p {
        Phrase::PleaseSendPhotos => [
            "Please send photos of the problem.",
            "Bitte senden Sie Fotos, die das Problem zeigen.",
            "Merci d'envoyer des photos du problème.",
            "Por favor, envíe fotos del problema.",
            "Pošlite, prosím, fotografie problému.",
        ],
        Phrase::PhotosAttached => [
            "The photos are attached.",
            "Die Fotos sind beigefügt.",
            "Les photos sont en pièce jointe.",
            "Adjunto las fotos.",
            "Fotografie sú v prílohe.",
        ],
        Phrase::PleaseSendOrderNumber => [
            "Please send your order number.",
            "Bitte nennen Sie Ihre Bestellnummer.",
            "Merci de nous communiquer votre numéro de commande.",
            "Por favor, envíenos su número de pedido.",
            "Pošlite, prosím, číslo objednávky.",
        ],
        Phrase::ItemSentBack => [
            "The item has been sent back.",
            "Der Artikel wurde zurückgeschickt.",
            "L'article a été renvoyé.",
            "El artículo ha sido devuelto.",
            "Tovar bol odoslaný späť.",
        ],
        Phrase::RefundIssued => [
            "The refund has been issued.",
            "Die Erstattung wurde veranlasst.",
            "Le remboursement a été effectué.",
            "El reembolso se ha realizado.",
            "Peniaze boli vrátené.",
        ],
        Phrase::ReplacementShipped => [
            "The replacement has been shipped.",
            "Der Ersatzartikel wurde versandt.",
            "Le produit de remplacement a été expédié.",
            "El artículo de sustitución ya se ha enviado.",
            "Náhradný tovar bol odoslaný.",
        ],
        Phrase::ThankYou => [
            "Thank you.",
            "Vielen Dank.",
            "Merci beaucoup.",
            "Muchas gracias.",
            "Ďakujem.",
        ],
        Phrase::NeedMoreTime => [
            "I need a little more time. Thank you for your patience.",
            "Ich benötige etwas mehr Zeit. Danke für Ihre Geduld.",
            "J'ai besoin d'un peu plus de temps. Merci de votre patience.",
            "Necesito un poco más de tiempo. Gracias por su paciencia.",
            "Potrebujem trochu viac času. Ďakujem za trpezlivosť.",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::super::Code;
    use super::*;
    use crate::locale::Locale;

    /// Every label of one vocabulary: `(code, locale, label)`.
    fn all_labels<T: Code>() -> Vec<(&'static str, Locale, &'static str)> {
        T::ALL
            .iter()
            .flat_map(|&c| Locale::ALL.map(|l| (c.code(), l, c.label(l))))
            .collect()
    }

    fn check<T: Code>() {
        for (code, locale, label) in all_labels::<T>() {
            assert!(
                !label.trim().is_empty(),
                "{} `{code}` shows an empty label to {locale} readers",
                T::KIND
            );
            assert_eq!(label, label.trim(), "stray whitespace in `{code}`/{locale}");
            let english = T::ALL
                .iter()
                .find(|c| c.code() == code)
                .map(|c| c.label(Locale::En));
            if locale != Locale::En {
                assert_ne!(
                    Some(label),
                    english,
                    "{} `{code}` is untranslated for {locale} readers",
                    T::KIND
                );
            }
        }
    }

    #[test]
    fn every_code_has_a_translated_label_in_every_locale() {
        for_each_vocabulary!(check);
    }

    /// Two codes with one label would be indistinguishable to the reader.
    fn labels_are_distinct<T: Code>() {
        for locale in Locale::ALL {
            let mut labels: Vec<&str> = T::ALL.iter().map(|c| c.label(locale)).collect();
            labels.sort_unstable();
            labels.dedup();
            assert_eq!(
                labels.len(),
                T::ALL.len(),
                "{} labels repeat in {locale}",
                T::KIND
            );
        }
    }

    #[test]
    fn labels_within_a_vocabulary_are_distinct() {
        for_each_vocabulary!(labels_are_distinct);
    }

    #[test]
    fn phrases_are_sentences_and_short_labels_are_not() {
        for (code, locale, label) in all_labels::<Phrase>() {
            assert!(
                label.ends_with('.'),
                "phrase `{code}`/{locale} is not a sentence"
            );
        }
        for (code, locale, label) in all_labels::<Category>() {
            assert!(
                label.chars().count() <= 32,
                "`{code}`/{locale} too long for an icon"
            );
        }
        assert_eq!(Category::NotDelivered.label(Locale::Sk), "Nedoručené");
    }
}
