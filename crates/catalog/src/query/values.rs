//! Values in comparisons: dates (`today`, `now`, `now-90d`, `2024-01-01`, RFC 3339) and sizes
//! (`10MB`, `1.5GiB`, plain bytes).

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// Reads a date value relative to `now`; `today` is midnight UTC.
pub(crate) fn parse_date(value: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let lower = value.to_ascii_lowercase();
    let (base, rest) = if let Some(rest) = lower.strip_prefix("today") {
        (now.date_naive().and_hms_opt(0, 0, 0)?.and_utc(), rest)
    } else if let Some(rest) = lower.strip_prefix("now") {
        (now, rest)
    } else {
        if let Ok(date) = DateTime::parse_from_rfc3339(value) {
            return Some(date.with_timezone(&Utc));
        }
        return NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0).map(|date| date.and_utc());
    };
    if rest.is_empty() {
        return Some(base);
    }
    let (sign, amount) = match rest.split_at(1) {
        ("-", amount) => (-1i64, amount),
        ("+", amount) => (1i64, amount),
        _ => return None,
    };
    let unit = amount.chars().last()?;
    let count: i64 = amount[..amount.len() - 1].parse().ok()?;
    let span = match unit {
        's' => Duration::try_seconds(count)?,
        'm' => Duration::try_minutes(count)?,
        'h' => Duration::try_hours(count)?,
        'd' => Duration::try_days(count)?,
        'w' => Duration::try_weeks(count)?,
        'y' => Duration::try_days(count.checked_mul(365)?)?,
        _ => return None,
    };
    base.checked_add_signed(span * sign as i32)
}

/// Reads a size such as `10MB`, `1.5GiB` or `1234`.
pub(crate) fn parse_size(value: &str) -> Option<u64> {
    let lower = value.to_ascii_lowercase();
    let split = lower.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(lower.len());
    let (number, unit) = lower.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor: f64 = match unit {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = number * factor;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn relative_and_absolute_dates_parse() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 15, 30, 0).unwrap();
        assert_eq!(parse_date("today", now), Some(Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap()));
        assert_eq!(parse_date("now-90d", now), Some(now - Duration::days(90)));
        assert_eq!(parse_date("now+1w", now), Some(now + Duration::weeks(1)));
        assert_eq!(parse_date("2024-06-30", now), Some(Utc.with_ymd_and_hms(2024, 6, 30, 0, 0, 0).unwrap()));
        assert_eq!(
            parse_date("2023-05-12T21:15:10Z", now),
            Some(Utc.with_ymd_and_hms(2023, 5, 12, 21, 15, 10).unwrap())
        );
        for bad in ["yesterday", "now-", "now-5x", "now*3d", "2024-13-01", "now-999999999999999d"] {
            assert_eq!(parse_date(bad, now), None, "{bad}");
        }
    }

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("1234"), Some(1234));
        assert_eq!(parse_size("10MB"), Some(10_000_000));
        assert_eq!(parse_size("1.5GiB"), Some(1_610_612_736));
        assert_eq!(parse_size("ten"), None);
        assert_eq!(parse_size("5parsecs"), None);
    }
}

/// An annotation value that is an absolute date (RFC 3339 or `yyyy-mm-dd`), for range queries.
pub(crate) fn date_value(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if value.len() < 10 || !value.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    parse_date(value, Utc::now()).filter(|date| chrono::Datelike::year(date) >= 1970)
}

/// Dates tantivy can hold (nanoseconds in an i64: about 1678 to 2262); others are left out.
pub(crate) fn tantivy_date(date: DateTime<Utc>) -> Option<tantivy::DateTime> {
    const LIMIT_SECS: i64 = 9_000_000_000;
    let seconds = date.timestamp();
    (-LIMIT_SECS..LIMIT_SECS).contains(&seconds).then(|| tantivy::DateTime::from_timestamp_secs(seconds))
}
