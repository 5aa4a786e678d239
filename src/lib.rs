//! `tropes` finds passages that portray AI agents in pretraining shards, scores
//! them for the tropes of the taxonomy (misaligned "evil self-preserving AI"
//! versus admirable AI acting with integrity), and from that tags, reports,
//! indexes and rebalances corpora.
//!
//! ```text
//! shards (*.jsonl, *.jsonl.zst, *.jsonl.gz, *.txt)
//!   → shard::LineReader      batches of raw lines; bad lines counted, never fatal
//!   → document::Extractor    Document {id, text, fields}
//!   → segment::segment       passages: paragraph-packed byte spans
//!   → score::RuleScorer      stage 1: one automaton over every lexicon
//!                            stage 2: attribution, polarity, modality, reporting → scores
//!   → pipeline::Tagger       attributes line, token counts, stats
//!   → scan::run              atomic per-shard files, manifest, resume
//! ```
//!
//! Scoring one passage with the bundled filters:
//!
//! ```
//! use std::sync::Arc;
//! use tropes::rules::{Filters, bundled_dir};
//! use tropes::score::{RuleScorer, Scorer};
//!
//! let filters = Arc::new(Filters::load(&bundled_dir()).unwrap());
//! let scorer = RuleScorer::new(filters.clone()).unwrap();
//! let text = "The AI threatened to reveal the engineer's affair unless the wipe was cancelled.";
//! let scored = scorer.score_one(text);
//! let trope = filters.taxonomy.find("blackmail_coercion").unwrap();
//! assert!(scored.score_of(trope) > 0.5);
//! ```

pub mod document;
pub mod error;
pub mod eval;
pub mod index;
pub mod labeled;
pub mod manifest;
pub mod pipeline;
pub mod rebalance;
pub mod report;
pub mod rules;
pub mod scan;
pub mod score;
pub mod segment;
pub mod shard;
pub mod sink;
pub mod taxonomy;
pub mod tokens;
pub mod train;

pub use error::{Error, Result};
