//! Bounded decompression (SECURITY S14): real gzip and zstd bombs built here stop at the ratio
//! cap, a stream that compresses little stops at the 64 MiB cap, and honest layers unpack.

use std::borrow::Cow;
use std::io::Write as _;

use ocicat_formats::FormatError;
use ocicat_formats::unpack::{MAX_UNPACKED_BYTES, unpack};

const MIB: usize = 1 << 20;

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

fn gzip(level: flate2::Compression, chunks: usize, chunk: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
    for _ in 0..chunks {
        encoder.write_all(chunk).unwrap();
    }
    encoder.finish().unwrap()
}

/// A zstd frame of RLE blocks: `blocks` × 128 KiB of zeros in 4 bytes each (RFC 8878 §3.1.1).
fn zstd_rle_bomb(blocks: usize) -> Vec<u8> {
    const BLOCK: u32 = 128 * 1024;
    // Magic, then a frame header descriptor with no content size (0x00) and a 128 KiB window.
    let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38];
    for index in 0..blocks {
        let last = u32::from(index + 1 == blocks);
        let header = last | (1 << 1) | (BLOCK << 3);
        frame.extend_from_slice(&header.to_le_bytes()[..3]);
        frame.push(0);
    }
    frame
}

#[test]
fn plain_bytes_pass_through_borrowed() {
    let json = data("sbom-npm.cdx.json");
    assert!(matches!(unpack(&json, "application/vnd.cyclonedx+json").unwrap(), Cow::Borrowed(_)));
}

#[test]
fn gzip_and_zstd_layers_unpack() {
    let json = data("sbom-python.cdx.json");
    let gzipped = gzip(flate2::Compression::default(), 1, &json);
    assert_eq!(unpack(&gzipped, "application/vnd.oci.image.layer.v1.tar+gzip").unwrap(), json.as_slice());
    assert_eq!(unpack(&gzipped, "").unwrap(), json.as_slice(), "the magic is enough");

    let mut two_members = gzipped.clone();
    two_members.extend_from_slice(&gzipped);
    assert_eq!(unpack(&two_members, "").unwrap().len(), json.len() * 2);

    let from_the_zstd_cli = data("sbom-npm.cdx.json.zst");
    assert_eq!(
        unpack(&from_the_zstd_cli, "").unwrap(),
        data("sbom-npm.cdx.json").as_slice(),
        "zstd -19 with a checksum"
    );

    let zstd = ruzstd::encoding::compress_to_vec(json.as_slice(), ruzstd::encoding::CompressionLevel::Fastest);
    assert_eq!(unpack(&zstd, "application/vnd.oci.image.layer.v1.tar+zstd").unwrap(), json.as_slice());
    let mut two_frames = zstd.clone();
    two_frames.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    two_frames.extend_from_slice(&zstd);
    assert_eq!(unpack(&two_frames, "").unwrap().len(), json.len() * 2, "skippable frames are skipped");
}

#[test]
fn a_gzip_bomb_stops_at_the_ratio_cap() {
    let zeros = vec![0u8; MIB];
    let bomb = gzip(flate2::Compression::best(), 200, &zeros);
    assert!(bomb.len() < MIB / 4, "200 MiB of zeros compress to {} bytes", bomb.len());
    let error = unpack(&bomb, "application/vnd.in-toto+json+gzip").unwrap_err();
    let FormatError::TooLarge(message) = &error else { panic!("expected too large, got {error:?}") };
    assert!(message.starts_with("gzip stream expands more than 100:1"), "{message}");
}

#[test]
fn a_zstd_bomb_stops_at_the_ratio_cap() {
    let bomb = zstd_rle_bomb(1600);
    assert!(bomb.len() < 8 * 1024, "200 MiB of zeros in {} bytes", bomb.len());
    let error = unpack(&bomb, "").unwrap_err();
    let FormatError::TooLarge(message) = &error else { panic!("expected too large, got {error:?}") };
    assert!(message.starts_with("zstd stream expands more than 100:1"), "{message}");
}

#[test]
fn a_stream_that_compresses_little_stops_at_the_size_cap() {
    let zeros = vec![0u8; MIB];
    let stored = gzip(flate2::Compression::none(), 65, &zeros);
    let error = unpack(&stored, "").unwrap_err();
    assert_eq!(error, FormatError::TooLarge("gzip stream expands past the 64 MiB cap".into()));
    let just_fits = gzip(flate2::Compression::none(), 64, &zeros);
    assert_eq!(unpack(&just_fits, "").unwrap().len() as u64, MAX_UNPACKED_BYTES);
}

#[test]
fn corrupt_streams_are_malformed() {
    let json = data("sbom-npm.cdx.json");
    let mut gzipped = gzip(flate2::Compression::default(), 1, &json);
    gzipped.truncate(gzipped.len() / 2);
    assert!(
        matches!(unpack(&gzipped, ""), Err(FormatError::Malformed(message)) if message.starts_with("gzip stream is corrupt"))
    );
    assert!(matches!(unpack(b"{}", "application/x-gzip"), Err(FormatError::Malformed(_))), "the media type says gzip");
    assert!(
        matches!(unpack(&[0x28, 0xb5, 0x2f, 0xfd, 0xff], ""), Err(FormatError::Malformed(message)) if message.starts_with("zstd stream is corrupt"))
    );
    assert!(matches!(unpack(&[0x1f, 0x8b], ""), Err(FormatError::Malformed(_))));
}
