//! Reading a decompressed shard in batches of raw lines. Memory is bounded by the
//! batch size plus `max_line_bytes`: a longer line is read through and counted,
//! never held.

use std::io::BufRead;
use std::ops::Range;

use super::Layout;

/// One input line (or, for a `.txt` shard, the whole file) inside a [`LineBatch`].
#[derive(Clone, Debug)]
pub struct RawLine {
    /// 1-based line number in the shard.
    pub line: u64,
    /// The line's bytes in [`LineBatch::data`], without the newline.
    pub range: Range<usize>,
    /// Set when the line was longer than the limit: its length in bytes. The
    /// range is then empty.
    pub too_long: Option<u64>,
}

/// A run of consecutive lines, stored in one buffer.
#[derive(Debug, Default)]
pub struct LineBatch {
    pub data: Vec<u8>,
    pub lines: Vec<RawLine>,
}

impl LineBatch {
    /// The bytes of `line`.
    pub fn bytes(&self, line: &RawLine) -> &[u8] {
        &self.data[line.range.clone()]
    }

    /// True when the batch holds no line: the stream has ended.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// Bytes of input lines per batch for sequential readers.
const BATCH_BYTES: usize = 4 << 20;

/// Reads a shard's lines in batches.
pub struct LineReader {
    inner: Box<dyn BufRead + Send>,
    layout: Layout,
    max_line: usize,
    line_no: u64,
    done: bool,
}

/// A read failure part-way through a shard (corrupt or truncated stream).
#[derive(Debug)]
pub struct StreamError {
    /// The line being read when the stream failed.
    pub line: u64,
    pub error: std::io::Error,
}

impl StreamError {
    /// The crate's error for this failure, naming `shard` and the line.
    pub fn in_shard(self, shard: &std::path::Path) -> crate::Error {
        crate::Error::Shard {
            shard: shard.display().to_string(),
            line: self.line,
            message: format!("corrupt or truncated stream: {}", self.error),
        }
    }
}

impl LineReader {
    /// Read `inner` as `layout`, refusing to hold lines longer than `max_line` bytes.
    pub fn new(inner: Box<dyn BufRead + Send>, layout: Layout, max_line: usize) -> Self {
        LineReader {
            inner,
            layout,
            max_line,
            line_no: 0,
            done: false,
        }
    }

    /// Lines read so far.
    pub fn lines_read(&self) -> u64 {
        self.line_no
    }

    /// Read lines until the batch holds about `target_bytes`; an empty batch means
    /// the end of the shard.
    pub fn read_batch(&mut self, target_bytes: usize) -> Result<LineBatch, StreamError> {
        let mut batch = LineBatch::default();
        self.refill(target_bytes, &mut batch)?;
        Ok(batch)
    }

    /// Like [`read_batch`](Self::read_batch), into a batch whose buffers are
    /// reused: a loop that swaps two batches then allocates (and has the kernel
    /// zero) its memory once, not once per batch.
    pub fn refill(
        &mut self,
        target_bytes: usize,
        batch: &mut LineBatch,
    ) -> Result<(), StreamError> {
        batch.data.clear();
        batch.lines.clear();
        while !self.done && batch.data.len() < target_bytes {
            let start = batch.data.len();
            let (len, ended) = self
                .read_line(&mut batch.data)
                .map_err(|error| StreamError {
                    line: self.line_no + 1,
                    error,
                })?;
            if ended && len == 0 && (self.layout == Layout::JsonLines || self.line_no > 0) {
                self.done = true;
                break;
            }
            self.line_no += 1;
            let too_long = (len > self.max_line as u64).then_some(len);
            if too_long.is_some() {
                batch.data.truncate(start);
            }
            batch.lines.push(RawLine {
                line: self.line_no,
                range: start..batch.data.len(),
                too_long,
            });
            if self.layout == Layout::Text {
                self.done = true;
            }
        }
        Ok(())
    }

    /// [`refill`](Self::refill) for readers that stop at a broken stream: the
    /// failure becomes the crate's error naming `shard` and the line. False
    /// at the end of the shard.
    pub fn next_batch(
        &mut self,
        batch: &mut LineBatch,
        shard: &std::path::Path,
    ) -> crate::Result<bool> {
        self.refill(BATCH_BYTES, batch)
            .map_err(|e| e.in_shard(shard))?;
        Ok(!batch.is_empty())
    }

    /// Append one line (or the whole stream for `.txt`) to `out`, up to the limit.
    /// Returns the line's full length and whether the stream ended without a
    /// newline.
    fn read_line(&mut self, out: &mut Vec<u8>) -> std::io::Result<(u64, bool)> {
        let start = out.len();
        let mut len: u64 = 0;
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                trim_cr(out, start);
                return Ok((len, true));
            }
            let newline = match self.layout {
                Layout::JsonLines => memchr::memchr(b'\n', buf),
                Layout::Text => None,
            };
            let take = newline.unwrap_or(buf.len());
            if len + (take as u64) <= self.max_line as u64 {
                out.extend_from_slice(&buf[..take]);
            }
            len += take as u64;
            let consumed = newline.map_or(take, |i| i + 1);
            self.inner.consume(consumed);
            if newline.is_some() {
                if trim_cr(out, start) {
                    len -= 1;
                }
                return Ok((len, false));
            }
        }
    }
}

/// Drop a trailing `\r` from the line that starts at `start`; true if one was dropped.
fn trim_cr(out: &mut Vec<u8>, start: usize) -> bool {
    if out.len() > start && out.last() == Some(&b'\r') {
        out.pop();
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize, batch: usize) -> Vec<(u64, Vec<u8>, Option<u64>)> {
        let mut r = LineReader::new(
            Box::new(input.to_vec().leak() as &[u8]),
            Layout::JsonLines,
            max,
        );
        let mut out = vec![];
        loop {
            let b = r.read_batch(batch).unwrap();
            if b.is_empty() {
                return out;
            }
            for l in &b.lines {
                out.push((l.line, b.bytes(l).to_vec(), l.too_long));
            }
        }
    }

    #[test]
    fn splits_lines_and_numbers_them() {
        let got = lines(b"a\r\nbb\n\nccc", 100, 2);
        let texts: Vec<_> = got.iter().map(|(n, t, _)| (*n, t.as_slice())).collect();
        assert_eq!(texts, [(1, &b"a"[..]), (2, b"bb"), (3, b""), (4, b"ccc")]);
    }

    #[test]
    fn long_lines_are_measured_not_kept() {
        let got = lines(b"short\n0123456789\nok\n", 5, 1000);
        assert_eq!(got[1], (2, vec![], Some(10)));
        assert_eq!(got[2].1, b"ok");
    }

    #[test]
    fn a_refilled_batch_holds_only_the_new_lines() {
        let mut r = LineReader::new(Box::new(&b"aaaa\nbb\ncc\n"[..]), Layout::JsonLines, 100);
        let mut batch = LineBatch::default();
        r.refill(3, &mut batch).unwrap();
        assert_eq!(batch.lines.len(), 1);
        r.refill(3, &mut batch).unwrap();
        let texts: Vec<_> = batch.lines.iter().map(|l| batch.bytes(l)).collect();
        assert_eq!(texts, [&b"bb"[..], b"cc"]);
        assert_eq!(batch.lines[0].line, 2);
        r.refill(3, &mut batch).unwrap();
        assert!(batch.is_empty());
    }

    #[test]
    fn text_layout_reads_one_document() {
        let mut r = LineReader::new(Box::new(&b"line one\nline two\n"[..]), Layout::Text, 100);
        let b = r.read_batch(1 << 20).unwrap();
        assert_eq!(b.lines.len(), 1);
        assert_eq!(b.bytes(&b.lines[0]), b"line one\nline two\n");
        assert!(r.read_batch(1 << 20).unwrap().is_empty());
    }
}
