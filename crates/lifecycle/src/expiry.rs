//! When an artifact expires by what it says about itself: the end of life the crawler derived
//! (Microsoft lifecycle referrers and annotations), Quay's `quay.expires-after` (`2h`, `3d`,
//! `4w`, `never`) and any configured annotation holding a date. Malformed values never expire
//! anything, and nothing here panics on what a registry serves.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use ocicat_catalog::ArtifactDoc;

/// Quay's expiry label (image config) or annotation (manifest or index): a duration counted
/// from the artifact's creation.
pub const QUAY_EXPIRES_AFTER: &str = "quay.expires-after";

/// An expiry date and what set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiry {
    /// When the artifact expires.
    pub at: DateTime<Utc>,
    /// What set it, in words: `end of life`, `quay.expires-after 2h`, or the annotation key.
    pub source: String,
}

impl Expiry {
    /// The source and the date, for verdicts: `end of life 2024-01-31`.
    pub fn describe(&self) -> String {
        format!("{} {}", self.source, format_date(self.at))
    }
}

/// The earliest date at which `artifact` expires by annotation, if any: its end of life,
/// `quay.expires-after` from its labels or annotations, and each of `keys` holding a date.
pub fn expires_at(artifact: &ArtifactDoc, keys: &[String]) -> Option<DateTime<Utc>> {
    earliest_expiry(artifact, keys).map(|expiry| expiry.at)
}

/// Like [`expires_at`], with what set the date (on a tie, the first source in the order above).
pub fn earliest_expiry(artifact: &ArtifactDoc, keys: &[String]) -> Option<Expiry> {
    let mut found: Vec<Expiry> = Vec::new();
    if let Some(end_of_life) = artifact.end_of_life {
        found.push(Expiry { at: end_of_life, source: "end of life".into() });
    }
    let created = artifact.created.unwrap_or(artifact.indexed_at);
    for value in
        [artifact.labels.get(QUAY_EXPIRES_AFTER), artifact.annotations.get(QUAY_EXPIRES_AFTER)].into_iter().flatten()
    {
        let expires = parse_expires_after(value).and_then(|after| created.checked_add_signed(after));
        if let Some(at) = expires {
            found.push(Expiry { at, source: format!("{QUAY_EXPIRES_AFTER} {}", value.trim()) });
        }
    }
    for key in keys {
        // Annotations attached later win (a maintainer's later word), then the manifest's own,
        // then the index descriptors', then config labels.
        let value = artifact
            .attached_annotations
            .get(key)
            .map(|attached| &attached.value)
            .or_else(|| artifact.annotations.get(key))
            .or_else(|| artifact.descriptor_annotations.get(key))
            .or_else(|| artifact.labels.get(key));
        if let Some(at) = value.and_then(|value| parse_date(value)) {
            found.push(Expiry { at, source: key.clone() });
        }
    }
    let mut earliest: Option<Expiry> = None;
    for expiry in found {
        let earlier = match &earliest {
            Some(known) => expiry.at < known.at,
            None => true,
        };
        if earlier {
            earliest = Some(expiry);
        }
    }
    earliest
}

/// A `quay.expires-after` value as a duration: digits then `s`, `m`, `h`, `d` or `w`.
/// `never`, malformed values and durations too long to represent are `None`.
pub fn parse_expires_after(value: &str) -> Option<TimeDelta> {
    let value = value.trim();
    let unit = value.chars().last()?;
    let number = &value[..value.len() - unit.len_utf8()];
    // Twelve digits of weeks is far past any representable date; longer is surely garbage.
    if number.is_empty() || number.len() > 12 || !number.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let count: i64 = number.parse().ok()?;
    let seconds_per_unit: i64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 60 * 60,
        'd' => 24 * 60 * 60,
        'w' => 7 * 24 * 60 * 60,
        _ => return None,
    };
    TimeDelta::try_seconds(count.checked_mul(seconds_per_unit)?)
}

/// A date as lifecycle annotations write it: `yyyy-MM-dd` (midnight UTC) or RFC 3339 with
/// optional fractional seconds (`2023-05-12T21:15:10.8343521Z`). Anything else is `None`.
pub fn parse_date(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Some(day) = parse_day(value) {
        return Some(day);
    }
    DateTime::parse_from_rfc3339(value).ok().map(|date| date.with_timezone(&Utc))
}

/// Exactly `dddd-dd-dd`, a real calendar day, at midnight UTC.
fn parse_day(value: &str) -> Option<DateTime<Utc>> {
    let bytes = value.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(position, byte)| match position {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc())
}

/// `2024-01-31` for midnight, else `2024-01-31T12:00:00Z` (seconds, no fraction).
pub fn format_date(date: DateTime<Utc>) -> String {
    if date.time() == chrono::NaiveTime::MIN {
        date.format("%Y-%m-%d").to_string()
    } else {
        date.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

#[cfg(test)]
mod tests {

    use ocicat_catalog::ArtifactKind;
    use proptest::prelude::*;

    use super::*;

    fn date(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn image(created: Option<&str>) -> ArtifactDoc {
        ArtifactDoc {
            tags: vec!["1.0".into()],
            kind: ArtifactKind::Image,
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            platforms: vec!["linux/amd64".into()],
            size: 1024,
            created: created.map(date),
            config_media_type: Some("application/vnd.oci.image.config.v1+json".into()),
            manifest_size: 2,
            indexed_at: date("2024-06-01T00:00:00Z"),
            ..ArtifactDoc::new("local", "team/app", format!("sha256:{}", "a".repeat(64)))
        }
    }

    fn keys(keys: &[&str]) -> Vec<String> {
        keys.iter().map(|key| (*key).to_owned()).collect()
    }

    #[test]
    fn nothing_set_never_expires() {
        assert_eq!(expires_at(&image(Some("2024-01-01T00:00:00Z")), &keys(&["com.example.expires"])), None);
    }

    #[test]
    fn end_of_life_from_the_crawler_counts() {
        let mut artifact = image(None);
        artifact.end_of_life = Some(date("2024-01-31T00:00:00Z"));
        let expiry = earliest_expiry(&artifact, &[]).unwrap();
        assert_eq!(expiry.at, date("2024-01-31T00:00:00Z"));
        assert_eq!(expiry.describe(), "end of life 2024-01-31");
    }

    #[test]
    fn quay_expires_after_counts_from_created() {
        let mut artifact = image(Some("2024-03-01T10:00:00Z"));
        artifact.labels.insert(QUAY_EXPIRES_AFTER.into(), "2h".into());
        let expiry = earliest_expiry(&artifact, &[]).unwrap();
        assert_eq!(expiry.at, date("2024-03-01T12:00:00Z"));
        assert_eq!(expiry.describe(), "quay.expires-after 2h 2024-03-01T12:00:00Z");
    }

    #[test]
    fn quay_expires_after_falls_back_to_indexed_at_and_reads_annotations() {
        let mut artifact = image(None);
        artifact.annotations.insert(QUAY_EXPIRES_AFTER.into(), "3d".into());
        assert_eq!(expires_at(&artifact, &[]), Some(date("2024-06-04T00:00:00Z")));
    }

    #[test]
    fn quay_units_never_and_malformed_values() {
        assert_eq!(parse_expires_after("90s"), TimeDelta::try_seconds(90));
        assert_eq!(parse_expires_after("5m"), TimeDelta::try_minutes(5));
        assert_eq!(parse_expires_after(" 2h "), TimeDelta::try_hours(2));
        assert_eq!(parse_expires_after("3d"), TimeDelta::try_days(3));
        assert_eq!(parse_expires_after("4w"), TimeDelta::try_weeks(4));
        for bad in ["never", "", "h", "2", "2x", "-2h", "+2h", "2.5h", "2H", "2 h", "99999999999999w", "2é"] {
            assert_eq!(parse_expires_after(bad), None, "{bad:?}");
        }
        let mut artifact = image(Some("2024-03-01T10:00:00Z"));
        artifact.labels.insert(QUAY_EXPIRES_AFTER.into(), "never".into());
        artifact.annotations.insert(QUAY_EXPIRES_AFTER.into(), "soon".into());
        assert_eq!(expires_at(&artifact, &[]), None);
    }

    #[test]
    fn a_huge_quay_duration_does_not_overflow() {
        let mut artifact = image(Some("2024-03-01T10:00:00Z"));
        artifact.labels.insert(QUAY_EXPIRES_AFTER.into(), "999999999999w".into());
        assert_eq!(expires_at(&artifact, &[]), None);
    }

    #[test]
    fn configured_key_with_rfc3339_fractional_seconds() {
        let mut artifact = image(None);
        artifact.annotations.insert("vnd.example.expiry".into(), "2023-05-12T21:15:10.8343521Z".into());
        let expiry = earliest_expiry(&artifact, &keys(&["vnd.example.expiry"])).unwrap();
        assert_eq!(expiry.at, date("2023-05-12T21:15:10.834352100Z"));
        assert_eq!(expiry.describe(), "vnd.example.expiry 2023-05-12T21:15:10Z");
        assert_eq!(expires_at(&artifact, &[]), None, "only configured keys are read");
    }

    #[test]
    fn configured_key_prefers_attached_then_own_then_descriptors_then_labels() {
        let key = keys(&["com.example.eol"]);
        let mut artifact = image(None);
        artifact.labels.insert("com.example.eol".into(), "2024-03-01".into());
        assert_eq!(expires_at(&artifact, &key), Some(date("2024-03-01T00:00:00Z")));
        artifact.descriptor_annotations.insert("com.example.eol".into(), "2024-02-01".into());
        assert_eq!(expires_at(&artifact, &key), Some(date("2024-02-01T00:00:00Z")));
        artifact.annotations.insert("com.example.eol".into(), "2024-04-01".into());
        assert_eq!(expires_at(&artifact, &key), Some(date("2024-04-01T00:00:00Z")));
        artifact.attached_annotations.insert(
            "com.example.eol".into(),
            ocicat_catalog::AttachedAnnotation {
                value: "2024-06-01".into(),
                referrer: "sha256:note".into(),
                by: Some("alice".into()),
                at: None,
            },
        );
        assert_eq!(expires_at(&artifact, &key), Some(date("2024-06-01T00:00:00Z")), "attached later wins");
        artifact.attached_annotations.clear();
        artifact.annotations.insert("com.example.eol".into(), "not a date".into());
        assert_eq!(expires_at(&artifact, &key), None, "a malformed own annotation is ignored, not replaced");
    }

    #[test]
    fn the_earliest_source_wins() {
        let mut artifact = image(Some("2024-01-01T00:00:00Z"));
        artifact.end_of_life = Some(date("2024-05-01T00:00:00Z"));
        artifact.labels.insert(QUAY_EXPIRES_AFTER.into(), "4w".into());
        artifact.annotations.insert("com.example.eol".into(), "2024-02-15".into());
        let expiry = earliest_expiry(&artifact, &keys(&["com.example.eol"])).unwrap();
        assert_eq!(expiry.at, date("2024-01-29T00:00:00Z"));
        assert_eq!(expiry.source, "quay.expires-after 4w");
    }

    #[test]
    fn dates_in_both_lifecycle_forms() {
        assert_eq!(parse_date("2024-01-31"), Some(date("2024-01-31T00:00:00Z")));
        assert_eq!(parse_date(" 2024-01-31T00:00:00Z "), Some(date("2024-01-31T00:00:00Z")));
        assert_eq!(parse_date("2024-01-31T02:00:00+02:00"), Some(date("2024-01-31T00:00:00Z")));
        for bad in ["2024-02-30", "2024-1-31", "24-01-31", "2024/01/31", "2024-01-31T25:00:00Z", "20240131", ""] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_values_never_panic_and_only_date_shapes_parse(value in any::<String>()) {
            if parse_date(&value).is_some() {
                let bytes = value.trim().as_bytes();
                prop_assert!(bytes.len() >= 10 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-');
            }
            if parse_expires_after(&value).is_some() {
                let trimmed = value.trim();
                prop_assert!(trimmed.len() >= 2);
                prop_assert!(trimmed[..trimmed.len() - 1].bytes().all(|byte| byte.is_ascii_digit()));
            }
            let mut artifact = image(Some("2024-03-01T10:00:00Z"));
            artifact.labels.insert(QUAY_EXPIRES_AFTER.into(), value.clone());
            artifact.annotations.insert("com.example.eol".into(), value.clone());
            let _ = expires_at(&artifact, &keys(&["com.example.eol"]));
        }

        #[test]
        fn garbage_without_digits_never_expires(value in "[^0-9]{0,40}") {
            let mut artifact = image(Some("2024-03-01T10:00:00Z"));
            artifact.labels.insert(QUAY_EXPIRES_AFTER.into(), value.clone());
            artifact.annotations.insert(QUAY_EXPIRES_AFTER.into(), value.clone());
            artifact.annotations.insert("com.example.eol".into(), value.clone());
            prop_assert_eq!(expires_at(&artifact, &keys(&["com.example.eol"])), None);
        }
    }
}
