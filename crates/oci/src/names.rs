//! The distribution grammar of repository names and references (a tag or a digest), checked
//! before any name reaches a URL.

use crate::digest::Digest;
use crate::error::{OciError, Result};

/// Checks a repository name against the distribution grammar (lowercase components joined by `/`).
pub(crate) fn validate_repository(name: &str) -> Result<()> {
    let component_ok = |component: &str| {
        let bytes = component.as_bytes();
        if bytes.is_empty() || !bytes[0].is_ascii_alphanumeric() || !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
            return false;
        }
        let mut previous_separator: Option<u8> = None;
        let mut run = 0;
        for &byte in bytes {
            if byte.is_ascii_lowercase() || byte.is_ascii_digit() {
                previous_separator = None;
                run = 0;
            } else if matches!(byte, b'.' | b'_' | b'-') {
                run += 1;
                let allowed = match (previous_separator, byte) {
                    (None, _) => true,
                    (Some(b'_'), b'_') => run == 2,
                    (Some(b'-'), b'-') => true,
                    _ => false,
                };
                if !allowed {
                    return false;
                }
                previous_separator = Some(byte);
            } else {
                return false;
            }
        }
        true
    };
    if name.len() > 255 || !name.split('/').all(component_ok) {
        return Err(OciError::InvalidReference(name.chars().take(200).collect()));
    }
    Ok(())
}

/// Checks a tag or digest reference; returns the digest when it is one.
pub(crate) fn validate_reference(reference: &str) -> Result<Option<Digest>> {
    if reference.contains(':') {
        return Ok(Some(reference.parse()?));
    }
    let bytes = reference.as_bytes();
    let valid = !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !valid {
        return Err(OciError::InvalidReference(reference.chars().take(200).collect()));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_grammar_matches_the_spec() {
        for good in ["a", "library/alpine", "demo/app-1", "a__b", "a.b/c--d", "x/y/z"] {
            assert!(validate_repository(good).is_ok(), "{good}");
        }
        for bad in ["", "A", "a/", "/a", "a//b", "a___b", "a._b", "-a", "a-", "a/../b", "a b"] {
            assert!(validate_repository(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reference_is_a_tag_or_a_digest() {
        assert_eq!(validate_reference("v1.2.3").unwrap(), None);
        assert!(validate_reference("sha256-abc.sig").unwrap().is_none());
        assert!(validate_reference(".hidden").is_err());
        assert!(validate_reference("sha256:../../x").is_err());
        assert!(validate_reference(&"a".repeat(129)).is_err());
    }
}
