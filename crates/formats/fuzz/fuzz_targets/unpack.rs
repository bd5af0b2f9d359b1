//! Decompression: the first byte picks the media type; unpacking never panics and never returns
//! more than the caps allow (64 MiB, 100 bytes out per byte in).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocicat_formats::unpack::{MAX_RATIO, MAX_UNPACKED_BYTES, unpack};

const MEDIA_TYPES: [&str; 4] = [
    "",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/json",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let media_type = MEDIA_TYPES[usize::from(selector) % MEDIA_TYPES.len()];
    if let Ok(unpacked) = unpack(bytes, media_type) {
        let cap = MAX_UNPACKED_BYTES.min(bytes.len() as u64 * MAX_RATIO).max(bytes.len() as u64);
        assert!(unpacked.len() as u64 <= cap);
    }
});
