//! `Retry-After`: seconds or an HTTP date, never a panic, never longer than the cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocicat_oci::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else { return };
    if let Some(wait) = parse::retry_after(value, std::time::SystemTime::now()) {
        assert!(wait <= parse::MAX_RETRY_AFTER);
    }
});
