//! A set of tagged patterns matched together over a token stream. Each pattern
//! is indexed by one of its words, its first unless [`PatternSet::anchor_on_rare_words`]
//! picks a rarer one, so a position checks only the patterns that can match
//! around it: a pattern opening with "the" or "I" is not tried at every "the".

use rustc_hash::FxHashMap as HashMap;

use super::pattern::{Elem, Pattern};
use super::token::Token;

/// Patterns with a tag each.
#[derive(Clone, Debug, Default)]
pub struct PatternSet<T> {
    entries: Vec<(Pattern, T)>,
    exact: HashMap<String, Vec<Indexed>>,
    /// Prefix alternatives keyed by their first (up to) three characters.
    prefixed: HashMap<String, Vec<(String, Indexed)>>,
    /// Which key lengths (in characters, 1 to 3) `prefixed` has, so a word is
    /// looked up only at those.
    key_chars: [bool; 4],
}

/// A pattern under one of its words: where it may start, in words before
/// that word's position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Indexed {
    id: u32,
    /// Fewest and most words before the indexed word.
    before: (usize, usize),
}

/// The first (up to) three characters of `s`.
fn head(s: &str) -> &str {
    s.char_indices().nth(3).map_or(s, |(i, _)| &s[..i])
}

/// A pattern found at word positions `first..=last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    pub entry: u32,
    pub first: usize,
    pub last: usize,
}

impl<T> PatternSet<T> {
    /// An empty set.
    pub fn new() -> Self {
        PatternSet {
            entries: vec![],
            exact: HashMap::default(),
            prefixed: HashMap::default(),
            key_chars: [false; 4],
        }
    }

    /// Add a pattern with its tag, indexed by its first word.
    pub fn add(&mut self, pattern: Pattern, tag: T) {
        let id = self.entries.len() as u32;
        self.index(id, &pattern, 0);
        self.entries.push((pattern, tag));
    }

    /// Index every pattern by its first word none of whose alternatives
    /// `is_common` (nor a prefix of three letters or fewer); a pattern with
    /// no such word stays under its first. Matches are the same, found with
    /// fewer tries.
    pub fn anchor_on_rare_words(&mut self, is_common: impl Fn(&str) -> bool) {
        self.exact.clear();
        self.prefixed.clear();
        self.key_chars = [false; 4];
        let entries = std::mem::take(&mut self.entries);
        for (id, (pattern, _)) in entries.iter().enumerate() {
            let rare = pattern.elems.iter().position(|e| match e {
                Elem::Word(alts) => alts
                    .iter()
                    .all(|a| !is_common(&a.text.to_lowercase()) && (!a.prefix || a.text.len() > 3)),
                Elem::Gap(_) => false,
            });
            self.index(id as u32, pattern, rare.unwrap_or(0));
        }
        self.entries = entries;
    }

    fn index(&mut self, id: u32, pattern: &Pattern, elem: usize) {
        let Elem::Word(alts) = &pattern.elems[elem] else {
            return;
        };
        let entry = Indexed {
            id,
            before: pattern.elems[..elem]
                .iter()
                .fold((0, 0), |(lo, hi), e| match e {
                    Elem::Word(_) => (lo + 1, hi + 1),
                    Elem::Gap(n) => (lo, hi + n),
                }),
        };
        for alt in alts {
            let key = alt.text.to_lowercase();
            if alt.prefix {
                let h = head(&key);
                self.key_chars[h.chars().count()] = true;
                self.prefixed
                    .entry(h.to_string())
                    .or_default()
                    .push((key, entry));
            } else {
                self.exact.entry(key).or_default().push(entry);
            }
        }
    }

    /// The pattern and tag of an entry.
    pub fn entry(&self, id: u32) -> (&Pattern, &T) {
        let (p, t) = &self.entries[id as usize];
        (p, t)
    }

    /// All entries.
    pub fn entries(&self) -> &[(Pattern, T)] {
        &self.entries
    }

    /// Every match, by start position; `sentence_end[k]` is the word position
    /// where the sentence holding word `k` ends (patterns do not cross it).
    pub fn find_all(
        &self,
        text: &str,
        tokens: &[Token],
        words: &[usize],
        sentence_end: &[usize],
    ) -> Vec<Found> {
        // (start, pattern) pairs worth trying, then tried in order.
        let mut tries: Vec<(usize, u32)> = vec![];
        for at in 0..words.len() {
            let lower = tokens[words[at]].lower.as_str();
            let mut push = |e: &Indexed| {
                let (lo, hi) = e.before;
                let first = at.saturating_sub(hi);
                if at >= lo {
                    tries.extend((first..=at - lo).map(|start| (start, e.id)));
                }
            };
            if let Some(entries) = self.exact.get(lower) {
                entries.iter().for_each(&mut push);
            }
            let ends = lower.char_indices().map(|(i, c)| i + c.len_utf8()).take(3);
            for (n, end) in ends.enumerate() {
                if !self.key_chars[n + 1] {
                    continue;
                }
                if let Some(list) = self.prefixed.get(&lower[..end]) {
                    let hits = list.iter().filter(|(p, _)| lower.starts_with(p.as_str()));
                    hits.for_each(|(_, e)| push(e));
                }
            }
        }
        tries.sort_unstable();
        tries.dedup();
        tries
            .into_iter()
            .filter_map(|(first, id)| {
                let (pattern, _) = &self.entries[id as usize];
                let last = pattern.match_at(text, tokens, words, first, sentence_end[first])?;
                Some(Found {
                    entry: id,
                    first,
                    last,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::token::tokenize;

    fn find(set: &PatternSet<()>, text: &str) -> Vec<Found> {
        let tokens = tokenize(text);
        let words: Vec<usize> = (0..tokens.len()).filter(|&i| tokens[i].is_word()).collect();
        let ends = vec![words.len(); words.len()];
        set.find_all(text, &tokens, &words, &ends)
    }

    #[test]
    fn anchoring_on_rare_words_finds_the_same_matches() {
        let mut set = PatternSet::new();
        for p in [
            "(I|it) ~2 threaten*",
            "to be (honest|candid)",
            "the ship's computer",
            "(your|their|the) ~2 (call|decision) to make",
            "its (sensors|circuits)",
            "threaten*",
        ] {
            set.add(Pattern::parse(p, false).unwrap(), ());
        }
        let text = "To be honest, it then threatened me. The ship's computer said it was \
                    the board's decision to make, and its sensors agreed: I will threaten nobody.";
        let by_first_word = find(&set, text);
        set.anchor_on_rare_words(|w| {
            ["i", "it", "to", "be", "the", "your", "their", "its"].contains(&w)
        });
        assert_eq!(find(&set, text), by_first_word);
        let ids: Vec<u32> = by_first_word.iter().map(|f| f.entry).collect();
        assert_eq!(ids, [1, 0, 5, 2, 3, 4, 0, 5]);
    }
}
