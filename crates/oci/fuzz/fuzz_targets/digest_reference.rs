//! Digests and references: parsing never panics, and what parses prints back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocicat_oci::{Digest, Reference};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(digest) = text.parse::<Digest>() {
        assert_eq!(digest.to_string().parse::<Digest>().ok(), Some(digest.clone()));
        assert!(!digest.fallback_tag().contains(':'));
    }
    if let Ok(reference) = text.parse::<Reference>() {
        assert_eq!(reference.to_string().parse::<Reference>().ok(), Some(reference));
    }
});
