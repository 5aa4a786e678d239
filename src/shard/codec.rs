//! Shard formats: which files are shards, how they are compressed, and opening a
//! decompressed byte stream. The extension decides the format; the first bytes
//! must agree with it, so a mislabelled file fails loudly instead of as garbage.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use xxhash_rust::xxh3::Xxh3;

use super::prefetch::Prefetch;
use crate::error::{Error, IoContext, Result};

/// How a shard's bytes are compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    Plain,
    Zstd,
    Gzip,
}

/// How a shard's decompressed bytes hold documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One JSON object per line.
    JsonLines,
    /// The whole file is one document's text.
    Text,
}

/// A shard format, known from the file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    pub codec: Codec,
    pub layout: Layout,
}

const JSON_EXTS: [&str; 3] = ["jsonl", "json", "ndjson"];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

impl Format {
    /// The format named by `path`'s extension, or `None` when it is not a shard.
    pub fn of(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let (stem, codec) = if let Some(s) = name.strip_suffix(".zst") {
            (s, Codec::Zstd)
        } else if let Some(s) = name.strip_suffix(".zstd") {
            (s, Codec::Zstd)
        } else if let Some(s) = name.strip_suffix(".gz") {
            (s, Codec::Gzip)
        } else {
            (name.as_str(), Codec::Plain)
        };
        let ext = stem.rsplit_once('.')?.1;
        let layout = if JSON_EXTS.contains(&ext) {
            Layout::JsonLines
        } else if ext == "txt" {
            Layout::Text
        } else {
            return None;
        };
        Some(Format { codec, layout })
    }

    /// The file name without its format extensions: `a/b.jsonl.gz` → `a/b`.
    pub fn strip_name(name: &str) -> &str {
        let mut s = name;
        for ext in [".zst", ".zstd", ".gz"] {
            if let Some(rest) = s.strip_suffix(ext) {
                s = rest;
                break;
            }
        }
        for ext in [".jsonl", ".json", ".ndjson", ".txt"] {
            if let Some(rest) = s.strip_suffix(ext) {
                return rest;
            }
        }
        s
    }
}

/// The extensions `tropes` reads, for messages.
pub const KNOWN_EXTENSIONS: &str =
    ".jsonl, .json, .ndjson, .txt, each optionally followed by .zst or .gz";

/// Size and content hash of a file's bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint {
    pub bytes: u64,
    pub xxh3: u64,
}

#[derive(Default)]
struct TapState {
    hasher: Xxh3,
    bytes: u64,
}

/// Shared view of the compressed bytes a shard's decoder has pulled so far.
#[derive(Clone, Default)]
pub struct TapHandle(Arc<std::sync::Mutex<TapState>>);

impl TapHandle {
    /// Size and hash of what has been read so far (the whole file, once read to its end).
    pub fn get(&self) -> Fingerprint {
        // A poisoned lock only means a reader panicked; the counts are still usable.
        let state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        Fingerprint {
            bytes: state.bytes,
            xxh3: state.hasher.digest(),
        }
    }
}

/// Counts and hashes the compressed bytes as the decoder pulls them, so a shard's
/// size and hash come with reading it, and progress can be shown.
struct Tap<R> {
    inner: R,
    state: TapHandle,
    progress: Option<Arc<AtomicU64>>,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut state = self.state.0.lock().unwrap_or_else(|e| e.into_inner());
        state.hasher.update(&buf[..n]);
        state.bytes += n as u64;
        if let Some(p) = &self.progress {
            p.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// An open shard: the decompressed stream plus what is needed to report on it.
pub struct Opened {
    pub reader: Box<dyn BufRead + Send>,
    /// The compressed size and hash, complete once the stream reaches its end.
    pub fingerprint: TapHandle,
    /// True when the file has no bytes at all.
    pub empty: bool,
}

/// Open `path` as `format`, checking the magic bytes against the extension.
pub fn open(path: &Path, format: Format, progress: Option<Arc<AtomicU64>>) -> Result<Opened> {
    let mut file = File::open(path).at(path)?;
    let mut head = [0u8; 4];
    let got = read_head(&mut file, &mut head).at(path)?;
    check_magic(path, format.codec, &head[..got])?;
    let chained = std::io::Cursor::new(head[..got].to_vec()).chain(file);
    let handle = TapHandle::default();
    let raw = Tap {
        inner: chained,
        state: handle.clone(),
        progress,
    };
    let reader: Box<dyn BufRead + Send> = match format.codec {
        Codec::Plain => Box::new(BufReader::with_capacity(1 << 20, raw)),
        Codec::Zstd => Box::new(Prefetch::spawn(zstd::Decoder::new(raw).at(path)?).at(path)?),
        Codec::Gzip => Box::new(
            Prefetch::spawn(flate2::read::MultiGzDecoder::new(BufReader::new(raw))).at(path)?,
        ),
    };
    Ok(Opened {
        reader,
        fingerprint: handle,
        empty: got == 0,
    })
}

fn read_head(file: &mut File, head: &mut [u8; 4]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

fn check_magic(path: &Path, codec: Codec, head: &[u8]) -> Result<()> {
    if head.is_empty() {
        return Ok(());
    }
    let is_zstd = head.starts_with(&ZSTD_MAGIC);
    let is_gzip = head.starts_with(&GZIP_MAGIC);
    let problem = match codec {
        Codec::Zstd if !is_zstd => {
            Some("named as zstd but does not start with the zstd magic bytes")
        }
        Codec::Gzip if !is_gzip => {
            Some("named as gzip but does not start with the gzip magic bytes")
        }
        Codec::Plain if is_zstd => Some("looks zstd-compressed but has no .zst extension"),
        Codec::Plain if is_gzip => Some("looks gzip-compressed but has no .gz extension"),
        _ => None,
    };
    match problem {
        Some(message) => Err(Error::Shard {
            shard: path.display().to_string(),
            line: 0,
            message: message.to_string(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_extensions() {
        let f = |p: &str| Format::of(Path::new(p));
        assert_eq!(f("a/b.jsonl.zst").unwrap().codec, Codec::Zstd);
        assert_eq!(f("b.json.gz").unwrap().codec, Codec::Gzip);
        assert_eq!(f("b.txt").unwrap().layout, Layout::Text);
        assert_eq!(f("b.JSONL").unwrap().layout, Layout::JsonLines);
        assert!(f("README.md").is_none());
        assert!(f("data.zst").is_none());
        assert_eq!(Format::strip_name("x/part-1.jsonl.gz"), "x/part-1");
        assert_eq!(Format::strip_name("book.txt"), "book");
    }
}
