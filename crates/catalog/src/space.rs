//! Where the index's bytes go: per field and per part (term dictionary, postings, positions,
//! fast columns, field norms) plus the document store and deletes, summed over segments. The
//! benchmarks write it beside their sizes, so a change in bytes per artifact has a cause.

use std::collections::BTreeMap;

use crate::error::{Result, io_error};
use crate::reader::Catalog;

impl Catalog {
    /// Bytes of the committed index by `part/field` (`postings/pkg_version`, `store`, …).
    pub fn space_usage(&self) -> Result<BTreeMap<String, u64>> {
        let usage = self.reader.searcher().space_usage().map_err(io_error("cannot measure the index's space"))?;
        let mut parts: BTreeMap<String, u64> = BTreeMap::new();
        for segment in usage.segments() {
            let per_field = [
                ("termdict", segment.termdict()),
                ("postings", segment.postings()),
                ("positions", segment.positions()),
                ("fast", segment.fast_fields()),
                ("fieldnorms", segment.fieldnorms()),
            ];
            for (part, fields) in per_field {
                for field in fields.fields() {
                    let bytes = field.total().get_bytes();
                    if bytes > 0 {
                        *parts.entry(format!("{part}/{}", field.field_name())).or_default() += bytes;
                    }
                }
            }
            *parts.entry("store".into()).or_default() += segment.store().total().get_bytes();
            *parts.entry("deletes".into()).or_default() += segment.deletes().get_bytes();
        }
        Ok(parts)
    }
}

#[cfg(test)]
mod tests {
    use crate::{ArtifactDoc, ArtifactKind, RepositoryDoc, WriterConfig};

    #[tokio::test]
    async fn space_is_counted_per_field_and_store() {
        let (catalog, writer) = crate::open_in_ram(WriterConfig::default()).unwrap();
        let mut artifact = ArtifactDoc::new("r.example", "team/app", "sha256:00");
        artifact.kind = ArtifactKind::Image;
        artifact.tags = vec!["v1".into()];
        let summary =
            RepositoryDoc { tag_count: 1, artifact_count: 1, size: 1, ..RepositoryDoc::new("r.example", "team/app") };
        writer.upsert_repository(summary, vec![artifact], Vec::new()).await.unwrap();
        writer.flush().await.unwrap();
        let parts = catalog.space_usage().unwrap();
        assert!(parts["store"] > 0, "{parts:?}");
        assert!(parts.get("termdict/tags").copied().unwrap_or_default() > 0, "{parts:?}");
        assert!(!parts.keys().any(|part| part.ends_with("/pkg_version")), "no SBOM, no package terms: {parts:?}");
    }
}
