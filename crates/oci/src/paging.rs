//! `Link: <…>; rel="next"` pagination: parse, resolve relative links, keep the registry's origin.

use url::Url;

use crate::error::OciError;

/// Finds the `rel="next"` target in a Link header value, if any.
pub(crate) fn next_link(header: &str) -> Option<&str> {
    header.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|param| {
            let param = param.trim().to_ascii_lowercase();
            param == "rel=\"next\"" || param == "rel=next"
        });
        is_next.then_some(target)
    })
}

/// Resolves `link` against `current` and refuses any result on another scheme, host or port.
pub(crate) fn resolve_same_origin(current: &Url, link: &str) -> Result<Url, OciError> {
    let resolved = current.join(link).map_err(|error| OciError::Refused {
        target: link.chars().take(200).collect(),
        reason: format!("not a valid link: {error}"),
    })?;
    if resolved.origin() != current.origin() {
        return Err(OciError::Refused {
            target: resolved.to_string(),
            reason: "pagination link leaves the registry's origin".into(),
        });
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_relative_next_link_from_distribution() {
        let header = r#"</v2/_catalog?last=b%2Ftwo&n=2>; rel="next""#;
        assert_eq!(next_link(header), Some("/v2/_catalog?last=b%2Ftwo&n=2"));
    }

    #[test]
    fn ignores_other_relations() {
        assert_eq!(next_link(r#"</v2/x>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn refuses_cross_origin_and_downgrade_links() {
        let current = Url::parse("https://registry.example/v2/_catalog").unwrap();
        assert!(resolve_same_origin(&current, "https://evil.example/v2/_catalog").is_err());
        assert!(resolve_same_origin(&current, "http://registry.example/v2/_catalog").is_err());
        assert!(resolve_same_origin(&current, "//evil.example/x").is_err());
        let ok = resolve_same_origin(&current, "/v2/_catalog?last=a&n=2").unwrap();
        assert_eq!(ok.as_str(), "https://registry.example/v2/_catalog?last=a&n=2");
    }

    proptest! {
        #[test]
        fn resolved_links_always_keep_the_origin(link in ".{0,80}") {
            let current = Url::parse("http://127.0.0.1:5000/v2/x/tags/list").unwrap();
            if let Ok(resolved) = resolve_same_origin(&current, &link) {
                prop_assert_eq!(resolved.origin(), current.origin());
            }
        }
    }
}
