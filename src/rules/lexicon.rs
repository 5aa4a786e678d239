//! A set of tagged patterns matched together over a token stream, indexed by
//! first word so each position checks only the patterns that can start there.

use rustc_hash::FxHashMap as HashMap;

use super::pattern::Pattern;
use super::token::Token;

/// Patterns with a tag each.
#[derive(Clone, Debug, Default)]
pub struct PatternSet<T> {
    entries: Vec<(Pattern, T)>,
    exact: HashMap<String, Vec<u32>>,
    /// Prefix patterns keyed by their first (up to) three characters.
    prefixed: HashMap<String, Vec<(String, u32)>>,
    /// Which key lengths (in characters, 1 to 3) `prefixed` has, so a word is
    /// looked up only at those.
    key_chars: [bool; 4],
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

    /// Add a pattern with its tag.
    pub fn add(&mut self, pattern: Pattern, tag: T) {
        let id = self.entries.len() as u32;
        for alt in pattern.first_alts() {
            let key = alt.text.to_lowercase();
            if alt.prefix {
                let h = head(&key);
                self.key_chars[h.chars().count()] = true;
                self.prefixed
                    .entry(h.to_string())
                    .or_default()
                    .push((key, id));
            } else {
                self.exact.entry(key).or_default().push(id);
            }
        }
        self.entries.push((pattern, tag));
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
        let mut out = vec![];
        let mut candidates = vec![];
        for at in 0..words.len() {
            let lower = tokens[words[at]].lower.as_str();
            candidates.clear();
            if let Some(ids) = self.exact.get(lower) {
                candidates.extend_from_slice(ids);
            }
            let ends = lower.char_indices().map(|(i, c)| i + c.len_utf8()).take(3);
            for (n, end) in ends.enumerate() {
                if !self.key_chars[n + 1] {
                    continue;
                }
                if let Some(list) = self.prefixed.get(&lower[..end]) {
                    let hits = list.iter().filter(|(p, _)| lower.starts_with(p.as_str()));
                    candidates.extend(hits.map(|(_, id)| *id));
                }
            }
            candidates.sort_unstable();
            candidates.dedup();
            for &id in &candidates {
                let (pattern, _) = &self.entries[id as usize];
                if let Some(last) = pattern.match_at(text, tokens, words, at, sentence_end[at]) {
                    out.push(Found {
                        entry: id,
                        first: at,
                        last,
                    });
                }
            }
        }
        out
    }
}
