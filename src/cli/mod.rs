//! The command line: one module per subcommand, each turning its arguments into
//! a validated request and making one library call. Only this layer prints.

mod common;
mod demo;
mod eval;
mod explain;
mod index;
mod progress;
mod rebalance;
mod scan;
mod search;
mod stats;
mod summary;
mod train;

use clap::{Parser, Subcommand};

/// Find, score, index, report and rebalance portrayals of AI agents in
/// pretraining shards.
#[derive(Parser, Debug)]
#[command(name = "tropes", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Tag every shard: attributes, stats and a manifest in --out.
    Scan(scan::Args),
    /// Build or update the search index of a scan, or merge indexes.
    Index(index::Args),
    /// Search the passage index.
    Search(search::Args),
    /// Merge scan stats into a prevalence report (table, --json, --csv, --html).
    Stats(stats::Args),
    /// Write a rebalanced corpus per a policy, with counts per trope before and after.
    Rebalance(rebalance::Args),
    /// Run the whole pipeline on the bundled sample corpus.
    Demo(demo::Args),
    /// Show how the scorer reads one passage.
    Explain(explain::Args),
    /// Measure the scorer (and a keyword baseline) on labelled passages.
    Eval(eval::Args),
    /// Fit the scoring weights on labelled passages and write filters/model.toml.
    Train(train::Args),
}

/// Run a parsed command line; the result is the exit status.
pub fn run(cli: Cli) -> tropes::Result<i32> {
    match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Index(args) => index::run(args),
        Command::Search(args) => search::run(args),
        Command::Stats(args) => stats::run(args),
        Command::Rebalance(args) => rebalance::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Train(args) => train::run(args),
    }
}
