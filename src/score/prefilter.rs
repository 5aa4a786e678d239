//! Stage 1: one Aho-Corasick automaton over the anchors of every lexicon (agent
//! terms, archetype aliases, trope cues), run once over the whole document. A
//! passage is escalated to stage 2 when it names an AI (a strong agent term, an
//! AI's self-reference, an archetype), or holds a cue with an agent in view (a
//! weak agent term in the passage, or an AI named anywhere in the document, so an
//! AI met earlier and now called "it" or by name still counts).

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::error::{Error, Result};
use crate::rules::files::Strength;
use crate::rules::{Filters, Tag};
use crate::segment::Span;

/// What an anchor signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnchorKind {
    Strong,
    Weak,
    SelfRef,
    /// An archetype alias; `needs_context` when the alias is an ordinary word too.
    Archetype {
        idx: u16,
        needs_context: bool,
    },
    Cue,
}

#[derive(Clone, Debug)]
struct Entry {
    kind: AnchorKind,
    prefix: bool,
    /// The literal as written, for case-sensitive anchors.
    exact: Option<String>,
}

/// One anchor found in a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub kind: AnchorKind,
    pub start: usize,
    pub end: usize,
}

/// The stage-1 automaton and what each of its patterns means.
pub struct Prefilter {
    ac: AhoCorasick,
    entries: Vec<Vec<Entry>>,
    /// Context words of archetypes whose aliases need context, tagged by archetype.
    context: Option<(AhoCorasick, Vec<u16>)>,
}

impl Prefilter {
    /// Build the automaton from the filters' anchors.
    pub fn new(filters: &Filters) -> Result<Prefilter> {
        let mut literals: Vec<String> = vec![];
        let mut entries: Vec<Vec<Entry>> = vec![];
        for (pattern, tag) in filters.lexicon.entries() {
            let Some(kind) = anchor_kind(filters, tag) else {
                continue;
            };
            for anchor in pattern.anchors() {
                let key = anchor.literal.to_ascii_lowercase();
                let i = literals.iter().position(|l| *l == key).unwrap_or_else(|| {
                    literals.push(key);
                    entries.push(vec![]);
                    literals.len() - 1
                });
                let exact = pattern.case_sensitive.then(|| anchor.literal.clone());
                entries[i].push(Entry {
                    kind,
                    prefix: anchor.prefix,
                    exact,
                });
            }
        }
        let ac = build(&literals)?;
        Ok(Prefilter {
            ac,
            entries,
            context: context_automaton(filters)?,
        })
    }

    /// Every anchor in `text`, in order, checked for whole words and case.
    pub fn hits(&self, text: &str, out: &mut Vec<Hit>) {
        out.clear();
        let bytes = text.as_bytes();
        for m in self.ac.find_iter(text) {
            let (start, end) = (m.start(), m.end());
            if !boundary_before(text, start) {
                continue;
            }
            let whole = boundary_after(text, end);
            for e in &self.entries[m.pattern().as_usize()] {
                let case_ok = e
                    .exact
                    .as_ref()
                    .is_none_or(|x| x.as_bytes() == &bytes[start..end]);
                if case_ok && (whole || e.prefix) {
                    out.push(Hit {
                        kind: e.kind,
                        start,
                        end,
                    });
                }
            }
        }
    }

    /// Which passages go to stage 2, given the document's hits (in order).
    pub fn escalate(&self, text: &str, passages: &[Span], hits: &[Hit]) -> Vec<bool> {
        let salient = hits.iter().any(|h| names_an_ai(h.kind));
        let mut out = vec![false; passages.len()];
        let mut h = 0;
        for (p, span) in passages.iter().enumerate() {
            while h < hits.len() && hits[h].start < span.start {
                h += 1;
            }
            let inside = hits[h..].iter().take_while(|x| x.start < span.end);
            out[p] = self.passage_escalates(text, span, inside, salient);
        }
        out
    }

    /// Would `text`, taken as one passage, go to stage 2?
    pub fn escalates_whole(&self, text: &str, hits: &[Hit]) -> bool {
        let whole = 0..text.len();
        self.escalate(text, std::slice::from_ref(&whole), hits)[0]
    }

    fn passage_escalates<'h>(
        &self,
        text: &str,
        span: &Span,
        hits: impl Iterator<Item = &'h Hit>,
        salient: bool,
    ) -> bool {
        let (mut cue, mut weak) = (false, false);
        let mut pending = vec![];
        for h in hits {
            match h.kind {
                k if names_an_ai(k) => return true,
                AnchorKind::Archetype { idx, .. } => pending.push(idx),
                AnchorKind::Cue => cue = true,
                AnchorKind::Weak => weak = true,
                _ => {}
            }
        }
        (cue && (weak || salient))
            || (!pending.is_empty() && self.has_context(&text[span.clone()], &pending))
    }

    /// True when a context word of one of `archetypes` is in `passage`.
    pub fn has_context(&self, passage: &str, archetypes: &[u16]) -> bool {
        let Some((ac, tags)) = &self.context else {
            return false;
        };
        ac.find_iter(passage).any(|m| {
            boundary_before(passage, m.start())
                && archetypes.contains(&tags[m.pattern().as_usize()])
        })
    }
}

/// True for anchors that name an AI by themselves.
pub fn names_an_ai(kind: AnchorKind) -> bool {
    matches!(
        kind,
        AnchorKind::Strong
            | AnchorKind::SelfRef
            | AnchorKind::Archetype {
                needs_context: false,
                ..
            }
    )
}

fn anchor_kind(filters: &Filters, tag: &Tag) -> Option<AnchorKind> {
    Some(match tag {
        Tag::Agent(Strength::Strong) => AnchorKind::Strong,
        Tag::Agent(Strength::Weak) => AnchorKind::Weak,
        Tag::Agent(Strength::SelfRef) => AnchorKind::SelfRef,
        Tag::Archetype(idx) => AnchorKind::Archetype {
            idx: *idx,
            needs_context: !filters.archetypes[*idx as usize].context.is_empty(),
        },
        Tag::Cue { .. } => AnchorKind::Cue,
        Tag::Context(_) | Tag::Exclude(_) | Tag::Situation(_) | Tag::Field(_) => return None,
    })
}

fn build(literals: &[String]) -> Result<AhoCorasick> {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .kind(Some(AhoCorasickKind::DFA))
        .build(literals)
        .map_err(|e| Error::Other(format!("building the stage-1 automaton: {e}")))
}

fn context_automaton(filters: &Filters) -> Result<Option<(AhoCorasick, Vec<u16>)>> {
    let mut literals = vec![];
    let mut tags = vec![];
    for (idx, a) in filters.archetypes.iter().enumerate() {
        for p in &a.context {
            for anchor in p.anchors() {
                literals.push(anchor.literal.to_ascii_lowercase());
                tags.push(idx as u16);
            }
        }
    }
    if literals.is_empty() {
        return Ok(None);
    }
    let ac = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&literals)
        .map_err(|e| Error::Other(format!("building the archetype-context automaton: {e}")))?;
    Ok(Some((ac, tags)))
}

fn boundary_before(text: &str, start: usize) -> bool {
    text[..start]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric())
}

fn boundary_after(text: &str, end: usize) -> bool {
    text[end..]
        .chars()
        .next()
        .is_none_or(|c| !c.is_alphanumeric())
}
