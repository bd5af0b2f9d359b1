//! Password hashes: argon2id with the crate's recommended parameters, stored as PHC strings
//! (`$argon2id$v=19$m=…`). Checking a name that has no hash costs the same as a wrong password,
//! so response times do not tell which user names exist.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Argon2, PasswordHash};

/// Why a password could not be hashed, or a stored hash is unusable.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Hashing failed (no randomness for the salt).
    #[error("cannot hash the password: {0}")]
    Hash(String),
    /// A stored hash is not an argon2 PHC string.
    #[error("not an argon2 password hash ($argon2id$…): {0}")]
    Malformed(String),
    /// Empty or too long.
    #[error("a password must have 1 to {MAX_PASSWORD_BYTES} bytes")]
    Length,
}

/// Longer passwords are refused before hashing (hashing cost must stay bounded).
const MAX_PASSWORD_BYTES: usize = 1024;

/// A new argon2id PHC string for `password`, with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.is_empty() || password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::Length);
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| PasswordError::Hash(error.to_string()))
}

/// Checks that `stored` is a usable argon2 PHC string (for configuration checks).
pub fn check_hash(stored: &str) -> Result<(), PasswordError> {
    PasswordHash::new(stored).map(|_| ()).map_err(|error| PasswordError::Malformed(error.to_string()))
}

/// True when `password` matches `stored`. With no stored hash (unknown user) or an unusable one,
/// a dummy hash is checked instead so the answer takes as long, and the result is false.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    let parsed = stored.and_then(|stored| PasswordHash::new(stored).ok());
    let matches = match &parsed {
        Some(hash) if password.len() <= MAX_PASSWORD_BYTES => {
            Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
        }
        _ => {
            if let Ok(dummy) = PasswordHash::new(dummy_hash()) {
                let _ = Argon2::default().verify_password(password.as_bytes(), &dummy);
            }
            false
        }
    };
    matches && parsed.is_some()
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("ocicat timing equaliser").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let stored = hash_password("correct horse").expect("hash");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("correct horse"));
        assert!(verify_password("correct horse", Some(&stored)));
        assert!(!verify_password("correct hors", Some(&stored)));
        assert!(!verify_password("correct horse", None), "no user, no match");
        assert!(!verify_password("correct horse", Some("plain text")), "a malformed hash never matches");
        assert_ne!(hash_password("correct horse").expect("hash"), stored, "salts differ");
    }

    #[test]
    fn empty_and_huge_passwords_are_refused() {
        assert!(matches!(hash_password(""), Err(PasswordError::Length)));
        assert!(matches!(hash_password(&"x".repeat(2000)), Err(PasswordError::Length)));
        assert!(check_hash("$argon2id$nope").is_err());
        assert!(check_hash(&hash_password("fine").expect("hash")).is_ok());
    }
}
