//! Token counting with a `tokenizers` tokenizer file (GPT-2's byte-level BPE is
//! bundled). Counting is the slowest stage by far, so flagged passages are
//! counted exactly and corpus totals come from a deterministic sample of
//! documents unless exact totals are asked for.

use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::error::{Error, IoContext, Result};

/// A tokenizer that counts tokens.
pub struct TokenCounter {
    tokenizer: tokenizers::pipeline::PipelineTokenizer,
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
    /// Load a `tokenizer.json` (any version the `tokenizers` library writes; it
    /// is converted to the current format in memory).
    pub fn load(path: &Path) -> Result<TokenCounter> {
        let bytes = std::fs::read(path).at(path)?;
        let bad = |e: String| Error::config(path, 0, format!("not a usable tokenizer.json: {e}"));
        let text = std::str::from_utf8(&bytes).map_err(|e| bad(e.to_string()))?;
        let canonical = tokenizers::canonicalize_str(text).map_err(|e| bad(e.to_string()))?;
        let tokenizer = tokenizers::from_json(&canonical).map_err(|e| bad(e.to_string()))?;
        Ok(TokenCounter {
            tokenizer,
            hash: format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&bytes)),
            path: path.to_path_buf(),
        })
    }

    /// The number of tokens in `text`, encoded as plain text: no special tokens
    /// added, and "<|endoftext|>" written in a document counts as the text it is.
    pub fn count(&self, text: &str) -> u64 {
        let options = tokenizers::pipeline::EncodeOptions {
            add_special_tokens: false,
            encode_special_tokens: true,
            ..Default::default()
        };
        let mut ids = Vec::with_capacity(text.len() / 3);
        // Encoding fails only on input the model cannot represent at all; such a
        // text then counts as zero tokens rather than stopping the run.
        match self.tokenizer.encode_into(text, &options, &mut ids) {
            Ok(()) => ids.len() as u64,
            Err(_) => 0,
        }
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
