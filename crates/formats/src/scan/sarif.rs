//! SARIF 2.1.0 logs: `runs[].tool.driver` (name, version, rules) and `runs[].results[]`. Trivy
//! (aquasecurity/trivy `pkg/report/sarif.go`) writes the package, installed and fixed versions
//! and the severity only as lines of `message.text` ("Package: …", "Installed Version: …",
//! "Fixed Version: …", "Severity: …", "Link: [id](url)"); those are read when present. For other
//! producers the package is the first location's `artifactLocation.uri`, and the severity comes
//! from the rule's severity tag, else its `security-severity` CVSS score, else the result's (or
//! rule's default) `level`.

use std::collections::HashMap;

use serde_json::Value;

use super::{Finding, Report, Severity};
use crate::text::{self, Bounded, MAX_ITEMS, array_at, str_at, text_at, text_pointer};

/// Whether `document` looks like a SARIF log.
pub(super) fn is_sarif(document: &Value) -> bool {
    document.get("runs").is_some_and(Value::is_array)
}

/// Reads a SARIF log; results of the wrong shape are skipped.
pub(super) fn report(document: &Value) -> Report {
    let version = text_at(document, "version").unwrap_or_else(|| "2.1.0".into());
    let mut report = Report::empty(text::clip(&format!("SARIF {version}")));
    let mut found = Bounded::new(MAX_ITEMS);
    'runs: for run in array_at(document, "runs") {
        let driver = run.pointer("/tool/driver").unwrap_or(&Value::Null);
        report.scanner = report.scanner.take().or_else(|| text_at(driver, "name"));
        report.scanner_version = report
            .scanner_version
            .take()
            .or_else(|| text_at(driver, "version"))
            .or_else(|| text_at(driver, "semanticVersion"));
        report.artifact = report.artifact.take().or_else(|| text_pointer(run, "/properties/imageName"));
        report.scanned_at = report.scanned_at.take().or_else(|| {
            let invocation = array_at(run, "invocations").first()?;
            text_at(invocation, "endTimeUtc").or_else(|| text_at(invocation, "startTimeUtc"))
        });
        let rules = array_at(driver, "rules");
        let mut rules_by_id = HashMap::new();
        for rule in rules {
            if let Some(id) = str_at(rule, "id") {
                rules_by_id.entry(id).or_insert(rule);
            }
        }
        for result in array_at(run, "results") {
            if !result.is_object() {
                continue;
            }
            if !found.push(finding(result, rule_of(result, rules, &rules_by_id))) {
                break 'runs;
            }
        }
    }
    report.findings = found.items;
    report.truncated = found.truncated;
    report
}

/// The rule a result names, by `ruleIndex`, else by `ruleId`.
fn rule_of<'a>(result: &Value, rules: &'a [Value], by_id: &HashMap<&str, &'a Value>) -> Option<&'a Value> {
    if let Some(index) = result.get("ruleIndex").and_then(Value::as_u64)
        && let Some(rule) = usize::try_from(index).ok().and_then(|index| rules.get(index))
    {
        return Some(rule);
    }
    by_id.get(str_at(result, "ruleId")?).copied()
}

/// The "Key: value" lines Trivy writes into `message.text`.
#[derive(Debug, Default)]
struct MessageFields {
    package: Option<String>,
    installed: Option<String>,
    fixed: Option<String>,
    severity: Option<Severity>,
    link: Option<String>,
}

fn message_fields(message: &str) -> MessageFields {
    let mut fields = MessageFields::default();
    for line in message.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match key.trim() {
            "Package" => fields.package = text::non_empty(value),
            "Installed Version" => fields.installed = text::non_empty(value),
            "Fixed Version" => fields.fixed = text::non_empty(value),
            "Severity" => fields.severity = Some(Severity::parse(value)),
            "Link" => fields.link = markdown_link_target(value).or_else(|| text::non_empty(value)),
            _ => {}
        }
    }
    fields
}

/// The URL of a Markdown link `[text](url)`.
fn markdown_link_target(text: &str) -> Option<String> {
    let start = text.find("](")? + 2;
    let end = text[start..].find(')')? + start;
    text::non_empty(&text[start..end])
}

fn finding(result: &Value, rule: Option<&Value>) -> Finding {
    let message = result.pointer("/message/text").and_then(Value::as_str).unwrap_or_default();
    let fields = message_fields(message);
    let location = array_at(result, "locations")
        .first()
        .and_then(|location| text_pointer(location, "/physicalLocation/artifactLocation/uri"));
    let title = rule
        .and_then(|rule| text_pointer(rule, "/shortDescription/text"))
        .or_else(|| text::non_empty(message.lines().next().unwrap_or_default()));
    Finding {
        id: text_at(result, "ruleId")
            .or_else(|| rule.and_then(|rule| text_at(rule, "id")))
            .unwrap_or_else(|| "—".into()),
        package: fields.package.or_else(|| location.clone()).unwrap_or_else(|| "—".into()),
        installed: fields.installed,
        fixed: fields.fixed,
        severity: fields.severity.unwrap_or_else(|| rated(result, rule)),
        title,
        url: fields.link.or_else(|| rule.and_then(|rule| text_at(rule, "helpUri"))),
        target: location,
        aliases: Vec::new(),
    }
}

/// A result's severity from its rule's tag, else `security-severity`, else the level.
fn rated(result: &Value, rule: Option<&Value>) -> Severity {
    let properties = rule.and_then(|rule| rule.get("properties"));
    let tags = properties.map(|properties| array_at(properties, "tags")).unwrap_or_default();
    if let Some(tagged) =
        tags.iter().filter_map(Value::as_str).map(Severity::parse).find(|severity| *severity != Severity::Unknown)
    {
        return tagged;
    }
    let score = properties.and_then(|p| p.get("security-severity")).and_then(|value| match value {
        Value::String(text) => text.trim().parse::<f64>().ok(),
        other => other.as_f64(),
    });
    if let Some(score) = score.filter(|score| score.is_finite()) {
        return Severity::from_score(score);
    }
    let level = result
        .get("level")
        .or_else(|| rule.and_then(|rule| rule.pointer("/defaultConfiguration/level")))
        .and_then(Value::as_str);
    // SARIF's default level is "warning".
    match level.unwrap_or("warning") {
        "error" => Severity::High,
        "warning" => Severity::Medium,
        "note" => Severity::Low,
        _ => Severity::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trivy_message_lines_are_read() {
        let fields = message_fields(
            "Package: zlib1g\nInstalled Version: 1:1.2.13.dfsg-1\nVulnerability CVE-2023-45853\nSeverity: CRITICAL\nFixed Version: \nLink: [CVE-2023-45853](https://avd.aquasec.com/nvd/cve-2023-45853)",
        );
        assert_eq!(fields.package.as_deref(), Some("zlib1g"));
        assert_eq!(fields.installed.as_deref(), Some("1:1.2.13.dfsg-1"));
        assert_eq!(fields.fixed, None);
        assert_eq!(fields.severity, Some(Severity::Critical));
        assert_eq!(fields.link.as_deref(), Some("https://avd.aquasec.com/nvd/cve-2023-45853"));
    }

    #[test]
    fn broken_links_fall_back_to_the_text() {
        assert_eq!(markdown_link_target("[x](unclosed"), None);
        assert_eq!(markdown_link_target("](a)").as_deref(), Some("a"));
        assert_eq!(message_fields("Link: plain").link.as_deref(), Some("plain"));
    }
}
