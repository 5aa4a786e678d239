//! `tropes index DIR INPUT…`: build or update the search index of a scan;
//! `tropes index --merge A B … --out C`: merge workers' indexes.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args as ClapArgs;
use rayon::prelude::*;
use tropes::index::{Indexer, index_dir, meta_for};
use tropes::manifest::Manifest;
use tropes::pipeline::{
    IndexOptions, OutputLayout, Progress, ScanConfig, ShardJob, Tagger, index_shard, read_json,
};
use tropes::score::RuleScorer;
use tropes::shard::{discover, discover::share};
use tropes::tokens::TokenSampling;
use tropes::{Error, Result};

use super::common::{Common, InputArgs};

/// Arguments of `tropes index`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The scan output directory (its index goes in DIR/index)
    #[arg(value_name = "DIR", required_unless_present = "merge")]
    pub dir: Option<PathBuf>,
    /// The shards that were scanned
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Index every passage, not only those with an AI agent or a trope
    #[arg(long)]
    pub index_all: bool,
    /// Metadata fields (dotted paths) to store and filter on
    #[arg(long = "index-field", value_name = "PATH")]
    pub index_fields: Vec<String>,
    /// Rebuild the index from scratch
    #[arg(long)]
    pub force: bool,
    /// Merge these indexes (scan or index directories) into --out
    #[arg(long, num_args = 1.., value_name = "INDEX")]
    pub merge: Vec<PathBuf>,
    /// Where the merged index goes (a new directory)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub common: Common,
}

/// Run `tropes index`.
pub fn run(args: Args) -> Result<i32> {
    args.common.init_threads()?;
    if !args.merge.is_empty() {
        let out = args
            .out
            .as_ref()
            .ok_or_else(|| Error::Usage("--merge needs --out DIR".into()))?;
        let meta = tropes::index::merge(&args.merge, out)?;
        if !args.common.quiet {
            println!(
                "merged {} indexes into {} ({} shards)",
                args.merge.len(),
                out.display(),
                meta.shards.len()
            );
        }
        return Ok(0);
    }
    let dir = args
        .dir
        .clone()
        .ok_or_else(|| Error::Usage("give the scan directory".into()))?;
    if args.inputs.is_empty() {
        return Err(Error::Usage(
            "give the scanned shards (INPUT…): the index holds their passage texts".into(),
        ));
    }
    let filters = args.common.load_filters()?;
    let manifest: Manifest = read_json(&dir.join("manifest.json")).map_err(|e| {
        Error::Usage(format!(
            "{e}; is {} a scan output directory?",
            dir.display()
        ))
    })?;
    if manifest.filters_hash != filters.hash {
        return Err(Error::Usage(format!(
            "{} was scanned with other filters ({}; now {}): scan again with --force --index",
            dir.display(),
            manifest.filters_hash,
            filters.hash
        )));
    }
    let cfg = &manifest.config;
    let mut fields = cfg.fields.clone();
    for f in &args.index_fields {
        if !fields.contains(f) {
            fields.push(f.clone());
        }
    }
    let input = InputArgs {
        text_field: cfg.text_field.clone(),
        id_field: cfg.id_field.clone(),
        ..args.input.clone()
    };
    let config = ScanConfig {
        extractor: input.extractor(&fields)?,
        segment: cfg.segment,
        threshold: cfg.threshold,
        max_line_bytes: cfg.max_line_bytes,
        batch_bytes: 4 << 20,
        sampling: TokenSampling {
            exact: false,
            rate: 0.0,
        },
        index: Some(IndexOptions {
            all: args.index_all,
            fields: args
                .index_fields
                .iter()
                .filter_map(|f| fields.iter().position(|x| x == f))
                .collect(),
        }),
        dolma_layout: None,
    };
    let (rank, world) = args.input.worker()?;
    let found = discover(&args.inputs)?;
    let shards = share(found.shards, rank, world);
    let meta = meta_for(
        &filters.hash,
        &filters.taxonomy,
        cfg.threshold,
        &args.index_fields,
        args.index_all,
    );
    let mut indexer = Indexer::open(
        &index_dir(&dir, rank, world),
        meta,
        rayon::current_num_threads(),
        args.force,
    )?;
    let todo: Vec<_> = shards
        .iter()
        .filter(|s| args.force || !indexer.shards().contains(&s.name))
        .collect();
    for s in &todo {
        indexer.delete_shard(&s.name);
    }
    let scorer = Arc::new(RuleScorer::new(filters.clone())?);
    let tagger = Tagger::new(scorer.as_ref(), &filters, &config, None);
    let layout = OutputLayout { dir: dir.clone() };
    let progress = Progress::default();
    let job = ShardJob {
        tagger: &tagger,
        layout: &layout,
        filters_hash: &filters.hash,
        config_hash: &manifest.config_hash,
        progress: &progress,
        indexer: Some(&indexer),
    };
    todo.par_iter()
        .map(|s| index_shard(&job, s))
        .collect::<Result<()>>()?;
    for s in &todo {
        indexer.shard_done(&s.name);
    }
    indexer.commit()?;
    if !args.common.quiet {
        println!(
            "indexed {} shard(s) ({} already indexed) into {}",
            todo.len(),
            shards.len() - todo.len(),
            index_dir(&dir, rank, world).display()
        );
    }
    Ok(0)
}
