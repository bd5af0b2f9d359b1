//! Dates in stored JSON, written as chrono's serde writes them (RFC 3339, `Z`, as many
//! fractional digits as needed: 0, 3, 6 or 9) but in one piece: chrono's serde hands the JSON
//! writer one character at a time, and the dates of every artifact and tag document were a
//! sixth of the writer's mapping work (P4). Read back with chrono's own `Deserialize`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

/// `#[serde(serialize_with = "crate::rfc3339::serialize")]` for a `DateTime<Utc>`.
pub(crate) fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// The same for an `Option<DateTime<Utc>>` (`None` is `null`, as chrono's).
pub(crate) fn serialize_option<S: Serializer>(at: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serialize(at, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    #[derive(serde::Serialize)]
    struct Dated {
        #[serde(serialize_with = "super::serialize")]
        at: DateTime<Utc>,
        #[serde(serialize_with = "super::serialize_option")]
        maybe: Option<DateTime<Utc>>,
    }

    #[test]
    fn dates_are_written_exactly_as_chronos_serde_writes_them() {
        let base = Utc.with_ymd_and_hms(2026, 12, 7, 9, 39, 14).unwrap();
        for nanos in [0, 120_000_000, 123_456_000, 123_456_789, 1] {
            let at = base + chrono::Duration::nanoseconds(nanos);
            for maybe in [None, Some(at)] {
                let ours = serde_json::to_string(&Dated { at, maybe }).unwrap();
                let chronos = serde_json::json!({ "at": at, "maybe": maybe }).to_string();
                assert_eq!(ours, chronos);
                let back: serde_json::Value = serde_json::from_str(&ours).unwrap();
                let read: DateTime<Utc> = serde_json::from_value(back["at"].clone()).unwrap();
                assert_eq!(read, at);
            }
        }
        let early = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            serde_json::to_string(&Dated { at: early, maybe: None }).unwrap(),
            serde_json::json!({ "at": early, "maybe": null }).to_string()
        );
    }
}
