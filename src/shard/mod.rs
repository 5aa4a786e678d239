//! Shards: finding them ([`discover`]), opening them ([`codec`]), reading their
//! records in batches ([`reader`]), decompressing ahead of the reader on a
//! thread of its own ([`prefetch`]), and writing outputs atomically ([`writer`]).

pub mod codec;
pub mod discover;
pub mod prefetch;
pub mod reader;
pub mod writer;

pub use codec::{Codec, Fingerprint, Format, Layout};
pub use discover::{Discovery, ShardInput, discover};
pub use reader::{LineBatch, LineReader, RawLine};

/// Why an input record did not become a document. Every such record is counted by
/// kind in the shard's stats, with its line number in the first examples.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum BadKind {
    /// The line is not valid JSON.
    MalformedJson,
    /// The line is JSON but not an object.
    NotAnObject,
    /// The object has no text field at the configured path.
    MissingText,
    /// The text field is not a string.
    TextNotString,
    /// The line is not valid UTF-8.
    InvalidUtf8,
    /// The line is longer than `--max-line-bytes`.
    LineTooLong,
    /// The line holds only white space.
    BlankLine,
    /// The file has no bytes at all.
    EmptyFile,
}

impl BadKind {
    /// The snake_case name used in stats and messages.
    pub fn name(self) -> &'static str {
        match self {
            BadKind::MalformedJson => "malformed_json",
            BadKind::NotAnObject => "not_an_object",
            BadKind::MissingText => "missing_text",
            BadKind::TextNotString => "text_not_string",
            BadKind::InvalidUtf8 => "invalid_utf8",
            BadKind::LineTooLong => "line_too_long",
            BadKind::BlankLine => "blank_line",
            BadKind::EmptyFile => "empty_file",
        }
    }
}
