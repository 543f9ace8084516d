//! Checks shared by request bodies: codes that must be known, texts with
//! limits. A decoded body with a bad value is 422 naming the field.

use odr_domain::locale::Locale;
use odr_domain::taxonomy::Code;
use odr_domain::validation::{self, Violation};

use crate::problem::{ApiError, FieldError};
use crate::translate::field_errors;

/// Collects every bad field of one request before answering.
#[derive(Default)]
pub struct Checks(Vec<Violation>);

impl Checks {
    pub fn code<T: Code>(&mut self, field: &str, value: &str) -> Option<T> {
        match T::parse(value) {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(Violation::new(
                    field,
                    "unknown_code",
                    format!("{e}; see GET /api/v1/taxonomy for the codes."),
                ));
                None
            }
        }
    }

    pub fn optional_code<T: Code>(&mut self, field: &str, value: Option<&str>) -> Option<T> {
        value.and_then(|v| self.code(field, v))
    }

    pub fn locale(&mut self, field: &str, value: Option<&str>) -> Option<Locale> {
        let value = value?;
        let parsed = Locale::parse(value);
        if parsed.is_none() {
            self.0.push(Violation::new(
                field,
                "unknown_locale",
                "Supported locales: en, de, fr, es, sk.",
            ));
        }
        parsed
    }

    pub fn time_zone(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let value = value?;
        if value.parse::<chrono_tz::Tz>().is_ok() {
            Some(value.to_owned())
        } else {
            self.0.push(Violation::new(
                field,
                "unknown_time_zone",
                "Use an IANA time zone name such as Europe/Bratislava or UTC.",
            ));
            None
        }
    }

    pub fn text(&mut self, field: &str, value: &str, max: usize) {
        self.push(validation::text(field, value, max, true));
    }

    pub fn field(&mut self, e: FieldError) {
        self.0.push(Violation::new(e.field, &e.code, e.message));
    }

    pub fn push(&mut self, r: Result<(), Violation>) {
        if let Err(v) = r {
            self.0.push(v);
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation {
                errors: field_errors(self.0),
            })
        }
    }
}
