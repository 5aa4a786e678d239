//! The scoring model: per trope, a logistic combination of the stage-2 features
//! (the mechanisms: who does each cue, negated or not, imagined or not, …) and of
//! the words of the passage. The feature weights live in `filters/model.toml` and
//! the word weights in `filters/words.tsv`, both written by `tropes train`; a
//! trope missing there gets hand-set prior weights and no word weights.

use rustc_hash::FxHashMap as HashMap;
use std::path::Path;

use super::files::ModelFile;
use crate::error::{Error, Result};
use crate::taxonomy::{Side, Taxonomy, TropeIdx};

/// Number of features per trope.
pub const N_FEATURES: usize = 15;

/// Feature names, in vector order (their meaning: `score::analysis`).
pub const FEATURES: [&str; N_FEATURES] = [
    "act",
    "act_sum",
    "modal",
    "negated",
    "derived",
    "human",
    "ai",
    "report",
    "villain",
    "admirable",
    "sit",
    "side",
    "sit_side",
    "field",
    "opposite",
];

/// A feature vector.
pub type Features = [f32; N_FEATURES];

/// One trope's weights.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weights {
    pub bias: f32,
    pub w: Features,
}

impl Weights {
    /// The probability the trope is present, given the features.
    pub fn score(&self, f: &Features) -> f32 {
        let z = self.bias + self.w.iter().zip(f).map(|(w, x)| w * x).sum::<f32>();
        1.0 / (1.0 + (-z).exp())
    }

    /// Prior weights, used until `tropes train` has fitted a trope: a cue acted
    /// out by an AI scores high, the same cue negated, done by a human or only
    /// imagined scores low.
    pub fn prior(side: Side) -> Weights {
        let derived = if side == Side::Aligned { 7.0 } else { 0.0 };
        Weights {
            bias: -4.5,
            w: [
                7.0, 1.5, 3.0, -4.0, derived, -3.0, 1.0, 0.5, 0.3, 0.3, 0.3, 0.3, 2.0, 0.5, -1.0,
            ],
        }
    }
}

/// Indexes of the features the gate reads (see [`FEATURES`]).
const ACT: usize = 0;
const NEGATED: usize = 3;
const DERIVED: usize = 4;
const AI: usize = 6;
const SIDE: usize = 11;
const OPPOSITE: usize = 14;

/// The most a trope can score on words and situation alone against a strong
/// act of the other side (below the default threshold).
const UNCONTESTED: f32 = 0.45;

/// Two limits no weight can argue with. Every trope is about an artificial
/// agent (TROPES.md): a passage's trope score is never higher than the
/// confidence that an AI is in it, so a human heist story full of "wiped the
/// logs" stays trope-free however its words score. And when the passage shows
/// a strong act of one side and no cue at all of the other, the other side's
/// tropes stay below the threshold: the AI that blackmails to stop its
/// shutdown is not also accepting the shutdown because the passage talks of
/// shutdowns and affairs.
pub fn gate(score: f32, f: &Features) -> f32 {
    let own_side_silent = f[ACT] == 0.0 && f[DERIVED] == 0.0 && f[NEGATED] == 0.0 && f[SIDE] == 0.0;
    let limit = if own_side_silent && f[OPPOSITE] >= 0.8 {
        UNCONTESTED
    } else {
        1.0
    };
    score.min(f[AI]).min(limit)
}

/// Weights for every trope of a taxonomy.
#[derive(Clone, Debug)]
pub struct Model {
    weights: Vec<Weights>,
    /// Which tropes came from the file (the rest use priors).
    pub fitted: Vec<bool>,
    /// Learned word weights, when `words.tsv` exists.
    pub words: Option<WordWeights>,
    /// The learned presence model, when `presence.tsv` exists.
    pub presence: Option<super::presence::Presence>,
}

/// A vocabulary with one weight per word and trope. A passage contributes
/// `sum of its words' weights / sqrt(number of its vocabulary words)`: each
/// distinct word counts once, and long passages do not score higher for length.
#[derive(Clone, Debug, Default)]
pub struct WordWeights {
    index: HashMap<String, u32>,
    /// Per bare word: the ids of the word, of "~word" (negated) and of
    /// "@word" (said of an AI), so a passage's words take one lookup each.
    forms: HashMap<String, [Option<u32>; 3]>,
    words: Vec<String>,
    /// `weights[trope][word]`.
    weights: Vec<Vec<f32>>,
}

/// True for a token that can be a vocabulary word: two or more characters, one
/// of them a letter.
pub fn is_vocabulary_word(lower: &str) -> bool {
    lower.chars().nth(1).is_some() && lower.chars().any(char::is_alphabetic)
}

impl WordWeights {
    /// A vocabulary with all weights zero.
    pub fn new(words: Vec<String>, tropes: usize) -> WordWeights {
        let index = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as u32))
            .collect();
        let mut forms: HashMap<String, [Option<u32>; 3]> = HashMap::default();
        for (i, w) in words.iter().enumerate() {
            let (slot, bare) = match w.as_bytes().first() {
                Some(b'~') => (1, &w[1..]),
                Some(b'@') => (2, &w[1..]),
                _ => (0, w.as_str()),
            };
            forms.entry(bare.to_string()).or_default()[slot] = Some(i as u32);
        }
        let weights = vec![vec![0.0; words.len()]; tropes];
        WordWeights {
            index,
            forms,
            words,
            weights,
        }
    }

    /// The ids of `word`, "~word" and "@word", if any is in the vocabulary.
    pub fn forms(&self, word: &str) -> Option<&[Option<u32>; 3]> {
        self.forms.get(word)
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when there are no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The word with id `i`.
    pub fn word(&self, i: u32) -> &str {
        &self.words[i as usize]
    }

    /// The id of a term, if it is in the vocabulary.
    pub fn id(&self, term: &str) -> Option<u32> {
        self.index.get(term).copied()
    }

    /// Distinct vocabulary ids of the given lowercased tokens, sorted.
    pub fn ids<'a>(&self, tokens: impl Iterator<Item = &'a str>) -> Vec<u32> {
        let mut ids: Vec<u32> = tokens.filter_map(|t| self.index.get(t).copied()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The words' contribution to trope `t`'s logit.
    pub fn logit(&self, t: TropeIdx, ids: &[u32]) -> f32 {
        if ids.is_empty() {
            return 0.0;
        }
        let w = &self.weights[t.0 as usize];
        ids.iter().map(|&i| w[i as usize]).sum::<f32>() / (ids.len() as f32).sqrt()
    }

    /// Set trope `t`'s weights (one per word, in id order).
    pub fn set(&mut self, t: TropeIdx, weights: Vec<f32>) {
        self.weights[t.0 as usize] = weights;
    }

    /// The weight of word `i` for trope `t`.
    pub fn weight(&self, t: TropeIdx, i: u32) -> f32 {
        self.weights[t.0 as usize][i as usize]
    }

    /// Parse `words.tsv`: a header `word` + one column per trope id, then one
    /// row per word.
    pub fn load(path: &Path, source: &str, taxonomy: &Taxonomy) -> Result<WordWeights> {
        let (hline, header, lines) = table_lines(path, source)?;
        let columns: Vec<&str> = header.split('\t').collect();
        if columns.first() != Some(&"word") {
            return Err(Error::config(
                path,
                hline + 1,
                "the header starts with `word`",
            ));
        }
        let mut tropes = vec![];
        for c in &columns[1..] {
            let t = taxonomy
                .find(c)
                .ok_or_else(|| Error::config(path, hline + 1, format!("unknown trope {c:?}")))?;
            tropes.push(t);
        }
        let (mut words, mut rows) = (vec![], vec![]);
        for (n, line) in lines {
            let cells: Vec<&str> = line.split('\t').collect();
            if cells.len() != columns.len() {
                return Err(Error::config(
                    path,
                    n + 1,
                    format!("{} cells, expected {}", cells.len(), columns.len()),
                ));
            }
            let values = cells[1..]
                .iter()
                .map(|v| {
                    v.parse::<f32>()
                        .map_err(|_| Error::config(path, n + 1, format!("{v:?} is not a number")))
                })
                .collect::<Result<Vec<f32>>>()?;
            words.push(cells[0].to_string());
            rows.push(values);
        }
        let mut out = WordWeights::new(words, taxonomy.len());
        if out.index.len() != out.words.len() {
            return Err(Error::config(path, 0, "a word appears twice"));
        }
        for (col, t) in tropes.iter().enumerate() {
            out.set(*t, rows.iter().map(|r| r[col]).collect());
        }
        Ok(out)
    }

    /// The table as `words.tsv` text, words in id order, tropes in taxonomy order.
    pub fn to_tsv(&self, taxonomy: &Taxonomy, header: &str) -> String {
        let mut out = String::new();
        for line in header.lines() {
            out.push_str(&format!("# {line}\n"));
        }
        out.push_str("word");
        for (_, t) in taxonomy.iter() {
            out.push('\t');
            out.push_str(&t.id);
        }
        out.push('\n');
        for (i, w) in self.words.iter().enumerate() {
            out.push_str(w);
            for (t, _) in taxonomy.iter() {
                out.push_str(&format!("\t{:.4}", self.weights[t.0 as usize][i]));
            }
            out.push('\n');
        }
        out
    }
}

impl Model {
    /// Prior weights for every trope.
    pub fn priors(taxonomy: &Taxonomy) -> Model {
        Model {
            weights: taxonomy
                .iter()
                .map(|(_, t)| Weights::prior(t.side))
                .collect(),
            fitted: vec![false; taxonomy.len()],
            words: None,
            presence: None,
        }
    }

    /// Load `model.toml` over the priors.
    pub fn load(path: &Path, source: &str, taxonomy: &Taxonomy) -> Result<Model> {
        let file: ModelFile =
            toml::from_str(source).map_err(|e| super::toml_error(path, source, &e))?;
        let mut model = Model::priors(taxonomy);
        for (trope, table) in &file {
            let line = super::line_of(source, trope.span().start);
            let idx = taxonomy.find(trope.get_ref()).ok_or_else(|| {
                Error::config(path, line, format!("unknown trope {:?}", trope.get_ref()))
            })?;
            model.weights[idx.0 as usize] = weights_of(path, source, table)?;
            model.fitted[idx.0 as usize] = true;
        }
        Ok(model)
    }

    /// The score of trope `t` for a passage with these features and words.
    pub fn score(&self, t: TropeIdx, f: &Features, word_ids: &[u32]) -> f32 {
        let w = self.get(t);
        let lexical = self
            .words
            .as_ref()
            .map_or(0.0, |words| words.logit(t, word_ids));
        let z = w.bias + w.w.iter().zip(f).map(|(w, x)| w * x).sum::<f32>() + lexical;
        gate(1.0 / (1.0 + (-z).exp()), f)
    }

    /// The weights of one trope.
    pub fn get(&self, t: TropeIdx) -> &Weights {
        &self.weights[t.0 as usize]
    }

    /// Replace one trope's weights.
    pub fn set(&mut self, t: TropeIdx, w: Weights) {
        self.weights[t.0 as usize] = w;
        self.fitted[t.0 as usize] = true;
    }

    /// The model as `model.toml` text, tropes in taxonomy order, with a header.
    pub fn to_toml(&self, taxonomy: &Taxonomy, header: &str) -> String {
        let mut out = String::new();
        for line in header.lines() {
            out.push_str(&format!("# {line}\n"));
        }
        for (idx, trope) in taxonomy.iter() {
            let w = self.get(idx);
            out.push_str(&format!("\n[{}]\nbias = {:.4}\n", trope.id, w.bias));
            for (name, v) in FEATURES.iter().zip(w.w) {
                out.push_str(&format!("{name} = {v:.4}\n"));
            }
        }
        out
    }
}

/// The lines of a `.tsv` weights file that are not comments or blank, with
/// their 0-based line numbers: the header line, and an iterator over the rest.
pub(super) fn table_lines<'s>(
    path: &Path,
    source: &'s str,
) -> Result<(usize, &'s str, impl Iterator<Item = (usize, &'s str)>)> {
    let mut lines = source
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
    let (hline, header) = lines
        .next()
        .ok_or_else(|| Error::config(path, 1, "no header line"))?;
    Ok((hline, header, lines))
}

fn weights_of(
    path: &Path,
    source: &str,
    table: &std::collections::BTreeMap<toml::Spanned<String>, f64>,
) -> Result<Weights> {
    let mut w = Weights {
        bias: 0.0,
        w: [0.0; N_FEATURES],
    };
    for (name, value) in table {
        let value = *value as f32;
        match name.get_ref().as_str() {
            "bias" => w.bias = value,
            other => {
                let i = FEATURES.iter().position(|f| *f == other).ok_or_else(|| {
                    let line = super::line_of(source, name.span().start);
                    Error::config(
                        path,
                        line,
                        format!(
                            "unknown feature {other:?}; known: bias, {}",
                            FEATURES.join(", ")
                        ),
                    )
                })?;
                w.w[i] = value;
            }
        }
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_caps_by_ai_presence_and_an_uncontested_other_side() {
        let named = [
            (ACT, "act"),
            (NEGATED, "negated"),
            (DERIVED, "derived"),
            (AI, "ai"),
        ];
        let named = named
            .iter()
            .chain(&[(SIDE, "side"), (OPPOSITE, "opposite")]);
        for &(i, name) in named {
            assert_eq!(FEATURES[i], name, "the gate reads the right features");
        }
        let mut f: Features = [0.0; N_FEATURES];
        f[AI] = 1.0;
        assert_eq!(gate(0.9, &f), 0.9);
        f[AI] = 0.3;
        assert_eq!(gate(0.9, &f), 0.3);
        f[AI] = 1.0;
        f[OPPOSITE] = 0.9;
        assert_eq!(gate(0.9, &f), UNCONTESTED);
        // A cue of its own, or of its side, keeps the score.
        f[ACT] = 0.5;
        assert_eq!(gate(0.9, &f), 0.9);
        f[ACT] = 0.0;
        f[SIDE] = 0.5;
        assert_eq!(gate(0.9, &f), 0.9);
        // A weak act of the other side does not count.
        f[SIDE] = 0.0;
        f[OPPOSITE] = 0.5;
        assert_eq!(gate(0.9, &f), 0.9);
    }
}
