//! Who is calling: access tokens ([`token`]) and passwords ([`password`]).
//!
//! This module only proves credentials; loading the user behind a token and
//! checking its session epoch and rights happens in the `CurrentUser`
//! extractor, which needs the store.

pub mod password;
pub mod token;

pub use password::{normalize_email, validate_password, PasswordError, PasswordHasher};
pub use token::{bearer_token, Claims, IssuedToken, TokenError, TokenIssuer};
