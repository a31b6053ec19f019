//! Where a problem is in a YAML text: turns serde_norway errors into [`ConfigError`]s with a field
//! path, and finds the line and column of a field named by its path (`network.partitions[0].at`).

use super::ConfigError;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A serde_norway error as a [`ConfigError`]: the parser's line and column, the field path taken
/// from the message (`validators: missing field `count`` gives `validators.count`).
pub(crate) fn yaml_error(origin: &str, text: &str, error: &serde_norway::Error) -> ConfigError {
    let location = error.location().map(|l| (l.line(), l.column()));
    let mut full = error.to_string();
    if let Some((line, column)) = location {
        let suffix = format!(" at line {line} column {column}");
        if let Some(at) = full.find(&suffix) {
            full.replace_range(at..at + suffix.len(), "");
        }
    }
    if text.trim().is_empty() || full == "EOF while parsing a value" {
        return ConfigError::new(
            origin,
            "the scenario is empty: it needs at least `duration` and `validators: { count: N }`",
        );
    }
    let (path, message) = split_path(&full);
    let field = field_of(path, message);
    let mut message = message.to_string();
    if message.contains("more than one document") {
        message = "a scenario file holds one YAML document: remove the `---` lines that start \
                   more documents"
            .to_string();
    } else if message.contains("expected struct Scenario") {
        message.push_str(
            "; a scenario is a YAML map with at least `duration` and `validators: { count: N }`",
        );
    }
    ConfigError {
        origin: origin.to_string(),
        field,
        location,
        message,
    }
}

/// Line and column (1-based) of the value of `field` in `text`, or of its closest written
/// ancestor when the field itself is not written (it took its default).
pub(crate) fn field_location(text: &str, field: &str) -> Option<(usize, usize)> {
    let segments = parse_path(field)?;
    (1..=segments.len())
        .rev()
        .find_map(|len| seek(text, &segments[..len]))
}

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    /// A map key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// `a.b[2].c` as segments; `None` when it is not a path.
fn parse_path(field: &str) -> Option<Vec<Segment>> {
    let mut segments = Vec::new();
    for part in field.split('.') {
        let (key, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if key.is_empty() && segments.is_empty() {
            return None;
        }
        if !key.is_empty() {
            segments.push(Segment::Key(key.to_string()));
        }
        while let Some(inner) = rest.strip_prefix('[') {
            let close = inner.find(']')?;
            segments.push(Segment::Index(inner[..close].parse().ok()?));
            rest = &inner[close + 1..];
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(segments)
}

/// Split `"network.loss: invalid type: …"` into the serde_norway path and the message.
fn split_path(full: &str) -> (Option<&str>, &str) {
    if let Some(at) = full.find(": ") {
        let candidate = &full[..at];
        let is_path = !candidate.is_empty()
            && candidate
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '?'));
        if is_path {
            return (
                Some(candidate.trim_end_matches(['.', '?'])),
                &full[at + 2..],
            );
        }
    }
    (None, full)
}

/// The field an error is about: the path, extended by the field a missing/unknown/duplicate
/// field message names.
fn field_of(path: Option<&str>, message: &str) -> Option<String> {
    let named = ["missing field `", "unknown field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    match (path.filter(|p| !p.is_empty()), named) {
        (Some(path), Some(name)) => Some(format!("{path}.{name}")),
        (None, Some(name)) => Some(name.to_string()),
        (Some(path), None) => Some(path.to_string()),
        (None, None) => None,
    }
}

/// Marks the error raised when the seek reaches the field.
const FOUND: &str = "\u{0}field found";

/// Walk the document along `path`; when the value is reached, fail on purpose so that
/// serde_norway stamps the error with the value's position.
fn seek(text: &str, path: &[Segment]) -> Option<(usize, usize)> {
    match Seek(path).deserialize(serde_norway::Deserializer::from_str(text)) {
        Err(e) if e.to_string().contains(FOUND) => e.location().map(|l| (l.line(), l.column())),
        _ => None,
    }
}

struct Seek<'a>(&'a [Segment]);

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Seek<'_> {
    fn leaf<E: de::Error>(&self) -> Result<(), E> {
        if self.0.is_empty() {
            Err(E::custom(FOUND))
        } else {
            Ok(())
        }
    }
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.leaf()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.leaf()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.leaf()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.leaf()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.leaf()
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.leaf()
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.leaf()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.leaf()?;
        let wanted = match self.0.first() {
            Some(Segment::Key(name)) => Some(name.as_str()),
            _ => None,
        };
        while let Some(key) = map.next_key::<serde_norway::Value>()? {
            if wanted.is_some() && key.as_str() == wanted {
                map.next_value_seed(Seek(&self.0[1..]))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.leaf()?;
        let wanted = match self.0.first() {
            Some(Segment::Index(i)) => Some(*i),
            _ => None,
        };
        let mut index = 0;
        loop {
            let more = if Some(index) == wanted {
                seq.next_element_seed(Seek(&self.0[1..]))?.is_some()
            } else {
                seq.next_element::<IgnoredAny>()?.is_some()
            };
            if !more {
                return Ok(());
            }
            index += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_into_keys_and_indices() {
        assert_eq!(
            parse_path("network.partitions[1].groups[0]"),
            Some(vec![
                Segment::Key("network".into()),
                Segment::Key("partitions".into()),
                Segment::Index(1),
                Segment::Key("groups".into()),
                Segment::Index(0),
            ])
        );
        assert_eq!(parse_path("a[x]"), None);
        assert_eq!(parse_path("a[1]b"), None);
    }

    #[test]
    fn finds_block_and_flow_fields() {
        let text = "duration: 60s\nvalidators:\n  count: 4\nnetwork:\n  latency: { distribution: constant, mean: 10ms }\n  partitions:\n    - at: 1s\n      groups: [[0, 1], [2, 3]]\n";
        assert_eq!(field_location(text, "duration"), Some((1, 11)));
        assert_eq!(field_location(text, "validators.count"), Some((3, 10)));
        assert_eq!(field_location(text, "network.latency.mean"), Some((5, 44)));
        assert_eq!(
            field_location(text, "network.partitions[0].groups[1]"),
            Some((8, 24)), // libyaml marks a flow sequence just inside its `[`
        );
        // Not written: the closest written ancestor.
        assert_eq!(field_location(text, "network.loss").map(|l| l.0), Some(5));
        assert_eq!(field_location(text, "byzantine.count"), None);
    }

    #[test]
    fn messages_give_their_field() {
        assert_eq!(
            field_of(Some("validators"), "missing field `count`"),
            Some("validators.count".into())
        );
        assert_eq!(
            field_of(None, "unknown field `foo`, expected one of `a`"),
            Some("foo".into())
        );
        assert_eq!(
            split_path("network.loss: invalid type: string"),
            (Some("network.loss"), "invalid type: string")
        );
        assert_eq!(
            split_path("invalid type: unit value"),
            (None, "invalid type: unit value")
        );
    }
}
