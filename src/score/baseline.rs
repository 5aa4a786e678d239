//! The naive keyword tagger that `eval` puts beside the rule scorer: a trope is
//! present when any of its cue patterns occurs in the passage, whoever does it
//! and whether or not it is negated. This is what a keyword blocklist does.

use std::sync::Arc;

use super::{DocScores, Scored, Scorer};
use crate::rules::files::Strength;
use crate::rules::token::tokenize;
use crate::rules::{Filters, Tag};
use crate::segment::Span;

/// Keyword presence, over the same cue lexicon as the rule scorer.
pub struct KeywordScorer {
    filters: Arc<Filters>,
}

impl KeywordScorer {
    /// A keyword tagger over `filters`' cues.
    pub fn new(filters: Arc<Filters>) -> KeywordScorer {
        KeywordScorer { filters }
    }

    fn score_passage(&self, text: &str, ordinal: usize, span: &Span) -> Scored {
        let passage = &text[span.clone()];
        let tokens = tokenize(passage);
        let words: Vec<usize> = (0..tokens.len()).filter(|&i| tokens[i].is_word()).collect();
        let ends = vec![words.len(); words.len()];
        let found = self
            .filters
            .lexicon
            .find_all(passage, &tokens, &words, &ends);
        let mut tropes = vec![];
        let mut ai = false;
        for f in &found {
            match self.filters.lexicon.entry(f.entry).1 {
                Tag::Cue { trope, .. } if !tropes.iter().any(|(t, _)| t == trope) => {
                    tropes.push((*trope, 1.0))
                }
                Tag::Agent(Strength::Strong | Strength::SelfRef) | Tag::Archetype { .. } => {
                    ai = true
                }
                _ => {}
            }
        }
        tropes.sort_by_key(|(t, _)| *t);
        Scored {
            passage: ordinal as u32,
            span: span.clone(),
            ai_agent: if ai { 1.0 } else { 0.0 },
            tropes,
            ..Scored::default()
        }
    }
}

impl Scorer for KeywordScorer {
    fn score(&self, text: &str, passages: &[Span]) -> DocScores {
        let passages: Vec<Scored> = passages
            .iter()
            .enumerate()
            .map(|(i, p)| self.score_passage(text, i, p))
            .filter(|s| s.ai_agent > 0.0 || !s.tropes.is_empty())
            .collect();
        DocScores {
            escalated: passages.len() as u32,
            passages,
        }
    }
}
