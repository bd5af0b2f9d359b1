//! Real SBOM documents made by real generators (copied from the project's shared fixtures):
//! `distro2sbom` (SPDX 2.3 of Debian packages), `cyclonedx-py` (CycloneDX 1.6 of a Python
//! environment) and `sbom4python` (SPDX 2.3 of python-requests).

/// SPDX 2.3 of the Debian packages of `skopeo` and its dependencies (zlib1g 1:1.2.13.dfsg-1, tar, …).
pub(crate) const SPDX_DEBIAN: &[u8] = include_bytes!("../fixtures/sbom-debian-skopeo.spdx.json");

/// CycloneDX 1.6 of a Python environment (setuptools 65.5.0, requests, urllib3, …).
pub(crate) const CYCLONEDX_PYTHON: &[u8] = include_bytes!("../fixtures/sbom-python.cdx.json");

/// SPDX 2.3 of python-requests and its dependencies.
pub(crate) const SPDX_REQUESTS: &[u8] = include_bytes!("../fixtures/sbom-requests.spdx.json");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_are_the_documents_they_claim_to_be() {
        let debian: serde_json::Value = serde_json::from_slice(SPDX_DEBIAN).unwrap();
        assert_eq!(debian["spdxVersion"], "SPDX-2.3");
        let python: serde_json::Value = serde_json::from_slice(CYCLONEDX_PYTHON).unwrap();
        assert_eq!(python["bomFormat"], "CycloneDX");
        let requests: serde_json::Value = serde_json::from_slice(SPDX_REQUESTS).unwrap();
        assert_eq!(requests["spdxVersion"], "SPDX-2.3");
    }
}
