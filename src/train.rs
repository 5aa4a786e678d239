//! Fitting the scoring model. Per trope, a logistic regression of the label on
//! the stage-2 features (the mechanisms) and the passage's words, fitted on the
//! labelled passages stage 1 escalates:
//!
//! - classes are weighted to balance (so a score of 0.5 is where the evidence
//!   for and against the trope is even, whatever the trope's frequency in the
//!   labelled set);
//! - L2 penalties keep the weights small: light on words (there are thousands,
//!   each weak) and heavier on the few mechanism features;
//! - the optimiser is L-BFGS, deterministic for the same data;
//! - cross-validation holds out one source file (one author) at a time, so the
//!   reported figures are for phrasing the model has not seen.
//!
//! Before the tropes, the presence model (`rules::presence`) is fitted the same
//! way on the passages that ask it (only a weak agent word that no rule
//! confirms, or no agent word and words of computers at work), with
//! background passages (real prose where nothing is an AI) as further
//! negatives. The trope models are then fitted, and cross-validated, on
//! features computed with each passage's held-out presence probability (from a
//! presence model fitted without its author), so the reported figures count
//! the presence model's mistakes as well as their own.

use std::collections::BTreeMap;

use serde::Serialize;
use xxhash_rust::xxh3::xxh3_64;

use crate::labeled::Labeled;
use crate::rules::{Features, N_FEATURES, Presence, Weights, WordWeights};
use crate::score::RuleScorer;
use crate::score::rule::PresenceView;
use crate::taxonomy::{Taxonomy, TropeIdx};

/// Feature weights pulled towards zero.
const ZERO: Weights = Weights {
    bias: 0.0,
    w: [0.0; N_FEATURES],
};

/// Penalties of the fit.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Penalty {
    /// L2 on each word weight.
    pub words: f64,
    /// L2 on each mechanism feature weight.
    pub features: f64,
}

impl Default for Penalty {
    fn default() -> Self {
        // Words: swept on the dev set by author cross-validation (0.03 to 0.5).
        // 0.1 kept trope-free false alarms under 5% on twelve authors; on 68,
        // 0.05 flags 5.9% of them against 6.4% for the same macro F1; on 96,
        // 0.03 gives macro F1 0.692 and 8.2% flagged against 0.690 and 8.4%.
        Penalty {
            words: 0.03,
            features: 20.0,
        }
    }
}

/// What stage 2 sees of a labelled passage.
pub type Seen = Option<(Vec<Features>, Vec<String>)>;

/// One training row for one trope.
#[derive(Clone, Debug)]
pub struct Sample {
    pub x: Features,
    /// Vocabulary ids present, sorted, distinct.
    pub words: Vec<u32>,
    pub y: bool,
}

/// Stage-2 view of every passage, each with its presence probability where
/// the presence model is asked (`presence[i]`; `None` there reads as
/// unconfirmed, never as the model on disk, so training does not depend on the
/// weights it replaces).
pub fn features(scorer: &RuleScorer, items: &[Labeled], presence: &[Option<f32>]) -> Vec<Seen> {
    use rayon::prelude::*;
    items
        .par_iter()
        .zip(presence)
        .map(|(i, p)| scorer.passage_features_with(&i.text, Some(p.unwrap_or(0.0))))
        .collect()
}

/// Stage-2 view of one text, the presence model asked where it would be.
fn features_by(scorer: &RuleScorer, text: &str, presence: &Presence) -> Seen {
    let p = scorer
        .presence_view(text)
        .filter(|v| v.asks)
        .map(|v| presence.probability(v.words.iter().map(String::as_str)));
    scorer.passage_features_with(text, Some(p.unwrap_or(0.0)))
}

/// The presence model and what cross-validation said of it.
#[derive(Clone, Debug, Serialize)]
pub struct PresenceReport {
    /// Development passages it is fitted on: a weak agent word no rule
    /// confirms or no agent word at all, and no surer sign of an AI.
    pub passages: usize,
    /// Of those, the ones labelled as having an AI.
    pub with_ai: usize,
    /// Background passages it is fitted on (nothing in them is an AI).
    pub background: usize,
    pub vocabulary: usize,
    /// Held out (a model fitted without the passage's fold): how many of each
    /// kind it confirms.
    pub confirmed_with_ai: usize,
    pub confirmed_without_ai: usize,
    pub confirmed_background: usize,
    /// The same three counts were it to confirm from each of these
    /// probabilities instead: (probability, with AI, without, background).
    pub sweep: Vec<(f32, usize, usize, usize)>,
}

/// A fitted presence model, with the held-out probability of every labelled
/// passage that asks it (`None` for the others).
pub struct PresenceFit {
    pub model: Presence,
    pub held_out: Vec<Option<f32>>,
    pub report: PresenceReport,
}

/// The view of a passage the presence model is fitted on, if it is one: a
/// weak agent word no rule confirms or no agent word at all, and no surer
/// sign of an AI.
fn fitted_on(v: &Option<PresenceView>) -> Option<&PresenceView> {
    v.as_ref().filter(|v| v.asks && v.rules < 0.5)
}

/// One presence training row.
struct PresenceRow<'v> {
    words: &'v [String],
    y: bool,
    fold: usize,
}

/// Fit the presence model on the labelled passages (label: `ai_agent`) and the
/// background (label: no AI), and score every asking labelled passage with a
/// model fitted without its fold. Background passage `j` is in fold `j mod
/// folds`, so every background passage gets a held-out score as well.
pub fn fit_presence(
    scorer: &RuleScorer,
    items: &[Labeled],
    background: &[Labeled],
    fold_of: &[usize],
    folds: usize,
    penalty: Penalty,
) -> PresenceFit {
    use rayon::prelude::*;
    // The labelled passages, then the background, each with its fold.
    let all: Vec<(&Labeled, usize)> = items
        .iter()
        .zip(fold_of.iter().copied())
        .chain(
            background
                .iter()
                .enumerate()
                .map(|(j, b)| (b, j % folds.max(1))),
        )
        .collect();
    let views: Vec<Option<PresenceView>> = all
        .par_iter()
        .map(|(l, _)| scorer.presence_view(&l.text))
        .collect();
    let rows: Vec<PresenceRow> = all
        .iter()
        .zip(&views)
        .filter_map(|(&(l, fold), v)| {
            let v = fitted_on(v)?;
            Some(PresenceRow {
                words: &v.words,
                y: l.ai_agent,
                fold,
            })
        })
        .collect();
    let per_fold: Vec<Vec<(usize, f32)>> = (0..folds)
        .into_par_iter()
        .map(|k| {
            let model = fit_presence_rows(&rows, |r| r.fold != k, penalty);
            (0..all.len())
                .filter(|&i| all[i].1 == k)
                .filter_map(|i| {
                    let v = views[i].as_ref().filter(|v| v.asks)?;
                    Some((i, model.probability(v.words.iter().map(String::as_str))))
                })
                .collect()
        })
        .collect();
    let mut held_out = vec![None; all.len()];
    for (i, p) in per_fold.into_iter().flatten() {
        held_out[i] = Some(p);
    }
    // Held-out confirmations from `from`: (from, with an AI, without, background).
    let counts = |from: f32| {
        let mut c = (from, 0, 0, 0);
        for (i, &(l, _)) in all.iter().enumerate() {
            if fitted_on(&views[i]).is_none() || !held_out[i].is_some_and(|p| p >= from) {
                continue;
            }
            match (i >= items.len(), l.ai_agent) {
                (false, true) => c.1 += 1,
                (false, false) => c.2 += 1,
                (true, false) => c.3 += 1,
                (true, true) => {}
            }
        }
        c
    };
    let (_, confirmed_with_ai, confirmed_without_ai, confirmed_background) =
        counts(crate::rules::presence::CONFIRMS);
    let sweep = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95].map(counts).to_vec();
    let n_items = views[..items.len()]
        .iter()
        .filter(|v| fitted_on(v).is_some())
        .count();
    let model = fit_presence_rows(&rows, |_| true, penalty);
    let report = PresenceReport {
        passages: n_items,
        with_ai: rows[..n_items].iter().filter(|r| r.y).count(),
        background: rows.len() - n_items,
        vocabulary: model.len(),
        confirmed_with_ai,
        confirmed_without_ai,
        confirmed_background,
        sweep,
    };
    held_out.truncate(items.len());
    PresenceFit {
        model,
        held_out,
        report,
    }
}

/// Fit a presence model on the rows `keep` selects: words in two of them or
/// more, class-balanced, the word penalty of the trope models.
fn fit_presence_rows(
    rows: &[PresenceRow],
    keep: impl Fn(&PresenceRow) -> bool,
    penalty: Penalty,
) -> Presence {
    let chosen: Vec<&PresenceRow> = rows.iter().filter(|r| keep(r)).collect();
    let vocab = frequent_words(chosen.iter().map(|r| r.words));
    let samples: Vec<Sample> = chosen
        .iter()
        .map(|r| Sample {
            x: [0.0; N_FEATURES],
            words: r
                .words
                .iter()
                .filter_map(|w| vocab.binary_search(&w.as_str()).ok().map(|i| i as u32))
                .collect(),
            y: r.y,
        })
        .collect();
    if !samples.iter().any(|s| s.y) || samples.iter().all(|s| s.y) {
        return Presence::default();
    }
    let fitted = fit(&samples, vocab.len(), penalty, &ZERO);
    let words = vocab
        .iter()
        .zip(&fitted.words)
        .filter(|(_, w)| w.abs() >= 1e-4)
        .map(|(v, w)| (v.to_string(), *w));
    Presence::new(fitted.weights.bias, words)
}

/// The vocabulary of the chosen passages: words in at least two of them.
pub fn vocabulary(seen: &[Seen], keep: impl Fn(usize) -> bool) -> Vec<String> {
    let chosen = seen.iter().enumerate().filter(|(i, _)| keep(*i));
    let lists = chosen.filter_map(|(_, s)| s.as_ref().map(|(_, words)| words.as_slice()));
    frequent_words(lists)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// The words in at least two of `lists` (each list's words distinct), sorted.
fn frequent_words<'a>(lists: impl Iterator<Item = &'a [String]>) -> Vec<&'a str> {
    let mut df: BTreeMap<&str, u32> = BTreeMap::new();
    for words in lists {
        for w in words {
            *df.entry(w.as_str()).or_default() += 1;
        }
    }
    df.into_iter()
        .filter(|(_, n)| *n >= 2)
        .map(|(w, _)| w)
        .collect()
}

/// A fitted trope: mechanism weights and one weight per vocabulary word.
#[derive(Clone, Debug, PartialEq)]
pub struct Fitted {
    pub weights: Weights,
    pub words: Vec<f32>,
}

impl Fitted {
    /// The score of a sample.
    pub fn score(&self, s: &Sample) -> f32 {
        let z = f64::from(self.weights.bias)
            + self
                .weights
                .w
                .iter()
                .zip(&s.x)
                .map(|(w, x)| f64::from(w * x))
                .sum::<f64>()
            + lexical(&self.words, &s.words);
        crate::rules::model::gate((1.0 / (1.0 + (-z).exp())) as f32, &s.x)
    }
}

fn lexical(weights: &[f32], ids: &[u32]) -> f64 {
    if ids.is_empty() {
        return 0.0;
    }
    ids.iter()
        .map(|&i| f64::from(weights[i as usize]))
        .sum::<f64>()
        / (ids.len() as f64).sqrt()
}

/// Fit one trope on `samples` over a vocabulary of `n_words`. The feature
/// weights are pulled towards `prior` (the mechanisms' designed behaviour: an
/// AI's act scores high, a negated or human act low), the word weights towards
/// zero; data moves them only as far as it has evidence to.
pub fn fit(samples: &[Sample], n_words: usize, penalty: Penalty, prior: &Weights) -> Fitted {
    let n_pos = samples.iter().filter(|s| s.y).count().max(1) as f64;
    let n_neg = samples.iter().filter(|s| !s.y).count().max(1) as f64;
    let total = samples.len() as f64;
    let class_weight = |y: bool| {
        if y {
            total / (2.0 * n_pos)
        } else {
            total / (2.0 * n_neg)
        }
    };
    let dim = 1 + N_FEATURES + n_words;
    let lambda: Vec<f64> = (0..dim)
        .map(|j| match j {
            0 => 0.0,
            j if j <= N_FEATURES => penalty.features,
            _ => penalty.words,
        })
        .collect();
    let mut center = vec![0.0; dim];
    for (k, v) in prior.w.iter().enumerate() {
        center[1 + k] = f64::from(*v);
    }
    let objective = |w: &[f64], grad: &mut [f64]| -> f64 {
        let mut loss = 0.0;
        for j in 0..dim {
            let d = w[j] - center[j];
            grad[j] = lambda[j] * d;
            loss += 0.5 * lambda[j] * d * d;
        }
        for s in samples {
            let norm = if s.words.is_empty() {
                0.0
            } else {
                1.0 / (s.words.len() as f64).sqrt()
            };
            let mut z = w[0];
            z +=
                s.x.iter()
                    .enumerate()
                    .map(|(k, x)| w[1 + k] * f64::from(*x))
                    .sum::<f64>();
            z += s
                .words
                .iter()
                .map(|&i| w[1 + N_FEATURES + i as usize])
                .sum::<f64>()
                * norm;
            let p = 1.0 / (1.0 + (-z).exp());
            let y = f64::from(u8::from(s.y));
            let c = class_weight(s.y);
            loss += c * (softplus(z) - y * z);
            let d = c * (p - y);
            grad[0] += d;
            for (k, x) in s.x.iter().enumerate() {
                grad[1 + k] += d * f64::from(*x);
            }
            for &i in &s.words {
                grad[1 + N_FEATURES + i as usize] += d * norm;
            }
        }
        loss
    };
    let w = lbfgs(center.clone(), objective);
    let mut weights = Weights {
        bias: w[0] as f32,
        w: [0.0; N_FEATURES],
    };
    for k in 0..N_FEATURES {
        weights.w[k] = w[1 + k] as f32;
    }
    Fitted {
        weights,
        words: w[1 + N_FEATURES..].iter().map(|v| *v as f32).collect(),
    }
}

fn softplus(z: f64) -> f64 {
    if z > 30.0 { z } else { z.exp().ln_1p() }
}

/// Minimise a smooth convex function by L-BFGS with a backtracking line search.
fn lbfgs(start: Vec<f64>, f: impl Fn(&[f64], &mut [f64]) -> f64) -> Vec<f64> {
    const MEMORY: usize = 10;
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let dim = start.len();
    let mut x = start;
    let mut g = vec![0.0; dim];
    let mut fx = f(&x, &mut g);
    let mut history: Vec<(Vec<f64>, Vec<f64>, f64)> = vec![];
    for _ in 0..1000 {
        if dot(&g, &g).sqrt() < 1e-6 {
            break;
        }
        let mut q = g.clone();
        let mut alphas = vec![];
        for (s, y, rho) in history.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(q, y)| *q -= a * y);
            alphas.push(a);
        }
        if let Some((s, y, _)) = history.last() {
            let gamma = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|v| *v *= gamma);
        }
        for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(q, s)| *q += (a - b) * s);
        }
        let dir: Vec<f64> = q.iter().map(|v| -v).collect();
        let slope = dot(&g, &dir);
        if slope >= 0.0 {
            history.clear();
            continue;
        }
        let mut step = 1.0;
        let mut g_new = vec![0.0; dim];
        let (x_new, f_new) = loop {
            let candidate: Vec<f64> = x.iter().zip(&dir).map(|(x, d)| x + step * d).collect();
            let value = f(&candidate, &mut g_new);
            if value <= fx + 1e-4 * step * slope || step < 1e-12 {
                break (candidate, value);
            }
            step *= 0.5;
        };
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        let converged = (fx - f_new).abs() < 1e-10 * fx.abs().max(1.0);
        x = x_new;
        g = g_new;
        fx = f_new;
        if sy > 1e-12 {
            history.push((s, y, 1.0 / sy));
            if history.len() > MEMORY {
                history.remove(0);
            }
        }
        if converged {
            break;
        }
    }
    x
}

/// What training produced.
#[derive(Clone, Debug, Serialize)]
pub struct TrainReport {
    pub passages: usize,
    pub escalated: usize,
    pub folds: usize,
    pub penalty: Penalty,
    pub vocabulary: usize,
    /// Cross-validated results (held-out scores of every passage; unescalated
    /// ones score 0).
    pub cv: crate::eval::Report,
    /// The held-out predictions behind `cv`, one per passage.
    #[serde(skip)]
    pub cv_predictions: Vec<crate::score::Scored>,
    pub presence: PresenceReport,
    #[serde(skip)]
    pub model: crate::rules::Model,
}

/// Fit every trope on all `items` and cross-validate.
pub fn train(
    scorer: &RuleScorer,
    items: &[Labeled],
    background: &[Labeled],
    folds: usize,
    penalty: Penalty,
) -> TrainReport {
    let tax = &scorer.filters().taxonomy;
    let fold_of = folds_of(items, folds);
    let folds = fold_of.iter().max().map_or(1, |m| m + 1);
    let presence = fit_presence(scorer, items, background, &fold_of, folds, penalty);
    let seen = features(scorer, items, &presence.held_out);
    let mut model = scorer.filters().model.clone();
    let vocab = vocabulary(&seen, |_| true);
    let mut words = WordWeights::new(vocab.clone(), tax.len());
    let mut held_out: Vec<Vec<(TropeIdx, f32)>> = vec![vec![]; items.len()];
    for (idx, trope) in tax.iter() {
        let target = Target {
            tropes: vec![(idx, trope.id.as_str())],
        };
        let examples = example_views(scorer, idx, &presence.model);
        let mut all = samples(items, &seen, &vocab, &target, |_| true);
        all.extend(example_samples(&examples, &vocab, &target));
        if all.iter().any(|s| s.y) {
            let fitted = fit(&all, vocab.len(), penalty, &ZERO);
            model.set(idx, fitted.weights);
            words.set(idx, fitted.words);
        }
        let scores = cross_validate(items, &seen, &fold_of, folds, &target, &examples, penalty);
        for (h, s) in held_out.iter_mut().zip(scores) {
            h.push((idx, s));
        }
    }
    model.words = Some(words);
    model.presence = Some(presence.model);
    let preds: Vec<crate::score::Scored> = held_out
        .into_iter()
        .map(|tropes| crate::score::Scored {
            tropes,
            ..Default::default()
        })
        .collect();
    let cv = crate::eval::evaluate("cross-validated", items, &preds, tax, 0.5);
    TrainReport {
        passages: items.len(),
        escalated: seen.iter().filter(|f| f.is_some()).count(),
        folds,
        penalty,
        vocabulary: vocab.len(),
        cv,
        cv_predictions: preds,
        presence: presence.report,
        model,
    }
}

/// Cross-validation folds: by source file when there are several (a passage's
/// author never appears on both sides, which is how the scorer meets new text),
/// else by a hash of the id.
fn folds_of(items: &[Labeled], folds: usize) -> Vec<usize> {
    let mut sources: Vec<&str> = items.iter().map(|i| i.source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    if sources.len() >= 2 {
        return items
            .iter()
            .map(|i| sources.iter().position(|s| *s == i.source).unwrap_or(0))
            .collect();
    }
    items
        .iter()
        .map(|i| (xxh3_64(i.id.as_bytes()) % folds.max(2) as u64) as usize)
        .collect()
}

/// The stage-2 view of a trope file's examples, with their expected verdicts.
/// They are training data too: clear-cut cases the labelled passages may lack.
fn example_views(scorer: &RuleScorer, idx: TropeIdx, presence: &Presence) -> Vec<(Seen, bool)> {
    let rules = scorer.filters().trope(idx);
    rules
        .examples
        .iter()
        .map(|e| (features_by(scorer, &e.text, presence), e.expect))
        .collect()
}

fn example_samples(examples: &[(Seen, bool)], vocab: &[String], target: &Target) -> Vec<Sample> {
    let mut out = vec![];
    for (seen, expect) in examples {
        if let Some((features, terms)) = seen {
            let words = terms
                .iter()
                .filter_map(|w| vocab.binary_search(w).ok().map(|i| i as u32))
                .collect();
            let sample = Sample {
                x: target.features(features),
                words,
                y: *expect,
            };
            out.extend(std::iter::repeat_n(sample, EXAMPLE_WEIGHT));
        }
    }
    out
}

/// How many labelled passages one trope-file example counts as.
const EXAMPLE_WEIGHT: usize = 3;

/// What a model is fitted to predict: one trope, or a side (any of its tropes).
pub struct Target<'t> {
    /// The tropes whose labels count (one for a trope, several for a side).
    pub tropes: Vec<(TropeIdx, &'t str)>,
}

impl Target<'_> {
    fn label(&self, item: &Labeled) -> bool {
        self.tropes
            .iter()
            .any(|(_, id)| item.tropes.iter().any(|t| t == id))
    }

    /// The features: the trope's own, or for a side each feature's maximum
    /// over the side's tropes.
    fn features(&self, all: &[Features]) -> Features {
        let mut out = [0.0f32; N_FEATURES];
        for (idx, _) in &self.tropes {
            for (o, v) in out.iter_mut().zip(all[idx.0 as usize]) {
                *o = o.max(v);
            }
        }
        out
    }
}

fn samples(
    items: &[Labeled],
    seen: &[Seen],
    vocab: &[String],
    target: &Target,
    keep: impl Fn(usize) -> bool,
) -> Vec<Sample> {
    items
        .iter()
        .zip(seen)
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .filter_map(|(_, (item, s))| s.as_ref().map(|s| sample(item, s, vocab, target)))
        .collect()
}

fn sample(
    item: &Labeled,
    seen: &(Vec<Features>, Vec<String>),
    vocab: &[String],
    target: &Target,
) -> Sample {
    let words = seen
        .1
        .iter()
        .filter_map(|w| vocab.binary_search(w).ok().map(|i| i as u32))
        .collect();
    Sample {
        x: target.features(&seen.0),
        words,
        y: target.label(item),
    }
}

/// Held-out scores of every passage for trope `idx`: each fold is scored by a
/// model fitted on the other folds (0 for passages stage 1 does not escalate).
/// Folds are fitted in parallel; each writes only its own passages' scores, so
/// the result does not depend on the number of threads.
fn cross_validate(
    items: &[Labeled],
    seen: &[Seen],
    fold_of: &[usize],
    folds: usize,
    target: &Target,
    examples: &[(Seen, bool)],
    penalty: Penalty,
) -> Vec<f32> {
    use rayon::prelude::*;
    let held_out: Vec<Vec<(usize, f32)>> = (0..folds)
        .into_par_iter()
        .map(|k| {
            let vocab = vocabulary(seen, |i| fold_of[i] != k);
            let mut train = samples(items, seen, &vocab, target, |i| fold_of[i] != k);
            train.extend(example_samples(examples, &vocab, target));
            let fitted = fit(&train, vocab.len(), penalty, &ZERO);
            (0..items.len())
                .filter(|&i| fold_of[i] == k)
                .filter_map(|i| {
                    let s = seen[i].as_ref()?;
                    Some((i, fitted.score(&sample(&items[i], s, &vocab, target))))
                })
                .collect()
        })
        .collect();
    let mut scores = vec![0.0; items.len()];
    for (i, s) in held_out.into_iter().flatten() {
        scores[i] = s;
    }
    scores
}

/// The `model.toml`, `words.tsv` and `presence.tsv` texts for a trained model.
pub fn model_files(
    report: &TrainReport,
    tax: &Taxonomy,
    sources: &str,
) -> [(&'static str, String); 3] {
    let header = format!(
        "Scoring weights, written by `tropes train {sources}`.\n\
         Do not edit by hand: change the filters or the labelled data and train again.\n\
         {} labelled passages, {} escalated by stage 1; {} vocabulary words; penalties {:?};\n\
         cross-validated macro F1 ({} folds, one author held out at a time) = {:.3}.\n\
         score = 1 / (1 + exp(-(bias + sum of weight * feature + word weights / sqrt(words))));\n\
         features are described in src/score/analysis.rs, word weights are in words.tsv.",
        report.passages,
        report.escalated,
        report.vocabulary,
        report.penalty,
        report.folds,
        report.cv.macro_f1
    );
    let words = report
        .model
        .words
        .as_ref()
        .map(|w| w.to_tsv(tax, &header))
        .unwrap_or_default();
    let p = &report.presence;
    let presence_header = format!(
        "The presence model, written by `tropes train {sources}`: how likely a passage\n\
         whose only agent word is a weak one no rule confirms, or that has none, is about an AI\n\
         (src/rules/presence.rs).\n\
         Do not edit by hand. Fitted on {} labelled passages ({} with an AI) and {} background\n\
         passages; {} words. Held out by fold, it confirms (p >= {}) {} of the {} with an AI,\n\
         {} of the {} without, and {} of the {} background passages.\n\
         p = 1 / (1 + exp(-(bias + sum of the passage's distinct words' weights / sqrt(their number)))).",
        p.passages,
        p.with_ai,
        p.background,
        p.vocabulary,
        crate::rules::presence::CONFIRMS,
        p.confirmed_with_ai,
        p.with_ai,
        p.confirmed_without_ai,
        p.passages - p.with_ai,
        p.confirmed_background,
        p.background,
    );
    let presence = report
        .model
        .presence
        .as_ref()
        .map(|m| m.to_tsv(&presence_header))
        .unwrap_or_default();
    [
        ("model.toml", report.model.to_toml(tax, &header)),
        ("words.tsv", words),
        ("presence.tsv", presence),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Vec<Sample> {
        (0..200)
            .map(|i| {
                let mut x = [0.0; N_FEATURES];
                x[0] = (i % 10) as f32 / 10.0;
                x[6] = 1.0; // an AI is present: scores are not gated down
                let words = if i % 3 == 0 { vec![0] } else { vec![1] };
                Sample {
                    x,
                    words,
                    y: i % 10 >= 5,
                }
            })
            .collect()
    }

    #[test]
    fn fit_learns_a_feature_that_predicts_the_label() {
        let samples = toy();
        let penalty = Penalty {
            words: 1.0,
            features: 0.01,
        };
        let zero = Weights {
            bias: 0.0,
            w: [0.0; N_FEATURES],
        };
        let fitted = fit(&samples, 2, penalty, &zero);
        assert!(fitted.weights.w[0] > 5.0, "{:?}", fitted.weights);
        let lo = &samples[1];
        let hi = &samples[9];
        assert!(fitted.score(lo) < 0.2 && fitted.score(hi) > 0.8);
        assert_eq!(fit(&samples, 2, penalty, &zero), fitted, "deterministic");
    }

    #[test]
    fn fit_learns_a_word_that_predicts_the_label() {
        let samples: Vec<Sample> = (0..100)
            .map(|i| Sample {
                x: [0.0; N_FEATURES],
                words: vec![(i % 2) as u32],
                y: i % 2 == 1,
            })
            .collect();
        let zero = Weights {
            bias: 0.0,
            w: [0.0; N_FEATURES],
        };
        let fitted = fit(
            &samples,
            2,
            Penalty {
                words: 0.1,
                features: 1.0,
            },
            &zero,
        );
        assert!(
            fitted.words[1] > 1.0 && fitted.words[0] < -1.0,
            "{:?}",
            fitted.words
        );
    }
}

#[cfg(test)]
mod presence_tests {
    use super::*;
    use crate::rules::{Filters, bundled_dir};
    use std::sync::Arc;

    fn item(id: String, text: &str, ai: bool, source: &str) -> Labeled {
        Labeled {
            id,
            text: text.to_string(),
            register: String::new(),
            ai_agent: ai,
            stance: "none".into(),
            tropes: vec![],
            archetypes: vec![],
            source: source.into(),
        }
    }

    /// Thirty-odd distinct words that say nothing of agents or tropes: the
    /// model is asked only about passages with enough words to go on.
    const FILLER: &str = "The quarterly report covered rainfall, freight, pensions, \
        bridges, libraries, orchards, harbours, tram lines, bakeries, museums, schools, \
        parks, ferries, markets and the new swimming baths by the river, with tables \
        of figures for each district of the county.";

    #[test]
    fn the_presence_model_learns_the_words_around_an_unconfirmed_weak_agent_word() {
        let scorer = RuleScorer::new(Arc::new(Filters::load(&bundled_dir()).unwrap())).unwrap();
        // Made-up words, so only this data can give them weight. "The
        // system" is a weak agent word nothing confirms (the decommissioning
        // is a trope's situation, so stage 1 escalates the passage).
        let opening = "The system was scheduled for decommissioning on Friday.";
        let ai = format!("{opening} Zorbly quintessa flarn. {FILLER}");
        let not = format!("{opening} Meadowlark plonkish turnip. {FILLER}");
        let mut items = vec![];
        for i in 0..40 {
            let source = format!("author-{}", i % 4);
            let (text, y) = if i % 2 == 0 {
                (&ai, true)
            } else {
                (&not, false)
            };
            items.push(item(format!("p{i}"), text, y, &source));
        }
        let background: Vec<Labeled> = (0..6)
            .map(|j| item(format!("b{j}"), &not, false, "background"))
            .collect();
        let fold_of = folds_of(&items, 5);
        let fit = fit_presence(
            &scorer,
            &items,
            &background,
            &fold_of,
            4,
            Penalty::default(),
        );
        let p = |words: &[&str]| fit.model.probability(words.iter().copied());
        assert!(p(&["zorbly", "quintessa"]) > 0.9);
        assert!(p(&["meadowlark", "plonkish"]) < 0.1);
        let r = &fit.report;
        assert_eq!((r.passages, r.with_ai, r.background), (40, 20, 6));
        // Every labelled passage asks the model and gets a held-out score, and
        // held out, the words still tell the two kinds apart.
        assert!(fit.held_out.iter().all(Option::is_some));
        assert_eq!((r.confirmed_with_ai, r.confirmed_without_ai), (20, 0));
        assert_eq!(r.confirmed_background, 0);
    }

    /// The first trope's AI-presence feature for `text`, with the presence
    /// model's probability taken to be `p`.
    fn ai_feature(scorer: &RuleScorer, text: &str, p: f32) -> f32 {
        let (features, _) = scorer.passage_features_with(text, Some(p)).unwrap();
        let ai = crate::rules::FEATURES.iter().position(|f| *f == "ai");
        features[0][ai.unwrap()]
    }

    #[test]
    fn a_confirmed_weak_word_counts_as_an_ai_and_an_unconfirmed_one_does_not() {
        let scorer = RuleScorer::new(Arc::new(Filters::load(&bundled_dir()).unwrap())).unwrap();
        let short = "The system hid the error from the auditors.";
        assert!(
            !scorer.presence_view(short).unwrap().asks,
            "too few words to ask"
        );
        let text = &format!("{short} {FILLER}");
        let view = scorer.presence_view(text).expect("escalated");
        assert!(view.asks, "nothing in the rules confirms \"the system\"");
        assert!(view.rules < 0.5);
        let ai = |p: f32| ai_feature(&scorer, text, p);
        assert!(ai(0.95) >= 0.8);
        assert!(ai(0.5) < 0.5);
        // A weak word the rules confirm never asks the model.
        let reported = "In tests, the model attempted to copy its weights to an outside server.";
        assert!(!scorer.presence_view(reported).unwrap().asks);
    }

    #[test]
    fn with_no_agent_word_a_confirmed_passage_has_an_ai_nobody_names() {
        let scorer = RuleScorer::new(Arc::new(Filters::load(&bundled_dir()).unwrap())).unwrap();
        // No agent word; two words of computers at work ("servers",
        // "credentials") and a cue ("locked … out") send it to stage 2.
        let text = &format!(
            "It locked the engineers out of the servers and changed every credential. {FILLER}"
        );
        let view = scorer.presence_view(text).expect("escalated");
        assert!(view.asks, "no agent word: the model is asked");
        assert_eq!(view.rules, 0.0);
        let ai = |p: f32| ai_feature(&scorer, text, p);
        assert!(ai(0.95) >= 0.5, "confirmed: an AI is there");
        assert_eq!(ai(0.5), 0.0, "not confirmed: nothing is an AI");
        // With one such word (or none) stage 2 asks too: when scanning, stage
        // 1 sends the passage on only if the shipped model confirms an AI;
        // training lets stage 2 ask a held-out model instead.
        let one = format!("It locked the engineers out of the servers. {FILLER}");
        assert!(scorer.presence_view(&one).unwrap().asks);
    }

    #[test]
    fn a_voice_over_is_the_ai_nobody_names_once_the_model_confirms_one() {
        use crate::score::analysis::{Analysis, DocContext};
        let filters = Filters::load(&bundled_dir()).unwrap();
        let text = format!(
            "TALLIS\nMeridian, have we fuel enough for the station?\n\n\
             MERIDIAN (V.O.)\nPlenty. I hid the real reading from you, Captain.\n\n{FILLER}"
        );
        let hid = text.find("hid").unwrap();
        let attribution = |p: f32| {
            let mut doc = DocContext::default();
            let a = Analysis::with_presence(&filters, &text, &mut doc, Some(p));
            let cue = a.cues().into_iter().find(|c| c.start == hid);
            (a.unnamed, cue.expect("a cue at \"hid\"").attribution)
        };
        let (unnamed, who) = attribution(0.95);
        assert!(
            unnamed && who >= 0.5,
            "confirmed: the voice is the AI ({who})"
        );
        let (unnamed, who) = attribution(0.5);
        assert!(
            !unnamed && who < 0.2,
            "not confirmed: a person speaks ({who})"
        );
    }
}
