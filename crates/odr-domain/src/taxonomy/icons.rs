//! Icons for the coded choices, from the Lucide set (via `icondata_lu`).
//!
//! The customer picks a category and remedy by icon, so every code of a family
//! has its own, distinct icon. The table below is the single source; it is
//! mirrored for humans in `docs/icons.md` (a test keeps the two in step).

use std::fmt;

use icondata_core::IconData;
use icondata_lu as lu;

use super::{Category, Code, EscalationReason, RejectionReason, Remedy};
use crate::locale::Locale;

/// The four icon families, also the URL segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IconFamily {
    Categories,
    Remedies,
    RejectionReasons,
    EscalationReasons,
}

impl IconFamily {
    pub const ALL: [IconFamily; 4] = [
        IconFamily::Categories,
        IconFamily::Remedies,
        IconFamily::RejectionReasons,
        IconFamily::EscalationReasons,
    ];

    /// The URL segment: `"categories"`, `"remedies"`, `"rejection_reasons"`,
    /// `"escalation_reasons"` (also the taxonomy document's field names).
    pub fn segment(self) -> &'static str {
        match self {
            IconFamily::Categories => "categories",
            IconFamily::Remedies => "remedies",
            IconFamily::RejectionReasons => "rejection_reasons",
            IconFamily::EscalationReasons => "escalation_reasons",
        }
    }

    /// The family named by a URL segment; exact match only.
    pub fn parse(segment: &str) -> Option<IconFamily> {
        IconFamily::ALL.into_iter().find(|f| f.segment() == segment)
    }
}

impl fmt::Display for IconFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.segment())
    }
}

/// A vocabulary whose codes are picked by icon.
pub trait Iconic: Code {
    const FAMILY: IconFamily;

    /// The Lucide icon's own kebab-case name, e.g. `"package-x"`.
    fn icon_name(self) -> &'static str;

    /// The icon's SVG attributes and inner markup.
    fn icon(self) -> &'static IconData;

    /// Where the engine serves the icon, relative to the server:
    /// `/icons/{family}/{code}.svg`.
    fn icon_path(self) -> String {
        icon_path(Self::FAMILY, self.code())
    }

    /// The icon as a standalone SVG document, titled with the English label.
    fn icon_svg(self) -> String {
        render(self.icon(), self.label(Locale::En))
    }
}

/// Complete standalone SVG document for a code in a family; `None` for a code
/// that is not in the family.
pub fn icon_svg(family: IconFamily, code: &str) -> Option<String> {
    fn svg_of<T: Iconic>(code: &str) -> Option<String> {
        T::parse(code).ok().map(T::icon_svg)
    }
    match family {
        IconFamily::Categories => svg_of::<Category>(code),
        IconFamily::Remedies => svg_of::<Remedy>(code),
        IconFamily::RejectionReasons => svg_of::<RejectionReason>(code),
        IconFamily::EscalationReasons => svg_of::<EscalationReason>(code),
    }
}

/// Relative URL path where the engine serves an icon:
/// `/icons/{family}/{code}.svg`. The code is not checked; pass codes taken
/// from the vocabulary enums.
pub fn icon_path(family: IconFamily, code: &str) -> String {
    format!("/icons/{}/{code}.svg", family.segment())
}

/// Declares a family's icons once: the code's variant, the Lucide name, the
/// `icondata_lu` static.
macro_rules! iconic {
    ($ty:ident, $family:ident, { $($variant:ident => $name:literal, $icon:ident),+ $(,)? }) => {
        impl Iconic for $ty {
            const FAMILY: IconFamily = IconFamily::$family;

            fn icon_name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }

            fn icon(self) -> &'static IconData {
                match self {
                    $($ty::$variant => lu::$icon),+
                }
            }
        }

        #[cfg(test)]
        impl tests::IconIdent for $ty {
            fn icon_ident(self) -> &'static str {
                match self {
                    $($ty::$variant => stringify!($icon)),+
                }
            }
        }
    };
}

iconic!(Category, Categories, {
    NotDelivered => "package-x", LuPackageX,
    LateDelivery => "clock-alert", LuClockAlert,
    Damaged => "package-open", LuPackageOpen,
    WrongItem => "shuffle", LuShuffle,
    NotAsDescribed => "equal-not", LuEqualNot,
    Defective => "zap-off", LuZapOff,
    MissingParts => "puzzle", LuPuzzle,
    BillingError => "receipt", LuReceipt,
    RefundNotReceived => "banknote-x", LuBanknoteX,
    ReturnProblem => "undo-2", LuUndo2,
    Warranty => "shield-check", LuShieldCheck,
    Other => "circle-ellipsis", LuCircleEllipsis,
});

iconic!(Remedy, Remedies, {
    FullRefund => "banknote", LuBanknote,
    PartialRefund => "coins", LuCoins,
    Replacement => "repeat", LuRepeat,
    Repair => "wrench", LuWrench,
    Redelivery => "truck", LuTruck,
    Voucher => "ticket", LuTicket,
    ReturnLabel => "tag", LuTag,
    Explanation => "message-circle-question", LuMessageCircleQuestion,
});

iconic!(RejectionReason, RejectionReasons, {
    AmountTooLow => "banknote-arrow-down", LuBanknoteArrowDown,
    WrongRemedy => "arrow-left-right", LuArrowLeftRight,
    TooSlow => "snail", LuSnail,
    NotTrusted => "shield-question", LuShieldQuestion,
    Other => "circle-ellipsis", LuCircleEllipsis,
});

iconic!(EscalationReason, EscalationReasons, {
    NoAcknowledgement => "message-circle-off", LuMessageCircleOff,
    NoOffer => "hourglass", LuHourglass,
    OffersRejected => "thumbs-down", LuThumbsDown,
    NotFulfilled => "clipboard-x", LuClipboardX,
    CustomerUnreasonable => "user-x", LuUserX,
    Other => "circle-ellipsis", LuCircleEllipsis,
});

/// Wraps Lucide's inner markup into a document a browser shows on its own.
/// `stroke="currentColor"` (from Lucide) lets the page's text colour apply.
fn render(icon: &IconData, title: &str) -> String {
    let attributes = [
        ("width", icon.width),
        ("height", icon.height),
        ("viewBox", icon.view_box),
        ("fill", icon.fill),
        ("stroke", icon.stroke),
        ("stroke-width", icon.stroke_width),
        ("stroke-linecap", icon.stroke_linecap),
        ("stroke-linejoin", icon.stroke_linejoin),
        ("style", icon.style),
    ];
    let attributes: String = attributes
        .iter()
        .filter_map(|(name, value)| value.map(|v| format!(r#" {name}="{}""#, escape(v))))
        .collect();
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg"{attributes} role="img"><title>{}</title>{}</svg>"#,
        escape(title),
        icon.data,
    )
}

/// Escapes text for XML content and attribute values.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The `icondata_lu` static's name, to check it against `icon_name`.
    pub(super) trait IconIdent {
        fn icon_ident(self) -> &'static str;
    }

    /// Checks that every opened tag is closed in order, the way an XML parser
    /// would before a browser refuses to draw the icon.
    fn assert_tags_balance(svg: &str) {
        let mut open: Vec<&str> = Vec::new();
        for piece in svg.split('<').skip(1) {
            let tag = piece.split_once('>').map(|(t, _)| t).expect("tag closes");
            let name = tag
                .trim_start_matches('/')
                .split(|c: char| c.is_whitespace() || c == '/')
                .next()
                .expect("tag has a name");
            if tag.starts_with('/') {
                assert_eq!(open.pop(), Some(name), "mismatched </{name}> in {svg}");
            } else if !tag.ends_with('/') {
                open.push(name);
            }
        }
        assert!(open.is_empty(), "unclosed {open:?} in {svg}");
    }

    fn check_family<T: Iconic + IconIdent + std::fmt::Debug>() {
        let mut seen = HashSet::new();
        for &c in T::ALL {
            let svg = icon_svg(T::FAMILY, c.code()).expect("every code has an icon");
            assert!(svg.starts_with("<svg"), "{svg}");
            assert!(svg.contains(r#"xmlns="http://www.w3.org/2000/svg""#));
            assert!(svg.contains(r#"viewBox="0 0 24 24""#));
            assert!(svg.contains(r#"stroke="currentColor""#));
            assert!(svg.ends_with("</svg>"), "{svg}");
            assert!(svg.contains(&format!("<title>{}</title>", c.label(Locale::En))));
            assert_eq!(svg.matches("<svg").count(), 1, "nested svg in {svg}");
            assert_tags_balance(&svg);
            assert!(
                seen.insert(c.icon().data),
                "{:?} shares its icon with another {}",
                c,
                T::KIND
            );
            assert_eq!(
                c.icon_path(),
                format!("/icons/{}/{}.svg", T::FAMILY.segment(), c.code())
            );
            let kebab = kebab_case(c.icon_ident().trim_start_matches("Lu"));
            assert_eq!(c.icon_name(), kebab, "{c:?}: name and icon disagree");
        }
        assert_eq!(icon_svg(T::FAMILY, "no_such_code"), None);
    }

    /// `BanknoteArrowDown` -> `banknote-arrow-down`, `Undo2` -> `undo-2`.
    fn kebab_case(ident: &str) -> String {
        let mut out = String::new();
        let mut previous: Option<char> = None;
        for ch in ident.chars() {
            let boundary = match previous {
                Some(p) => ch.is_ascii_uppercase() || (ch.is_ascii_digit() && !p.is_ascii_digit()),
                None => false,
            };
            if boundary {
                out.push('-');
            }
            out.push(ch.to_ascii_lowercase());
            previous = Some(ch);
        }
        out
    }

    #[test]
    fn every_code_of_every_family_has_a_distinct_wellformed_icon() {
        for_each_vocabulary!(iconic: check_family);
    }

    #[test]
    fn families_are_addressed_by_their_url_segment() {
        for family in IconFamily::ALL {
            assert_eq!(IconFamily::parse(family.segment()), Some(family));
            assert_eq!(family.to_string(), family.segment());
            let json = serde_json::to_string(&family).expect("family serialises");
            assert_eq!(json, format!("\"{}\"", family.segment()));
        }
        assert_eq!(IconFamily::parse("phrases"), None);
        assert_eq!(IconFamily::parse("Categories"), None);
        assert_eq!(
            icon_path(IconFamily::RejectionReasons, "too_slow"),
            "/icons/rejection_reasons/too_slow.svg"
        );
        assert_eq!(icon_svg(IconFamily::Remedies, "not_delivered"), None);
    }

    #[test]
    fn titles_are_escaped() {
        let svg = render(lu::LuTag, r#"Bon d'achat <"&">"#);
        assert!(svg.contains("<title>Bon d&apos;achat &lt;&quot;&amp;&quot;&gt;</title>"));
    }

    #[test]
    fn docs_list_the_icons_the_code_serves() {
        let docs = include_str!("../../../../docs/icons.md");
        fn rows<T: Iconic>(docs: &str) {
            let section = docs
                .split("\n## ")
                .find(|s| {
                    let heading = s.lines().next().unwrap_or_default();
                    heading.contains(&format!("`/icons/{}/`", T::FAMILY.segment()))
                })
                .expect("docs/icons.md has a section per family");
            for &c in T::ALL {
                let row = format!("| `{}` | `{}` |", c.code(), c.icon_name());
                assert!(section.contains(&row), "docs/icons.md lacks {row}");
            }
        }
        for_each_vocabulary!(iconic: rows, docs);
    }
}
