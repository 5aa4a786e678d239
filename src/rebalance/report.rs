//! `OUT/rebalance_report.json`: what a rebalance did, trope by trope.

use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::report::html::BeforeAfter;
use crate::rules::Filters;
use crate::taxonomy::Side;

/// Passages, documents and tokens of one trope.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TropeTotals {
    pub passages: u64,
    pub documents: u64,
    pub tokens: u64,
}

impl AddAssign<&TropeTotals> for TropeTotals {
    fn add_assign(&mut self, o: &TropeTotals) {
        self.passages += o.passages;
        self.documents += o.documents;
        self.tokens += o.tokens;
    }
}

/// A corpus side of the report (before or after).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub documents: u64,
    pub passages: u64,
    pub tokens: u64,
    /// Passages carrying at least one misaligned trope, and at least one aligned.
    pub misaligned_passages: u64,
    pub aligned_passages: u64,
    pub tropes: BTreeMap<String, TropeTotals>,
}

impl AddAssign<&Totals> for Totals {
    fn add_assign(&mut self, o: &Totals) {
        self.documents += o.documents;
        self.passages += o.passages;
        self.tokens += o.tokens;
        self.misaligned_passages += o.misaligned_passages;
        self.aligned_passages += o.aligned_passages;
        for (k, v) in &o.tropes {
            *self.tropes.entry(k.clone()).or_default() += v;
        }
    }
}

/// What happened to the documents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decisions {
    /// Written unchanged.
    pub kept: u64,
    /// Written with passages cut out.
    pub modified: u64,
    /// Not written.
    pub dropped: u64,
    /// Extra copies written (upsampling).
    pub duplicated: u64,
    /// Documents mixed in from the augmentation corpus.
    pub added: u64,
}

impl AddAssign<&Decisions> for Decisions {
    fn add_assign(&mut self, o: &Decisions) {
        self.kept += o.kept;
        self.modified += o.modified;
        self.dropped += o.dropped;
        self.duplicated += o.duplicated;
        self.added += o.added;
    }
}

/// The requested and achieved mix.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetOutcome {
    /// Aligned passages per misaligned passage requested (none: no target).
    pub aligned_per_misaligned: Option<f64>,
    pub before: f64,
    pub achieved: f64,
    /// Probabilities computed from the scan's stats to reach the target.
    pub misaligned_keep_rate: f64,
    pub aligned_copies: f64,
    /// Documents read from the augmentation corpus, and how many of them the
    /// scorer finds aligned and not misaligned: only those are ever added.
    pub augment_read: u64,
    pub augment_usable: u64,
}

/// The whole report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RebalanceReport {
    pub before: Totals,
    pub after: Totals,
    pub decisions: Decisions,
    pub target: TargetOutcome,
    /// Input lines that were not documents (not written), by kind.
    #[serde(default)]
    pub bad_input: BTreeMap<String, u64>,
}

/// Read `DIR/rebalance_report.json`.
pub fn read(dir: &Path) -> Result<RebalanceReport> {
    crate::pipeline::read_json(&dir.join("rebalance_report.json"))
}

/// Per-trope passages before and after, in taxonomy order, for charts.
pub fn before_after(dir: &Path, filters: &Filters) -> Result<Vec<BeforeAfter>> {
    let report = read(dir)?;
    let passages = |t: &Totals, id: &str| t.tropes.get(id).map_or(0, |x| x.passages);
    Ok(filters
        .taxonomy
        .iter()
        .map(|(_, t)| BeforeAfter {
            name: t.id.clone(),
            misaligned: t.side == Side::Misaligned,
            before: passages(&report.before, &t.id),
            after: passages(&report.after, &t.id),
        })
        .collect())
}
