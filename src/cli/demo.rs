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
    let req = request(inputs, out, true, &input, &opts, &index, &args.common)?;
    execute(&req, args.common.quiet)
}
