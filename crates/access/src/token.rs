//! API tokens for automation: `ocicat_` and 43 characters of base64url (256 random bits),
//! shown once at creation and kept only as a SHA-256 hash, which is also the lookup key.
//! Bearer tokens are long and random, so a fast hash suffices (no argon2 per request).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// The prefix that makes a leaked token easy to spot (and to scan for).
const PREFIX: &str = "ocicat_";
/// Base64url characters of 32 random bytes, unpadded.
const SECRET_CHARS: usize = 43;

/// A new token: the secret for the user, once, and the hash to store.
#[derive(Debug)]
pub struct ApiToken {
    /// What the user copies; never stored, never logged.
    pub secret: String,
    /// What is stored.
    pub hash: TokenHash,
}

/// The stored form of a token: hex SHA-256 of the whole secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenHash(pub String);

/// A presented bearer value that cannot be one of ours.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// Wrong prefix, length or alphabet.
    #[error("not an ocicat API token")]
    Malformed,
}

impl ApiToken {
    /// Generates a token from the operating system's randomness.
    pub fn generate() -> ApiToken {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let hash = TokenHash::of_secret(&secret);
        ApiToken { secret, hash }
    }
}

impl TokenHash {
    /// The hash of a presented bearer value, after checking it has our shape.
    pub fn of_presented(presented: &str) -> Result<TokenHash, TokenError> {
        let body = presented.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
        let shaped =
            body.len() == SECRET_CHARS && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !shaped {
            return Err(TokenError::Malformed);
        }
        Ok(TokenHash::of_secret(presented))
    }

    fn of_secret(secret: &str) -> TokenHash {
        TokenHash(hex::encode(Sha256::digest(secret.as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_is_found_by_its_hash_and_is_not_in_it() {
        let token = ApiToken::generate();
        assert!(token.secret.starts_with(PREFIX) && token.secret.len() == PREFIX.len() + SECRET_CHARS);
        assert_eq!(TokenHash::of_presented(&token.secret), Ok(token.hash.clone()));
        assert!(!token.hash.0.contains(&token.secret[PREFIX.len()..]));
        assert_ne!(ApiToken::generate().secret, token.secret, "tokens are random");
    }

    #[test]
    fn values_that_are_not_our_tokens_are_refused_before_lookup() {
        let token = ApiToken::generate();
        for presented in ["", "ocicat_", "Bearer x", &token.secret[1..], &format!("{}=", token.secret)] {
            assert_eq!(TokenHash::of_presented(presented), Err(TokenError::Malformed), "{presented:?}");
        }
        let mut altered = token.secret.clone();
        altered.replace_range(10..11, if &altered[10..11] == "A" { "B" } else { "A" });
        assert_ne!(TokenHash::of_presented(&altered).expect("same shape"), token.hash);
    }
}
