//! `tropes scan INPUT… --out DIR`: tag every shard.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Args as ClapArgs;
use tropes::pipeline::{IndexOptions, Progress, RecordedConfig, ScanConfig};
use tropes::scan::{self, ScanRequest};
use tropes::score::RuleScorer;
use tropes::segment::SegmentConfig;
use tropes::tokens::{TokenCounter, TokenSampling, bundled_tokenizer};
use tropes::{Error, Result};

use super::common::{Common, InputArgs, beside};
use super::progress::Display;
use super::summary;

/// Arguments of `tropes scan`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Shards (.jsonl, .json, .ndjson, .txt, optionally .zst or .gz) or directories of them
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Output directory (attributes/, stats/, manifest.json)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Redo shards that an earlier run completed (and rebuild the index)
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub index: IndexArgs,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub opts: ScanOpts,
    #[command(flatten)]
    pub common: Common,
}

/// Options of the search index.
#[derive(ClapArgs, Debug, Clone, Default)]
pub struct IndexArgs {
    /// Also build the search index at DIR/index (DIR/index/part-<rank> per worker)
    #[arg(long)]
    pub index: bool,
    /// Index every passage, not only those with an AI agent or a trope
    #[arg(long)]
    pub index_all: bool,
    /// Metadata fields (dotted paths) to store and filter on in the index
    #[arg(long = "index-field", value_name = "PATH")]
    pub index_fields: Vec<String>,
}

/// Options that decide what a scan writes.
#[derive(ClapArgs, Debug, Clone)]
pub struct ScanOpts {
    /// A passage carries a trope when its score is at least this
    #[arg(long, default_value_t = 0.5, value_name = "X")]
    pub threshold: f32,
    /// Pack paragraphs into passages of about this many words
    #[arg(long, default_value_t = SegmentConfig::default().target_words, value_name = "N")]
    pub passage_words: usize,
    /// Never make a passage longer than this many words
    #[arg(long, default_value_t = SegmentConfig::default().max_words, value_name = "N")]
    pub max_passage_words: usize,
    /// Lines longer than this are counted as bad input (line_too_long), not read
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    pub max_line_bytes: usize,
    /// Metadata fields (dotted paths) to record for `stats --group-by`
    #[arg(long = "group-field", value_name = "PATH")]
    pub group_fields: Vec<String>,
    /// tokenizer.json for token counts [default: the bundled GPT-2 tokenizer]
    #[arg(long, value_name = "FILE")]
    pub tokenizer: Option<PathBuf>,
    /// Count the tokens of every document (totals exact; slower)
    #[arg(long)]
    pub exact_tokens: bool,
    /// Share of documents whose tokens are counted to estimate totals
    #[arg(long, default_value_t = 0.01, value_name = "RATE")]
    pub token_sample: f64,
    /// Do not count tokens at all
    #[arg(long, conflicts_with_all = ["exact_tokens", "tokenizer"])]
    pub no_tokens: bool,
    /// Also write each JSON shard's attributes for `dolma mix`: a shard at
    /// ROOT/documents/REL gets ROOT/attributes/NAME/REL, in the shard's own compression
    #[arg(long, value_name = "NAME")]
    pub dolma_layout: Option<String>,
    /// Input bytes per batch of documents tagged in parallel
    #[arg(long, default_value_t = 4 << 20, value_name = "BYTES", hide = true)]
    pub batch_bytes: usize,
}

/// Build the request from the flags, checking them all.
pub fn request(
    inputs: Vec<PathBuf>,
    out: PathBuf,
    force: bool,
    input: &InputArgs,
    opts: &ScanOpts,
    index: &IndexArgs,
    common: &Common,
) -> Result<ScanRequest> {
    let segment = SegmentConfig {
        target_words: opts.passage_words,
        max_words: opts.max_passage_words,
    };
    segment.validate()?;
    if !(0.0..=1.0).contains(&opts.threshold) {
        return Err(Error::Usage("--threshold is a score in [0, 1]".into()));
    }
    if !(0.0..=1.0).contains(&opts.token_sample) {
        return Err(Error::Usage("--token-sample is a share in [0, 1]".into()));
    }
    if let Some(name) = &opts.dolma_layout
        && (name.is_empty() || name.contains(['/', '\\']) || name == "." || name == "..")
    {
        return Err(Error::Usage(format!(
            "--dolma-layout {name:?}: give an attribute-set name, one path component"
        )));
    }
    let load_counter = || -> Result<Option<Arc<TokenCounter>>> {
        if opts.no_tokens {
            return Ok(None);
        }
        let path = opts.tokenizer.clone().unwrap_or_else(bundled_tokenizer);
        Ok(Some(Arc::new(TokenCounter::load(&path)?)))
    };
    let load_scorer = || -> Result<_> {
        let filters = common.load_filters()?;
        let scorer = Arc::new(RuleScorer::new(filters.clone())?);
        Ok((filters, scorer))
    };
    let (counter, (filters, scorer)) = beside(load_counter, load_scorer)?;
    let sampling = TokenSampling {
        exact: opts.exact_tokens,
        rate: opts.token_sample,
    };
    let (rank, world_size) = input.worker()?;
    let recorded = RecordedConfig {
        text_field: input.text_field.clone(),
        id_field: input.id_field.clone(),
        fields: opts.group_fields.clone(),
        segment,
        threshold: opts.threshold,
        max_line_bytes: opts.max_line_bytes,
        tokenizer: counter.as_ref().map(|c| c.hash.clone()),
        token_sampling: sampling,
    };
    let mut fields = opts.group_fields.clone();
    for f in &index.index_fields {
        if !fields.contains(f) {
            fields.push(f.clone());
        }
    }
    let index_options =
        (index.index || index.index_all || !index.index_fields.is_empty()).then(|| IndexOptions {
            all: index.index_all,
            fields: index
                .index_fields
                .iter()
                .filter_map(|f| fields.iter().position(|x| x == f))
                .collect(),
        });
    let config = ScanConfig {
        index: index_options,
        extractor: input.extractor(&fields)?,
        segment,
        threshold: opts.threshold,
        max_line_bytes: opts.max_line_bytes,
        batch_bytes: opts.batch_bytes.max(1),
        sampling,
        dolma_layout: opts.dolma_layout.clone(),
    };
    Ok(ScanRequest {
        inputs,
        out,
        config,
        recorded,
        filters,
        scorer,
        counter,
        rank,
        world_size,
        force,
    })
}

/// Plan, run with a progress bar, print the summary; exit 1 if a shard failed.
pub fn execute(req: &ScanRequest, quiet: bool) -> Result<i32> {
    let plan = scan::plan(req)?;
    let bytes = plan.bytes;
    let progress = Arc::new(Progress::default());
    let display = Display::start(progress.clone(), bytes, quiet);
    let started = Instant::now();
    let report = scan::run(req, plan, &progress);
    display.finish();
    let report = report?;
    if !quiet {
        print!(
            "{}",
            summary::scan(&report, &req.filters, started.elapsed(), bytes)
        );
    }
    for f in report.failures() {
        eprintln!(
            "error: shard {} failed: {}:{}: {}",
            f.shard, f.path, f.line, f.error
        );
    }
    Ok(if report.failures().is_empty() { 0 } else { 1 })
}

/// Run `tropes scan`.
pub fn run(args: Args) -> Result<i32> {
    args.common.init_threads()?;
    let req = request(
        args.inputs,
        args.out,
        args.force,
        &args.input,
        &args.opts,
        &args.index,
        &args.common,
    )?;
    execute(&req, args.common.quiet)
}
