//! `WWW-Authenticate`: any header parses to some challenges without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocicat_oci::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else { return };
    for challenge in parse::challenges(header) {
        assert!(!challenge.scheme.is_empty());
        assert_eq!(challenge.scheme, challenge.scheme.to_ascii_lowercase());
    }
});
