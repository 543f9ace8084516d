//! Password hashing (argon2id, PHC strings) and the shape checks of the
//! credentials people type: password length and email address.
//!
//! Hashing is deliberately slow CPU work: call it through `web::block`, not
//! on an actix worker thread.

use std::sync::OnceLock;

use argon2::{
    password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString},
    Algorithm, Argon2, Params, Version,
};
use rand::RngCore as _;

use crate::problem::FieldError;

pub const PASSWORD_MIN_CHARS: usize = 10;
pub const PASSWORD_MAX_CHARS: usize = 1000;
pub const EMAIL_MAX_CHARS: usize = 254;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Hashes new passwords with fixed argon2id parameters and verifies stored
/// PHC strings with the parameters written in them.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A hash of a throwaway password with the same parameters, for
    /// [`PasswordHasher::dummy_verify`]; made on first use.
    dummy: OnceLock<String>,
}

impl PasswordHasher {
    /// OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
    pub fn production() -> PasswordHasher {
        PasswordHasher::with_params(19_456, 2, 1)
    }

    /// Cheap parameters so that test suites stay fast. Tests only: these
    /// hashes are easy to brute-force.
    pub fn fast_for_tests() -> PasswordHasher {
        PasswordHasher::with_params(256, 1, 1)
    }

    fn with_params(m_cost: u32, t_cost: u32, p_cost: u32) -> PasswordHasher {
        // Both parameter sets are within argon2's documented bounds.
        let params = Params::new(m_cost, t_cost, p_cost, None).unwrap_or_default();
        PasswordHasher {
            params,
            dummy: OnceLock::new(),
        }
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A PHC string (`$argon2id$v=19$m=...`) with a fresh random salt.
    pub fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Hash(e.to_string()))
    }

    /// Whether `password` matches `phc`. The comparison is constant-time;
    /// an unparsable stored hash never matches.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        match PasswordHash::new(phc) {
            Ok(parsed) => Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(e) => {
                tracing::error!(error = %e, "stored password hash is not a PHC string");
                false
            }
        }
    }

    /// Spend the time of one verification when there is no account, so that
    /// login latency does not tell which emails are registered.
    pub fn dummy_verify(&self) {
        let phc = self
            .dummy
            .get_or_init(|| self.hash("not the password of anyone").unwrap_or_default());
        let _ = self.verify("still not the password", phc);
    }

    /// Whether `phc` was made with other parameters than this hasher's, so
    /// that a successful login may store a fresh hash.
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return true;
        };
        match Params::try_from(&parsed) {
            Ok(p) => {
                parsed.algorithm != Algorithm::Argon2id.ident()
                    || p.m_cost() != self.params.m_cost()
                    || p.t_cost() != self.params.t_cost()
                    || p.p_cost() != self.params.p_cost()
            }
            Err(_) => true,
        }
    }
}

/// 10 to 1000 characters (Unicode scalar values, not bytes).
pub fn validate_password(password: &str) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(FieldError::new(
            "password",
            "too_short",
            format!("Choose a password of at least {PASSWORD_MIN_CHARS} characters."),
        ));
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(FieldError::new(
            "password",
            "too_long",
            format!("Choose a password of at most {PASSWORD_MAX_CHARS} characters."),
        ));
    }
    Ok(())
}

/// Trimmed and lower-cased, after a basic shape check: one `@`, a non-empty
/// local part, a dotted domain, no spaces or control characters, at most
/// 254 characters. Deliverability is for the mail to prove.
pub fn normalize_email(email: &str) -> Result<String, FieldError> {
    let invalid = |message: &str| FieldError::new("email", "invalid_email", message);
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return Err(FieldError::new(
            "email",
            "required",
            "Enter an email address.",
        ));
    }
    if email.chars().count() > EMAIL_MAX_CHARS {
        return Err(invalid("An email address has at most 254 characters."));
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("An email address cannot contain spaces."));
    }
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid(
            "Enter an email address like name@example.com (exactly one @).",
        ));
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty() || !domain_ok {
        return Err(invalid("Enter an email address like name@example.com."));
    }
    Ok(email)
}
