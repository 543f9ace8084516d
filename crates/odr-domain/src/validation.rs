//! Field-level validation failures, named by the path of the field in the
//! request so that a client can point at it.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl Violation {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Violation {
        Violation {
            field: field.into(),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// The documented text limits of api.md.
pub mod limits {
    pub const LONG_TEXT: usize = 5_000;
    pub const NAME: usize = 200;
    pub const ORDER_REFERENCE: usize = 100;
    pub const ITEMS: usize = 100;
    pub const SKU: usize = 100;
}

/// Collects violations so that a request learns about all its bad fields at once.
#[derive(Debug, Default)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    pub fn push(&mut self, v: Violation) {
        self.0.push(v);
    }

    pub fn check<T>(&mut self, r: Result<T, Violation>) -> Option<T> {
        match r {
            Ok(t) => Some(t),
            Err(v) => {
                self.0.push(v);
                None
            }
        }
    }

    pub fn into_result(self) -> Result<(), Vec<Violation>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

/// A text of at most `max` characters; `required` texts must not be blank.
pub fn text(field: &str, value: &str, max: usize, required: bool) -> Result<(), Violation> {
    if required && value.trim().is_empty() {
        return Err(Violation::new(
            field,
            "required",
            "This field must not be empty.",
        ));
    }
    let len = value.chars().count();
    if len > max {
        return Err(Violation::new(
            field,
            "too_long",
            format!("At most {max} characters are allowed; this has {len}."),
        ));
    }
    Ok(())
}

pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> Result<(), Violation> {
    value.map_or(Ok(()), |v| text(field, v, max, false))
}
