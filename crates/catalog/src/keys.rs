//! The keys documents are stored and found under: NUL-joined names (artifact, repository,
//! annotation terms), the crawl checkpoint's key, and the stable 64-bit hash of an artifact's
//! key that deletes and impact joins compare.

/// The key an artifact is stored under (what [`ArtifactDoc::describes`] lists).
pub fn artifact_key(registry: &str, repository: &str, digest: &str) -> String {
    joined_key(&[registry, repository, digest])
}

/// `parts` joined by NUL: the catalog's keys and annotation terms (the writer builds several
/// per artifact: no `format!`).
pub(crate) fn joined_key(parts: &[&str]) -> String {
    let mut key = String::with_capacity(parts.iter().map(|part| part.len() + 1).sum());
    for (number, part) in parts.iter().enumerate() {
        if number > 0 {
            key.push('\u{0}');
        }
        key.push_str(part);
    }
    key
}

/// A 64-bit FNV-1a hash of an artifact's key ([`artifact_key`], hashed part by part without
/// building it): what impact joins compare in fast columns (a long key in a term set costs a
/// walk of the key dictionary per segment). Stable across builds (it
/// is stored); two keys sharing a hash would make one artifact match for the other, about once
/// in 10¹³ joins of a million artifacts.
pub(crate) fn artifact_hash(registry: &str, repository: &str, digest: &str) -> u64 {
    let hash = fnv1a(FNV_OFFSET, registry.as_bytes());
    let hash = fnv1a(fnv1a(hash, &[0]), repository.as_bytes());
    fnv1a(fnv1a(hash, &[0]), digest.as_bytes())
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv1a(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

pub(crate) fn repository_key(registry: &str, repository: &str) -> String {
    joined_key(&[registry, repository])
}

/// The key of a registry's crawl checkpoint; the leading U+0001 keeps it apart from every
/// repository and artifact key (registry names are `[a-z0-9_-]`).
pub(crate) fn checkpoint_key(registry: &str) -> String {
    format!("\u{1}crawl\u{0}{registry}")
}

#[cfg(test)]
mod tests {
    use super::{FNV_OFFSET, artifact_hash, artifact_key, fnv1a, repository_key};

    fn key_hash(key: &str) -> u64 {
        fnv1a(FNV_OFFSET, key.as_bytes())
    }

    #[test]
    fn keys_join_their_parts_with_nul_and_the_streamed_hash_is_the_keys_hash() {
        assert_eq!(artifact_key("r", "a/b", "sha256:aa"), "r\u{0}a/b\u{0}sha256:aa");
        assert_eq!(repository_key("r", "a/b"), "r\u{0}a/b");
        // Stored in every index: a change would orphan every delete and join term.
        assert_eq!(key_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(key_hash("a"), 0xaf63_dc4c_8601_ec8c);
        for (registry, repository, digest) in [("r", "a/b", "sha256:aa"), ("", "", ""), ("hub", "x", "")] {
            let key = artifact_key(registry, repository, digest);
            assert_eq!(artifact_hash(registry, repository, digest), key_hash(&key), "{key:?}");
        }
        assert_ne!(artifact_hash("r", "ab", "c"), artifact_hash("r", "a", "bc"));
    }
}
