//! WebAssembly modules as the CNCF TAG-Runtime Wasm OCI artifact layout describes them: config
//! `application/vnd.wasm.config.v0+json` (`architecture: wasm`, `os: wasip1`, `layerDigests`)
//! and one `application/wasm` layer holding a real, valid module.

use anyhow::Context as _;
use serde_json::json;

use crate::document::{Annotations, Descriptor, ImageManifest, keys, types};
use crate::push::Pusher;

/// One module version.
#[derive(Debug, Clone)]
pub(crate) struct WasmModule {
    pub(crate) repository: String,
    pub(crate) tag: String,
    pub(crate) version: String,
    /// What the exported `answer` function returns.
    pub(crate) answer: i32,
    pub(crate) created: String,
}

/// A minimal valid module: one function `() -> i32` exported as `answer`, plus a custom section
/// naming the producer.
pub(crate) fn module_bytes(answer: i32, producer: &str) -> Vec<u8> {
    let mut module = b"\0asm\x01\0\0\0".to_vec();
    section(&mut module, 1, &[0x01, 0x60, 0x00, 0x01, 0x7f]);
    section(&mut module, 3, &[0x01, 0x00]);
    let mut exports = vec![0x01];
    name(&mut exports, "answer");
    exports.extend([0x00, 0x00]);
    section(&mut module, 7, &exports);
    let mut body = vec![0x00, 0x41];
    signed_leb128(&mut body, i64::from(answer));
    body.push(0x0b);
    let mut code = vec![0x01];
    unsigned_leb128(&mut code, body.len() as u64);
    code.extend(body);
    section(&mut module, 10, &code);
    let mut custom = Vec::new();
    name(&mut custom, "ocicat.producer");
    custom.extend(producer.as_bytes());
    section(&mut module, 0, &custom);
    module
}

fn section(module: &mut Vec<u8>, id: u8, contents: &[u8]) {
    module.push(id);
    unsigned_leb128(module, contents.len() as u64);
    module.extend_from_slice(contents);
}

fn name(out: &mut Vec<u8>, text: &str) {
    unsigned_leb128(out, text.len() as u64);
    out.extend(text.as_bytes());
}

fn unsigned_leb128(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn signed_leb128(out: &mut Vec<u8>, mut value: i64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        let done = (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0);
        if done {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Pushes `module` under its tag.
pub(crate) async fn push_wasm_module(pusher: &Pusher, module: &WasmModule) -> anyhow::Result<Descriptor> {
    let repository = module.repository.as_str();
    let bytes = module_bytes(module.answer, &format!("{repository} {}", module.version));
    let layer = pusher.blob(repository, types::WASM_LAYER, bytes).await?;
    let config = json!({
        "created": module.created,
        "author": "ocicat demo <demo@ocicat.invalid>",
        "architecture": "wasm",
        "os": "wasip1",
        "layerDigests": [layer.digest],
    });
    let config_bytes = serde_json::to_vec(&config).context("failed to serialize wasm config")?;
    let config = pusher.blob(repository, types::WASM_CONFIG, config_bytes).await?;
    let mut manifest = ImageManifest::oci(config, vec![layer]);
    manifest.annotations = Annotations::from([
        (keys::CREATED.to_owned(), module.created.clone()),
        (keys::TITLE.to_owned(), "hello.wasm".to_owned()),
        (keys::VERSION.to_owned(), module.version.clone()),
        (keys::DESCRIPTION.to_owned(), "A tiny WebAssembly module that answers one question".to_owned()),
        (keys::SOURCE.to_owned(), "https://git.ocicat.invalid/wasm/hello".to_owned()),
        (keys::LICENSES.to_owned(), "Apache-2.0".to_owned()),
    ]);
    pusher.manifest(repository, Some(&module.tag), &manifest, "wasm").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_starts_with_the_wasm_header_and_encodes_leb128() {
        let bytes = module_bytes(42, "test");
        assert_eq!(&bytes[..8], b"\0asm\x01\0\0\0");
        let mut encoded = Vec::new();
        signed_leb128(&mut encoded, -1);
        assert_eq!(encoded, [0x7f]);
        encoded.clear();
        signed_leb128(&mut encoded, 100);
        assert_eq!(encoded, [0xe4, 0x00]);
        encoded.clear();
        unsigned_leb128(&mut encoded, 624_485);
        assert_eq!(encoded, [0xe5, 0x8e, 0x26]);
    }
}
