//! Signature verdicts over HTTP, with a trust policy for the seeder's demo key: the policy list,
//! each signature's verification in `…/signatures` and in the signature's own JSON, the badges
//! on the image, the forged copy on the old image, and the pages that show them.

use ocicat_trust::{Policies, Policy, PublicKey};

use crate::util::{LOCAL, TestApp, fully_attached_subject};

/// The demo key, and the demo certificate as a notation root for its subject.
fn demo_policy() -> Policies {
    let der = ocicat_seed::demo_signer_certificate_der().to_vec();
    Policies::new(vec![Policy {
        notation_roots: vec![der],
        notation_identities: vec![ocicat_seed::DEMO_SIGNER_NOTATION_IDENTITY.to_owned()],
        ..Policy::with_keys(
            "demo",
            LOCAL,
            "demo/**",
            vec![PublicKey::from_pem(ocicat_seed::DEMO_SIGNER_PUBLIC_KEY).unwrap()],
        )
    }])
}

#[tokio::test]
async fn a_policy_key_verifies_the_genuine_signature_and_the_copied_one_is_invalid_everywhere_it_shows() {
    let app = TestApp::builder().trust(demo_policy()).build().await;
    let policies = app.get_json("/api/v1/trust").await;
    assert_eq!(policies[0]["name"], "demo", "{policies:#}");
    assert_eq!(policies[0]["repositories"], "demo/**");
    assert!(policies[0]["keys"][0].as_str().unwrap().starts_with("ecdsa p-256 key sha256:"), "{policies:#}");
    assert!(
        policies[0]["notation_roots"][0].as_str().unwrap().starts_with("CN=ocicat demo signer, O=ocicat demo sha256:"),
        "{policies:#}"
    );
    assert_eq!(policies[0]["notation_identities"][0], ocicat_seed::DEMO_SIGNER_NOTATION_IDENTITY);

    let subject = fully_attached_subject(&app.report);
    let api = format!("/api/v1/registries/{LOCAL}/repositories/{}", subject.repository);
    let artifact = app.get_json(&format!("{api}/@{}", subject.digest)).await;
    assert_eq!(artifact["badges"]["signature"]["status"], "verified", "{:#}", artifact["badges"]);
    assert_eq!(artifact["badges"]["signature"]["policies"], serde_json::json!(["demo"]));

    // Each signature row carries its verdict: the cosign one and the sigstore bundle (its
    // certificate carries the demo key) verified by the policy; notation by its certificate, a
    // root of the policy; cosign's attestations (DSSE envelopes signed with the demo key) too.
    let rows = app.get_json(&format!("{api}/@{}/signatures", subject.digest)).await;
    let rows = rows.as_array().unwrap();
    let cosign: Vec<_> = rows.iter().filter(|row| row["format"] == "cosign").collect();
    assert_eq!(cosign.len(), 1, "{rows:#?}");
    assert_eq!(cosign[0]["verification"]["status"], "verified");
    assert_eq!(cosign[0]["verification"]["policy"], "demo");
    let bundles: Vec<_> = rows.iter().filter(|row| row["format"] == "sigstore bundle").collect();
    assert!(!bundles.is_empty(), "{rows:#?}");
    for row in bundles {
        assert_eq!(row["verification"]["status"], "verified", "{row:#}");
        assert_eq!(row["verification"]["policy"], "demo", "{row:#}");
    }
    let notation: Vec<_> = rows.iter().filter(|row| row["format"] == "notation").collect();
    assert!(!notation.is_empty(), "{rows:#?}");
    for row in notation {
        assert_eq!(row["verification"]["status"], "verified", "{row:#}");
        assert_eq!(row["verification"]["identity"], "CN=ocicat demo signer, O=ocicat demo", "{row:#}");
    }
    let attestations: Vec<_> = rows.iter().filter(|row| row["kind"] == "attestation").collect();
    assert!(!attestations.is_empty(), "{rows:#?}");
    for row in attestations {
        assert_eq!(row["verification"]["status"], "verified", "{row:#}");
        assert_eq!(row["verification"]["policy"], "demo", "{row:#}");
    }
    // The referrers tree marks the signature with its verdict.
    let tree = app.get_json(&format!("{api}/@{}/referrers", subject.digest)).await;
    let node = tree["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|node| node["artifact"]["digest"] == cosign[0]["digest"])
        .unwrap_or_else(|| panic!("{tree:#}"));
    assert_eq!(node["artifact"]["signature"]["status"], "verified", "{node:#}");
    // The signature's own JSON lists its verdicts.
    let signature = app.get_json(&format!("{api}/@{}", cosign[0]["digest"].as_str().unwrap())).await;
    assert_eq!(signature["verifications"][0]["status"], "verified", "{signature:#}");

    // The old image: its signature is the newest one's, copied; search finds it as invalid.
    let invalid = app.get_json("/api/v1/search?q=signature:invalid").await;
    assert_eq!(invalid["total"], 1, "{invalid:#}");
    let old = invalid["hits"][0]["digest"].as_str().unwrap().to_owned();
    assert_ne!(old, subject.digest);
    let verified = app.get_json("/api/v1/search?q=trust:demo+kind:image").await;
    assert_eq!(verified["total"], 1, "{verified:#}");
    assert_eq!(verified["hits"][0]["digest"], subject.digest.as_str());
    // The fields compose like any other (delete plans and retention take the same queries).
    let unverified = app.get_json("/api/v1/search?q=kind:image+NOT+signature:verified+created+%3C+now-1d").await;
    let unverified: Vec<&str> =
        unverified["hits"].as_array().unwrap().iter().map(|hit| hit["digest"].as_str().unwrap()).collect();
    assert!(unverified.contains(&old.as_str()), "{unverified:?}");
    assert!(!unverified.contains(&subject.digest.as_str()), "{unverified:?}");
    // The seeded SBOM carries a signature of its own (notation), verified by the same policy.
    let sboms = app.get_json("/api/v1/search?q=trust:demo+kind:sbom").await;
    assert_eq!(sboms["total"], 1, "{sboms:#}");

    // The pages say the same, with the reason in the title.
    let page = app.get_page(&format!("/r/{LOCAL}/{}/@{}", subject.repository, subject.digest)).await;
    assert!(page.contains("✓ verified · demo"), "the verified badge");
    let page = app.get_page(&format!("/r/{LOCAL}/{}/@{old}", subject.repository)).await;
    assert!(page.contains("✗ invalid signature"), "the invalid badge");
    assert!(page.contains("title=\"signs sha256:"), "the reason as the badge's title");
}

#[tokio::test]
async fn without_a_policy_nothing_is_verified_and_the_policy_list_is_empty() {
    let app = TestApp::start().await;
    assert_eq!(app.get_json("/api/v1/trust").await, serde_json::json!([]));
    let verified = app.get_json("/api/v1/search?q=signature:verified").await;
    assert_eq!(verified["total"], 0, "{verified:#}");
    let page = app.get_page("/search?q=has:signature").await;
    assert!(!page.contains("✓ verified"), "no verified badge without a policy");
    assert!(page.contains("signed · unverified"), "signed but unverified");
}
