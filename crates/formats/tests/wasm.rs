//! WebAssembly summaries: core modules and components built here with `wat` show their kind,
//! imports, exports, function counts, producers and `component-type` world; nested modules are
//! counted, not read; garbage and truncated binaries fail clearly and (proptest) random or
//! mutated bytes never panic.

use ocicat_formats::FormatError;
use ocicat_formats::wasm::{ItemKind, Producer, WasmItem, WasmKind, wasm_summary};
use proptest::prelude::*;

fn item(name: &str, kind: ItemKind) -> WasmItem {
    WasmItem { name: name.to_owned(), kind }
}

const MODULE: &str = r#"(module
    (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
    (import "env" "memory" (memory 1))
    (import "env" "table" (table 1 funcref))
    (import "env" "g" (global i32))
    (import "env" "t" (tag))
    (func $a) (func $b) (func $c)
    (global $h (mut i32) (i32.const 0))
    (export "_start" (func $a))
    (export "helper" (func $b))
    (export "counter" (global $h))
    (@producers (language "Rust" "1.80") (processed-by "rustc" "1.80.0") (sdk "wasi-sdk" "22"))
    (@custom "component-type:wit-bindgen:0.41.0:example:host@0.1.0:my-world:encoded world" "")
)"#;

#[test]
fn a_core_module_shows_imports_exports_and_functions() {
    let bytes = wat::parse_str(MODULE).unwrap();
    let summary = wasm_summary(&bytes).unwrap();
    assert_eq!(summary.kind, WasmKind::Module);
    assert_eq!(summary.size, bytes.len() as u64);
    assert_eq!(
        summary.imports,
        [
            item("wasi_snapshot_preview1::fd_write", ItemKind::Func),
            item("env::memory", ItemKind::Memory),
            item("env::table", ItemKind::Table),
            item("env::g", ItemKind::Global),
            item("env::t", ItemKind::Tag),
        ]
    );
    assert_eq!(
        summary.exports,
        [item("_start", ItemKind::Func), item("helper", ItemKind::Func), item("counter", ItemKind::Global)]
    );
    assert_eq!(summary.functions, 3);
    assert_eq!(summary.imported_functions, 1);
    assert_eq!(summary.world.as_deref(), Some("my-world"));
    assert_eq!(summary.component_type.as_deref(), Some("wit-bindgen:0.41.0:example:host@0.1.0:my-world:encoded world"));
    assert!(summary.producers.contains(&Producer {
        field: "language".into(),
        name: "Rust".into(),
        version: "1.80".into()
    }));
    assert!(summary.producers.iter().any(|producer| producer.field == "processed-by" && producer.name == "rustc"));
    assert!(summary.producers.iter().any(|producer| producer.field == "sdk" && producer.version == "22"));
    assert!(!summary.truncated);
    let round_trip: ocicat_formats::wasm::WasmSummary =
        serde_json::from_value(serde_json::to_value(&summary).unwrap()).unwrap();
    assert_eq!(round_trip, summary);
}

const COMPONENT: &str = r#"(component
    (import "wasi:cli/environment@0.2.0" (instance $env
        (export "get-arguments" (func (result (list string))))))
    (import "log" (func $log (param "msg" string)))
    (import "config" (value $config string))
    (import "plugin" (component $plugin))
    (import "core-lib" (core module $lib))
    (core module $inner
        (import "x" "y" (func))
        (func (export "never-listed")))
    (component $nested
        (import "nested-import" (func)))
    (type $t u32)
    (export "t" (type $t))
    (export "env" (instance $env))
    (export "run" (func $log))
    (export "lib" (core module $lib))
    (export "inner" (core module $inner))
    (export "nested" (component $nested))
    (export "cfg" (value $config))
)"#;

#[test]
fn a_component_shows_its_outer_imports_and_exports_only() {
    let bytes = wat::parse_str(COMPONENT).unwrap();
    let summary = wasm_summary(&bytes).unwrap();
    assert_eq!(summary.kind, WasmKind::Component);
    assert_eq!(
        summary.imports,
        [
            item("wasi:cli/environment@0.2.0", ItemKind::Instance),
            item("log", ItemKind::Func),
            item("config", ItemKind::Value),
            item("plugin", ItemKind::Component),
            item("core-lib", ItemKind::Module),
        ]
    );
    assert_eq!(
        summary.exports,
        [
            item("t", ItemKind::Type),
            item("env", ItemKind::Instance),
            item("run", ItemKind::Func),
            item("lib", ItemKind::Module),
            item("inner", ItemKind::Module),
            item("nested", ItemKind::Component),
            item("cfg", ItemKind::Value),
        ]
    );
    assert_eq!(summary.modules, 1);
    assert_eq!(summary.components, 1);
    assert_eq!(summary.functions, 0);
    assert_eq!(summary.world, None);
}

#[test]
fn a_componentized_world_is_named() {
    let bytes = wat::parse_str(r#"(component (@custom "component-type:my-world" "\01\02"))"#).unwrap();
    let summary = wasm_summary(&bytes).unwrap();
    assert_eq!(summary.world.as_deref(), Some("my-world"));
}

#[test]
fn long_lists_and_names_are_capped() {
    let mut text = String::from("(module\n");
    for index in 0..1_500 {
        text.push_str(&format!("(import \"m\" \"f{index}\" (func))\n"));
    }
    text.push_str(&format!("(func (export \"{}\"))\n)", "n".repeat(10_000)));
    let summary = wasm_summary(&wat::parse_str(&text).unwrap()).unwrap();
    assert_eq!(summary.imports.len(), 1_000);
    assert_eq!(summary.imported_functions, 1_500);
    assert!(summary.truncated);
    assert_eq!(summary.exports[0].name.chars().count(), 4096);
}

#[test]
fn a_broken_producers_section_is_only_missing_metadata() {
    let mut bytes = wat::parse_str("(module)").unwrap();
    // Custom section 0: name "producers", then a field count of 1 and a bogus field name.
    let content = [&[9u8][..], b"producers", &[1, 3], b"bad"].concat();
    bytes.push(0);
    bytes.push(content.len() as u8);
    bytes.extend_from_slice(&content);
    let summary = wasm_summary(&bytes).unwrap();
    assert!(summary.producers.is_empty());
}

#[test]
fn garbage_fails_clearly() {
    let error = wasm_summary(b"").unwrap_err();
    assert_eq!(error, FormatError::Unrecognised("not a webassembly binary: it does not start with \\0asm".into()));
    assert!(matches!(wasm_summary(b"\x7fELF\x02\x01\x01"), Err(FormatError::Unrecognised(_))));

    let error = wasm_summary(b"\0asm\x02\0\0\0").unwrap_err();
    assert!(
        error.to_string().starts_with("malformed document: broken webassembly binary: unknown binary version"),
        "{error}"
    );
    let error = wasm_summary(b"\0asm\x01\0").unwrap_err();
    assert!(matches!(error, FormatError::Malformed(_)), "{error}");

    // Truncated in the middle of a section, and a section with an absurd count.
    let bytes = wat::parse_str(MODULE).unwrap();
    assert!(matches!(wasm_summary(&bytes[..bytes.len() / 2]), Err(FormatError::Malformed(_))));
    let absurd = b"\0asm\x01\0\0\0\x02\x05\xff\xff\xff\xff\x0f";
    assert!(matches!(wasm_summary(absurd), Err(FormatError::Malformed(_))));

    // A nested module announced larger than the file.
    let mut component = wat::parse_str("(component (core module))").unwrap();
    let len = component.len();
    component.truncate(len - 2);
    assert!(matches!(wasm_summary(&component), Err(FormatError::Malformed(_))));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(tail in prop::collection::vec(any::<u8>(), 0..512), component in any::<bool>()) {
        let header: &[u8] = if component { b"\0asm\x0d\0\x01\0" } else { b"\0asm\x01\0\0\0" };
        let _ = wasm_summary(&tail);
        let _ = wasm_summary(&[header, &tail].concat());
    }

    #[test]
    fn mutated_binaries_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        component in any::<bool>(),
    ) {
        let mut bytes = wat::parse_str(if component { COMPONENT } else { MODULE }).unwrap();
        for (at, byte) in flips {
            let index = at.index(bytes.len());
            bytes[index] = byte;
        }
        let _ = wasm_summary(&bytes);
    }
}
