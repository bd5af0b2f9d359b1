//! The commands pages show for fetching an artifact: each kind's own tool (docker, helm, cosign,
//! oras), from a registry or from a layout registry (`oci-layout:<directory>`).

/// How a layout registry's location starts (`oci-layout:<directory>`).
pub const LAYOUT_LOCATION: &str = "oci-layout:";

/// Where a layout registry at `directory` is shown to be: `oci-layout:<directory>`.
pub fn layout_location(directory: &std::path::Path) -> String {
    format!("{LAYOUT_LOCATION}{}", directory.display())
}

/// The command that fetches `repository` at `reference` (`@sha256:…` or `:tag`) from where
/// `host` says it is: `docker pull` from a registry, `oras pull --oci-layout` from a layout
/// registry (`oci-layout:<directory>`).
pub fn pull_command(host: &str, repository: &str, reference: &str) -> String {
    match host.strip_prefix(LAYOUT_LOCATION) {
        Some(directory) => {
            format!("oras pull --oci-layout {}/{repository}{reference}", directory.trim_end_matches('/'))
        }
        None => format!("docker pull {host}/{repository}{reference}"),
    }
}

/// `oras discover` for the referrers tree of `repository@digest` (`--oci-layout` in a layout).
pub fn discover_command(host: &str, repository: &str, digest: &str) -> String {
    match host.strip_prefix(LAYOUT_LOCATION) {
        Some(directory) => {
            format!("oras discover --oci-layout {}/{repository}@{digest}", directory.trim_end_matches('/'))
        }
        None => format!("oras discover {host}/{repository}@{digest}"),
    }
}

/// The command the artifact's own tool fetches it with: `docker pull` for images and indexes,
/// `helm pull oci://…` for charts, `cosign download signature|attestation|sbom` for what cosign
/// attached by tag (`sha256-<hex>.sig|.att|.sbom`), `oras pull` for every other artifact; from a
/// layout registry always `oras pull --oci-layout`.
pub fn artifact_pull_command(host: &str, repository: &str, digest: &str, kind: &str, tags: &[String]) -> String {
    let by_digest = format!("@{digest}");
    if host.starts_with(LAYOUT_LOCATION) {
        return pull_command(host, repository, &by_digest);
    }
    let cosign = tags.iter().find_map(|tag| {
        let (subject, suffix) = tag.strip_prefix("sha256-")?.rsplit_once('.')?;
        let what = match suffix {
            "sig" => "signature",
            "att" => "attestation",
            "sbom" => "sbom",
            _ => return None,
        };
        Some(format!("cosign download {what} {host}/{repository}@sha256:{subject}"))
    });
    if let Some(command) = cosign {
        return command;
    }
    let version = tags.iter().find(|tag| !tag.starts_with("sha256-"));
    match (kind, version) {
        ("image" | "index", _) => pull_command(host, repository, &by_digest),
        ("helm", Some(version)) => format!("helm pull oci://{host}/{repository} --version {version}"),
        ("helm", None) => format!("helm pull oci://{host}/{repository}{by_digest}"),
        _ => format!("oras pull {host}/{repository}{by_digest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_pulled_with_its_own_tool() {
        let tags = |list: &[&str]| list.iter().map(|tag| (*tag).to_owned()).collect::<Vec<_>>();
        let pull =
            |kind: &str, list: &[&str]| artifact_pull_command("r.example", "team/x", "sha256:ab", kind, &tags(list));
        assert_eq!(pull("image", &["1.0"]), "docker pull r.example/team/x@sha256:ab");
        assert_eq!(pull("index", &[]), "docker pull r.example/team/x@sha256:ab");
        assert_eq!(pull("helm", &["0.3.1"]), "helm pull oci://r.example/team/x --version 0.3.1");
        assert_eq!(pull("helm", &[]), "helm pull oci://r.example/team/x@sha256:ab");
        assert_eq!(pull("sbom", &[]), "oras pull r.example/team/x@sha256:ab");
        assert_eq!(pull("signature", &["sha256-cd.sig"]), "cosign download signature r.example/team/x@sha256:cd");
        assert_eq!(pull("attestation", &["sha256-cd.att"]), "cosign download attestation r.example/team/x@sha256:cd");
        assert_eq!(
            artifact_pull_command("oci-layout:/srv/oci", "x", "sha256:ab", "helm", &tags(&["1"])),
            "oras pull --oci-layout /srv/oci/x@sha256:ab"
        );
        assert_eq!(discover_command("r.example", "team/x", "sha256:ab"), "oras discover r.example/team/x@sha256:ab");
        assert_eq!(
            discover_command("oci-layout:/srv/oci", "x", "sha256:ab"),
            "oras discover --oci-layout /srv/oci/x@sha256:ab"
        );
    }

    #[test]
    fn pull_commands_fit_where_the_artifact_is() {
        assert_eq!(
            pull_command("registry.example:5000", "team/app", ":1.0"),
            "docker pull registry.example:5000/team/app:1.0"
        );
        assert_eq!(
            pull_command("oci-layout:/srv/oci/", "team/app", "@sha256:ab"),
            "oras pull --oci-layout /srv/oci/team/app@sha256:ab"
        );
    }
}
