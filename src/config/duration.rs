//! Durations written the way people write them: `500ms`, `3s`, `1.5s`, `5m`, `2h`, `250us`, `0s`,
//! and compound as CometBFT writes them: `1m30s`, `1h30m`.

use serde::{Deserializer, Serializer};
use std::time::Duration;

/// Parse `"<number><unit>"` with unit one of `ns`, `us`, `µs`, `ms`, `s`, `m`, `h`, or several
/// of them in a row as CometBFT (Go) writes durations: `1m30s`, `1h30m`, `2s500ms`.
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let mut segments = Vec::new();
    let mut start = 0;
    let mut in_unit = false;
    for (i, c) in t.char_indices() {
        let numeric = c.is_ascii_digit() || c == '.';
        if numeric && in_unit {
            segments.push(&t[start..i]);
            start = i;
        }
        in_unit = !numeric;
    }
    segments.push(&t[start..]);
    if segments.len() == 1 {
        return parse_one(text, t);
    }
    let mut total = Duration::ZERO;
    for segment in segments {
        total = total
            .checked_add(parse_one(text, segment)?)
            .ok_or_else(|| format!("duration `{text}` is too large"))?;
    }
    if total.as_nanos() > u128::from(u64::MAX / 2) {
        return Err(format!("duration `{text}` is too large"));
    }
    Ok(total)
}

/// One `<number><unit>` part `t` of the duration `text`.
fn parse_one(text: &str, t: &str) -> Result<Duration, String> {
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| {
            format!("duration `{text}` has no unit: write it like `500ms`, `3s` or `5m`")
        })?;
    let (number, unit) = t.split_at(split);
    if number.is_empty() {
        return Err(format!(
            "duration `{text}` has no number: write it like `500ms`, `3s` or `5m`"
        ));
    }
    let value: f64 = number
        .parse()
        .map_err(|_| format!("duration `{text}`: `{number}` is not a number"))?;
    let scale = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        other => {
            return Err(format!(
                "duration `{text}`: unknown unit `{other}` (use ns, us, ms, s, m or h)"
            ));
        }
    };
    let nanos = (value * scale).round();
    if !nanos.is_finite() || nanos > u64::MAX as f64 / 2.0 {
        return Err(format!("duration `{text}` is too large"));
    }
    Ok(Duration::from_nanos(nanos as u64))
}

/// Write a duration in the largest unit that keeps it exact: `3s`, `500ms`, `5m`, `1500us`.
pub fn format(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".to_string();
    }
    for (unit, size) in [
        ("h", 3_600_000_000_000u128),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
    ] {
        if ns.is_multiple_of(size) {
            return format!("{}{unit}", ns / size);
        }
    }
    format!("{ns}ns")
}

/// Serde adapter: `#[serde(with = "crate::config::duration")]`.
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*d))
}

/// Serde adapter: `#[serde(with = "crate::config::duration")]`.
///
/// Parses inside the visitor, so that the format's error carries the field's path and position.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_str(DurationVisitor)
}

/// Reads a duration string; anything else is an error saying how to write one.
struct DurationVisitor;

impl<'de> serde::de::Visitor<'de> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a duration like `500ms`, `3s` or `5m`")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
        parse(v).map_err(E::custom)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Duration, E> {
        Err(E::custom(format!(
            "duration `{v}` has no unit: write it like `500ms`, `3s` or `5m`"
        )))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Duration, E> {
        Err(E::custom(format!(
            "duration `{v}` has no unit: write it like `500ms`, `3s` or `5m`"
        )))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Duration, E> {
        Err(E::custom(format!(
            "duration `{v}` has no unit: write it like `500ms`, `3s` or `5m`"
        )))
    }
}

/// Serde adapter for `Option<Duration>`.
pub mod option {
    use super::*;

    /// Serialize `Some(d)` as a duration string, `None` as null.
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&super::format(*d)),
            None => s.serialize_none(),
        }
    }

    /// Deserialize an optional duration string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        d.deserialize_option(OptionVisitor)
    }

    struct OptionVisitor;

    impl<'de> serde::de::Visitor<'de> for OptionVisitor {
        type Value = Option<Duration>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a duration like `500ms`, `3s` or `5m`, or nothing")
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Option<Duration>, E> {
            Ok(None)
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Option<Duration>, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<Duration>, D::Error> {
            super::deserialize(d).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compound_durations_add_their_parts() {
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("2s500ms"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse("1h0m0.5s"), Ok(Duration::from_millis(3_600_500)));
        assert!(parse("1m30x").is_err_and(|e| e.contains("unknown unit `x`")));
        assert!(parse("1m30").is_err_and(|e| e.contains("no unit")));
    }

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        assert!(parse("3").unwrap_err().contains("no unit"));
        assert!(parse("s").unwrap_err().contains("no number"));
        assert!(parse("3 parsecs").unwrap_err().contains("unknown unit"));
        assert!(parse("-3s").is_err());
        assert!(parse("1..2s").unwrap_err().contains("not a number"));
    }

    #[test]
    fn formats_round_trip() {
        for d in ["3s", "500ms", "5m", "1500us", "7ns", "0s", "2h"] {
            assert_eq!(format(parse(d).unwrap()), d);
        }
    }
}
