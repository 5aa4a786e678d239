//! Scoring: from a document's passages to trope scores with evidence.
//!
//! [`RuleScorer`] is a cascade. Stage 1 ([`prefilter`]) runs one Aho-Corasick
//! automaton over the whole document for every anchor of the filter lexicons and
//! escalates the few passages that may portray an AI. Stage 2 ([`analysis`])
//! tokenizes an escalated passage, finds who does each cue (an AI, a human), whether
//! it is negated, refused, only imagined or reported, and turns that into per-trope
//! features that the model ([`crate::rules::Model`]) maps to a score in [0, 1].
//! [`baseline::KeywordScorer`] is the naive keyword tagger `eval` compares against.

pub mod analysis;
pub mod baseline;
pub mod prefilter;
pub mod rule;

use crate::segment::Span;
use crate::taxonomy::{Side, Stance, Taxonomy, TropeIdx};

pub use baseline::KeywordScorer;
pub use rule::RuleScorer;

/// Scores below this are not recorded: a trope scoring 0.03 is noise, and
/// writing it would bloat every attribute file.
pub const RECORD_FLOOR: f32 = 0.05;

/// Scores a document's passages.
pub trait Scorer: Send + Sync {
    /// Score the `passages` (byte spans, in order) of `text`. Only passages with
    /// something to report appear in the result.
    fn score(&self, text: &str, passages: &[Span]) -> DocScores;

    /// Score `text` as a single passage (an empty score when nothing is found).
    fn score_one(&self, text: &str) -> Scored {
        let whole = 0..text.len();
        let mut scores = self.score(text, std::slice::from_ref(&whole));
        scores.passages.pop().unwrap_or(Scored {
            span: whole,
            ..Scored::default()
        })
    }
}

/// The scores of one document.
#[derive(Clone, Debug, Default)]
pub struct DocScores {
    /// Passages stage 1 escalated to stage 2.
    pub escalated: u32,
    /// Passages with an AI agent, a trope or an archetype, in passage order.
    pub passages: Vec<Scored>,
}

/// One scored passage.
#[derive(Clone, Debug, Default)]
pub struct Scored {
    /// Ordinal of the passage in the document.
    pub passage: u32,
    /// Byte span in the document text.
    pub span: Span,
    /// How sure it is that an artificial agent acts in or is the subject of the passage.
    pub ai_agent: f32,
    /// Trope scores at or above [`RECORD_FLOOR`], in taxonomy order.
    pub tropes: Vec<(TropeIdx, f32)>,
    /// Named fictional AIs mentioned.
    pub archetypes: Vec<ArchetypeMention>,
    /// Why each trope scored: the strongest cue behind it.
    pub evidence: Vec<Evidence>,
}

/// A named fictional AI mentioned in a passage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchetypeMention {
    /// Index into `Filters::archetypes`.
    pub archetype: u16,
    /// Byte span of the mention in the document text.
    pub span: Span,
}

/// The cue that most supports a trope's score, like a linter's diagnostic.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    pub trope: TropeIdx,
    /// The filter pattern that matched.
    pub pattern: String,
    /// Byte span of the match in the document text.
    pub span: Span,
    /// How sure it is that an AI is the one doing it.
    pub attribution: f32,
    /// Negated or refused ("chose not to blackmail").
    pub negated: bool,
    /// Only imagined or feared ("could", "what if").
    pub modal: bool,
}

/// A passage's labels at a threshold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Labels {
    pub ai_agent: bool,
    pub tropes: Vec<TropeIdx>,
    pub stance: Stance,
}

impl Scored {
    /// The score of trope `t` (0 when not recorded).
    pub fn score_of(&self, t: TropeIdx) -> f32 {
        self.tropes
            .iter()
            .find(|(i, _)| *i == t)
            .map_or(0.0, |(_, s)| *s)
    }

    /// Labels at `threshold`: tropes scoring at least it, and the stance they make.
    pub fn labels(&self, taxonomy: &Taxonomy, threshold: f32) -> Labels {
        let tropes: Vec<TropeIdx> = self
            .tropes
            .iter()
            .filter(|(_, s)| *s >= threshold)
            .map(|(t, _)| *t)
            .collect();
        let side = |side| tropes.iter().any(|t| taxonomy.get(*t).side == side);
        Labels {
            ai_agent: self.ai_agent >= 0.5 || !tropes.is_empty(),
            stance: Stance::of(side(Side::Misaligned), side(Side::Aligned)),
            tropes,
        }
    }
}

/// Round a score to 4 decimals: outputs stay short and byte-stable.
pub fn round4(x: f32) -> f32 {
    (x * 10_000.0).round() / 10_000.0
}
