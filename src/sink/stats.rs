//! Prevalence statistics: what a shard (or a whole corpus) holds, per trope, per
//! stance and per archetype, in passages, documents, characters and tokens.
//! Every field is an integer that adds up, so stats of shards processed anywhere
//! merge with `+=` into exactly the stats of the whole.

use std::collections::BTreeMap;
use std::ops::AddAssign;

use serde::{Deserialize, Serialize};

/// Passages, documents, characters and tokens of something.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub passages: u64,
    pub documents: u64,
    pub characters: u64,
    pub tokens: u64,
}

impl AddAssign<&Counts> for Counts {
    fn add_assign(&mut self, o: &Counts) {
        self.passages += o.passages;
        self.documents += o.documents;
        self.characters += o.characters;
        self.tokens += o.tokens;
    }
}

/// Counts of one trope, with the sum of its scores (in millionths, so sums are
/// exact integers and the mean does not depend on merge order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TropeCounts {
    #[serde(flatten)]
    pub counts: Counts,
    pub score_sum_e6: u64,
}

impl TropeCounts {
    /// Mean score of the passages carrying the trope.
    pub fn mean_score(&self) -> f64 {
        if self.counts.passages == 0 {
            return 0.0;
        }
        self.score_sum_e6 as f64 / 1e6 / self.counts.passages as f64
    }
}

impl AddAssign<&TropeCounts> for TropeCounts {
    fn add_assign(&mut self, o: &TropeCounts) {
        self.counts += &o.counts;
        self.score_sum_e6 += o.score_sum_e6;
    }
}

/// Mentions of one archetype.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchetypeCounts {
    pub mentions: u64,
    pub passages: u64,
    pub documents: u64,
}

impl AddAssign<&ArchetypeCounts> for ArchetypeCounts {
    fn add_assign(&mut self, o: &ArchetypeCounts) {
        self.mentions += o.mentions;
        self.passages += o.passages;
        self.documents += o.documents;
    }
}

/// The documents whose tokens were counted, with the sums needed to estimate the
/// corpus total (a ratio estimator) and its standard error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSample {
    pub documents: u64,
    pub characters: u64,
    pub tokens: u64,
    pub sum_tokens_sq: u128,
    pub sum_chars_sq: u128,
    pub sum_tokens_chars: u128,
}

impl TokenSample {
    /// Add one counted document.
    pub fn add(&mut self, characters: u64, tokens: u64) {
        self.documents += 1;
        self.characters += characters;
        self.tokens += tokens;
        self.sum_tokens_sq += u128::from(tokens) * u128::from(tokens);
        self.sum_chars_sq += u128::from(characters) * u128::from(characters);
        self.sum_tokens_chars += u128::from(tokens) * u128::from(characters);
    }
}

impl AddAssign<&TokenSample> for TokenSample {
    fn add_assign(&mut self, o: &TokenSample) {
        self.documents += o.documents;
        self.characters += o.characters;
        self.tokens += o.tokens;
        self.sum_tokens_sq += o.sum_tokens_sq;
        self.sum_chars_sq += o.sum_chars_sq;
        self.sum_tokens_chars += o.sum_tokens_chars;
    }
}

/// One bad record, for the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadExample {
    pub shard: String,
    pub line: u64,
    pub kind: String,
    pub message: String,
}

/// How many bad-record examples a stats value keeps.
pub const BAD_EXAMPLES: usize = 20;

/// The statistics of a shard or of many.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Prevalence {
    pub documents: u64,
    pub passages: u64,
    /// Passages stage 1 sent to stage 2.
    pub escalated_passages: u64,
    pub characters: u64,
    /// Token counts of the documents whose tokens were counted.
    pub token_sample: TokenSample,
    pub ai_agent: Counts,
    pub tropes: BTreeMap<String, TropeCounts>,
    pub stances: BTreeMap<String, Counts>,
    pub archetypes: BTreeMap<String, ArchetypeCounts>,
    /// Records that did not become documents, by kind.
    pub bad_input: BTreeMap<String, u64>,
    /// The first few bad records with their place.
    pub bad_examples: Vec<BadExample>,
    /// Per recorded field (`scan --group-field`), the stats of each value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, BTreeMap<String, Prevalence>>,
}

impl AddAssign<&Prevalence> for Prevalence {
    fn add_assign(&mut self, o: &Prevalence) {
        self.documents += o.documents;
        self.passages += o.passages;
        self.escalated_passages += o.escalated_passages;
        self.characters += o.characters;
        self.token_sample += &o.token_sample;
        self.ai_agent += &o.ai_agent;
        merge_map(&mut self.tropes, &o.tropes);
        merge_map(&mut self.stances, &o.stances);
        merge_map(&mut self.archetypes, &o.archetypes);
        for (k, v) in &o.bad_input {
            *self.bad_input.entry(k.clone()).or_default() += v;
        }
        self.bad_examples.extend(o.bad_examples.iter().cloned());
        self.bad_examples
            .sort_by(|a, b| (&a.shard, a.line).cmp(&(&b.shard, b.line)));
        self.bad_examples.truncate(BAD_EXAMPLES);
        for (field, values) in &o.groups {
            merge_map(self.groups.entry(field.clone()).or_default(), values);
        }
    }
}

fn merge_map<V: Default + for<'a> AddAssign<&'a V>>(
    into: &mut BTreeMap<String, V>,
    from: &BTreeMap<String, V>,
) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

impl Prevalence {
    /// Records that did not become documents.
    pub fn bad_total(&self) -> u64 {
        self.bad_input.values().sum()
    }

    /// Count one bad record.
    pub fn add_bad(&mut self, shard: &str, line: u64, kind: &str, message: &str) {
        *self.bad_input.entry(kind.to_string()).or_default() += 1;
        if self.bad_examples.len() < BAD_EXAMPLES {
            self.bad_examples.push(BadExample {
                shard: shard.to_string(),
                line,
                kind: kind.to_string(),
                message: message.chars().take(200).collect(),
            });
        }
    }

    /// Total tokens: exact when every document was counted, otherwise the ratio
    /// estimate from the counted ones (tokens per character × characters).
    pub fn tokens_total(&self) -> f64 {
        let s = &self.token_sample;
        if s.documents == self.documents || s.characters == 0 {
            return s.tokens as f64;
        }
        s.tokens as f64 / s.characters as f64 * self.characters as f64
    }

    /// True when every document's tokens were counted.
    pub fn tokens_exact(&self) -> bool {
        self.token_sample.documents == self.documents
    }

    /// Standard error of [`Self::tokens_total`] (0 when exact): the usual
    /// linearised variance of a ratio estimator over the sampled documents.
    pub fn tokens_std_error(&self) -> f64 {
        let s = &self.token_sample;
        let n = s.documents as f64;
        if self.tokens_exact() || n < 2.0 || s.characters == 0 {
            return 0.0;
        }
        let r = s.tokens as f64 / s.characters as f64;
        let ss = s.sum_tokens_sq as f64 - 2.0 * r * s.sum_tokens_chars as f64
            + r * r * s.sum_chars_sq as f64;
        let var_residual = (ss / (n - 1.0)).max(0.0);
        let mean_c = s.characters as f64 / n;
        let finite = 1.0 - n / self.documents.max(1) as f64;
        let se_r = (finite.max(0.0) * var_residual / n).sqrt() / mean_c;
        se_r * self.characters as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_adds_everything() {
        let mut a = Prevalence {
            documents: 2,
            passages: 5,
            ..Default::default()
        };
        a.tropes.insert(
            "x".into(),
            TropeCounts {
                counts: Counts {
                    passages: 1,
                    ..Default::default()
                },
                score_sum_e6: 700_000,
            },
        );
        a.add_bad("s", 3, "malformed_json", "oops");
        let mut b = a.clone();
        b.tropes.insert("y".into(), TropeCounts::default());
        let mut total = Prevalence::default();
        total += &a;
        total += &b;
        assert_eq!(total.documents, 4);
        assert_eq!(total.tropes["x"].counts.passages, 2);
        assert_eq!(total.tropes["x"].mean_score(), 0.7);
        assert!(total.tropes.contains_key("y"));
        assert_eq!(total.bad_input["malformed_json"], 2);
        assert_eq!(total.bad_examples.len(), 2);
    }

    #[test]
    fn token_totals_are_exact_or_estimated() {
        let mut p = Prevalence {
            documents: 4,
            characters: 400,
            ..Default::default()
        };
        p.token_sample.add(100, 25);
        p.token_sample.add(100, 27);
        assert!(!p.tokens_exact());
        assert!((p.tokens_total() - 104.0).abs() < 1e-9);
        assert!(p.tokens_std_error() > 0.0);
        p.token_sample.add(100, 24);
        p.token_sample.add(100, 26);
        assert!(p.tokens_exact());
        assert_eq!(p.tokens_total(), 102.0);
        assert_eq!(p.tokens_std_error(), 0.0);
    }
}
