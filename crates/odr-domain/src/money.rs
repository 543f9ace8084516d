//! Money is integer minor units plus an ISO 4217 currency. Never floats.

use serde::{Deserialize, Serialize};

use crate::validation::Violation;

/// An ISO 4217 currency code, checked against the standard's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    pub fn parse(code: &str) -> Option<Currency> {
        iso_currency::Currency::from_code(code).map(Currency)
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Digits after the decimal point (EUR 2, JPY 0, KWD 3).
    pub fn exponent(self) -> u16 {
        self.0.exponent().unwrap_or(0)
    }
}

impl Default for Currency {
    fn default() -> Self {
        Currency(iso_currency::Currency::EUR)
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::parse(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown currency `{code}`")))
    }
}

/// A positive amount in a currency's minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Money {
    pub amount_minor: i64,
    /// ISO 4217 code.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "EUR"))]
    pub currency: Currency,
}

/// Money as a client sends it: the currency still unchecked, so that an
/// unknown code is a validation error naming the field, not a parse error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MoneyInput {
    pub amount_minor: i64,
    pub currency: String,
}

/// The largest amount accepted: far above any consumer dispute, far below
/// where arithmetic on minor units could overflow.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000;

impl MoneyInput {
    pub fn validate(&self, field: &str) -> Result<Money, Violation> {
        let currency = Currency::parse(&self.currency).ok_or_else(|| {
            Violation::new(
                format!("{field}.currency"),
                "unknown_currency",
                format!("`{}` is not an ISO 4217 currency code.", self.currency),
            )
        })?;
        if self.amount_minor <= 0 {
            return Err(Violation::new(
                format!("{field}.amount_minor"),
                "must_be_positive",
                "The amount must be a positive number of minor units (cents).",
            ));
        }
        if self.amount_minor > MAX_AMOUNT_MINOR {
            return Err(Violation::new(
                format!("{field}.amount_minor"),
                "too_large",
                "The amount is larger than the engine accepts.",
            ));
        }
        Ok(Money {
            amount_minor: self.amount_minor,
            currency,
        })
    }
}

impl From<Money> for MoneyInput {
    fn from(m: Money) -> Self {
        MoneyInput {
            amount_minor: m.amount_minor,
            currency: m.currency.code().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_exponents_follow_iso_4217() {
        assert_eq!(Currency::parse("EUR").map(Currency::exponent), Some(2));
        assert_eq!(Currency::parse("JPY").map(Currency::exponent), Some(0));
        assert_eq!(Currency::parse("KWD").map(Currency::exponent), Some(3));
        assert!(Currency::parse("EURO").is_none());
    }

    #[test]
    fn money_input_rejects_zero_negative_and_unknown_currency() {
        let bad = |a: i64, c: &str| {
            MoneyInput {
                amount_minor: a,
                currency: c.into(),
            }
            .validate("amount")
            .unwrap_err()
            .field
        };
        assert_eq!(bad(0, "EUR"), "amount.amount_minor");
        assert_eq!(bad(-5, "EUR"), "amount.amount_minor");
        assert_eq!(bad(5, "XXY"), "amount.currency");
    }
}
