//! Serde for a [`Duration`] as a number of seconds (`1.25`), as every report writes durations
//! (in fields named `*_s`). Reading also takes the `{"secs": …, "nanos": …}` object older
//! reports wrote, so `ccperf report` and `ccperf merge` read them.

use serde::{Deserialize, Deserializer, Serializer};
use std::time::Duration;

/// Writes `d` as seconds.
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Reads seconds (finite, not negative), or std's `{"secs", "nanos"}`.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Seconds(f64),
        Std { secs: u64, nanos: u32 },
    }
    match Written::deserialize(d)? {
        Written::Seconds(x) => Duration::try_from_secs_f64(x).map_err(|_| {
            serde::de::Error::custom(format!(
                "{x} is not a duration: seconds must be finite and not negative"
            ))
        }),
        Written::Std { secs, nanos } => Ok(Duration::new(secs, nanos)),
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use std::time::Duration;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct At {
        #[serde(rename = "at_s", with = "super")]
        at: Duration,
    }

    #[test]
    fn seconds_round_trip_and_old_reports_still_read() {
        let at = At {
            at: Duration::from_millis(22_750),
        };
        let text = serde_json::to_string(&at).unwrap();
        assert_eq!(text, r#"{"at_s":22.75}"#);
        assert_eq!(serde_json::from_str::<At>(&text).unwrap(), at);
        let old: At = serde_json::from_str(r#"{"at_s":{"secs":22,"nanos":750000000}}"#).unwrap();
        assert_eq!(old, at);
        let nanos = At {
            at: Duration::new(86_399, 123_456_789),
        };
        let back: At = serde_json::from_str(&serde_json::to_string(&nanos).unwrap()).unwrap();
        assert_eq!(back, nanos);
        assert!(serde_json::from_str::<At>(r#"{"at_s":-1.0}"#).is_err());
    }
}
