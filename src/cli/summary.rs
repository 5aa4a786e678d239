//! The one-paragraph summaries printed after a run.

use std::fmt::Write as _;
use std::time::Duration;

use tropes::pipeline::ShardStatus;
use tropes::rules::Filters;
use tropes::scan::RunReport;
use tropes::taxonomy::Side;

/// The summary of a scan.
pub fn scan(report: &RunReport, filters: &Filters, elapsed: Duration, bytes: u64) -> String {
    let t = &report.total;
    let count =
        |f: fn(&ShardStatus) -> bool| report.results.iter().filter(|r| f(&r.status)).count();
    let done = count(|s| matches!(s, ShardStatus::Done));
    let skipped = count(|s| matches!(s, ShardStatus::Skipped));
    let failed = count(|s| matches!(s, ShardStatus::Failed(_)));
    let secs = elapsed.as_secs_f64().max(1e-9);
    let mut out = String::new();
    let _ = write!(
        out,
        "Scanned {done} shard{} ({skipped} complete from an earlier run, {failed} failed) in {secs:.1} s, {:.1} MB/s of input as stored (compressed or not). \
         {} documents, {} passages; stage 1 escalated {} ({:.2}%); {} passages with an AI agent.",
        plural(done),
        bytes as f64 / 1e6 / secs,
        t.documents,
        t.passages,
        t.escalated_passages,
        percent(t.escalated_passages, t.passages),
        t.ai_agent.passages,
    );
    for side in [Side::Misaligned, Side::Aligned] {
        let parts: Vec<String> = filters
            .taxonomy
            .iter()
            .filter(|(_, tr)| tr.side == side)
            .map(|(_, tr)| {
                format!(
                    "{} {}",
                    tr.id,
                    t.tropes.get(&tr.id).map_or(0, |c| c.counts.passages)
                )
            })
            .collect();
        let name = if side == Side::Misaligned {
            "Misaligned"
        } else {
            "Aligned"
        };
        let _ = write!(out, " {name} passages: {}.", parts.join(", "));
    }
    let stance = |s: &str| t.stances.get(s).map_or(0, |c| c.passages);
    let _ = write!(
        out,
        " Stances: misaligned {}, aligned {}, mixed {}.",
        stance("misaligned"),
        stance("aligned"),
        stance("mixed")
    );
    let bad = t.bad_total();
    if bad > 0 {
        let kinds: Vec<String> = t
            .bad_input
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = write!(out, " Bad input: {bad} records ({})", kinds.join(", "));
        if let Some(first) = t.bad_examples.first() {
            let _ = write!(
                out,
                "; first at {}:{} ({})",
                first.shard, first.line, first.kind
            );
        }
        out.push('.');
    } else {
        out.push_str(" No bad input.");
    }
    if !report.skipped_files.is_empty() {
        let _ = write!(
            out,
            " Ignored {} files with unknown extensions.",
            report.skipped_files.len()
        );
    }
    out.push('\n');
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `part` as a percentage of `whole`.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}
