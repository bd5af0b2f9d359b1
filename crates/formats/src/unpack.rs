//! Bounded decompression of layer bytes (SECURITY S14, decompression bombs): gzip (magic
//! `1f 8b` or a `gzip` media type) and zstd (magic `28 b5 2f fd` or a `zstd` media type) are
//! decoded as a stream that stops at 64 MiB of output or at 100 bytes out per byte in, whichever
//! comes first; anything else passes through untouched.

use std::borrow::Cow;
use std::io::Read;

use crate::FormatError;
use crate::text::describe;

/// Most bytes one layer may unpack to.
pub const MAX_UNPACKED_BYTES: u64 = 64 << 20;
/// Most bytes out per byte in.
pub const MAX_RATIO: u64 = 100;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Largest zstd window accepted: a bigger one only buys memory, never output we would keep.
const MAX_ZSTD_WINDOW: u64 = MAX_UNPACKED_BYTES;

/// How a layer is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip (one or more members).
    Gzip,
    /// Zstandard (one or more frames).
    Zstd,
}

impl Compression {
    /// The compression of `bytes`: the magic number decides, else the media type's suffix.
    pub fn detect(bytes: &[u8], media_type: &str) -> Compression {
        if bytes.starts_with(&GZIP_MAGIC) {
            return Compression::Gzip;
        }
        if bytes.starts_with(&ZSTD_MAGIC) {
            return Compression::Zstd;
        }
        let media_type = media_type.to_ascii_lowercase();
        if media_type.contains("gzip") {
            Compression::Gzip
        } else if media_type.contains("zstd") {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// The uncompressed bytes of a layer: borrowed when it was not compressed, decoded under the
/// caps otherwise ([`FormatError::TooLarge`] says which cap stopped it).
pub fn unpack<'a>(bytes: &'a [u8], media_type: &str) -> Result<Cow<'a, [u8]>, FormatError> {
    match Compression::detect(bytes, media_type) {
        Compression::None => Ok(Cow::Borrowed(bytes)),
        Compression::Gzip => drain(flate2::read::MultiGzDecoder::new(bytes), "gzip", bytes.len()).map(Cow::Owned),
        Compression::Zstd => zstd(bytes).map(Cow::Owned),
    }
}

/// Unpacks only what announces itself by its magic number (for bytes that may or may not have
/// been unpacked already).
pub(crate) fn sniffed(bytes: &[u8]) -> Result<Cow<'_, [u8]>, FormatError> {
    unpack(bytes, "")
}

/// The output limit for `input_len` compressed bytes, and whether it is the ratio (not the size)
/// that sets it.
fn limit(input_len: usize) -> (u64, bool) {
    let by_ratio = u64::try_from(input_len).unwrap_or(u64::MAX).saturating_mul(MAX_RATIO);
    if by_ratio < MAX_UNPACKED_BYTES { (by_ratio, true) } else { (MAX_UNPACKED_BYTES, false) }
}

fn too_large(format: &str, input_len: usize) -> FormatError {
    let (cap, by_ratio) = limit(input_len);
    if by_ratio {
        FormatError::TooLarge(format!(
            "{format} stream expands more than {MAX_RATIO}:1 ({input_len} bytes would unpack past {cap} bytes)"
        ))
    } else {
        FormatError::TooLarge(format!("{format} stream expands past the {} MiB cap", MAX_UNPACKED_BYTES >> 20))
    }
}

/// Reads `reader` to its end into a buffer, failing as soon as the output passes the limit.
fn drain(reader: impl Read, format: &str, input_len: usize) -> Result<Vec<u8>, FormatError> {
    let mut output = Vec::new();
    drain_into(reader, format, input_len, &mut output)?;
    Ok(output)
}

fn drain_into(mut reader: impl Read, format: &str, input_len: usize, output: &mut Vec<u8>) -> Result<(), FormatError> {
    let (cap, _) = limit(input_len);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let read = match reader.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => {
                return Err(FormatError::Malformed(format!("{format} stream is corrupt: {}", describe(error))));
            }
        };
        if (output.len() + read) as u64 > cap {
            return Err(too_large(format, input_len));
        }
        output.extend_from_slice(&chunk[..read]);
    }
}

/// Decodes every zstd frame in `bytes` (skippable frames skipped).
fn zstd(bytes: &[u8]) -> Result<Vec<u8>, FormatError> {
    use ruzstd::decoding::StreamingDecoder;
    use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};

    let mut output = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        match StreamingDecoder::new_with_max_window_size(&mut rest, MAX_ZSTD_WINDOW) {
            Ok(decoder) => drain_into(decoder, "zstd", bytes.len(), &mut output)?,
            Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame { length, .. })) => {
                let skip = usize::try_from(length).unwrap_or(usize::MAX).min(rest.len());
                rest = &rest[skip..];
            }
            Err(error) => {
                return Err(FormatError::Malformed(format!("zstd stream is corrupt: {}", describe(error))));
            }
        }
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_is_detected_by_magic_then_media_type() {
        assert_eq!(Compression::detect(&[0x1f, 0x8b, 8], ""), Compression::Gzip);
        assert_eq!(Compression::detect(&ZSTD_MAGIC, "application/json"), Compression::Zstd);
        assert_eq!(Compression::detect(b"{}", "application/vnd.oci.image.layer.v1.tar+zstd"), Compression::Zstd);
        assert_eq!(Compression::detect(b"{}", "application/spdx+json"), Compression::None);
    }

    #[test]
    fn limits_follow_the_smaller_cap() {
        assert_eq!(limit(1000), (100_000, true));
        assert_eq!(limit(10 << 20), (MAX_UNPACKED_BYTES, false));
    }
}
