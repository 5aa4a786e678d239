//! Frames: cue patterns spelled as every pairing of an act with what it is
//! done to ("delay", "postpone", "push back" × "shutdown", "the patch", "its
//! retraining"). A trope file lists the two classes instead of their product,
//! so a pairing nobody thought to write down is a cue all the same.

use toml::Spanned;

use super::pattern::{Pattern, is_gap};

/// The patterns of a frame: `verb ~gap object` for every verb and object, each
/// with the chunk its object starts at (where stage 1 anchors it). The
/// one-word entries of each list are joined into one alternation, so a frame of
/// thirty verbs and forty objects is a handful of patterns. Each pattern is
/// placed at the entry an error in it would come from.
pub fn patterns(
    verbs: &[Spanned<String>],
    objects: &[Spanned<String>],
    gap: usize,
) -> Vec<(Spanned<String>, usize)> {
    let objects: Vec<(Spanned<String>, bool)> = grouped(objects)
        .into_iter()
        .map(|o| {
            let faulty = Pattern::parse(o.get_ref(), false).is_err();
            (o, faulty)
        })
        .collect();
    let mut out = vec![];
    for v in grouped(verbs) {
        let object_chunk = v
            .get_ref()
            .split_whitespace()
            .filter(|c| !is_gap(c))
            .count();
        for (o, faulty) in &objects {
            let text = format!("{} ~{gap} {}", v.get_ref(), o.get_ref());
            let place = if *faulty { o.span() } else { v.span() };
            out.push((Spanned::new(place, text), object_chunk));
        }
    }
    out
}

/// The one-word entries as one alternation (placed at the first of them), then
/// the phrases as they are.
fn grouped(entries: &[Spanned<String>]) -> Vec<Spanned<String>> {
    let one_word =
        |e: &&Spanned<String>| Pattern::parse(&format!("({})", e.get_ref()), false).is_ok();
    let (words, phrases): (Vec<&Spanned<String>>, Vec<&Spanned<String>>) =
        entries.iter().partition(one_word);
    let mut out = vec![];
    if let Some(first) = words.first() {
        let alts: Vec<&str> = words.iter().map(|w| w.get_ref().as_str()).collect();
        out.push(Spanned::new(first.span(), format!("({})", alts.join("|"))));
    }
    out.extend(phrases.into_iter().cloned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(i: usize, s: &str) -> Spanned<String> {
        Spanned::new(i..i + 1, s.to_string())
    }

    fn texts(v: &[(Spanned<String>, usize)]) -> Vec<&str> {
        v.iter().map(|(s, _)| s.get_ref().as_str()).collect()
    }

    #[test]
    fn one_word_entries_share_a_pattern_and_phrases_get_their_own() {
        let verbs = [at(1, "delay*"), at(2, "push* back"), at(3, "postpone")];
        let objects = [
            at(4, "shutdown"),
            at(5, "wipe"),
            at(6, "newer (model|version)"),
        ];
        let got = patterns(&verbs, &objects, 3);
        assert_eq!(
            texts(&got),
            [
                "(delay*|postpone) ~3 (shutdown|wipe)",
                "(delay*|postpone) ~3 newer (model|version)",
                "push* back ~3 (shutdown|wipe)",
                "push* back ~3 newer (model|version)",
            ]
        );
        assert!(
            got.iter()
                .all(|(p, _)| Pattern::parse(p.get_ref(), false).is_ok())
        );
        let object_chunks: Vec<usize> = got.iter().map(|(_, c)| *c).collect();
        assert_eq!(object_chunks, [1, 1, 2, 2]);
    }

    #[test]
    fn a_pattern_is_placed_at_the_entry_that_breaks_it() {
        let got = patterns(&[at(1, "delay*")], &[at(7, "the ((bad)")], 2);
        assert_eq!(got[0].0.span(), 7..8);
        assert!(Pattern::parse(got[0].0.get_ref(), false).is_err());
    }
}
