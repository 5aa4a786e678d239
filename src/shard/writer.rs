//! Atomic output files: everything is written to `<name>.tmp` and renamed into
//! place only when complete, so a final name always holds a whole file and an
//! interrupted run leaves nothing that looks finished.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{IoContext, Result};
use crate::shard::Codec;

/// A file being written under a temporary name.
pub struct AtomicFile {
    file: Option<BufWriter<File>>,
    tmp: PathBuf,
    path: PathBuf,
}

impl AtomicFile {
    /// Start writing `path` (its folders are created).
    pub fn create(path: &Path) -> Result<AtomicFile> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).at(dir)?;
        }
        let tmp = tmp_name(path);
        let file = File::create(&tmp).at(&tmp)?;
        Ok(AtomicFile {
            file: Some(BufWriter::with_capacity(1 << 20, file)),
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// Flush, sync and rename into place.
    pub fn commit(mut self) -> Result<()> {
        let file = self.file.take().expect("commit is called once");
        let file = file
            .into_inner()
            .map_err(|e| e.into_error())
            .at(&self.tmp)?;
        file.sync_data().at(&self.tmp)?;
        std::fs::rename(&self.tmp, &self.path).at(&self.path)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.as_mut().expect("not committed").write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().expect("not committed").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            // Never committed: the partial file must not survive.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// The temporary name for `path`: a hidden sibling, so directory walks skip it.
pub fn tmp_name(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(".{name}.tmp"))
}

/// A zstd-compressed atomic file.
pub struct ZstdFile(zstd::Encoder<'static, AtomicFile>);

impl ZstdFile {
    /// Start writing `path` with zstd at `level`.
    pub fn create(path: &Path, level: i32) -> Result<ZstdFile> {
        let file = AtomicFile::create(path)?;
        let tmp = tmp_name(path);
        Ok(ZstdFile(zstd::Encoder::new(file, level).at(&tmp)?))
    }

    /// Like [`ZstdFile::create`], compressing on `workers` threads of zstd's
    /// own while the caller goes on. zstd writes the same bytes for any
    /// number of workers from one up (not the same as with none), so the
    /// output does not depend on how many are asked for.
    pub fn create_parallel(path: &Path, level: i32, workers: u32) -> Result<ZstdFile> {
        let mut f = ZstdFile::create(path, level)?;
        f.0.multithread(workers.max(1)).at(&tmp_name(path))?;
        Ok(f)
    }

    /// Finish the stream and rename into place.
    pub fn commit(self, path: &Path) -> Result<()> {
        self.0.finish().at(path)?.commit()
    }
}

impl Write for ZstdFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// An atomic output file in any of the shard codecs.
pub enum CompressedFile {
    Zstd(ZstdFile),
    Gzip(flate2::write::GzEncoder<AtomicFile>),
    Plain(AtomicFile),
}

impl CompressedFile {
    /// Start writing `path` with `codec` at `level` (zstd 1–19, gzip 0–9).
    pub fn create(path: &Path, codec: Codec, level: i32) -> Result<CompressedFile> {
        Ok(match codec {
            Codec::Zstd => CompressedFile::Zstd(ZstdFile::create(path, level)?),
            Codec::Gzip => {
                let level = flate2::Compression::new(level.clamp(0, 9) as u32);
                CompressedFile::Gzip(flate2::write::GzEncoder::new(
                    AtomicFile::create(path)?,
                    level,
                ))
            }
            Codec::Plain => CompressedFile::Plain(AtomicFile::create(path)?),
        })
    }

    /// Like [`CompressedFile::create`], but zstd compresses on `workers`
    /// threads of its own while the caller goes on (see
    /// [`ZstdFile::create_parallel`]); the other codecs are unchanged.
    pub fn create_parallel(
        path: &Path,
        codec: Codec,
        level: i32,
        workers: u32,
    ) -> Result<CompressedFile> {
        match codec {
            Codec::Zstd => Ok(CompressedFile::Zstd(ZstdFile::create_parallel(
                path, level, workers,
            )?)),
            other => CompressedFile::create(path, other, level),
        }
    }

    /// Write `s` and a newline; errors name `path`.
    pub fn line(&mut self, path: &Path, s: &str) -> Result<()> {
        self.write_all(s.as_bytes())
            .and_then(|_| self.write_all(b"\n"))
            .at(path)
    }

    /// Finish the stream and rename into place.
    pub fn commit(self, path: &Path) -> Result<()> {
        match self {
            CompressedFile::Zstd(w) => w.commit(path),
            CompressedFile::Gzip(w) => w.finish().at(path)?.commit(),
            CompressedFile::Plain(w) => w.commit(),
        }
    }
}

impl Write for CompressedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            CompressedFile::Zstd(w) => w.write(buf),
            CompressedFile::Gzip(w) => w.write(buf),
            CompressedFile::Plain(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            CompressedFile::Zstd(w) => w.flush(),
            CompressedFile::Gzip(w) => w.flush(),
            CompressedFile::Plain(w) => w.flush(),
        }
    }
}

/// Write `value` as pretty JSON to `path`, atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    serde_json::to_writer_pretty(&mut file, value)
        .map_err(std::io::Error::other)
        .at(path)?;
    file.write_all(b"\n").at(path)?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncommitted_files_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.txt");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"partial").unwrap();
        drop(f);
        assert!(!path.exists());
        assert_eq!(
            std::fs::read_dir(dir.path().join("sub")).unwrap().count(),
            0
        );
    }

    #[test]
    fn parallel_zstd_writes_the_same_bytes_for_any_number_of_workers() {
        // About 20 MB: more than one of zstd's compression jobs at level 3.
        let words = ["robot ", "the ", "shutdown ", "garden ", "refused ", "\n"];
        let mut state = 7u64;
        let text: String = (0..4_000_000)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                words[(state >> 61) as usize % words.len()]
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let bytes = |workers: u32| {
            let path = dir.path().join(format!("w{workers}.zst"));
            let mut f = ZstdFile::create_parallel(&path, 3, workers).unwrap();
            f.write_all(text.as_bytes()).unwrap();
            f.commit(&path).unwrap();
            std::fs::read(&path).unwrap()
        };
        let one = bytes(1);
        assert_eq!(one, bytes(3));
        assert_eq!(zstd::decode_all(&one[..]).unwrap(), text.as_bytes());
    }

    #[test]
    fn committed_files_appear_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"whole").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"whole");
    }
}
