//! `tropes rebalance INPUT… --scan DIR --policy FILE --out OUT`: write the
//! rebalanced corpus and report what was done, trope by trope.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args as ClapArgs;
use tropes::rebalance::RebalanceReport;
use tropes::rebalance::policy::Policy;
use tropes::rebalance::run::{RebalanceRequest, run as rebalance};
use tropes::report::html::BeforeAfter;
use tropes::report::table::thousands;
use tropes::rules::Filters;
use tropes::shard::Codec;
use tropes::tokens::{TokenCounter, bundled_tokenizer};
use tropes::{Error, Result};

use super::common::{Common, InputArgs, beside};

/// Arguments of `tropes rebalance`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The shards that were scanned (files or directories)
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// The scan output directory of these shards
    #[arg(long, value_name = "DIR")]
    pub scan: PathBuf,
    /// The rebalance policy (TOML)
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// Output directory: rebalanced shards, reports/, rebalance_report.json
    #[arg(long, value_name = "OUT")]
    pub out: PathBuf,
    /// Output compression: zstd, gzip or none
    #[arg(long, default_value = "zstd", value_name = "CODEC")]
    pub compression: String,
    /// Compression level [default: 3 for zstd, 6 for gzip]
    #[arg(long, value_name = "N")]
    pub level: Option<i32>,
    /// Do not add the `tropes` object saying what was done to each document
    #[arg(long)]
    pub no_annotate: bool,
    /// Write OUT/decisions/<shard>.jsonl.zst: one line per document with its fate
    #[arg(long)]
    pub log_decisions: bool,
    /// Redo shards an earlier run completed with the same plan
    #[arg(long)]
    pub force: bool,
    /// tokenizer.json for token counts [default: the bundled GPT-2 tokenizer]
    #[arg(long, value_name = "FILE")]
    pub tokenizer: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub common: Common,
}

/// Run `tropes rebalance`.
pub fn run(args: Args) -> Result<i32> {
    args.common.init_threads()?;
    let tokenizer = args.tokenizer.clone().unwrap_or_else(bundled_tokenizer);
    let load_counter = || Ok(Arc::new(TokenCounter::load(&tokenizer)?));
    let load_policy = || -> Result<_> {
        let filters = args.common.load_filters()?;
        let policy = Policy::load(&args.policy, &filters.taxonomy)?;
        Ok((filters, policy))
    };
    let (counter, (filters, policy)) = beside(load_counter, load_policy)?;
    let compression = match args.compression.as_str() {
        "zstd" => Codec::Zstd,
        "gzip" | "gz" => Codec::Gzip,
        "none" => Codec::Plain,
        other => {
            return Err(Error::Usage(format!(
                "--compression {other:?}: use zstd, gzip or none"
            )));
        }
    };
    let (rank, world_size) = args.input.worker()?;
    let req = RebalanceRequest {
        inputs: args.inputs,
        scan: args.scan,
        out: args.out,
        policy,
        filters: filters.clone(),
        counter: Some(counter),
        compression,
        level: args
            .level
            .unwrap_or(if compression == Codec::Gzip { 6 } else { 3 }),
        annotate: !args.no_annotate,
        log_decisions: args.log_decisions,
        rank,
        world_size,
        force: args.force,
    };
    let outcome = rebalance(&req)?;
    if !args.common.quiet {
        print!(
            "{}",
            summary(&outcome.report, &filters, outcome.done, outcome.skipped)
        );
        println!("wrote {}", req.out.join("rebalance_report.json").display());
    }
    Ok(0)
}

/// The before/after table.
pub fn summary(r: &RebalanceReport, filters: &Filters, done: usize, skipped: usize) -> String {
    let mut out = String::new();
    let d = &r.decisions;
    let _ = writeln!(
        out,
        "Rebalanced {done} shard(s) ({skipped} complete from an earlier run). Documents: {} in -> {} out \
         (kept {}, modified {}, dropped {}, copies {}, added {}).",
        thousands(d.kept + d.modified + d.dropped),
        thousands(d.kept + d.modified + d.duplicated + d.added),
        thousands(d.kept),
        thousands(d.modified),
        thousands(d.dropped),
        thousands(d.duplicated),
        thousands(d.added)
    );
    let row = |out: &mut String, label: &str, cells: [String; 4]| {
        let [b, a, tb, ta] = cells;
        let _ = writeln!(out, "{label:<22} {b:>10} {a:>10} {tb:>12} {ta:>12}");
    };
    out.push('\n');
    let heads = ["before", "after", "tokens bef.", "tokens aft."].map(String::from);
    row(&mut out, "", heads);
    let (b, a) = (&r.before, &r.after);
    let docs = [
        thousands(b.documents),
        thousands(a.documents),
        String::new(),
        String::new(),
    ];
    row(&mut out, "documents", docs);
    let passages = [b.passages, a.passages, b.tokens, a.tokens].map(thousands);
    row(&mut out, "passages", passages);
    for (_, t) in filters.taxonomy.iter() {
        let bt = b.tropes.get(&t.id).copied().unwrap_or_default();
        let at = a.tropes.get(&t.id).copied().unwrap_or_default();
        let cells = [bt.passages, at.passages, bt.tokens, at.tokens].map(thousands);
        row(&mut out, &t.id, cells);
    }
    let ratio = |x: f64| {
        if x < 0.0 {
            "no misaligned passage".to_string()
        } else {
            format!("{x:.3}")
        }
    };
    let _ = writeln!(
        out,
        "\naligned/misaligned passages: {} before, {} after{}",
        ratio(r.target.before),
        ratio(r.target.achieved),
        r.target
            .aligned_per_misaligned
            .map(|t| format!(" (target {t})"))
            .unwrap_or_default()
    );
    if r.target.augment_read > 0 {
        let _ = writeln!(
            out,
            "augmentation corpus: {} documents read, {} usable (aligned, not misaligned), {} added",
            r.target.augment_read, r.target.augment_usable, r.decisions.added
        );
    }
    let bad: u64 = r.bad_input.values().sum();
    if bad > 0 {
        let _ = writeln!(
            out,
            "{bad} input lines were not documents and were not written: {:?}",
            r.bad_input
        );
    }
    out
}

/// Per-trope passages before and after, for `stats --rebalance`.
pub fn before_after(dir: &Path, filters: &Filters) -> Result<Vec<BeforeAfter>> {
    tropes::rebalance::before_after(dir, filters)
}
