//! Layouts as tar archives: the headers of a streamed archive (written entry by entry as the
//! bytes arrive, never assembled in memory or on disk), and unpacking an uploaded archive into
//! a directory — only `oci-layout`, `index.json` and `blobs/<alg>/<hex>` regular files, every
//! other entry (links, devices, paths elsewhere) refused, with a cap on the total size.

use std::io::Read;
use std::path::Path;

use crate::read::{LayoutError, blob_path, io_error};

/// The 512-byte header of a regular file `path` of `size` bytes (ustar, mode 0644, mtime 0).
pub fn file_header(path: &str, size: u64) -> Result<[u8; 512], LayoutError> {
    header(path, size, tar::EntryType::Regular, 0o644)
}

/// The header of directory `path` (ending in `/`).
pub fn directory_header(path: &str) -> Result<[u8; 512], LayoutError> {
    header(path, 0, tar::EntryType::Directory, 0o755)
}

fn header(path: &str, size: u64, kind: tar::EntryType, mode: u32) -> Result<[u8; 512], LayoutError> {
    let mut header = tar::Header::new_ustar();
    header.set_path(path).map_err(|error| LayoutError::Invalid { path: path.to_owned(), reason: error.to_string() })?;
    header.set_size(size);
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_mtime(0);
    header.set_cksum();
    Ok(*header.as_bytes())
}

/// The zero bytes that pad an entry of `size` bytes to a whole block.
pub fn padding(size: u64) -> usize {
    ((512 - size % 512) % 512) as usize
}

/// The two zero blocks that end an archive.
pub const END: [u8; 1024] = [0; 1024];

/// Unpacks the layout archive `reader` into `dir` (which must be empty or absent); at most
/// `cap` bytes of content. Answers the number of files written.
pub fn unpack(reader: impl Read, dir: &Path, cap: u64) -> Result<usize, LayoutError> {
    let refuse = |path: &str, reason: &str| LayoutError::Invalid { path: path.to_owned(), reason: reason.to_owned() };
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let mut archive = tar::Archive::new(reader);
    let mut total = 0u64;
    let mut files = 0usize;
    for entry in archive.entries().map_err(io_error(dir))? {
        let mut entry = entry.map_err(io_error(dir))?;
        let path = entry.path().map_err(io_error(dir))?.to_string_lossy().into_owned();
        let name = path.trim_start_matches("./");
        let kind = entry.header().entry_type();
        if kind.is_dir() || name.is_empty() {
            continue;
        }
        if !kind.is_file() {
            return Err(refuse(&path, "only regular files belong in a layout archive"));
        }
        let target = match name {
            "oci-layout" | "index.json" => dir.join(name),
            _ => {
                let digest = name
                    .strip_prefix("blobs/")
                    .and_then(|rest| rest.split_once('/'))
                    .map(|(algorithm, hex)| format!("{algorithm}:{hex}"))
                    .ok_or_else(|| refuse(&path, "not a layout file"))?;
                blob_path(dir, &digest).ok_or_else(|| refuse(&path, "not a blob of a layout"))?
            }
        };
        total += entry.header().size().map_err(io_error(dir))?;
        if total > cap {
            return Err(refuse(&path, &format!("the archive holds more than {cap} bytes")));
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        let mut file = std::fs::File::create(&target).map_err(io_error(&target))?;
        let copied = std::io::copy(&mut (&mut entry).take(cap), &mut file).map_err(io_error(&target))?;
        if copied != entry.header().size().unwrap_or(copied) {
            return Err(refuse(&path, "the archive ends inside this file"));
        }
        files += 1;
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for (path, content) in entries {
            // Names written raw: `set_path` itself refuses `..`, a hostile archive would not.
            let mut header = tar::Header::new_ustar();
            header.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_size(content.len() as u64);
            header.set_entry_type(tar::EntryType::Regular);
            header.set_cksum();
            bytes.extend_from_slice(header.as_bytes());
            bytes.extend_from_slice(content);
            bytes.extend(std::iter::repeat_n(0u8, padding(content.len() as u64)));
        }
        bytes.extend_from_slice(&END);
        bytes
    }

    #[test]
    fn a_streamed_archive_unpacks_to_the_same_files() {
        let hex = "b".repeat(64);
        let blob_name = format!("blobs/sha256/{hex}");
        let bytes = archive(&[("oci-layout", b"{}"), (&blob_name, b"hello"), ("index.json", b"{\"manifests\":[]}")]);
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(unpack(bytes.as_slice(), dir.path(), 1 << 20).unwrap(), 3);
        assert_eq!(std::fs::read(dir.path().join(&blob_name)).unwrap(), b"hello");
        assert_eq!(std::fs::read(dir.path().join("oci-layout")).unwrap(), b"{}");
    }

    #[test]
    fn paths_outside_a_layout_and_oversized_archives_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for path in ["../escape", "blobs/sha256/../../x", "etc/passwd", "blobs/md5/abc"] {
            let error = unpack(archive(&[(path, b"x")]).as_slice(), dir.path(), 1 << 20).unwrap_err();
            assert!(error.to_string().contains(path) || error.to_string().contains("layout"), "{path}: {error}");
        }
        let error = unpack(archive(&[("index.json", &[b' '; 2048])]).as_slice(), dir.path(), 1024).unwrap_err();
        assert!(error.to_string().contains("more than 1024 bytes"), "{error}");
        assert!(!dir.path().join("escape").exists() && !dir.path().parent().unwrap().join("escape").exists());
    }
}
