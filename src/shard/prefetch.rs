//! Decompression on a thread of its own. A compressed shard's decoder runs a
//! few chunks ahead of the reader, as `zstd -dc | …` does in a pipe, so
//! decompressing and tagging overlap even with one worker thread. Memory stays
//! bounded: at most `DEPTH` chunks wait in the channel, and chunks are handed
//! back to be reused, so the kernel zeroes their pages once.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};

/// Bytes per chunk.
const CHUNK: usize = 1 << 20;
/// Chunks decompressed ahead of the reader.
const DEPTH: usize = 2;

/// What the decoding thread sends: a chunk and how many of its bytes are
/// filled, the end of the stream, or the error that stopped it.
type Message = io::Result<Option<(Vec<u8>, usize)>>;

/// A `BufRead` over a decoder running on its own thread.
pub struct Prefetch {
    chunks: Receiver<Message>,
    /// The decoding thread, joined only to report why it stopped early.
    thread: Option<std::thread::JoinHandle<()>>,
    spent: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    filled: usize,
    pos: usize,
    state: State,
}

#[derive(Clone)]
enum State {
    Reading,
    Ended,
    /// The decoder failed: every later read fails the same way.
    Failed(io::ErrorKind, String),
}

impl Prefetch {
    /// Start decoding `inner` on a new thread.
    pub fn spawn(inner: impl Read + Send + 'static) -> io::Result<Prefetch> {
        let (send, chunks) = sync_channel(DEPTH);
        let (spent, returned) = sync_channel(DEPTH + 2);
        let thread = std::thread::Builder::new()
            .name("tropes-decompress".into())
            .spawn(move || decode(inner, &send, &returned))?;
        Ok(Prefetch {
            chunks,
            thread: Some(thread),
            spent,
            current: vec![],
            filled: 0,
            pos: 0,
            state: State::Reading,
        })
    }

    /// Take the next chunk from the decoding thread.
    fn next_chunk(&mut self) {
        // The thread ends only after sending the end or an error, so a closed
        // channel means it panicked: never read that as the end.
        let message = self
            .chunks
            .recv()
            .unwrap_or_else(|_| Err(self.why_stopped()));
        match message {
            Ok(Some((chunk, filled))) => {
                let old = std::mem::replace(&mut self.current, chunk);
                // A full return channel only means the thread has spares.
                let _ = self.spent.try_send(old);
                self.filled = filled;
                self.pos = 0;
            }
            Ok(None) => self.state = State::Ended,
            Err(e) => self.state = State::Failed(e.kind(), e.to_string()),
        }
    }

    /// The error for a decoding thread that stopped without a word: its panic.
    fn why_stopped(&mut self) -> io::Error {
        let panic = self.thread.take().and_then(|t| t.join().err());
        let why = panic
            .as_deref()
            .and_then(|p| {
                p.downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
            })
            .unwrap_or_else(|| "no message".into());
        io::Error::other(format!("the decompression thread stopped: {why}"))
    }
}

/// The decoding thread: fill chunks (reusing those the reader hands back) and
/// send them until the stream ends or fails, or the reader hangs up. The bytes
/// decoded before a failure are sent before it, as a plain reader would see them.
fn decode(mut inner: impl Read, send: &SyncSender<Message>, returned: &Receiver<Vec<u8>>) {
    loop {
        let mut chunk = match returned.try_recv() {
            Ok(chunk) if chunk.len() == CHUNK => chunk,
            // The reader's first "spent" chunk is its empty placeholder.
            Ok(_) | Err(TryRecvError::Empty | TryRecvError::Disconnected) => vec![0; CHUNK],
        };
        let (n, failure) = fill(&mut inner, &mut chunk);
        if n > 0 && send.send(Ok(Some((chunk, n)))).is_err() {
            return;
        }
        match failure {
            Some(e) => return drop(send.send(Err(e))),
            None if n < CHUNK => return drop(send.send(Ok(None))),
            None => {}
        }
    }
}

/// Read into `chunk` until it is full, the stream ends or a read fails: the
/// bytes read, and the failure.
fn fill(inner: &mut impl Read, chunk: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut n = 0;
    while n < chunk.len() {
        match inner.read(&mut chunk[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

impl BufRead for Prefetch {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.filled && matches!(self.state, State::Reading) {
            self.next_chunk();
        }
        match &self.state {
            State::Failed(kind, message) if self.pos == self.filled => {
                Err(io::Error::new(*kind, message.clone()))
            }
            _ => Ok(&self.current[self.pos..self.filled]),
        }
    }

    fn consume(&mut self, amount: usize) {
        self.pos = (self.pos + amount).min(self.filled);
    }
}

impl Read for Prefetch {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that yields `good` bytes, then fails.
    struct Failing {
        good: io::Cursor<Vec<u8>>,
    }

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.good.read(buf)? {
                0 => Err(io::Error::new(io::ErrorKind::InvalidData, "bad frame")),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn passes_every_byte_through_in_order() {
        let data: Vec<u8> = (0..3 * CHUNK + 17).map(|i| (i % 251) as u8).collect();
        let mut out = vec![];
        Prefetch::spawn(io::Cursor::new(data.clone()))
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
    }

    /// A reader that panics, or one that never ends and says when it is dropped.
    struct Panics;

    impl Read for Panics {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            panic!("decoder bug")
        }
    }

    struct Endless(std::sync::Arc<std::sync::atomic::AtomicBool>);

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            buf.fill(b'x');
            Ok(buf.len())
        }
    }

    impl Drop for Endless {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn a_panicking_decoder_is_an_error_with_its_message_not_the_end() {
        let mut p = Prefetch::spawn(Panics).unwrap();
        let err = p.fill_buf().unwrap_err();
        assert!(err.to_string().contains("decoder bug"), "{err}");
    }

    #[test]
    fn dropping_the_reader_stops_the_decoding_thread() {
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut p = Prefetch::spawn(Endless(dropped.clone())).unwrap();
        assert!(!p.fill_buf().unwrap().is_empty());
        drop(p);
        // The thread notices at its next send, a chunk away; wait for it
        // (a liveness check: it fails only if the thread never ends).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !dropped.load(std::sync::atomic::Ordering::SeqCst) {
            assert!(
                std::time::Instant::now() < deadline,
                "the thread still runs"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn an_empty_stream_reads_as_empty() {
        let mut p = Prefetch::spawn(io::empty()).unwrap();
        assert!(p.fill_buf().unwrap().is_empty());
    }

    #[test]
    fn a_failure_comes_after_the_good_bytes_and_stays() {
        let good = vec![b'x'; CHUNK + 5];
        let mut p = Prefetch::spawn(Failing {
            good: io::Cursor::new(good),
        })
        .unwrap();
        let mut out = vec![];
        let err = p.read_to_end(&mut out).unwrap_err();
        assert_eq!(out.len(), CHUNK + 5, "the good bytes come first");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("bad frame"));
        let again = p.fill_buf().unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::InvalidData);
    }
}
