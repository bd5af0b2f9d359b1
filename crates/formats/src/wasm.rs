//! WebAssembly binaries (a Wasm artifact's layer, `application/wasm`): whether it is a core
//! module or a component, what it imports and exports, how many functions a module defines,
//! the WIT world a `component-type:*` custom section names and the `producers` section.
//!
//! Only the outer binary's sections are read, with `wasmparser` and without validation: the
//! bodies of functions and of nested modules and components are skipped, never parsed.

use wasmparser::{Chunk, ComponentExternalKind, Encoding, ExternalKind, KnownCustom, Parser, Payload, TypeRef};

use crate::FormatError;
use crate::text::{Bounded, MAX_SMALL_LIST, clip, describe};

/// The prefix of the custom sections in which `wit-bindgen` and `wit-component` keep a WIT world.
pub const COMPONENT_TYPE_PREFIX: &str = "component-type:";

/// What a WebAssembly binary is and what it says about itself.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct WasmSummary {
    /// Core module or component, from the header.
    pub kind: WasmKind,
    /// The binary's size in bytes.
    pub size: u64,
    /// What it imports: `module::name` for a core module, the extern name (e.g.
    /// `wasi:cli/environment@0.2.0`) for a component.
    pub imports: Vec<WasmItem>,
    /// What it exports, by name.
    pub exports: Vec<WasmItem>,
    /// Functions a core module defines (its function section); 0 for a component.
    pub functions: u64,
    /// Functions a core module imports; 0 for a component.
    pub imported_functions: u64,
    /// Core modules nested in a component (not read).
    pub modules: u64,
    /// Components nested in a component (not read).
    pub components: u64,
    /// The world named by a `component-type:*` custom section, when there is one.
    pub world: Option<String>,
    /// The full name of that custom section after `component-type:`.
    pub component_type: Option<String>,
    /// The `producers` custom section: languages, tools and SDKs with their versions.
    pub producers: Vec<Producer>,
    /// Whether a list was cut at 1,000 entries.
    pub truncated: bool,
}

/// Which of the two binary formats a file is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WasmKind {
    /// A core WebAssembly module (version 1).
    #[default]
    Module,
    /// A component of the component model.
    Component,
}

/// One import or export.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WasmItem {
    /// Its name (`module::name` for a core import).
    pub name: String,
    /// What kind of thing it is.
    pub kind: ItemKind,
}

/// What an import or export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A function (core or component).
    Func,
    /// A core table.
    Table,
    /// A core memory.
    Memory,
    /// A core global.
    Global,
    /// A core exception tag.
    Tag,
    /// A component instance (an interface such as `wasi:cli/environment`).
    Instance,
    /// A component type.
    Type,
    /// A core module, imported or exported by a component.
    Module,
    /// A component, imported or exported by a component.
    Component,
    /// A component value.
    Value,
}

/// One entry of the `producers` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Producer {
    /// The field: `language`, `processed-by` or `sdk`.
    pub field: String,
    /// The language, tool or SDK.
    pub name: String,
    /// Its version (empty when not given).
    pub version: String,
}

/// Reads the outer sections of a WebAssembly module or component. Bytes without the `\0asm`
/// magic are [`FormatError::Unrecognised`]; a truncated or broken binary is
/// [`FormatError::Malformed`]. A broken `producers` section is ignored.
pub fn wasm_summary(bytes: &[u8]) -> Result<WasmSummary, FormatError> {
    if !bytes.starts_with(b"\0asm") {
        return Err(FormatError::Unrecognised("not a webassembly binary: it does not start with \\0asm".into()));
    }
    let mut summary = Summary { size: bytes.len() as u64, ..Summary::default() };
    let mut parser = Parser::new(0);
    let mut position = 0usize;
    loop {
        let (payload, consumed) = match parser.parse(&bytes[position..], true).map_err(broken)? {
            Chunk::Parsed { payload, consumed } => (payload, consumed),
            Chunk::NeedMoreData(_) => return Err(truncated()),
        };
        position += consumed;
        match payload {
            Payload::Version { encoding, .. } => {
                summary.kind = match encoding {
                    Encoding::Module => WasmKind::Module,
                    Encoding::Component => WasmKind::Component,
                };
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(broken)?;
                    if matches!(import.ty, TypeRef::Func(_) | TypeRef::FuncExact(_)) {
                        summary.imported_functions += 1;
                    }
                    summary.imports.push(WasmItem {
                        name: clip(&format!("{}::{}", import.module, import.name)),
                        kind: type_ref_kind(import.ty),
                    });
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(broken)?;
                    summary.exports.push(WasmItem { name: clip(export.name), kind: external_kind(export.kind) });
                }
            }
            Payload::FunctionSection(reader) => summary.functions += u64::from(reader.count()),
            Payload::CodeSectionStart { size, .. } => {
                parser.skip_section();
                position = skip(position, size as usize, bytes.len())?;
            }
            Payload::ModuleSection { unchecked_range, .. } => {
                summary.modules += 1;
                position = nested_end(unchecked_range.end, bytes.len())?;
            }
            Payload::ComponentSection { unchecked_range, .. } => {
                summary.components += 1;
                position = nested_end(unchecked_range.end, bytes.len())?;
            }
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    let import = import.map_err(broken)?;
                    let kind = component_kind(import.ty.kind());
                    summary.imports.push(WasmItem { name: clip(&import.name.full_name()), kind });
                }
            }
            Payload::ComponentExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(broken)?;
                    let kind = component_kind(export.kind);
                    summary.exports.push(WasmItem { name: clip(&export.name.full_name()), kind });
                }
            }
            Payload::CustomSection(section) => summary.custom(&section),
            Payload::End(_) => break,
            _ => {}
        }
    }
    Ok(summary.finish())
}

/// The summary being filled, with its lists bounded.
#[derive(Debug)]
struct Summary {
    kind: WasmKind,
    size: u64,
    imports: Bounded<WasmItem>,
    exports: Bounded<WasmItem>,
    functions: u64,
    imported_functions: u64,
    modules: u64,
    components: u64,
    component_type: Option<String>,
    producers: Bounded<Producer>,
}

impl Default for Summary {
    fn default() -> Self {
        Summary {
            kind: WasmKind::Module,
            size: 0,
            imports: Bounded::new(MAX_SMALL_LIST),
            exports: Bounded::new(MAX_SMALL_LIST),
            functions: 0,
            imported_functions: 0,
            modules: 0,
            components: 0,
            component_type: None,
            producers: Bounded::new(MAX_SMALL_LIST),
        }
    }
}

impl Summary {
    fn custom(&mut self, section: &wasmparser::CustomSectionReader<'_>) {
        if let Some(rest) = section.name().strip_prefix(COMPONENT_TYPE_PREFIX) {
            self.component_type.get_or_insert_with(|| clip(rest));
            return;
        }
        let KnownCustom::Producers(reader) = section.as_known() else { return };
        // A broken producers section is only missing metadata: keep what was read.
        for field in reader.into_iter().map_while(Result::ok) {
            for value in field.values.into_iter().map_while(Result::ok) {
                let producer =
                    Producer { field: clip(field.name), name: clip(value.name), version: clip(value.version) };
                if !self.producers.push(producer) {
                    return;
                }
            }
        }
    }

    fn finish(self) -> WasmSummary {
        let world = self.component_type.as_deref().map(world_name);
        WasmSummary {
            kind: self.kind,
            size: self.size,
            truncated: self.imports.truncated || self.exports.truncated || self.producers.truncated,
            imports: self.imports.items,
            exports: self.exports.items,
            functions: self.functions,
            imported_functions: self.imported_functions,
            modules: self.modules,
            components: self.components,
            world,
            component_type: self.component_type,
            producers: self.producers.items,
        }
    }
}

/// The world in a `component-type:` section name: `wit-bindgen` writes
/// `wit-bindgen:<version>:<namespace>:<package>[@<version>]:<world>:encoded world`, other
/// tools just the world; the last segment before `:encoded world`, else the whole name.
fn world_name(name: &str) -> String {
    let name = name.strip_suffix(":encoded world").unwrap_or(name);
    if name.starts_with("wit-bindgen:") { name.rsplit(':').next().unwrap_or(name).to_owned() } else { name.to_owned() }
}

fn type_ref_kind(ty: TypeRef) -> ItemKind {
    match ty {
        TypeRef::Func(_) | TypeRef::FuncExact(_) => ItemKind::Func,
        TypeRef::Table(_) => ItemKind::Table,
        TypeRef::Memory(_) => ItemKind::Memory,
        TypeRef::Global(_) => ItemKind::Global,
        TypeRef::Tag(_) => ItemKind::Tag,
    }
}

fn external_kind(kind: ExternalKind) -> ItemKind {
    match kind {
        ExternalKind::Func | ExternalKind::FuncExact => ItemKind::Func,
        ExternalKind::Table => ItemKind::Table,
        ExternalKind::Memory => ItemKind::Memory,
        ExternalKind::Global => ItemKind::Global,
        ExternalKind::Tag => ItemKind::Tag,
    }
}

fn component_kind(kind: ComponentExternalKind) -> ItemKind {
    match kind {
        ComponentExternalKind::Module => ItemKind::Module,
        ComponentExternalKind::Func => ItemKind::Func,
        ComponentExternalKind::Value => ItemKind::Value,
        ComponentExternalKind::Type => ItemKind::Type,
        ComponentExternalKind::Instance => ItemKind::Instance,
        ComponentExternalKind::Component => ItemKind::Component,
    }
}

/// `position + size`, when that stays inside the binary.
fn skip(position: usize, size: usize, len: usize) -> Result<usize, FormatError> {
    position.checked_add(size).filter(|end| *end <= len).ok_or_else(truncated)
}

/// Where a nested module or component ends, when that is inside the binary.
fn nested_end(end: u64, len: usize) -> Result<usize, FormatError> {
    usize::try_from(end).ok().filter(|end| *end <= len).ok_or_else(truncated)
}

fn truncated() -> FormatError {
    FormatError::Malformed("broken webassembly binary: a section runs past the end of the file".into())
}

fn broken(error: wasmparser::BinaryReaderError) -> FormatError {
    FormatError::Malformed(format!("broken webassembly binary: {}", describe(error)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn world_names_come_from_wit_bindgen_section_names() {
        assert_eq!(world_name("wit-bindgen:0.41.0:example:host@0.1.0:my-world:encoded world"), "my-world");
        assert_eq!(world_name("my-world"), "my-world");
        assert_eq!(world_name("wit-bindgen:0.41.0:my-world:encoded world"), "my-world");
    }

    #[test]
    fn skips_stay_inside_the_binary() {
        assert_eq!(skip(4, 4, 8).unwrap(), 8);
        assert!(skip(4, 5, 8).is_err());
        assert!(skip(usize::MAX, 1, 8).is_err());
        assert!(nested_end(u64::MAX, 8).is_err());
    }
}
