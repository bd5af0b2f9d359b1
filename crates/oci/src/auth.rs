//! Credentials that never print, `WWW-Authenticate` challenge parsing, and the bearer token cache.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A secret string whose `Debug` and `Display` print `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself; call only where it is sent over the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How ocicat authenticates to one registry; used for Basic and to obtain bearer tokens.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// No credentials: anonymous access (anonymous tokens are still requested when challenged).
    Anonymous,
    /// A username and password (or a registry access token used as password).
    Basic { username: String, password: Secret },
}

impl Credentials {
    pub(crate) fn basic_header(&self) -> Option<String> {
        use base64::Engine as _;
        match self {
            Credentials::Anonymous => None,
            Credentials::Basic { username, password } => {
                let raw = format!("{username}:{}", password.expose());
                Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw)))
            }
        }
    }
}

/// One parsed challenge from a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The auth scheme, lowercase.
    pub scheme: String,
    /// Parameters by lowercase name.
    pub params: HashMap<String, String>,
}

impl Challenge {
    /// One parameter by lowercase name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// Parses every challenge in one header value (RFC 7235: quoted strings, escapes, commas in quotes).
/// Malformed input yields whatever parsed cleanly before the fault, never a panic.
pub(crate) fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut challenges: Vec<Challenge> = Vec::new();
    let mut chars = header.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut token = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' || c.is_whitespace() {
                break;
            }
            token.push(c);
            chars.next();
        }
        if token.is_empty() {
            break;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() == Some(&'=') {
            chars.next();
            let value = read_value(&mut chars);
            match challenges.last_mut() {
                Some(current) => {
                    current.params.insert(token.to_ascii_lowercase(), value);
                }
                None => break,
            }
        } else {
            challenges.push(Challenge { scheme: token.to_ascii_lowercase(), params: HashMap::new() });
        }
    }
    challenges
}

fn read_value(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut value = String::new();
    if chars.peek() == Some(&'"') {
        chars.next();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(escaped) = chars.next() {
                        value.push(escaped);
                    }
                }
                '"' => break,
                other => value.push(other),
            }
        }
    } else {
        while let Some(&c) = chars.peek() {
            if c == ',' || c.is_whitespace() {
                break;
            }
            value.push(c);
            chars.next();
        }
    }
    value
}

/// The longest a cached bearer token is trusted, whatever its `expires_in` says.
const MAX_TOKEN_LIFETIME_SECS: u64 = 24 * 3600;

/// Bearer tokens cached by their sorted scope set, with expiry.
#[derive(Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<String, (Secret, Instant)>>,
}

impl TokenCache {
    pub(crate) fn key(scopes: &BTreeSet<String>) -> String {
        scopes.iter().cloned().collect::<Vec<_>>().join(" ")
    }

    pub(crate) fn get(&self, key: &str) -> Option<Secret> {
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.get(key).filter(|(_, expiry)| *expiry > Instant::now()).map(|(token, _)| token.clone())
    }

    pub(crate) fn put(&self, key: String, token: Secret, lifetime: Duration) {
        // Renew a little early so a token never expires in flight.
        let skew = Duration::from_secs(10).min(lifetime / 2);
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() > 4096 {
            entries.clear();
        }
        let now = Instant::now();
        let expiry = now.checked_add(lifetime.saturating_sub(skew)).unwrap_or(now);
        entries.insert(key, (token, expiry));
    }

    pub(crate) fn forget(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.remove(key);
    }
}

/// The token endpoint's answer (`token` and `access_token` are equivalent).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    pub(crate) token: Option<String>,
    #[serde(default)]
    pub(crate) access_token: Option<String>,
    #[serde(default)]
    pub(crate) expires_in: Option<u64>,
}

impl TokenResponse {
    pub(crate) fn into_token(self) -> Option<(Secret, Duration)> {
        let token = self.token.filter(|t| !t.is_empty()).or(self.access_token.filter(|t| !t.is_empty()))?;
        // The token spec: default 60 s, and never less than 60 s; a day at most, whatever the
        // server claims (a lifetime near u64::MAX would overflow the clock).
        let lifetime = Duration::from_secs(self.expires_in.unwrap_or(60).clamp(60, MAX_TOKEN_LIFETIME_SECS));
        Some((Secret::new(token), lifetime))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_distribution_bearer_challenge_with_commas_in_scope() {
        let header = r#"Bearer realm="https://auth.example.test/token",service="registry.example.test",scope="repository:demo/app:pull,push",error="insufficient_scope""#;
        let challenges = parse_challenges(header);
        assert_eq!(challenges.len(), 1);
        let bearer = &challenges[0];
        assert_eq!(bearer.scheme, "bearer");
        assert_eq!(bearer.param("realm"), Some("https://auth.example.test/token"));
        assert_eq!(bearer.param("scope"), Some("repository:demo/app:pull,push"));
        assert_eq!(bearer.param("error"), Some("insufficient_scope"));
    }

    #[test]
    fn parses_several_challenges_and_escapes() {
        let challenges = parse_challenges(r#"Basic realm="a \"quoted\" realm", Bearer realm=x,service=y"#);
        assert_eq!(challenges.len(), 2);
        assert_eq!(challenges[0].param("realm"), Some("a \"quoted\" realm"));
        assert_eq!(challenges[1].param("service"), Some("y"));
    }

    #[test]
    fn broken_headers_never_panic() {
        for header in ["", "=", "Bearer realm=\"unterminated", ",,,", "Bearer ==", "\u{202e}x=y"] {
            let _ = parse_challenges(header);
        }
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let credentials = Credentials::Basic { username: "ci".into(), password: Secret::new("canary-pass") };
        let printed = format!("{credentials:?}");
        assert!(!printed.contains("canary-pass"), "{printed}");
        assert!(printed.contains("<redacted>"));
    }

    #[test]
    fn an_endless_token_lifetime_is_capped_not_an_overflow() {
        let answer: TokenResponse =
            serde_json::from_str(r#"{"token":"t","expires_in":18446744073709551615}"#).expect("parses");
        let (_, lifetime) = answer.into_token().expect("a token");
        assert_eq!(lifetime, Duration::from_secs(MAX_TOKEN_LIFETIME_SECS));
        let cache = TokenCache::default();
        cache.put("k".into(), Secret::new("t"), Duration::MAX);
        assert!(cache.get("k").is_none(), "a lifetime the clock cannot hold is no lifetime, not a panic");
    }

    #[test]
    fn expired_tokens_are_not_returned() {
        let cache = TokenCache::default();
        cache.put("k".into(), Secret::new("t"), Duration::from_secs(0));
        assert!(cache.get("k").is_none());
        cache.put("k".into(), Secret::new("t"), Duration::from_secs(120));
        assert_eq!(cache.get("k").map(|s| s.expose().to_owned()), Some("t".to_owned()));
    }
}
