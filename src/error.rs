//! The crate's error type. Library code returns `crate::Result<T>`; only the CLI
//! layer turns an error into a message and an exit status.

use std::path::PathBuf;

/// Everything that can stop an operation. Bad *records* inside a shard are not
/// errors: they are counted (see [`crate::shard::BadKind`]) and processing goes on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O failure on a named file.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A filter file, policy or other configuration file is wrong at a known place.
    #[error("{}:{line}: {message}", path.display())]
    Config {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// A command-line value or combination of values is invalid.
    #[error("{0}")]
    Usage(String),
    /// A shard could not be read to the end (corrupt or truncated stream).
    #[error("{shard}:{line}: {message}")]
    Shard {
        shard: String,
        line: u64,
        message: String,
    },
    /// Anything else, with a message that says what and where.
    #[error("{0}")]
    Other(String),
}

/// `Result` with the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A configuration error at `path:line`.
    pub fn config(path: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        Error::Config {
            path: path.into(),
            line,
            message: message.into(),
        }
    }
}

/// Adds the file name to a bare `std::io::Error`.
pub trait IoContext<T> {
    /// Attach `path` to the error.
    fn at(self, path: &std::path::Path) -> Result<T>;
}

impl<T> IoContext<T> for std::result::Result<T, std::io::Error> {
    fn at(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}
