//! Helm charts as `helm push` stores them in a registry: the config blob
//! ([`CONFIG_MEDIA_TYPE`]) is `Chart.yaml` written as JSON, read leniently by
//! [`chart_metadata`]; the content layer ([`CONTENT_MEDIA_TYPE`]) is the packaged `.tgz`, whose
//! top directory holds `Chart.yaml`, `values.yaml`, `README.md`, `templates/` and `charts/`
//! (subcharts), walked by [`chart_files`] without following links or trusting paths.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::{Map, Value};

use crate::text::{Bounded, MAX_SMALL_LIST, array_at, clip, describe, scalar};
use crate::{FormatError, MAX_DOCUMENT_BYTES, unpack};

/// The media type of a Helm chart's config blob (Chart.yaml as JSON).
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
/// The media type of a Helm chart's content layer (the packaged chart, a gzipped tar).
pub const CONTENT_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// Largest text kept from one file of the chart (`Chart.yaml`, `values.yaml`, `README.md`).
pub const MAX_FILE_TEXT_BYTES: usize = 256 * 1024;
/// Most archive entries walked; past this the walk stops and says so.
pub const MAX_ENTRIES: u64 = 10_000;
/// Most template paths kept.
pub const MAX_TEMPLATES: usize = 500;

/// What a chart's `Chart.yaml` says, as far as it could be read.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ChartMetadata {
    /// `name`.
    pub name: Option<String>,
    /// `version` (a number such as `1.0` is kept as the text `"1.0"`).
    pub version: Option<String>,
    /// `appVersion`.
    pub app_version: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `apiVersion`: `v1` (Helm 2) or `v2` (Helm 3).
    pub api_version: Option<String>,
    /// `type`: `application` or `library`, as written.
    pub kind: Option<String>,
    /// `kubeVersion`, a semver range of the Kubernetes versions supported.
    pub kube_version: Option<String>,
    /// `home`, the project's home page.
    pub home: Option<String>,
    /// `icon`, a URL of the chart's icon.
    pub icon: Option<String>,
    /// `sources`, URLs of the chart's source code.
    pub sources: Vec<String>,
    /// `keywords`.
    pub keywords: Vec<String>,
    /// `deprecated`.
    pub deprecated: bool,
    /// `dependencies` (subcharts the chart asks for).
    pub dependencies: Vec<ChartDependency>,
    /// `maintainers`.
    pub maintainers: Vec<ChartMaintainer>,
    /// `annotations`, values printed as text.
    pub annotations: BTreeMap<String, String>,
    /// Whether a list or the annotations were cut at 1,000 entries.
    pub truncated: bool,
}

/// One entry of `dependencies`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ChartDependency {
    /// `name`.
    pub name: Option<String>,
    /// `version`, a version or a semver range.
    pub version: Option<String>,
    /// `repository`, a URL or an `@alias`.
    pub repository: Option<String>,
    /// `condition`, the values path that turns the dependency on.
    pub condition: Option<String>,
    /// `alias`.
    pub alias: Option<String>,
}

/// One entry of `maintainers`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ChartMaintainer {
    /// `name`.
    pub name: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `url`.
    pub url: Option<String>,
}

/// What the packaged chart holds, as far as the catalog shows it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ChartFiles {
    /// The archive's top directory (the chart's name as packaged).
    pub directory: Option<String>,
    /// `<dir>/Chart.yaml`.
    pub chart_yaml: Option<TextFile>,
    /// `<dir>/values.yaml`.
    pub values_yaml: Option<TextFile>,
    /// `<dir>/README.md`, the name matched in any case; never a subchart's.
    pub readme: Option<TextFile>,
    /// How many archive entries were walked (directories and links included).
    pub files: u64,
    /// Regular files under `<dir>/templates/`, as paths relative to that folder, sorted, at
    /// most [`MAX_TEMPLATES`].
    pub templates: Vec<String>,
    /// Names of the directories and archives under `<dir>/charts/`, sorted, at most 1,000.
    pub subcharts: Vec<String>,
    /// Whether the walk stopped at [`MAX_ENTRIES`] or a list was cut at its cap.
    pub truncated: bool,
}

/// One text file of the chart.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TextFile {
    /// The text, cut to [`MAX_FILE_TEXT_BYTES`] on a char boundary, invalid UTF-8 replaced.
    pub text: String,
    /// Whether the text was cut.
    pub truncated: bool,
    /// The file's size in bytes, as the archive gives it.
    pub size: u64,
}

/// Reads a chart's config blob: `Chart.yaml` as JSON. Lenient: unknown fields are ignored,
/// missing ones are `None` or empty, and a field of the wrong type is skipped (numbers and
/// booleans where text is expected are printed); only bytes that are not a JSON object fail.
pub fn chart_metadata(config_json: &[u8]) -> Result<ChartMetadata, FormatError> {
    if config_json.len() > MAX_DOCUMENT_BYTES {
        return Err(FormatError::TooLarge(format!(
            "the helm chart config has {} bytes, more than the {} MiB cap",
            config_json.len(),
            MAX_DOCUMENT_BYTES >> 20
        )));
    }
    let value: Value = serde_json::from_slice(config_json).map_err(|error| FormatError::NotJson(describe(error)))?;
    let Some(object) = value.as_object() else {
        return Err(FormatError::Unrecognised("the helm chart config is not a json object".into()));
    };
    let mut truncated = false;
    let mut list = |key: &str| {
        let (items, cut) = texts(object.get(key));
        truncated |= cut;
        items
    };
    let sources = list("sources");
    let keywords = list("keywords");
    let (dependencies, cut) = entries(&value, "dependencies", |entry| ChartDependency {
        name: scalar_at(entry, "name"),
        version: scalar_at(entry, "version"),
        repository: scalar_at(entry, "repository"),
        condition: scalar_at(entry, "condition"),
        alias: scalar_at(entry, "alias"),
    });
    truncated |= cut;
    let (maintainers, cut) = entries(&value, "maintainers", |entry| ChartMaintainer {
        name: scalar_at(entry, "name"),
        email: scalar_at(entry, "email"),
        url: scalar_at(entry, "url"),
    });
    truncated |= cut;
    let (annotations, cut) = annotations(object.get("annotations").and_then(Value::as_object));
    truncated |= cut;
    Ok(ChartMetadata {
        name: scalar_at(&value, "name"),
        version: scalar_at(&value, "version"),
        app_version: scalar_at(&value, "appVersion"),
        description: scalar_at(&value, "description"),
        api_version: scalar_at(&value, "apiVersion"),
        kind: scalar_at(&value, "type"),
        kube_version: scalar_at(&value, "kubeVersion"),
        home: scalar_at(&value, "home"),
        icon: scalar_at(&value, "icon"),
        sources,
        keywords,
        deprecated: flag(object.get("deprecated")),
        dependencies,
        maintainers,
        annotations,
        truncated,
    })
}

/// A scalar at `key` as text (strings trimmed and clipped, numbers and booleans printed).
fn scalar_at(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(scalar)
}

/// A list of scalars (a lone scalar counts as a list of one), capped; and whether it was cut.
fn texts(value: Option<&Value>) -> (Vec<String>, bool) {
    let mut items = Bounded::new(MAX_SMALL_LIST);
    match value {
        Some(Value::Array(values)) => {
            for text in values.iter().filter_map(scalar) {
                if !items.push(text) {
                    break;
                }
            }
        }
        Some(other) => {
            if let Some(text) = scalar(other) {
                items.push(text);
            }
        }
        None => {}
    }
    (items.items, items.truncated)
}

/// The objects of the array at `key` made into `T`, capped; and whether the list was cut.
fn entries<T>(value: &Value, key: &str, make: impl Fn(&Value) -> T) -> (Vec<T>, bool) {
    let mut items = Bounded::new(MAX_SMALL_LIST);
    for entry in array_at(value, key).iter().filter(|entry| entry.is_object()) {
        if !items.push(make(entry)) {
            break;
        }
    }
    (items.items, items.truncated)
}

/// The annotations with their values printed as text, capped; and whether any were dropped.
fn annotations(object: Option<&Map<String, Value>>) -> (BTreeMap<String, String>, bool) {
    let mut annotations = BTreeMap::new();
    for (key, value) in object.into_iter().flatten() {
        let Some(value) = scalar(value) else { continue };
        if annotations.len() >= MAX_SMALL_LIST {
            return (annotations, true);
        }
        annotations.insert(clip(key), value);
    }
    (annotations, false)
}

/// A boolean given as JSON `true` or as the text `"true"`.
fn flag(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(flag)) => *flag,
        Some(Value::String(text)) => text.trim().eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Reads a chart's content layer: gzip is unpacked under the [`unpack`] caps (a plain tar is
/// read as it is), then the tar is walked without following links. Entries with an absolute
/// path or a `..` component are counted but never used; only regular files are read. A layer
/// that is not a tar, or a tar with no entries, is an error.
pub fn chart_files(layer: &[u8]) -> Result<ChartFiles, FormatError> {
    let bytes = unpack::unpack(layer, "")?;
    let mut archive = tar::Archive::new(&bytes[..]);
    let entries = archive.entries().map_err(not_tar)?;
    let mut walk = Walk::default();
    for entry in entries {
        if walk.files >= MAX_ENTRIES {
            walk.truncated = true;
            break;
        }
        walk.files += 1;
        walk.visit(entry.map_err(not_tar)?)?;
    }
    if walk.files == 0 {
        return Err(FormatError::Malformed("the chart archive has no entries".into()));
    }
    let mut templates = walk.templates.items;
    templates.sort();
    Ok(ChartFiles {
        directory: walk.directory,
        chart_yaml: walk.chart_yaml,
        values_yaml: walk.values_yaml,
        readme: walk.readme,
        files: walk.files,
        templates,
        subcharts: walk.subcharts.items,
        truncated: walk.truncated || walk.templates.truncated || walk.subcharts.truncated,
    })
}

fn not_tar(error: std::io::Error) -> FormatError {
    FormatError::Malformed(format!("the chart archive is not a readable tar: {}", describe(error)))
}

/// What the walk over the archive has found so far.
#[derive(Debug)]
struct Walk {
    directory: Option<String>,
    chart_yaml: Option<TextFile>,
    values_yaml: Option<TextFile>,
    readme: Option<TextFile>,
    files: u64,
    templates: Bounded<String>,
    /// Kept sorted (inserted in place) so that a name is found by binary search.
    subcharts: Bounded<String>,
    truncated: bool,
}

impl Default for Walk {
    fn default() -> Self {
        Walk {
            directory: None,
            chart_yaml: None,
            values_yaml: None,
            readme: None,
            files: 0,
            templates: Bounded::new(MAX_TEMPLATES),
            subcharts: Bounded::new(MAX_SMALL_LIST),
            truncated: false,
        }
    }
}

impl Walk {
    fn visit(&mut self, mut entry: tar::Entry<'_, &[u8]>) -> Result<(), FormatError> {
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(parts) = safe_parts(&raw) else { return Ok(()) };
        let [top, rest @ ..] = parts.as_slice() else { return Ok(()) };
        let kind = entry.header().entry_type();
        // A file at the top (`pax_global_header` from `git archive`, stray files) is no chart's.
        if rest.is_empty() && !kind.is_dir() {
            return Ok(());
        }
        match &self.directory {
            None => self.directory = Some(clip(top)),
            Some(directory) if directory != top => return Ok(()),
            Some(_) => {}
        }
        let regular = kind.is_file();
        match rest {
            ["Chart.yaml"] if regular && self.chart_yaml.is_none() => self.chart_yaml = Some(read_text(&mut entry)?),
            ["values.yaml"] if regular && self.values_yaml.is_none() => {
                self.values_yaml = Some(read_text(&mut entry)?);
            }
            [name] if regular && self.readme.is_none() && name.eq_ignore_ascii_case("readme.md") => {
                self.readme = Some(read_text(&mut entry)?);
            }
            ["templates", path @ ..] if regular && !path.is_empty() => {
                self.templates.push(clip(&path.join("/")));
            }
            ["charts", name, ..] => {
                let name = clip(name);
                if let Err(at) = self.subcharts.items.binary_search(&name) {
                    if self.subcharts.items.len() >= MAX_SMALL_LIST {
                        self.subcharts.truncated = true;
                    } else {
                        self.subcharts.items.insert(at, name);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The non-empty components of a relative path (`.` dropped), or `None` when the path is
/// absolute or climbs out with `..`.
fn safe_parts(path: &str) -> Option<Vec<&str>> {
    if path.starts_with('/') || path.contains('\0') {
        return None;
    }
    let parts: Vec<&str> = path.split('/').filter(|part| !part.is_empty() && *part != ".").collect();
    (!parts.contains(&"..")).then_some(parts)
}

/// The start of a regular file's content as text.
fn read_text(entry: &mut tar::Entry<'_, &[u8]>) -> Result<TextFile, FormatError> {
    let size = entry.size();
    let mut bytes = Vec::new();
    entry.take(MAX_FILE_TEXT_BYTES as u64 + 1).read_to_end(&mut bytes).map_err(not_tar)?;
    let mut truncated = bytes.len() > MAX_FILE_TEXT_BYTES;
    if truncated {
        bytes.truncate(MAX_FILE_TEXT_BYTES);
        // Drop a char the cut split, rather than showing it as a replacement char.
        let tail = bytes.len().saturating_sub(3);
        if let Some(lead) = bytes[tail..].iter().rposition(|byte| *byte >= 0xc0) {
            let at = tail + lead;
            let width = match bytes[at] {
                0xf0.. => 4,
                0xe0.. => 3,
                _ => 2,
            };
            if bytes.len() - at < width {
                bytes.truncate(at);
            }
        }
    }
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if text.len() > MAX_FILE_TEXT_BYTES {
        // Replacement chars are wider than the bytes they replace.
        let mut end = MAX_FILE_TEXT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        truncated = true;
    }
    Ok(TextFile { text, truncated, size })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths_are_refused() {
        assert_eq!(safe_parts("./chart//templates/a.yaml"), Some(vec!["chart", "templates", "a.yaml"]));
        assert_eq!(safe_parts("/etc/passwd"), None);
        assert_eq!(safe_parts("chart/../../x"), None);
        assert_eq!(safe_parts("chart/./values.yaml"), Some(vec!["chart", "values.yaml"]));
    }

    #[test]
    fn text_helpers_accept_lone_scalars() {
        let value = serde_json::json!("one");
        assert_eq!(texts(Some(&value)), (vec!["one".to_owned()], false));
        assert!(!flag(Some(&serde_json::json!(1))));
        assert!(flag(Some(&serde_json::json!("True"))));
    }
}
