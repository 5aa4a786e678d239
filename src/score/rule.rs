//! The rule scorer: stage 1 ([`Prefilter`]) then stage 2 ([`Analysis`]) and the
//! model, over the filters in `filters/`.

use std::sync::Arc;

use super::analysis::{Analysis, CueReading, DocContext};
use super::prefilter::{Gate, Prefilter};
use super::{ArchetypeMention, DocScores, Evidence, RECORD_FLOOR, Scored, Scorer, round4};
use crate::error::Result;
use crate::rules::{Features, Filters};
use crate::segment::Span;
use crate::taxonomy::TropeIdx;

/// The cascade scorer driven by filter files.
pub struct RuleScorer {
    filters: Arc<Filters>,
    prefilter: Prefilter,
}

impl RuleScorer {
    /// Compile the stage-1 automaton for `filters`.
    pub fn new(filters: Arc<Filters>) -> Result<RuleScorer> {
        let prefilter = Prefilter::new(&filters)?;
        Ok(RuleScorer { filters, prefilter })
    }

    /// The filters behind this scorer.
    pub fn filters(&self) -> &Filters {
        &self.filters
    }

    /// Stage-2 features of every trope for `text` taken as one passage, with its
    /// vocabulary words, or `None` when stage 1 would not escalate it. Used by
    /// `train`.
    pub fn passage_features(&self, text: &str) -> Option<(Vec<Features>, Vec<String>)> {
        self.passage_features_with(text, None)
    }

    /// As [`RuleScorer::passage_features`], with `presence` in place of the
    /// presence model's probability where it would be asked.
    pub fn passage_features_with(
        &self,
        text: &str,
        presence: Option<f32>,
    ) -> Option<(Vec<Features>, Vec<String>)> {
        self.analyse_whole(text, presence, |a| {
            let features = a.features().into_iter().map(|(f, _)| f).collect();
            (features, a.terms())
        })
    }

    /// What the presence model is fitted on, for `text` taken as one passage
    /// that stage 1 escalates: whether the model would be asked, the AI
    /// presence the rules give it without the model, and its distinct words.
    pub fn presence_view(&self, text: &str) -> Option<PresenceView> {
        self.analyse_whole(text, Some(0.0), |a| PresenceView {
            asks: a.asks_presence,
            rules: a.ai,
            words: a.distinct_words().into_iter().map(str::to_string).collect(),
        })
    }

    fn analyse_whole<T>(
        &self,
        text: &str,
        presence: Option<f32>,
        f: impl FnOnce(&Analysis) -> T,
    ) -> Option<T> {
        let mut hits = vec![];
        self.prefilter.hits(text, &mut hits);
        // With a probability standing in for the model's (training), stage 1
        // must not ask the shipped model either.
        let gate = match presence {
            Some(_) => Gate::Open,
            None => Gate::Presence,
        };
        let stage1 = self.prefilter.escalate_whole(text, &hits, gate);
        if !stage1.escalate {
            return None;
        }
        let mut doc = doc_context(stage1.salient);
        let analysis = Analysis::with_presence(&self.filters, text, &mut doc, presence);
        Some(f(&analysis))
    }

    /// Stage 1's anchors in `text`, as (kind, matched text).
    pub fn anchors<'t>(&self, text: &'t str) -> Vec<(String, &'t str)> {
        let mut hits = vec![];
        self.prefilter.hits(text, &mut hits);
        hits.extend(self.prefilter.cue_hits(text));
        hits.iter()
            .map(|h| (format!("{:?}", h.kind), &text[h.start..h.end]))
            .collect()
    }

    /// Everything stage 1 and 2 see in `text` taken as one passage: for
    /// `tropes explain`, and for reading why a passage was flagged.
    pub fn explain(&self, text: &str) -> Explanation {
        let mut hits = vec![];
        self.prefilter.hits(text, &mut hits);
        let stage1 = self.prefilter.escalate_whole(text, &hits, Gate::Presence);
        let mut doc = doc_context(stage1.salient);
        self.explain_passage(text, stage1.escalate, &mut doc)
    }

    /// What the scan saw in each passage of a document (byte spans `passages`)
    /// that stage 1 escalated: the same cascade and document context as
    /// [`Scorer::score`], so the explanation is that of the scores written.
    pub fn explain_document(&self, text: &str, passages: &[Span]) -> Vec<(usize, Explanation)> {
        let mut hits = vec![];
        self.prefilter.hits(text, &mut hits);
        let stage1 = self.prefilter.escalate(text, passages, &hits);
        let mut doc = doc_context(false);
        let escalated = passages
            .iter()
            .enumerate()
            .filter(|(i, _)| stage1[*i].escalate);
        escalated
            .map(|(i, span)| {
                doc.salient = stage1[i].salient;
                (i, self.explain_passage(&text[span.clone()], true, &mut doc))
            })
            .collect()
    }

    fn explain_passage(&self, text: &str, escalated: bool, doc: &mut DocContext) -> Explanation {
        let analysis = Analysis::new(&self.filters, text, doc);
        let ids = self.word_ids(&analysis);
        let cues = analysis
            .cues()
            .into_iter()
            .map(|c| (self.filters.lexicon.entry(c.entry).0.source.clone(), c))
            .collect();
        let tropes = analysis
            .features()
            .into_iter()
            .enumerate()
            .map(|(i, (f, _))| {
                let t = TropeIdx(i as u16);
                (t, f, self.filters.model.score(t, &f, &ids))
            })
            .collect();
        Explanation {
            escalated,
            ai: analysis.ai,
            weak_reason: analysis.weak_reason,
            learned: analysis.learned,
            unnamed: analysis.unnamed,
            report: analysis.report,
            salient: doc.salient,
            ai_names: doc.ai_names.clone(),
            cues,
            tropes,
        }
    }

    fn score_passage(
        &self,
        doc_text: &str,
        ordinal: usize,
        span: &Span,
        doc: &mut DocContext,
    ) -> Scored {
        let text = &doc_text[span.clone()];
        let analysis = Analysis::new(&self.filters, text, doc);
        let mut scored = Scored {
            passage: ordinal as u32,
            span: span.clone(),
            ai_agent: round4(analysis.ai),
            ..Scored::default()
        };
        scored.archetypes = analysis
            .archetypes
            .iter()
            .map(|&(archetype, s, e)| ArchetypeMention {
                archetype,
                span: span.start + s..span.start + e,
            })
            .collect();
        // Every trope score is gated by the AI presence (`model::gate`), so
        // below the floor no trope can be recorded: most escalated passages
        // of ordinary prose end here, before the costlier cue readings.
        if scored.ai_agent < RECORD_FLOOR {
            return scored;
        }
        let ids = self.word_ids(&analysis);
        for (i, (features, best)) in analysis.features().into_iter().enumerate() {
            let trope = TropeIdx(i as u16);
            let score = round4(self.filters.model.score(trope, &features, &ids));
            if score < RECORD_FLOOR {
                continue;
            }
            scored.tropes.push((trope, score));
            if let Some(cue) = best {
                scored.evidence.push(self.evidence(trope, &cue, span.start));
            }
        }
        scored
    }

    fn word_ids(&self, analysis: &Analysis) -> Vec<u32> {
        self.filters
            .model
            .words
            .as_ref()
            .map_or(vec![], |w| analysis.word_ids(w))
    }

    fn evidence(&self, trope: TropeIdx, cue: &CueReading, offset: usize) -> Evidence {
        Evidence {
            trope,
            pattern: self.filters.lexicon.entry(cue.entry).0.source.clone(),
            span: offset + cue.start..offset + cue.end,
            attribution: round4(cue.attribution),
            negated: cue.negated,
            modal: cue.modal,
        }
    }
}

/// What the scorer saw in a passage.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// Stage 1 would send it to stage 2.
    pub escalated: bool,
    /// How sure it is that an AI is present.
    pub ai: f32,
    /// Why a weak agent word ("the machine") counts as an AI, when one does.
    pub weak_reason: Option<&'static str>,
    /// The presence model's probability, when it was asked.
    pub learned: Option<f32>,
    /// It confirmed an AI in a passage with no agent word.
    pub unnamed: bool,
    /// Report vocabulary was found.
    pub report: bool,
    /// An AI is named somewhere in the text.
    pub salient: bool,
    /// Names learned for AIs.
    pub ai_names: Vec<String>,
    /// Every cue with the pattern that matched it.
    pub cues: Vec<(String, CueReading)>,
    /// Every trope's features and score, in taxonomy order.
    pub tropes: Vec<(TropeIdx, Features, f32)>,
}

/// See [`RuleScorer::presence_view`].
#[derive(Clone, Debug)]
pub struct PresenceView {
    pub asks: bool,
    pub rules: f32,
    pub words: Vec<String>,
}

fn doc_context(salient: bool) -> DocContext {
    DocContext {
        salient,
        ai_names: vec![],
    }
}

impl Scorer for RuleScorer {
    fn score(&self, text: &str, passages: &[Span]) -> DocScores {
        let mut hits = vec![];
        self.prefilter.hits(text, &mut hits);
        // A document with no anchor at all still goes to stage 1: an AI
        // nobody names has none.
        let stage1 = self.prefilter.escalate(text, passages, &hits);
        let mut doc = doc_context(false);
        let mut out = DocScores::default();
        for (i, span) in passages
            .iter()
            .enumerate()
            .filter(|(i, _)| stage1[*i].escalate)
        {
            out.escalated += 1;
            doc.salient = stage1[i].salient;
            let scored = self.score_passage(text, i, span, &mut doc);
            let says_something = scored.ai_agent >= RECORD_FLOOR
                || !scored.tropes.is_empty()
                || !scored.archetypes.is_empty();
            if says_something {
                out.passages.push(scored);
            }
        }
        out
    }
}
