//! OCI image layouts (image-spec `image-layout.md`): [`read`] one layout directory into tags,
//! manifests and referrers; [`serve`] a root of layouts read-only as a registry on loopback, so
//! everything that reads registries reads layouts the same way; [`write`] layouts for export,
//! and [`archive`] their tar form (streamed headers out, checked unpacking in).
//!
//! Not the `ocidir` crate: it is synchronous, hashes with OpenSSL and writes whole files, where
//! export streams blobs from a registry into a directory or a download; the formats here are
//! small (`oci-layout`, `index.json`, content-addressed files), and the `tar` crate does the
//! archive format.

pub mod archive;
pub mod read;
pub mod serve;
pub mod write;

pub use read::{Descriptor, LayoutError, REF_NAME, Repository, discover, read_repository};
pub use serve::{LayoutServer, USERNAME, serve};
pub use write::{LayoutWriter, WriteError};
