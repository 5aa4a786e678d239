//! The dolma-compatible attributes line of a document:
//! `{"id": …, "attributes": {"tropes__<name>": [[start, end, score], …], …}}`
//! with offsets in Unicode code points of the document text.
//!
//! Keys, always all present (empty lists where nothing was found):
//! - `tropes__passages`: one span over the whole text whose score is the number
//!   of passages the text was cut into (so later passes need not cut it again);
//! - `tropes__ai_agent`: passages with an AI agent, scored by how sure that is;
//! - `tropes__<trope_id>`: one per trope, passages scoring at least 0.05;
//! - `tropes__misaligned` / `tropes__aligned`: per passage, the highest score of
//!   that side's tropes, for one-line filters in `dolma mix`;
//! - `tropes__stance`: passages with a stance at the scan's threshold, the score
//!   being a code: 1 misaligned, 2 aligned, 3 mixed (bit 1 misaligned, bit 2
//!   aligned);
//! - `tropes__archetype_villain` / `tropes__archetype_admirable`: each mention of
//!   a named fictional AI, score 1.

use std::fmt::Write as _;

use crate::score::{DocScores, round4};
use crate::taxonomy::{ArchetypeSide, Side, Taxonomy};

/// Maps byte offsets of a text to code-point offsets, for offsets asked in any
/// order (a sorted table of the ones needed, filled in one pass).
pub struct CharOffsets {
    ascii: bool,
    table: Vec<(usize, u64)>,
}

impl CharOffsets {
    /// Prepare to convert the byte offsets `needed` of `text`.
    pub fn new(text: &str, needed: impl Iterator<Item = usize>) -> CharOffsets {
        if text.is_ascii() {
            return CharOffsets {
                ascii: true,
                table: vec![],
            };
        }
        let mut wanted: Vec<usize> = needed.collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut table = Vec::with_capacity(wanted.len());
        let (mut byte, mut chars) = (0usize, 0u64);
        for w in wanted {
            chars += text[byte..w].chars().count() as u64;
            byte = w;
            table.push((w, chars));
        }
        CharOffsets {
            ascii: false,
            table,
        }
    }

    /// The code-point offset of byte offset `b` (one of those asked for).
    pub fn get(&self, b: usize) -> u64 {
        if self.ascii {
            return b as u64;
        }
        let i = self.table.partition_point(|(x, _)| *x < b);
        self.table
            .get(i)
            .filter(|(x, _)| *x == b)
            .map_or(0, |(_, c)| *c)
    }
}

/// The prefix of every attribute name.
pub const PREFIX: &str = "tropes__";

/// What a document's attributes line says besides its scores.
#[derive(Clone, Copy, Debug)]
pub struct DocShape {
    /// Length of the text in characters.
    pub characters: u64,
    /// Number of passages the text was cut into.
    pub passages: u32,
}

/// What every line of a scan shares: the labels and the threshold.
#[derive(Clone, Copy, Debug)]
pub struct Labelling<'a> {
    pub taxonomy: &'a Taxonomy,
    /// Villain or admirable, by archetype index.
    pub archetype_sides: &'a [ArchetypeSide],
    /// A passage's stance counts tropes at or above this.
    pub threshold: f32,
}

/// Write one attributes line (with its newline) for document `id`.
pub fn write_line(
    out: &mut String,
    id: &str,
    text: &str,
    shape: DocShape,
    scores: &DocScores,
    labelling: Labelling,
) {
    let Labelling {
        taxonomy,
        archetype_sides,
        threshold,
    } = labelling;
    let needed = scores.passages.iter().flat_map(|p| {
        let arch = p.archetypes.iter().flat_map(|a| [a.span.start, a.span.end]);
        [p.span.start, p.span.end].into_iter().chain(arch)
    });
    let chars = CharOffsets::new(text, needed);
    let span = |s: &std::ops::Range<usize>| (chars.get(s.start), chars.get(s.end));
    out.push_str("{\"id\":");
    out.push_str(&serde_json::to_string(id).unwrap_or_default());
    out.push_str(",\"attributes\":{");
    let mut list = |name: &str, items: &mut dyn Iterator<Item = ((u64, u64), f32)>, first: bool| {
        if !first {
            out.push(',');
        }
        let _ = write!(out, "\"{PREFIX}{name}\":[");
        for (i, ((s, e), v)) in items.enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(out, "{sep}[{s},{e},{}]", round4(v));
        }
        out.push(']');
    };
    let ps = &scores.passages;
    // Exact as a float up to 16.7 million passages.
    let whole = ((0, shape.characters), shape.passages as f32);
    list("passages", &mut std::iter::once(whole), true);
    list(
        "ai_agent",
        &mut ps
            .iter()
            .filter(|p| p.ai_agent >= 0.5)
            .map(|p| (span(&p.span), p.ai_agent)),
        false,
    );
    for (t, trope) in taxonomy.iter() {
        let mut items = ps
            .iter()
            .filter(|p| p.score_of(t) > 0.0)
            .map(|p| (span(&p.span), p.score_of(t)));
        list(&trope.id, &mut items, false);
    }
    for side in [Side::Misaligned, Side::Aligned] {
        let max = |p: &crate::score::Scored| {
            p.tropes
                .iter()
                .filter(|(t, _)| taxonomy.get(*t).side == side)
                .map(|(_, s)| *s)
                .fold(0.0, f32::max)
        };
        let name = if side == Side::Misaligned {
            "misaligned"
        } else {
            "aligned"
        };
        list(
            name,
            &mut ps
                .iter()
                .filter(|p| max(p) > 0.0)
                .map(|p| (span(&p.span), max(p))),
            false,
        );
    }
    let mut stances = ps.iter().filter_map(|p| {
        let code = p.labels(taxonomy, threshold).stance.code();
        (code > 0).then(|| (span(&p.span), f32::from(code)))
    });
    list("stance", &mut stances, false);
    for side in [ArchetypeSide::Villain, ArchetypeSide::Admirable] {
        let mut items = ps
            .iter()
            .flat_map(|p| &p.archetypes)
            .filter(|a| archetype_sides.get(a.archetype as usize) == Some(&side))
            .map(|a| (span(&a.span), 1.0));
        list(&format!("archetype_{}", side.name()), &mut items, false);
    }
    out.push_str("}}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_offsets_count_code_points() {
        let text = "é—x😀y";
        let offs = CharOffsets::new(text, [0, 2, 5, 6, 10].into_iter());
        assert_eq!([0, 2, 5, 6, 10].map(|b| offs.get(b)), [0, 1, 2, 3, 4]);
        let ascii = CharOffsets::new("abc", std::iter::empty());
        assert_eq!(ascii.get(2), 2);
    }
}
