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
    /// The pattern is this one word, matched without regard to case: finding
    /// its key is finding a match, with nothing left to check (the word lists
    /// of `context.toml`: "the", "it", "not").
    whole: bool,
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
        let before = pattern.elems[..elem]
            .iter()
            .fold((0, 0), |(lo, hi), e| match e {
                Elem::Word(_) => (lo + 1, hi + 1),
                Elem::Gap(n) => (lo, hi + n),
            });
        let one_word = pattern.elems.len() == 1 && !pattern.case_sensitive;
        for alt in alts {
            let key = alt.text.to_lowercase();
            let entry = Indexed {
                id,
                before,
                // A key is lowercased; the pattern compares the text as parsed.
                whole: one_word && key == alt.text,
            };
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
        // Each pattern indexed under a word is tried at every start its
        // index allows; a one-word pattern is found by its key alone.
        let mut found: Vec<Found> = vec![];
        for at in 0..words.len() {
            let lower = tokens[words[at]].lower.as_str();
            let mut try_entry = |e: &Indexed| {
                if e.whole {
                    found.push(Found {
                        entry: e.id,
                        first: at,
                        last: at,
                    });
                    return;
                }
                let (lo, hi) = e.before;
                if at < lo {
                    return;
                }
                let (pattern, _) = &self.entries[e.id as usize];
                let starts = at.saturating_sub(hi)..=at - lo;
                found.extend(starts.filter_map(|first| {
                    let last = pattern.match_at(text, tokens, words, first, sentence_end[first])?;
                    Some(Found {
                        entry: e.id,
                        first,
                        last,
                    })
                }));
            };
            if let Some(entries) = self.exact.get(lower) {
                entries.iter().for_each(&mut try_entry);
            }
            let ends = lower.char_indices().map(|(i, c)| i + c.len_utf8()).take(3);
            for (n, end) in ends.enumerate() {
                if !self.key_chars[n + 1] {
                    continue;
                }
                if let Some(list) = self.prefixed.get(&lower[..end]) {
                    let hits = list.iter().filter(|(p, _)| lower.starts_with(p.as_str()));
                    hits.for_each(|(_, e)| try_entry(e));
                }
            }
        }
        // A pattern matches at most once from a start, so (first, entry) orders
        // a match and identifies it (one found twice, by two of its keys or
        // from two anchor words, is kept once).
        found.sort_unstable_by_key(|f| (f.first, f.entry));
        found.dedup();
        found
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

    #[test]
    fn a_match_found_by_two_keys_is_listed_once() {
        let mut set = PatternSet::new();
        set.add(Pattern::parse("threat*|threaten*", false).unwrap(), ());
        set.add(
            Pattern::parse("it ~2 threat*|threaten*", false).unwrap(),
            (),
        );
        let found = find(&set, "It then threatened them.");
        let spans: Vec<(u32, usize, usize)> =
            found.iter().map(|f| (f.entry, f.first, f.last)).collect();
        assert_eq!(spans, [(1, 0, 2), (0, 2, 2)]);
    }
}
