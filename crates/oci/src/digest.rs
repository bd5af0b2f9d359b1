//! Content digests: the grammar check that runs before any digest reaches a URL, and hashing.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256, Sha512};

/// The hash algorithms ocicat verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// `sha256`, the default everywhere.
    Sha256,
    /// `sha512`, allowed by the image spec.
    Sha512,
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

/// A validated digest such as `sha256:e3b0…`; only lowercase hex of the right length passes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// Hashes `bytes` with `algorithm`.
    pub fn compute(algorithm: Algorithm, bytes: &[u8]) -> Digest {
        let hex = match algorithm {
            Algorithm::Sha256 => hex::encode(Sha256::digest(bytes)),
            Algorithm::Sha512 => hex::encode(Sha512::digest(bytes)),
        };
        Digest { algorithm, hex }
    }

    /// Hashes `bytes` with sha256.
    pub fn sha256(bytes: &[u8]) -> Digest {
        Digest::compute(Algorithm::Sha256, bytes)
    }

    /// The algorithm part.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The lowercase hex part.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// True when `bytes` hash to this digest.
    pub fn verifies(&self, bytes: &[u8]) -> bool {
        Digest::compute(self.algorithm, bytes) == *self
    }

    /// The referrers fallback tag for this digest (`sha256-<hex>`), as the distribution spec names it.
    pub fn fallback_tag(&self) -> String {
        format!("{}-{}", self.algorithm.name(), self.hex)
    }

    /// The digest a referrer tag names: the fallback index tag `<alg>-<hex>`, or cosign's
    /// `<alg>-<hex>.sig|.att|.sbom`; `None` for any other tag (a version).
    pub fn of_referrer_tag(tag: &str) -> Option<Digest> {
        let (algorithm, rest) = tag.split_once('-')?;
        let hex = match rest.split_once('.') {
            Some((hex, "sig" | "att" | "sbom")) => hex,
            Some(_) => return None,
            None => rest,
        };
        format!("{algorithm}:{hex}").parse().ok()
    }

    /// A short form for display: the first 12 hex characters.
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }
}

/// An incremental hasher for one algorithm, for verifying streams on the fly.
pub(crate) enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    pub(crate) fn new(algorithm: Algorithm) -> Hasher {
        match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(hasher) => hasher.update(bytes),
            Hasher::Sha512(hasher) => hasher.update(bytes),
        }
    }

    pub(crate) fn finish(self) -> Digest {
        match self {
            Hasher::Sha256(hasher) => Digest { algorithm: Algorithm::Sha256, hex: hex::encode(hasher.finalize()) },
            Hasher::Sha512(hasher) => Digest { algorithm: Algorithm::Sha512, hex: hex::encode(hasher.finalize()) },
        }
    }
}

/// A digest string that does not follow the grammar (the text, cut at 200 characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidDigest(pub String);

impl fmt::Display for InvalidDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid digest {:?}", self.0)
    }
}

impl std::error::Error for InvalidDigest {}

impl FromStr for Digest {
    type Err = InvalidDigest;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidDigest(text.chars().take(200).collect());
        let (algorithm_name, hex) = text.split_once(':').ok_or_else(invalid)?;
        let algorithm = match algorithm_name {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => return Err(invalid()),
        };
        let well_formed =
            hex.len() == algorithm.hex_len() && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(invalid());
        }
        Ok(Digest { algorithm, hex: hex.to_owned() })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_string_has_the_well_known_sha256() {
        let digest = Digest::sha256(b"");
        assert_eq!(digest.to_string(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn grammar_rejects_traversal_uppercase_and_unknown_algorithms() {
        for bad in [
            "sha256:../../x#",
            "md5:d41d8cd98f00b204e9800998ecf8427e",
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "sha256:e3b0",
            "sha256e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad} must be rejected");
        }
    }

    #[test]
    fn sha512_round_trips_and_verifies() {
        let digest = Digest::compute(Algorithm::Sha512, b"hello");
        let parsed: Digest = digest.to_string().parse().unwrap();
        assert_eq!(parsed, digest);
        assert!(parsed.verifies(b"hello"));
        assert!(!parsed.verifies(b"hello!"));
    }

    #[test]
    fn referrer_tags_name_their_digest_and_versions_name_none() {
        let hex = "ab".repeat(32);
        let digest: Digest = format!("sha256:{hex}").parse().unwrap();
        assert_eq!(Digest::of_referrer_tag(&format!("sha256-{hex}")), Some(digest.clone()));
        assert_eq!(Digest::of_referrer_tag(&format!("sha256-{hex}.sig")), Some(digest.clone()));
        assert_eq!(Digest::of_referrer_tag(&format!("sha256-{hex}.att")), Some(digest));
        assert_eq!(Digest::of_referrer_tag(&format!("sha256-{hex}.other")), None);
        assert_eq!(Digest::of_referrer_tag(&format!("sha256-{}", hex.to_uppercase())), None, "hex is lowercase");
        assert_eq!(
            Digest::of_referrer_tag(&format!("sha512-{}", "cd".repeat(64))).map(|d| d.algorithm()),
            Some(Algorithm::Sha512)
        );
        for version in ["1.0", "latest", "release-2024", "sha256-short", "md5-abc"] {
            assert_eq!(Digest::of_referrer_tag(version), None, "{version}");
        }
    }

    #[test]
    fn fallback_tag_follows_the_referrers_tag_schema() {
        let digest = Digest::sha256(b"");
        assert_eq!(digest.fallback_tag(), format!("sha256-{}", digest.hex()));
    }

    proptest! {
        #[test]
        fn verify_holds_exactly_for_the_hashed_bytes(a in proptest::collection::vec(any::<u8>(), 0..256),
                                                     b in proptest::collection::vec(any::<u8>(), 0..256)) {
            let digest = Digest::sha256(&a);
            prop_assert_eq!(digest.verifies(&b), Digest::sha256(&b) == digest);
            prop_assert!(digest.verifies(&a));
        }

        #[test]
        fn parsing_never_panics(text in ".{0,200}") {
            let _ = text.parse::<Digest>();
        }
    }
}
