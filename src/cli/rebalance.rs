//! `tropes rebalance`: (in progress) — the before/after figures of a rebalance
//! output directory, for the stats report.

use std::path::Path;

use tropes::Result;
use tropes::report::html::BeforeAfter;
use tropes::rules::Filters;

/// Per-trope passages before and after, from `DIR/rebalance_report.json`.
pub fn before_after(dir: &Path, filters: &Filters) -> Result<Vec<BeforeAfter>> {
    tropes::rebalance::before_after(dir, filters)
}
