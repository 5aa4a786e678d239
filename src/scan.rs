//! A whole scan: plan (discover shards, take this worker's share, check what an
//! earlier run finished), run the shards in parallel, and rebuild the manifest.
//! Every check that can fail does so in `plan`, before the first shard opens.

use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::manifest;
use crate::pipeline::{
    OutputLayout, Progress, RecordedConfig, ScanConfig, ShardFailure, ShardJob, ShardResult,
    ShardStatus, Tagger, config_hash, read_stats, scan_shard,
};
use crate::rules::Filters;
use crate::score::Scorer;
use crate::shard::{ShardInput, discover, discover::share};
use crate::sink::stats::Prevalence;
use crate::tokens::TokenCounter;

/// What to scan and how.
pub struct ScanRequest {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    pub config: ScanConfig,
    pub recorded: RecordedConfig,
    pub filters: Arc<Filters>,
    pub scorer: Arc<dyn Scorer>,
    pub counter: Option<Arc<TokenCounter>>,
    pub rank: usize,
    pub world_size: usize,
    pub force: bool,
}

/// The checked plan of a scan.
pub struct ScanPlan {
    /// Shards to process in this run.
    pub todo: Vec<ShardInput>,
    /// Shards complete from an earlier run, with their stats.
    pub done: Vec<(String, Prevalence)>,
    /// The inputs of `done`, for indexing them if needed.
    pub done_inputs: Vec<ShardInput>,
    /// Files under INPUT directories that are not shards.
    pub skipped_files: Vec<PathBuf>,
    /// Files named on the command line that are not shards.
    pub rejected: Vec<PathBuf>,
    /// Compressed bytes to read.
    pub bytes: u64,
    pub config_hash: String,
}

impl ScanPlan {
    /// Shards complete from an earlier run that the index does not hold yet.
    pub fn unindexed(&self, indexed: &[String]) -> Vec<&ShardInput> {
        self.done_inputs
            .iter()
            .filter(|s| !indexed.contains(&s.name))
            .collect()
    }
}

/// The outcome of a scan.
pub struct RunReport {
    pub results: Vec<ShardResult>,
    pub skipped_files: Vec<PathBuf>,
    /// Stats over every complete shard of this worker (done now or before).
    pub total: Prevalence,
}

impl RunReport {
    /// Shards that failed, including rejected inputs.
    pub fn failures(&self) -> Vec<&ShardFailure> {
        self.results
            .iter()
            .filter_map(|r| match &r.status {
                ShardStatus::Failed(f) => Some(f),
                _ => None,
            })
            .collect()
    }
}

/// The index writer of a scan with `--index`.
fn open_indexer(req: &ScanRequest) -> Result<Option<crate::index::Indexer>> {
    let Some(opts) = &req.config.index else {
        return Ok(None);
    };
    let fields: Vec<String> = opts
        .fields
        .iter()
        .map(|&i| req.config.extractor.fields()[i].to_string())
        .collect();
    let meta = crate::index::meta_for(
        &req.filters.hash,
        &req.filters.taxonomy,
        req.config.threshold,
        &fields,
        opts.all,
    );
    let dir = crate::index::index_dir(&req.out, req.rank, req.world_size);
    let threads = rayon::current_num_threads();
    crate::index::Indexer::open(&dir, meta, threads, req.force).map(Some)
}

/// Discover the shards and check the output directory, without reading a shard.
pub fn plan(req: &ScanRequest) -> Result<ScanPlan> {
    if req.world_size == 0 || req.rank >= req.world_size {
        return Err(Error::Usage(format!(
            "--rank {} must be below --world-size {}",
            req.rank, req.world_size
        )));
    }
    let found = discover(&req.inputs)?;
    let mine = share(found.shards, req.rank, req.world_size);
    let layout = OutputLayout {
        dir: req.out.clone(),
    };
    let hash = config_hash(&req.recorded);
    let mut plan = ScanPlan {
        todo: vec![],
        done: vec![],
        done_inputs: vec![],
        skipped_files: found.skipped,
        rejected: found.rejected,
        bytes: 0,
        config_hash: hash.clone(),
    };
    for shard in mine {
        // A shard whose dolma-layout copy is missing is redone in full: the
        // copy is written in the same pass as the scan's own attributes.
        let force = req.force || !crate::pipeline::dolma_complete(&req.config, &shard);
        match previous_run(&layout, &shard, &req.filters.hash, &hash, force)? {
            Some(stats) => {
                plan.done.push((shard.name.clone(), stats));
                plan.done_inputs.push(shard);
            }
            None => {
                plan.bytes += shard.size;
                plan.todo.push(shard);
            }
        }
    }
    Ok(plan)
}

/// The stats of a shard an earlier run completed with the same filters, config
/// and input; `None` when the shard must be (re)done. Different filters or
/// config are an error: one directory must not mix two configurations.
fn previous_run(
    layout: &OutputLayout,
    shard: &ShardInput,
    filters_hash: &str,
    config_hash: &str,
    force: bool,
) -> Result<Option<Prevalence>> {
    if force {
        return Ok(None);
    }
    let Some(stats) = read_stats(layout, &shard.name)? else {
        return Ok(None);
    };
    let place = layout.stats(&shard.name);
    if stats.filters_hash != filters_hash || stats.config_hash != config_hash {
        return Err(Error::Usage(format!(
            "{} was written with other filters or settings (filters {}, config {}; now {}, {}); \
             use --force to redo it, or another --out",
            place.display(),
            stats.filters_hash,
            stats.config_hash,
            filters_hash,
            config_hash
        )));
    }
    if stats.input_bytes != shard.size {
        return Err(Error::Usage(format!(
            "{} has changed since it was scanned ({} bytes then, {} now); use --force to redo it",
            shard.path.display(),
            stats.input_bytes,
            shard.size
        )));
    }
    Ok(Some(stats.stats))
}

/// Run a checked plan.
pub fn run(req: &ScanRequest, plan: ScanPlan, progress: &Progress) -> Result<RunReport> {
    let layout = OutputLayout {
        dir: req.out.clone(),
    };
    std::fs::create_dir_all(&layout.dir).map_err(|e| Error::io(&layout.dir, e))?;
    let counter = req.counter.as_deref();
    let tagger = Tagger::new(req.scorer.as_ref(), &req.filters, &req.config, counter);
    let mut indexer = open_indexer(req)?;
    if let Some(ix) = indexer.as_mut() {
        for shard in &plan.todo {
            ix.delete_shard(&shard.name);
        }
    }
    let job = ShardJob {
        tagger: &tagger,
        layout: &layout,
        filters_hash: &req.filters.hash,
        config_hash: &plan.config_hash,
        progress,
        indexer: indexer.as_ref(),
    };
    if req.force {
        for shard in &plan.todo {
            let _ = std::fs::remove_file(layout.stats(&shard.name));
        }
    }
    let mut results: Vec<ShardResult> = plan.todo.par_iter().map(|s| scan_shard(&job, s)).collect();
    let unindexed: Vec<&ShardInput> = match job.indexer {
        Some(ix) => plan.unindexed(ix.shards()),
        None => vec![],
    };
    unindexed
        .par_iter()
        .map(|s| crate::pipeline::index_shard(&job, s))
        .collect::<Result<()>>()?;
    if let Some(mut ix) = indexer {
        for r in results
            .iter()
            .filter(|r| matches!(r.status, ShardStatus::Done))
        {
            ix.shard_done(&r.name);
        }
        for s in &unindexed {
            ix.shard_done(&s.name);
        }
        ix.commit()?;
    }
    results.extend(plan.rejected.iter().map(|p| rejected(&layout, p)));
    let mut total = Prevalence::default();
    for (name, stats) in &plan.done {
        total += stats;
        results.push(ShardResult {
            name: name.clone(),
            status: ShardStatus::Skipped,
            stats: Some(stats.clone()),
        });
    }
    for r in &results {
        if let (ShardStatus::Done, Some(s)) = (&r.status, &r.stats) {
            total += s;
        }
    }
    results.sort_by(|a, b| a.name.cmp(&b.name));
    let m = manifest::rebuild(&layout, &req.filters.hash, &req.recorded, &plan.config_hash)?;
    manifest::write(&layout, &m)?;
    Ok(RunReport {
        results,
        skipped_files: plan.skipped_files,
        total,
    })
}

fn rejected(layout: &OutputLayout, path: &std::path::Path) -> ShardResult {
    let name = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let failure = ShardFailure {
        shard: name.clone(),
        path: path.display().to_string(),
        line: 0,
        error: format!(
            "unknown extension: not read (known: {})",
            crate::shard::codec::KNOWN_EXTENSIONS
        ),
    };
    let _ = crate::shard::writer::write_json(&layout.failed(&name), &failure);
    ShardResult {
        name,
        status: ShardStatus::Failed(failure),
        stats: None,
    }
}
