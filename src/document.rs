//! `Document`: one input record (id, text, a few requested metadata fields) and the
//! one-pass JSON extraction that produces it from a raw line. The raw line is kept
//! by reference so writers can copy every other field back unchanged.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::shard::BadKind;

/// A dotted path into a JSON object, e.g. `metadata.text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldPath(Vec<String>);

impl FieldPath {
    /// Parse `a.b.c`. Empty components are rejected.
    pub fn parse(dotted: &str) -> crate::Result<FieldPath> {
        let parts: Vec<String> = dotted.split('.').map(str::to_string).collect();
        if parts.iter().any(String::is_empty) {
            return Err(crate::Error::Usage(format!(
                "field path {dotted:?} has an empty component"
            )));
        }
        Ok(FieldPath(parts))
    }

    /// The path's components.
    pub fn parts(&self) -> &[String] {
        &self.0
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// A JSON value reduced to what `tropes` uses from it.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar<'a> {
    Str(Cow<'a, str>),
    /// A number, kept as written.
    Num(String),
    Bool(bool),
    /// Anything else, by JSON type name (`null`, `object`, `array`).
    Other(&'static str),
}

impl Scalar<'_> {
    /// The value as text, for ids and metadata (numbers and booleans as written).
    pub fn as_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Scalar::Str(s) => Some(Cow::Borrowed(s.as_ref())),
            Scalar::Num(n) => Some(Cow::Borrowed(n.as_str())),
            Scalar::Bool(b) => Some(Cow::Owned(b.to_string())),
            Scalar::Other(_) => None,
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Scalar::Str(_) => "string",
            Scalar::Num(_) => "number",
            Scalar::Bool(_) => "boolean",
            Scalar::Other(t) => t,
        }
    }
}

/// One input document, borrowing from the batch buffer it was read into.
#[derive(Debug)]
pub struct Document<'a> {
    /// The id field, or `<shard>:<line>` when the record has none.
    pub id: String,
    /// The document text.
    pub text: Cow<'a, str>,
    /// 1-based line number in the shard (0 for a `.txt` document).
    pub line: u64,
    /// The requested metadata fields, in the order they were requested.
    pub fields: Vec<Option<Scalar<'a>>>,
    /// The raw JSON line (empty for `.txt` documents).
    pub raw: &'a str,
}

/// A record that could not be made into a document, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRecord {
    pub kind: BadKind,
    pub message: String,
}

/// Which fields to pull out of each JSON line.
#[derive(Clone, Debug)]
pub struct Extractor {
    text: FieldPath,
    id: FieldPath,
    fields: Vec<FieldPath>,
}

/// The result of following a path into a value.
enum Lookup<'a> {
    Missing,
    Found(Scalar<'a>),
}

impl Extractor {
    /// Extract `text` and `id` (dotted paths) and the given metadata `fields`.
    pub fn new(text: FieldPath, id: FieldPath, fields: Vec<FieldPath>) -> Self {
        Extractor { text, id, fields }
    }

    /// The metadata fields requested, in order.
    pub fn fields(&self) -> &[FieldPath] {
        &self.fields
    }

    /// Turn one JSON line into a document, or say why it is bad.
    pub fn parse<'a>(
        &self,
        line: &'a [u8],
        line_no: u64,
        shard: &str,
    ) -> Result<Document<'a>, BadRecord> {
        let raw = std::str::from_utf8(line).map_err(|e| BadRecord {
            kind: BadKind::InvalidUtf8,
            message: format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        })?;
        let paths = self.all_paths();
        let mut de = serde_json::Deserializer::from_str(raw);
        let found = TopSeed { paths: &paths }
            .deserialize(&mut de)
            .and_then(|v| de.end().map(|_| v))
            .map_err(|e| BadRecord {
                kind: BadKind::MalformedJson,
                message: e.to_string(),
            })?;
        let mut found = found.ok_or_else(|| BadRecord {
            kind: BadKind::NotAnObject,
            message: "the line is JSON but not an object".into(),
        })?;
        let text = match found.remove(0) {
            Lookup::Found(Scalar::Str(s)) => s,
            Lookup::Found(other) => {
                return Err(BadRecord {
                    kind: BadKind::TextNotString,
                    message: format!(
                        "field {} is a {}, not a string",
                        self.text,
                        other.type_name()
                    ),
                });
            }
            Lookup::Missing => {
                return Err(BadRecord {
                    kind: BadKind::MissingText,
                    message: format!("no field {}", self.text),
                });
            }
        };
        let id = match found.remove(0) {
            Lookup::Found(s) => s.as_text().map(|c| c.into_owned()),
            Lookup::Missing => None,
        }
        .unwrap_or_else(|| format!("{shard}:{line_no}"));
        let fields = found
            .into_iter()
            .map(|l| match l {
                Lookup::Found(s) => Some(s),
                Lookup::Missing => None,
            })
            .collect();
        Ok(Document {
            id,
            text,
            line: line_no,
            fields,
            raw,
        })
    }

    fn all_paths(&self) -> Vec<&[String]> {
        let mut paths = vec![self.text.parts(), self.id.parts()];
        paths.extend(self.fields.iter().map(FieldPath::parts));
        paths
    }
}

/// Deserializes the top-level object, following every wanted path in one pass.
/// Returns `None` when the value is not an object.
struct TopSeed<'p> {
    paths: &'p [&'p [String]],
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_> {
    type Value = Option<Vec<Lookup<'de>>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(TopVisitor { paths: self.paths })
    }
}

struct TopVisitor<'p> {
    paths: &'p [&'p [String]],
}

impl<'de> Visitor<'de> for TopVisitor<'_> {
    type Value = Option<Vec<Lookup<'de>>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out: Vec<Lookup<'de>> = self.paths.iter().map(|_| Lookup::Missing).collect();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let wanted: Vec<usize> = (0..self.paths.len())
                .filter(|&i| self.paths[i][0] == key && matches!(out[i], Lookup::Missing))
                .collect();
            match wanted.as_slice() {
                [] => {
                    map.next_value::<IgnoredAny>()?;
                }
                [i] => out[*i] = map.next_value_seed(PathSeed(&self.paths[*i][1..]))?,
                several => {
                    let raw: &'de RawValue = map.next_value()?;
                    for &i in several {
                        out[i] = follow(raw, &self.paths[i][1..]);
                    }
                }
            }
        }
        Ok(Some(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

fn follow<'de>(raw: &'de RawValue, rest: &[String]) -> Lookup<'de> {
    let mut de = serde_json::Deserializer::from_str(raw.get());
    PathSeed(rest)
        .deserialize(&mut de)
        .unwrap_or(Lookup::Missing)
}

/// Follows the rest of a path inside a value.
struct PathSeed<'p>(&'p [String]);

impl<'de> DeserializeSeed<'de> for PathSeed<'_> {
    type Value = Lookup<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        if self.0.is_empty() {
            return d.deserialize_any(ScalarVisitor).map(Lookup::Found);
        }
        d.deserialize_any(NestedVisitor(self.0))
    }
}

struct NestedVisitor<'p>(&'p [String]);

impl<'de> Visitor<'de> for NestedVisitor<'_> {
    type Value = Lookup<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = Lookup::Missing;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == self.0[0] && matches!(found, Lookup::Missing) {
                found = map.next_value_seed(PathSeed(&self.0[1..]))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Lookup::Missing)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Lookup::Missing)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Lookup::Missing)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Lookup::Missing)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Lookup::Missing)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Lookup::Missing)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Lookup::Missing)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Num(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Scalar::Num(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Num(v.to_string()))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Other("null"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other("object"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other("array"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(text: &str, id: &str, fields: &[&str]) -> Extractor {
        Extractor::new(
            FieldPath::parse(text).unwrap(),
            FieldPath::parse(id).unwrap(),
            fields
                .iter()
                .map(|f| FieldPath::parse(f).unwrap())
                .collect(),
        )
    }

    #[test]
    fn extracts_text_id_and_nested_fields() {
        let e = ex("body.text", "meta.id", &["meta.source", "n"]);
        let line =
            br#"{"n": 3, "meta": {"id": 7, "source": "web"}, "body": {"text": "hi\nthere"}}"#;
        let d = e.parse(line, 5, "s").unwrap();
        assert_eq!(d.text, "hi\nthere");
        assert_eq!(d.id, "7");
        assert_eq!(d.fields[0], Some(Scalar::Str("web".into())));
        assert_eq!(d.fields[1], Some(Scalar::Num("3".into())));
    }

    #[test]
    fn missing_id_falls_back_to_shard_and_line() {
        let d = ex("text", "id", &[])
            .parse(br#"{"text": "x"}"#, 9, "a/b")
            .unwrap();
        assert_eq!(d.id, "a/b:9");
    }

    #[test]
    fn bad_records_are_classified() {
        let e = ex("text", "id", &[]);
        let kind = |l: &[u8]| e.parse(l, 1, "s").unwrap_err().kind;
        assert_eq!(kind(b"{\"text\": 5}"), BadKind::TextNotString);
        assert_eq!(kind(b"{\"id\": 5}"), BadKind::MissingText);
        assert_eq!(kind(b"{\"text\": \"a\""), BadKind::MalformedJson);
        assert_eq!(kind(b"[1, 2]"), BadKind::NotAnObject);
        assert_eq!(kind(b"{\"text\": \"\xff\"}"), BadKind::InvalidUtf8);
        assert_eq!(kind(b"{\"text\": \"a\"} trailing"), BadKind::MalformedJson);
    }
}
