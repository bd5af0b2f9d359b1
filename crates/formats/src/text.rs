//! Bounds on what documents hand over: one truncation helper for every string, lists that stop
//! at a cap and say so, JSON accessors that skip values of the wrong type, pretty JSON capped in
//! size, and error texts made lowercase.

use std::fmt::Display;
use std::io::Write;

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use serde_json::Value;

use crate::FormatError;

/// Longest string kept from a document, in chars.
pub(crate) const MAX_TEXT_CHARS: usize = 4096;
/// Most packages, findings or dependencies kept from one document.
pub(crate) const MAX_ITEMS: usize = 100_000;
/// Largest pretty-printed payload or predicate kept, in bytes.
pub(crate) const MAX_PRETTY_BYTES: usize = 64 * 1024;
/// Most entries kept in the small lists (subjects, generators, details).
pub(crate) const MAX_SMALL_LIST: usize = 1_000;
/// What ends a pretty payload that was cut.
pub(crate) const CUT_MARKER: &str = "\n… (truncated)";

/// `text` cut to [`MAX_TEXT_CHARS`] chars, on a char boundary.
pub(crate) fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT_CHARS) {
        Some((end, _)) => text[..end].to_owned(),
        None => text.to_owned(),
    }
}

/// A list that keeps at most `cap` items and remembers whether it dropped any.
#[derive(Debug)]
pub(crate) struct Bounded<T> {
    pub(crate) items: Vec<T>,
    pub(crate) truncated: bool,
    cap: usize,
}

impl<T> Bounded<T> {
    pub(crate) fn new(cap: usize) -> Self {
        Bounded { items: Vec::new(), truncated: false, cap }
    }

    /// Keeps `item` if there is room; false once the list is full.
    pub(crate) fn push(&mut self, item: T) -> bool {
        if self.items.len() >= self.cap {
            self.truncated = true;
            return false;
        }
        self.items.push(item);
        true
    }
}

/// The string at `key`, if it is one.
pub(crate) fn str_at<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// The string at `key`, trimmed, clipped, and `None` when empty.
pub(crate) fn text_at(value: &Value, key: &str) -> Option<String> {
    non_empty(str_at(value, key)?)
}

/// The string at a JSON pointer, trimmed, clipped, and `None` when empty.
pub(crate) fn text_pointer(value: &Value, pointer: &str) -> Option<String> {
    non_empty(value.pointer(pointer)?.as_str()?)
}

/// `text` trimmed and clipped, `None` when empty.
pub(crate) fn non_empty(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| clip(trimmed))
}

/// The array at `key`, or nothing when it is missing or not an array.
pub(crate) fn array_at<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

/// A number given as a JSON number or, as protobuf JSON writes 64-bit integers, a string.
pub(crate) fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// A scalar as display text (strings as they are, numbers and booleans printed), clipped.
pub(crate) fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => non_empty(text),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// A writer that keeps at most `cap` bytes and then refuses more.
struct CappedWriter {
    buffer: Vec<u8>,
    cap: usize,
    full: bool,
}

impl Write for CappedWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = self.cap.saturating_sub(self.buffer.len());
        if data.len() > room {
            self.buffer.extend_from_slice(&data[..room]);
            self.full = true;
            return Err(std::io::Error::other("capped"));
        }
        self.buffer.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `value` as pretty JSON of at most [`MAX_PRETTY_BYTES`], ending in [`CUT_MARKER`] when cut.
pub(crate) fn pretty(value: &Value) -> String {
    let cap = MAX_PRETTY_BYTES - CUT_MARKER.len();
    let mut writer = CappedWriter { buffer: Vec::new(), cap, full: false };
    // The only error is the cap being reached, which `full` records.
    let _ = serde_json::to_writer_pretty(&mut writer, value);
    let text = match std::str::from_utf8(&writer.buffer) {
        Ok(text) => text,
        Err(error) => std::str::from_utf8(&writer.buffer[..error.valid_up_to()]).unwrap_or_default(),
    };
    let mut pretty = text.to_owned();
    if writer.full {
        pretty.push_str(CUT_MARKER);
    }
    pretty
}

/// An error text as the project writes them: first letter lowercase (unless it starts an
/// acronym), no trailing period.
pub(crate) fn describe(error: impl Display) -> String {
    let text = error.to_string();
    let text = text.trim().trim_end_matches('.');
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && !second.is_uppercase() => {
            first.to_lowercase().chain(text.chars().skip(1)).collect()
        }
        _ => text.to_owned(),
    }
}

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// Decodes base64 in either alphabet, padded or not; `what` names the field for the error.
pub(crate) fn base64_decode(encoded: &str, what: &str) -> Result<Vec<u8>, FormatError> {
    let encoded = encoded.trim();
    let decoded =
        if encoded.contains(['-', '_']) { URL_SAFE_LENIENT.decode(encoded) } else { STANDARD_LENIENT.decode(encoded) };
    decoded.map_err(|error| FormatError::Malformed(format!("{what} is not base64: {}", describe(error))))
}

/// Lowercase hex of base64 (a digest as protobuf JSON writes it), `None` when not base64.
pub(crate) fn base64_to_hex(encoded: &str) -> Option<String> {
    general_purpose::STANDARD.decode(encoded.trim()).ok().map(hex::encode)
}

/// A Unix time in seconds as RFC 3339 UTC, `None` outside years 0–9999.
pub(crate) fn rfc3339_from_unix(seconds: i64) -> Option<String> {
    // Howard Hinnant's days-to-civil algorithm.
    const MIN: i64 = -62_167_219_200; // 0000-01-01T00:00:00Z
    const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    if !(MIN..=MAX).contains(&seconds) {
        return None;
    }
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clip_cuts_on_a_char_boundary() {
        let long = "é".repeat(MAX_TEXT_CHARS + 10);
        let clipped = clip(&long);
        assert_eq!(clipped.chars().count(), MAX_TEXT_CHARS);
        assert_eq!(clip("short"), "short");
    }

    #[test]
    fn pretty_json_is_capped_and_marked() {
        let big = json!({"data": "ü".repeat(MAX_PRETTY_BYTES)});
        let text = pretty(&big);
        assert!(text.len() <= MAX_PRETTY_BYTES);
        assert!(text.ends_with(CUT_MARKER));
        assert_eq!(pretty(&json!({"a": 1})), "{\n  \"a\": 1\n}");
    }

    #[test]
    fn unix_times_print_as_rfc3339() {
        assert_eq!(rfc3339_from_unix(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(rfc3339_from_unix(1_700_000_000).as_deref(), Some("2023-11-14T22:13:20Z"));
        assert_eq!(rfc3339_from_unix(951_782_400).as_deref(), Some("2000-02-29T00:00:00Z"));
        assert_eq!(rfc3339_from_unix(-1).as_deref(), Some("1969-12-31T23:59:59Z"));
        assert_eq!(rfc3339_from_unix(i64::MAX), None);
    }

    #[test]
    fn errors_read_lowercase() {
        assert_eq!(describe("Invalid symbol 45, offset 3."), "invalid symbol 45, offset 3");
        assert_eq!(describe("JSON error"), "JSON error");
    }

    #[test]
    fn base64_accepts_both_alphabets_with_or_without_padding() {
        assert_eq!(base64_decode("aGk=", "x").unwrap(), b"hi");
        assert_eq!(base64_decode("aGk", "x").unwrap(), b"hi");
        assert_eq!(base64_decode("-_8", "x").unwrap(), [0xfb, 0xff]);
        let error = base64_decode("!!", "dsse payload").unwrap_err();
        assert!(error.to_string().contains("dsse payload is not base64"), "{error}");
    }
}
