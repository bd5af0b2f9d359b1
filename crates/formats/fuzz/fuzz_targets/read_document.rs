//! Documents: the first byte picks the layer media type of the hint; reading never panics, and
//! what is read keeps to the caps (lists, strings, pretty payloads).
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use ocicat_formats::{Document, Hint, read, scan};

const MEDIA_TYPES: [&str; 8] = [
    "",
    "application/spdx+json",
    "application/vnd.cyclonedx+json",
    "application/vnd.dev.cosign.simplesigning.v1+json",
    "application/vnd.dsse.envelope.v1+json",
    "application/jose+json",
    "application/cose",
    "text/spdx",
];

fn short(text: &str) -> bool {
    text.chars().count() <= 4096
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let annotations = BTreeMap::from([(
        "dev.sigstore.cosign/bundle".to_owned(),
        String::from_utf8_lossy(bytes.get(..64).unwrap_or(bytes)).into_owned(),
    )]);
    let hint = Hint {
        media_type: MEDIA_TYPES[usize::from(selector) % MEDIA_TYPES.len()],
        annotations: &annotations,
        artifact_type: None,
    };
    let _ = scan::findings(bytes);
    match read(bytes, &hint) {
        Ok(Document::Sbom(sbom)) => {
            assert!(sbom.packages.len() <= 100_000 && sbom.dependencies.len() <= 100_000);
            assert!(sbom.packages.iter().all(|package| short(&package.name) && short(&package.id)));
        }
        Ok(Document::Scan(report)) => {
            assert!(report.findings.len() <= 100_000);
            assert!(report.findings.iter().all(|finding| short(&finding.id) && short(&finding.package)));
        }
        Ok(Document::Signature(signature)) => {
            assert!(signature.payload.len() <= 64 * 1024);
            assert!(signature.details.iter().all(|(label, value)| short(label) && short(value)));
        }
        Ok(Document::Attestation(attestation)) => {
            assert!(attestation.predicate.len() <= 64 * 1024 && short(&attestation.predicate_type));
        }
        Err(error) => {
            let message = error.to_string();
            assert!(!message.is_empty());
        }
    }
});
