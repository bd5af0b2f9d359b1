//! Manifests: the first byte picks the Content-Type; parsing and classification never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocicat_oci::{Digest, Manifest, classify, media_types, parse};

const CONTENT_TYPES: [Option<&str>; 6] = [
    None,
    Some(media_types::OCI_MANIFEST),
    Some(media_types::OCI_INDEX),
    Some(media_types::DOCKER_MANIFEST),
    Some(media_types::DOCKER_MANIFEST_LIST),
    Some("application/octet-stream"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, raw)) = data.split_first() else { return };
    let content_type = CONTENT_TYPES[usize::from(selector) % CONTENT_TYPES.len()];
    if let Ok((media_type, body)) = parse::manifest(content_type, raw) {
        let manifest =
            Manifest { digest: Digest::sha256(raw), media_type, raw: bytes::Bytes::copy_from_slice(raw), body };
        let _ = classify(&manifest);
    }
});
