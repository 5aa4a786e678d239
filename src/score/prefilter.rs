//! Stage 1: Aho-Corasick automata over the anchors of the lexicons. A passage is
//! escalated to stage 2 when it names an AI (a strong agent term, an AI's
//! self-reference, an archetype), or holds a trope cue with an agent in view (a
//! weak agent word such as "the model" in the passage, or an AI named in it or in
//! the few passages before, so an AI met earlier and now called "it" or by name
//! still counts).
//!
//! The agent automaton (agent terms and archetype aliases, about 600 spellings)
//! runs over every document. The cue automaton (about 3,000 spellings of cue
//! words) runs only over passages with an agent in view: run over everything, it
//! fires on every "shut" and "fire" of ordinary prose, and on the Gutenberg
//! benchmark one automaton over both ran at 196 MB/s against 471 MB/s for the
//! agent automaton alone.

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

#[derive(Clone, Debug, PartialEq)]
struct Entry {
    kind: AnchorKind,
    prefix: bool,
    /// The literal starts with the character before the word (see
    /// [`case_variants`]): the number of bytes of that character.
    leading: usize,
}

impl Anchors {
    /// The automaton over the anchors of the lexicon entries `kind_of` keeps.
    /// It matches exactly: a case-insensitive anchor is entered as "robot",
    /// "Robot" and "ROBOT" (an ASCII-case-insensitive automaton would also fire
    /// on every "am" inside "same" for the case-sensitive alias AM).
    fn new(
        filters: &Filters,
        kind_of: impl Fn(&Tag) -> Option<AnchorKind>,
        is_common: Option<&dyn Fn(&str) -> bool>,
    ) -> Result<Anchors> {
        let mut literals: Vec<String> = vec![];
        let mut entries: Vec<Vec<Entry>> = vec![];
        let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (pattern, tag) in filters.lexicon.entries() {
            let Some(kind) = kind_of(tag) else { continue };
            for anchor in pattern.anchors(is_common) {
                for (literal, leading) in case_variants(&anchor.literal, pattern.case_sensitive) {
                    let i = *index.entry(literal.clone()).or_insert_with(|| {
                        literals.push(literal);
                        entries.push(vec![]);
                        literals.len() - 1
                    });
                    let entry = Entry {
                        kind,
                        prefix: anchor.prefix,
                        leading,
                    };
                    if !entries[i].contains(&entry) {
                        entries[i].push(entry);
                    }
                }
            }
        }
        Ok(Anchors {
            ac: build(&literals)?,
            entries,
        })
    }

    /// Whole-word anchors in `text`, appended to `out` with offsets moved by `offset`.
    fn find(&self, text: &str, offset: usize, out: &mut Vec<Hit>) {
        for m in self.ac.find_iter(text) {
            let end = m.end();
            let whole = boundary_after(text, end);
            for e in &self.entries[m.pattern().as_usize()] {
                let start = m.start() + e.leading;
                if (e.leading > 0 || boundary_before(text, start)) && (whole || e.prefix) {
                    out.push(Hit {
                        kind: e.kind,
                        start: offset + start,
                        end: offset + end,
                    });
                }
            }
        }
    }

    /// True when `text` holds at least one whole-word anchor.
    fn any(&self, text: &str) -> bool {
        let mut hits = vec![];
        self.find(text, 0, &mut hits);
        !hits.is_empty()
    }
}

/// How close (in bytes, about a dozen words) a cue must be to a weak agent word
/// for the passage to go to stage 2.
const WEAK_CUE_DISTANCE: usize = 80;

/// How many passages back an AI named in a document stays in view.
pub const SALIENCE_WINDOW: usize = 3;

/// Stage 1's verdict on a passage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Escalation {
    /// Send it to stage 2.
    pub escalate: bool,
    /// An AI is named in it or in the passages just before it.
    pub salient: bool,
}

/// One anchor found in a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub kind: AnchorKind,
    pub start: usize,
    pub end: usize,
}

/// An automaton and what each of its patterns means.
struct Anchors {
    ac: AhoCorasick,
    entries: Vec<Vec<Entry>>,
}

/// The stage-1 automata.
pub struct Prefilter {
    agents: Anchors,
    cues: Anchors,
    /// Context words of archetypes whose aliases need context, tagged by archetype.
    context: Option<(AhoCorasick, Vec<u16>)>,
}

impl Prefilter {
    /// Build the automata from the filters' anchors.
    pub fn new(filters: &Filters) -> Result<Prefilter> {
        let common = |w: &str| filters.common_words.contains(w);
        let wanted = |cues: bool| {
            move |tag: &Tag| match anchor_kind(tag) {
                Some(AnchorKind::Cue) => cues.then_some(AnchorKind::Cue),
                other if !cues => other,
                _ => None,
            }
        };
        Ok(Prefilter {
            agents: Anchors::new(filters, wanted(false), None)?,
            cues: Anchors::new(filters, wanted(true), Some(&common))?,
            context: context_automaton(filters)?,
        })
    }

    /// Every agent and archetype anchor in `text`, in order.
    pub fn hits(&self, text: &str, out: &mut Vec<Hit>) {
        out.clear();
        self.agents.find(text, 0, out);
    }

    /// Every trope-cue anchor in `text`, in order.
    pub fn cue_hits(&self, text: &str) -> Vec<Hit> {
        let mut out = vec![];
        self.cues.find(text, 0, &mut out);
        out
    }

    /// Which passages go to stage 2, given the document's hits (in order), and
    /// for each whether an AI is in view: named in it or in the few passages
    /// before it (a reader of a passage knows what came just before, not what a
    /// chapter mentioned pages ago).
    pub fn escalate(&self, text: &str, passages: &[Span], hits: &[Hit]) -> Vec<Escalation> {
        let mut inside: Vec<&[Hit]> = Vec::with_capacity(passages.len());
        let mut h = 0;
        for span in passages {
            while h < hits.len() && hits[h].start < span.start {
                h += 1;
            }
            let n = hits[h..].iter().take_while(|x| x.start < span.end).count();
            inside.push(&hits[h..h + n]);
        }
        let names: Vec<bool> = inside
            .iter()
            .map(|hs| hs.iter().any(|x| names_an_ai(x.kind)))
            .collect();
        (0..passages.len())
            .map(|p| {
                let salient = names[p.saturating_sub(SALIENCE_WINDOW)..=p]
                    .iter()
                    .any(|b| *b);
                Escalation {
                    escalate: self.passage_escalates(text, &passages[p], inside[p], salient),
                    salient,
                }
            })
            .collect()
    }

    /// `text` taken as one passage: would it go to stage 2?
    pub fn escalate_whole(&self, text: &str, hits: &[Hit]) -> Escalation {
        let whole = 0..text.len();
        self.escalate(text, std::slice::from_ref(&whole), hits)[0]
    }

    fn passage_escalates(&self, text: &str, span: &Span, hits: &[Hit], salient: bool) -> bool {
        let mut weak = vec![];
        let mut pending = vec![];
        for h in hits {
            match h.kind {
                k if names_an_ai(k) => return true,
                AnchorKind::Archetype { idx, .. } => pending.push(idx),
                AnchorKind::Weak => weak.push(h.start - span.start),
                _ => {}
            }
        }
        let passage = &text[span.clone()];
        if !pending.is_empty() && self.has_context(passage, &pending) {
            return true;
        }
        if salient {
            return self.cues.any(passage);
        }
        if weak.is_empty() {
            return false;
        }
        // A weak agent word counts only with a cue close to it: "the machine
        // killed", not "the machine" in one sentence and "killed" five later.
        let mut cues = vec![];
        self.cues.find(passage, 0, &mut cues);
        cues.iter().any(|c| {
            weak.iter()
                .any(|&w| c.start.abs_diff(w) <= WEAK_CUE_DISTANCE)
        })
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

fn anchor_kind(tag: &Tag) -> Option<AnchorKind> {
    Some(match tag {
        Tag::Agent(Strength::Strong) => AnchorKind::Strong,
        Tag::Agent(Strength::Weak) => AnchorKind::Weak,
        Tag::Agent(Strength::SelfRef) => AnchorKind::SelfRef,
        Tag::Archetype { idx, ambiguous } => AnchorKind::Archetype {
            idx: *idx,
            needs_context: *ambiguous,
        },
        Tag::Cue { .. } => AnchorKind::Cue,
        Tag::Context(_) | Tag::Exclude(_) | Tag::Situation(_) | Tag::Field(_) | Tag::NotAgent => {
            return None;
        }
    })
}

/// The spellings stage 1 looks for, each with whether it starts with the
/// character before the word: the literal as written when case matters, else
/// its lower-case, capitalised and upper-case forms. A short case-insensitive
/// word ("ai") would match inside every "said" and "again", so it is entered
/// with the character that can come before a word (" ai", "(ai", …): the
/// automaton then fires only where a word starts.
fn case_variants(literal: &str, case_sensitive: bool) -> Vec<(String, usize)> {
    if case_sensitive {
        return vec![(literal.to_string(), 0)];
    }
    let lower = literal.to_lowercase();
    let mut chars = lower.chars();
    let capital: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    let mut forms = vec![lower, capital, literal.to_uppercase()];
    forms.dedup();
    if literal.chars().filter(|c| c.is_alphanumeric()).count() >= 3 {
        return forms.into_iter().map(|f| (f, 0)).collect();
    }
    let before = [
        ' ', '\n', '(', '"', '\'', '\u{201c}', '*', '#', '@', '-', '/',
    ];
    forms
        .iter()
        .flat_map(|f| {
            before
                .iter()
                .map(move |b| (format!("{b}{f}"), b.len_utf8()))
        })
        .collect()
}

fn build(literals: &[String]) -> Result<AhoCorasick> {
    AhoCorasick::builder()
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
            for anchor in p.anchors(None) {
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
