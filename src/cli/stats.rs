//! `tropes stats PATH…`: merge the per-shard stats of scan directories into one
//! prevalence report (table, JSON, CSV or HTML).

use std::path::PathBuf;

use clap::Args as ClapArgs;
use tropes::error::IoContext;
use tropes::report::{self, Options, Report};
use tropes::{Error, Result};

use super::common::Common;

/// Arguments of `tropes stats`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Scan output directories (their stats/ are merged) or stats files
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Print the report as one JSON object
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print the report as CSV
    #[arg(long)]
    pub csv: bool,
    /// Also write a self-contained HTML report with charts to FILE
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Break the report down by a field the scan recorded (scan --group-field)
    #[arg(long, value_name = "FIELD")]
    pub group_by: Option<String>,
    /// How many archetypes to list
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// A rebalance output directory: add its before/after counts to the HTML report
    #[arg(long, value_name = "OUT")]
    pub rebalance: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

/// Run `tropes stats`.
pub fn run(args: Args) -> Result<i32> {
    let filters = args.common.load_filters()?;
    let merged = report::merge(&args.paths)?;
    let options = Options {
        group_by: args.group_by.as_deref(),
        top_archetypes: args.top,
    };
    let report = Report::new(&merged, &filters, options)?;
    if args.json {
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| Error::Other(e.to_string()))?;
        println!("{text}");
    } else if args.csv {
        print!("{}", report::csv::render(&report));
    } else {
        print!("{}", report::table::render(&report));
    }
    if let Some(path) = &args.html {
        let comparison = match &args.rebalance {
            Some(dir) => Some(super::rebalance::before_after(dir, &filters)?),
            None => None,
        };
        let title = format!("Trope prevalence: {}", names(&args.paths));
        let page = report::html::render(&report, &title, comparison.as_deref());
        std::fs::write(path, page).at(path)?;
        if !args.json && !args.csv {
            println!("\nwrote {}", path.display());
        }
    }
    Ok(0)
}

fn names(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
