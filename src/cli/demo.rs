//! `tropes demo`: the whole pipeline on the bundled sample corpus.

use std::path::PathBuf;

use clap::Args as ClapArgs;
use tropes::Result;

use super::common::{Common, InputArgs};
use super::scan::{ScanOpts, execute, request};

/// Arguments of `tropes demo`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Where to write the outputs [default: index/sample in the repository]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub opts: ScanOpts,
    #[command(flatten)]
    pub common: Common,
}

fn repo_dir(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Run `tropes demo`.
pub fn run(args: Args) -> Result<i32> {
    args.common.init_threads()?;
    let out = args.out.unwrap_or_else(|| repo_dir("index/sample"));
    let input = InputArgs {
        text_field: "text".into(),
        id_field: "id".into(),
        rank: Some(0),
        world_size: Some(1),
    };
    let inputs = vec![repo_dir("corpora/sample")];
    println!(
        "Scanning the sample corpus in {} into {}",
        inputs[0].display(),
        out.display()
    );
    let index = super::scan::IndexArgs {
        index: true,
        ..Default::default()
    };
    let mut opts = args.opts.clone();
    opts.exact_tokens = !opts.no_tokens;
    let quiet = args.common.quiet;
    let req = request(
        inputs.clone(),
        out.clone(),
        true,
        &input,
        &opts,
        &index,
        &args.common,
    )?;
    let status = execute(&req, quiet)?;
    if status != 0 {
        return Ok(status);
    }
    // The later steps reuse the thread pool sized above.
    let common = Common {
        threads: None,
        ..args.common
    };
    let rebalanced = out.join("rebalanced");
    let policy = repo_dir("corpora/policies/example.toml");
    say(
        quiet,
        &format!("\nRebalancing it with {}", policy.display()),
    );
    super::rebalance::run(super::rebalance::Args {
        inputs,
        scan: out.clone(),
        policy,
        out: rebalanced.clone(),
        compression: "zstd".into(),
        level: None,
        no_annotate: false,
        log_decisions: true,
        force: true,
        tokenizer: opts.tokenizer.clone(),
        input,
        common: common.clone(),
    })?;
    let html = out.join("report.html");
    say(quiet, "\nTrope prevalence");
    super::stats::run(super::stats::Args {
        paths: vec![out.clone()],
        json: false,
        csv: false,
        html: Some(html),
        group_by: None,
        top: 10,
        rebalance: Some(rebalanced),
        common,
    })?;
    let dir = out.display();
    say(
        quiet,
        &format!(
            "\nNext: tropes search 'shut down' --index {dir} --trope shutdown_resistance\n      \
             tropes stats {dir} --json\n      tropes explain \"The AI refused to be shut down.\""
        ),
    );
    Ok(0)
}

fn say(quiet: bool, line: &str) {
    if !quiet {
        println!("{line}");
    }
}
