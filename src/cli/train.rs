//! `tropes train LABELED…`: fit the scoring weights and write `model.toml`.

use std::path::PathBuf;

use clap::Args as ClapArgs;
use tropes::error::IoContext;
use tropes::{Error, Result, labeled, train};

use super::common::Common;

/// Arguments of `tropes train`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Labelled passages: JSONL files or directories of them (keep the test split out)
    #[arg(required = true, value_name = "LABELED")]
    pub labeled: Vec<PathBuf>,
    /// Cross-validation folds when all passages come from one file (with several
    /// files, each file is a fold: no author is on both sides)
    #[arg(long, default_value_t = 5, value_name = "K")]
    pub folds: usize,
    /// L2 penalty on each word weight (0.03 was chosen by cross-validation on
    /// the dev set: lower flags fewer trope-free passages, higher finds more)
    #[arg(long, default_value_t = train::Penalty::default().words, value_name = "LAMBDA")]
    pub l2_words: f64,
    /// L2 penalty on each mechanism-feature weight
    #[arg(long, default_value_t = train::Penalty::default().features, value_name = "LAMBDA")]
    pub l2_features: f64,
    /// Passages where nothing is an AI, as further negatives for the presence
    /// model only (not for the tropes, nor in the figures printed) [default:
    /// the bundled corpora/background/]
    #[arg(long, value_name = "FILE_OR_DIR")]
    pub background: Vec<PathBuf>,
    /// Fit the presence model without background passages
    #[arg(long, conflicts_with = "background")]
    pub no_background: bool,
    /// List the held-out misses and false alarms of cross-validation
    #[arg(long)]
    pub errors: bool,
    /// Print the results without writing model.toml
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub common: Common,
}

/// Run `tropes train`.
pub fn run(args: Args) -> Result<i32> {
    args.common.init_threads()?;
    if args.folds < 2 {
        return Err(Error::Usage("--folds must be at least 2".into()));
    }
    let filters = args.common.load_filters()?;
    let items = labeled::load(&args.labeled)?;
    labeled::validate(&items, &filters.taxonomy)?;
    let scorer = tropes::score::RuleScorer::new(filters.clone())?;
    let penalty = train::Penalty {
        words: args.l2_words,
        features: args.l2_features,
    };
    let background = if args.no_background {
        vec![]
    } else if args.background.is_empty() {
        labeled::load(&[default_background()])?
    } else {
        labeled::load(&args.background)?
    };
    labeled::validate(&background, &filters.taxonomy)?;
    let report = train::train(&scorer, &items, &background, args.folds, penalty);
    println!(
        "{} passages, {} escalated by stage 1, {} vocabulary words; {}-fold cross-validation, {:?}",
        report.passages, report.escalated, report.vocabulary, report.folds, report.penalty
    );
    let p = &report.presence;
    println!(
        "presence model: fitted on {} passages with only an unconfirmed weak agent word or none ({} with an AI) \
         and {} background passages; held out, it confirms {} of the {} with an AI, {} of the {} \
         without, {} of the {} background passages",
        p.passages,
        p.with_ai,
        p.background,
        p.confirmed_with_ai,
        p.with_ai,
        p.confirmed_without_ai,
        p.passages - p.with_ai,
        p.confirmed_background,
        p.background
    );
    for (from, with_ai, without, bg) in &p.sweep {
        println!(
            "  confirming from {from:.2}: {with_ai} with an AI, {without} without, {bg} background"
        );
    }
    print!("{}", super::eval::single_table(&report.cv));
    if args.errors {
        let mistakes =
            tropes::eval::mistakes(&items, &report.cv_predictions, &filters.taxonomy, 0.5);
        super::eval::print_mistakes(&mistakes);
    }
    if !args.dry_run {
        let sources: Vec<String> = args
            .labeled
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        for (name, text) in train::model_files(&report, &filters.taxonomy, &sources.join(" ")) {
            let path = filters.dir.join(name);
            std::fs::write(&path, text).at(&path)?;
            println!("wrote {}", path.display());
        }
    }
    Ok(0)
}

/// The bundled background passages (`corpora/background/`).
fn default_background() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpora/background")
}
