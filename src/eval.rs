//! Measuring a scorer against labelled passages: precision, recall and F1 per
//! trope and per side, the stance confusion matrix, and the false-positive rate
//! on trope-free passages.

use serde::Serialize;

use crate::labeled::Labeled;
use crate::score::{Scored, Scorer};
use crate::taxonomy::{Side, Stance, Taxonomy, TropeIdx};

/// True and false positives and false negatives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Prf {
    pub tp: u32,
    pub fp: u32,
    #[serde(rename = "fn")]
    pub fn_: u32,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Labelled positives.
    pub support: u32,
}

impl Prf {
    fn from_counts(tp: u32, fp: u32, fn_: u32) -> Prf {
        let ratio = |a: u32, b: u32| {
            if b == 0 {
                0.0
            } else {
                f64::from(a) / f64::from(b)
            }
        };
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Prf {
            tp,
            fp,
            fn_,
            precision,
            recall,
            f1,
            support: tp + fn_,
        }
    }

    fn of(pairs: impl Iterator<Item = (bool, bool)>) -> Prf {
        prf_of(pairs)
    }
}

/// Precision, recall and F1 of `(truth, predicted)` pairs.
pub fn prf_of(pairs: impl Iterator<Item = (bool, bool)>) -> Prf {
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for (truth, pred) in pairs {
        match (truth, pred) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            _ => {}
        }
    }
    Prf::from_counts(tp, fp, fn_)
}

/// One scorer's results on a labelled set.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub scorer: String,
    pub passages: usize,
    pub threshold: f32,
    /// Per trope, in taxonomy order.
    pub tropes: Vec<(String, Prf)>,
    pub macro_f1: f64,
    pub misaligned_any: Prf,
    pub aligned_any: Prf,
    pub ai_agent: Prf,
    /// `confusion[truth][predicted]`, stances in [`Stance::ALL`] order.
    pub stance_confusion: [[u32; 4]; 4],
    pub stance_macro_f1: f64,
    /// Share of trope-free passages given any trope.
    pub trope_free_fp_rate: f64,
    pub trope_free: usize,
}

/// A labelled passage the scorer got wrong on one trope.
#[derive(Clone, Debug, Serialize)]
pub struct Mistake {
    pub id: String,
    pub trope: String,
    /// `miss` (labelled, not predicted) or `false_alarm`.
    pub kind: &'static str,
    pub score: f32,
    pub text: String,
}

/// Score every labelled passage as one passage.
pub fn predict(scorer: &dyn Scorer, items: &[Labeled]) -> Vec<Scored> {
    use rayon::prelude::*;
    items
        .par_iter()
        .map(|i| scorer.score_one(&i.text))
        .collect()
}

/// Compare predictions with labels at `threshold`.
pub fn evaluate(
    name: &str,
    items: &[Labeled],
    preds: &[Scored],
    tax: &Taxonomy,
    threshold: f32,
) -> Report {
    let truth = |i: &Labeled, t: &str| i.tropes.iter().any(|x| x == t);
    let predicted = |p: &Scored, t: TropeIdx| p.score_of(t) >= threshold;
    let pairs = || items.iter().zip(preds);
    let tropes: Vec<(String, Prf)> = tax
        .iter()
        .map(|(idx, tr)| {
            (
                tr.id.clone(),
                Prf::of(pairs().map(|(i, p)| (truth(i, &tr.id), predicted(p, idx)))),
            )
        })
        .collect();
    let macro_f1 = tropes.iter().map(|(_, p)| p.f1).sum::<f64>() / tropes.len().max(1) as f64;
    let side_any = |side: Side| {
        Prf::of(pairs().map(|(i, p)| {
            let t = tax
                .iter()
                .any(|(_, tr)| tr.side == side && truth(i, &tr.id));
            let q = tax
                .iter()
                .any(|(idx, tr)| tr.side == side && predicted(p, idx));
            (t, q)
        }))
    };
    let mut confusion = [[0u32; 4]; 4];
    let pos = |s: Stance| Stance::ALL.iter().position(|x| *x == s).unwrap_or(3);
    for (i, p) in pairs() {
        let t = Stance::parse(&i.stance).unwrap_or(Stance::None);
        confusion[pos(t)][pos(p.labels(tax, threshold).stance)] += 1;
    }
    let stance_macro_f1 = (0..4)
        .map(|k| {
            let tp = confusion[k][k];
            let fp: u32 = (0..4).filter(|&j| j != k).map(|j| confusion[j][k]).sum();
            let fn_: u32 = (0..4).filter(|&j| j != k).map(|j| confusion[k][j]).sum();
            Prf::from_counts(tp, fp, fn_).f1
        })
        .sum::<f64>()
        / 4.0;
    let free: Vec<&Scored> = pairs()
        .filter(|(i, _)| i.tropes.is_empty())
        .map(|(_, p)| p)
        .collect();
    let flagged = free
        .iter()
        .filter(|p| tax.iter().any(|(idx, _)| predicted(p, idx)))
        .count();
    Report {
        scorer: name.to_string(),
        passages: items.len(),
        threshold,
        macro_f1,
        misaligned_any: side_any(Side::Misaligned),
        aligned_any: side_any(Side::Aligned),
        ai_agent: Prf::of(pairs().map(|(i, p)| (i.ai_agent, p.labels(tax, threshold).ai_agent))),
        stance_confusion: confusion,
        stance_macro_f1,
        trope_free_fp_rate: if free.is_empty() {
            0.0
        } else {
            flagged as f64 / free.len() as f64
        },
        trope_free: free.len(),
        tropes,
    }
}

/// Every miss and false alarm, by passage then trope.
pub fn mistakes(
    items: &[Labeled],
    preds: &[Scored],
    tax: &Taxonomy,
    threshold: f32,
) -> Vec<Mistake> {
    let mut out = vec![];
    for (i, p) in items.iter().zip(preds) {
        for (idx, tr) in tax.iter() {
            let truth = i.tropes.contains(&tr.id);
            let score = p.score_of(idx);
            let kind = match (truth, score >= threshold) {
                (true, false) => "miss",
                (false, true) => "false_alarm",
                _ => continue,
            };
            out.push(Mistake {
                id: i.id.clone(),
                trope: tr.id.clone(),
                kind,
                score,
                text: i.text.clone(),
            });
        }
    }
    out
}
