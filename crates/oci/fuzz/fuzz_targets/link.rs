//! `Link`: finding `rel="next"` never panics, and resolving it keeps or changes the origin
//! without panicking (the client refuses a changed origin).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocicat_oci::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else { return };
    if let Some(target) = parse::next_link(header) {
        assert!(header.contains(target));
        let base = url::Url::parse("http://127.0.0.1:5000/v2/x/tags/list").unwrap();
        if let Ok(resolved) = base.join(target) {
            let _ = resolved.origin() == base.origin();
        }
    }
});
