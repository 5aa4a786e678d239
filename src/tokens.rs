//! Token counting with a `tokenizers` tokenizer file (GPT-2's byte-level BPE is
//! bundled). Counting is the slowest stage by far, so flagged passages are
//! counted exactly and corpus totals come from a deterministic sample of
//! documents unless exact totals are asked for.

use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::error::{Error, IoContext, Result};

/// A tokenizer that counts tokens.
pub struct TokenCounter {
    tokenizer: tokenizers::Tokenizer,
    /// Hash of the tokenizer file, recorded with every count.
    pub hash: String,
    /// The file it was loaded from.
    pub path: PathBuf,
}

/// The bundled GPT-2 tokenizer.
pub fn bundled_tokenizer() -> PathBuf {
    crate::rules::bundled_dir().join("tokenizer/gpt2/tokenizer.json")
}

impl TokenCounter {
    /// Load a `tokenizer.json`.
    pub fn load(path: &Path) -> Result<TokenCounter> {
        let bytes = std::fs::read(path).at(path)?;
        let tokenizer = tokenizers::Tokenizer::from_bytes(&bytes)
            .map_err(|e| Error::config(path, 0, format!("not a tokenizers tokenizer.json: {e}")))?;
        Ok(TokenCounter {
            tokenizer,
            hash: format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&bytes)),
            path: path.to_path_buf(),
        })
    }

    /// The number of tokens in `text` (no special tokens added).
    pub fn count(&self, text: &str) -> u64 {
        // Encoding fails only on inputs the model cannot represent at all; such a
        // text then counts as zero tokens rather than stopping the run.
        self.tokenizer
            .encode_fast(text, false)
            .map_or(0, |e| e.len() as u64)
    }
}

/// Which documents get their tokens counted.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TokenSampling {
    /// Count every document.
    pub exact: bool,
    /// Otherwise, the share of documents counted (chosen by a hash of the id).
    pub rate: f64,
}

impl TokenSampling {
    /// True when the document with this id is counted.
    pub fn counts(&self, id: &str) -> bool {
        if self.exact || self.rate >= 1.0 {
            return true;
        }
        let h = xxh3_64_with_seed(id.as_bytes(), 0x746f6b656e73);
        (h as f64) < self.rate * u64::MAX as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_is_deterministic_and_near_the_rate() {
        let s = TokenSampling {
            exact: false,
            rate: 0.1,
        };
        let picked = (0..10_000)
            .filter(|i| s.counts(&format!("doc-{i}")))
            .count();
        assert!((800..1200).contains(&picked), "{picked}");
        assert_eq!(s.counts("doc-7"), s.counts("doc-7"));
        assert!(
            TokenSampling {
                exact: true,
                rate: 0.0
            }
            .counts("x")
        );
    }
}
