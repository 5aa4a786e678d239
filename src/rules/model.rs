//! The scoring model: per trope, a logistic combination of the stage-2 features.
//! Its weights live in `filters/model.toml`, written by `tropes train`; a trope
//! missing there gets hand-set prior weights.

use std::path::Path;

use super::files::ModelFile;
use crate::error::{Error, Result};
use crate::taxonomy::{Side, Taxonomy, TropeIdx};

/// Number of features per trope.
pub const N_FEATURES: usize = 10;

/// Feature names, in vector order (see `score::features` for their meaning).
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
            w: [7.0, 1.5, 3.0, -4.0, derived, -3.0, 1.0, 0.5, 0.3, 0.3],
        }
    }
}

/// Weights for every trope of a taxonomy.
#[derive(Clone, Debug)]
pub struct Model {
    weights: Vec<Weights>,
    /// Which tropes came from the file (the rest use priors).
    pub fitted: Vec<bool>,
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
