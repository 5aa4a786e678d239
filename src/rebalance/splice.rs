//! Editing a JSON line without re-serialising it: find the byte span of a value
//! at a dotted path and splice a new value in, so every other field keeps its
//! bytes (key order, number formatting, escapes) exactly as it came.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

use serde_json::value::RawValue;

/// The byte span of the value at `path` in the JSON object `line`.
pub fn value_span(line: &str, path: &[String]) -> Option<Range<usize>> {
    let mut base = line;
    let mut offset = 0;
    for key in path {
        let map: BTreeMap<Cow<str>, &RawValue> = serde_json::from_str(base).ok()?;
        let raw = map.get(key.as_str())?.get();
        offset += raw.as_ptr() as usize - base.as_ptr() as usize;
        base = raw;
    }
    Some(offset..offset + base.len())
}

/// `line` with the value at `span` replaced by `value` (already JSON).
pub fn replace(line: &str, span: Range<usize>, value: &str) -> String {
    let mut out = String::with_capacity(line.len() + value.len());
    out.push_str(&line[..span.start]);
    out.push_str(value);
    out.push_str(&line[span.end..]);
    out
}

/// `line` with `"key": value` added as the last member of the top-level object.
pub fn append_member(line: &str, key: &str, value: &str) -> String {
    let end = line.trim_end();
    let Some(body) = end.strip_suffix('}') else {
        return line.to_string();
    };
    let empty = body.trim_end().ends_with('{');
    let sep = if empty { "" } else { ", " };
    format!(
        "{body}{sep}{}: {value}}}",
        serde_json::to_string(key).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(String::from).collect()
    }

    #[test]
    fn spans_point_at_values() {
        let line = r#"{"b": 1.50, "meta": {"id": "x\u00e9", "n": [1,2]}, "text": "a\nb"}"#;
        assert_eq!(&line[value_span(line, &path("text")).unwrap()], r#""a\nb""#);
        assert_eq!(
            &line[value_span(line, &path("meta.id")).unwrap()],
            r#""x\u00e9""#
        );
        assert_eq!(value_span(line, &path("meta.zz")), None);
    }

    #[test]
    fn edits_keep_every_other_byte() {
        let line = r#"{"z": 1.50, "text": "old", "a": {"k": [1, 2]}}"#;
        let span = value_span(line, &path("text")).unwrap();
        let edited = replace(line, span, "\"new\"");
        assert_eq!(edited, r#"{"z": 1.50, "text": "new", "a": {"k": [1, 2]}}"#);
        let tagged = append_member(&edited, "tropes", "{\"fate\":\"kept\"}");
        assert_eq!(
            tagged,
            r#"{"z": 1.50, "text": "new", "a": {"k": [1, 2]}, "tropes": {"fate":"kept"}}"#
        );
        assert_eq!(append_member("{}", "k", "1"), r#"{"k": 1}"#);
    }
}
