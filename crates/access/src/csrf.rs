//! The anti-CSRF token deletes carry on top of the Fetch-metadata checks (SECURITY S18): one
//! random value per session (or per server start, for requests without a session), put on the
//! request by the access middleware and compared in constant time where a delete is confirmed.

use rand::RngCore as _;

/// The token the current request's pages must send back with a delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfToken(pub String);

/// Marks a request authenticated by an API token: it carries no ambient credential (no
/// cookie), so a cross-site page cannot forge it and no CSRF token is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BearerAuthenticated;

impl CsrfToken {
    /// 256 random bits, hex.
    pub fn random() -> CsrfToken {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        CsrfToken(hex::encode(bytes))
    }

    /// True when `presented` is this token (compared in constant time).
    pub fn matches(&self, presented: &str) -> bool {
        let (ours, theirs) = (self.0.as_bytes(), presented.as_bytes());
        ours.len() == theirs.len()
            && !ours.is_empty()
            && ours.iter().zip(theirs).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_token_matches() {
        let token = CsrfToken::random();
        assert!(token.matches(&token.0.clone()));
        assert!(!token.matches(""));
        assert!(!token.matches(&CsrfToken::random().0));
        assert!(!token.matches(&token.0[..10]));
        assert!(!CsrfToken(String::new()).matches(""), "an empty token never matches");
    }
}
