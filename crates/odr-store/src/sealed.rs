//! Secrets the engine must read back (webhook signing secrets, order-link
//! secrets) are kept sealed: ChaCha20-Poly1305 under `ODR_ENCRYPTION_KEY`
//! when it is set. Without a key they are kept as they are, marked so, and
//! a key set later seals new secrets while old ones stay readable
//! (operations docs say how to rotate).
//!
//! A sealed value is `v1:<base64 of nonce ‖ ciphertext>`; an unsealed one
//! is `plain:<secret>`. The database alone never reveals a sealed secret.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

const SEALED: &str = "v1:";
const PLAIN: &str = "plain:";
const NONCE_BYTES: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the encryption key must be 32 bytes in base64")]
    BadKey,
    #[error("this secret was sealed with ODR_ENCRYPTION_KEY, which is not set now")]
    NoKey,
    #[error("this secret does not open with the configured ODR_ENCRYPTION_KEY")]
    WrongKey,
    #[error("this stored secret is not in a known form")]
    Unknown,
}

/// Seals and opens stored secrets with the configured key, if any.
#[derive(Clone)]
pub struct SecretKeeper {
    cipher: Option<ChaCha20Poly1305>,
}

impl std::fmt::Debug for SecretKeeper {
    // Never print key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKeeper")
            .field("sealing", &self.cipher.is_some())
            .finish()
    }
}

impl SecretKeeper {
    /// `key` is `ODR_ENCRYPTION_KEY` (32 bytes in standard or URL-safe
    /// base64), or `None` to keep secrets unsealed.
    pub fn new(key: Option<&str>) -> Result<SecretKeeper, SealError> {
        let cipher = match key {
            None => None,
            Some(text) => {
                let text = text.trim();
                let bytes = STANDARD
                    .decode(text)
                    .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(text))
                    .map_err(|_| SealError::BadKey)?;
                let key: [u8; 32] = bytes.try_into().map_err(|_| SealError::BadKey)?;
                Some(ChaCha20Poly1305::new(&Key::from(key)))
            }
        };
        Ok(SecretKeeper { cipher })
    }

    /// A keeper without a key: secrets are kept as they are.
    pub fn unsealed() -> SecretKeeper {
        SecretKeeper { cipher: None }
    }

    /// Whether new secrets are sealed.
    pub fn seals(&self) -> bool {
        self.cipher.is_some()
    }

    /// What to store for `secret`.
    pub fn seal(&self, secret: &str) -> String {
        match &self.cipher {
            None => format!("{PLAIN}{secret}"),
            Some(cipher) => {
                let mut nonce = [0u8; NONCE_BYTES];
                rand::rng().fill_bytes(&mut nonce);
                let mut out = nonce.to_vec();
                // Encrypting to a Vec cannot fail for inputs this small.
                let sealed = cipher
                    .encrypt(&Nonce::from(nonce), secret.as_bytes())
                    .unwrap_or_default();
                out.extend_from_slice(&sealed);
                format!("{SEALED}{}", STANDARD.encode(out))
            }
        }
    }

    /// The secret behind a stored value.
    pub fn open(&self, stored: &str) -> Result<String, SealError> {
        if let Some(plain) = stored.strip_prefix(PLAIN) {
            return Ok(plain.to_owned());
        }
        let sealed = stored.strip_prefix(SEALED).ok_or(SealError::Unknown)?;
        let cipher = self.cipher.as_ref().ok_or(SealError::NoKey)?;
        let bytes = STANDARD.decode(sealed).map_err(|_| SealError::Unknown)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(SealError::Unknown);
        }
        let (nonce, body) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| SealError::Unknown)?;
        let plain = cipher
            .decrypt(&Nonce::from(nonce), body)
            .map_err(|_| SealError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SealError::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    const OTHER: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";

    #[test]
    fn a_sealed_secret_opens_with_its_key_only() {
        let keeper = SecretKeeper::new(Some(KEY)).expect("key");
        let stored = keeper.seal("whsec_abc");
        assert!(stored.starts_with("v1:"));
        assert!(!stored.contains("whsec_abc"));
        assert_eq!(keeper.open(&stored).as_deref(), Ok("whsec_abc"));
        // A fresh nonce each time.
        assert_ne!(keeper.seal("whsec_abc"), stored);
        let other = SecretKeeper::new(Some(OTHER)).expect("key");
        assert_eq!(other.open(&stored), Err(SealError::WrongKey));
        assert_eq!(
            SecretKeeper::unsealed().open(&stored),
            Err(SealError::NoKey)
        );
    }

    #[test]
    fn without_a_key_secrets_are_kept_marked_and_stay_readable_after_one_is_set() {
        let stored = SecretKeeper::unsealed().seal("olsec_x");
        assert_eq!(stored, "plain:olsec_x");
        let keeper = SecretKeeper::new(Some(KEY)).expect("key");
        assert_eq!(keeper.open(&stored).as_deref(), Ok("olsec_x"));
        assert_eq!(keeper.open("garbage"), Err(SealError::Unknown));
    }

    #[test]
    fn a_key_must_be_32_bytes() {
        assert_eq!(
            SecretKeeper::new(Some("c2hvcnQ=")).err(),
            Some(SealError::BadKey)
        );
        assert_eq!(
            SecretKeeper::new(Some("not base64!")).err(),
            Some(SealError::BadKey)
        );
    }
}
