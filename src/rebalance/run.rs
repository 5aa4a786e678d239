//! The second pass of a rebalance: stream each input shard beside its scan
//! attributes, decide each document's fate, and write the rebalanced shard.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::plan::{self, DocFlags, Plan, flags_of, passage_action, treatment};
use super::policy::{Action, Policy};
use super::report::{RebalanceReport, TargetOutcome, Totals};
use super::splice;
use crate::document::{Extractor, FieldPath};
use crate::error::{Error, IoContext, Result};
use crate::manifest::{Manifest, json_files};
use crate::pipeline::{OutputLayout, ShardStats, read_document, read_json};
use crate::rules::Filters;
use crate::score::{RuleScorer, Scorer};
use crate::segment::{SegmentConfig, segment};
use crate::shard::writer::{CompressedFile, write_json};
use crate::shard::{Codec, LineBatch, LineReader, ShardInput, codec, discover, discover::share};
use crate::taxonomy::{Side, Taxonomy};
use crate::tokens::TokenCounter;

/// What to rebalance and how.
pub struct RebalanceRequest {
    pub inputs: Vec<PathBuf>,
    pub scan: PathBuf,
    pub out: PathBuf,
    pub policy: Policy,
    pub filters: Arc<Filters>,
    pub counter: Option<Arc<TokenCounter>>,
    pub compression: Codec,
    /// Compression level (zstd: 1–19, gzip: 0–9).
    pub level: i32,
    pub annotate: bool,
    pub log_decisions: bool,
    pub rank: usize,
    pub world_size: usize,
    pub force: bool,
}

/// A document of the augmentation corpus, scored.
#[derive(Clone, Debug)]
pub struct AugmentDoc {
    pub id: String,
    pub line: String,
    pub text: String,
    pub flags: DocFlags,
    pub passages: u64,
}

/// The per-shard record in `OUT/reports/<shard>.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardReport {
    pub shard: String,
    pub plan_hash: String,
    pub report: RebalanceReport,
}

/// How a run ended.
pub struct RebalanceOutcome {
    pub report: RebalanceReport,
    pub done: usize,
    pub skipped: usize,
}

/// Everything the shards share.
struct Context<'a> {
    req: &'a RebalanceRequest,
    plan: &'a Plan,
    plan_hash: &'a str,
    extractor: Extractor,
    id_path: FieldPath,
    text_path: FieldPath,
    segment: SegmentConfig,
    max_line: usize,
    augment: &'a [AugmentDoc],
    tokens_per_char: f64,
}

/// Run a rebalance.
pub fn run(req: &RebalanceRequest) -> Result<RebalanceOutcome> {
    let manifest: Manifest = read_json(&req.scan.join("manifest.json")).map_err(|e| {
        Error::Usage(format!(
            "{e}; is {} a scan output directory?",
            req.scan.display()
        ))
    })?;
    let cfg = &manifest.config;
    let taxonomy = &req.filters.taxonomy;
    let text_path = FieldPath::parse(&cfg.text_field)?;
    let id_path = FieldPath::parse(&cfg.id_field)?;
    let extractor = Extractor::new(text_path.clone(), id_path.clone(), vec![]);
    let shards = my_shards(req)?;
    let mut augment = load_augment(req, &cfg.segment)?;
    let augment_read = augment.len() as u64;
    // Only stories the scorer finds aligned, and not misaligned, can move the
    // ratio the right way; the others are never added.
    augment.retain(|a| {
        a.flags.passages.iter().any(|p| p.aligned) && !a.flags.passages.iter().any(|p| p.misaligned)
    });
    let yields: Vec<u64> = augment
        .iter()
        .map(|a| a.flags.passages.iter().filter(|p| p.aligned).count() as u64)
        .collect();
    let mut plan = plan::plan(&req.scan, &req.policy, taxonomy, &yields)?;
    plan.augment_read = augment_read;
    plan.augment_usable = augment.len() as u64;
    let plan_hash = plan_hash(req, &manifest, &plan);
    let ctx = Context {
        req,
        plan: &plan,
        plan_hash: &plan_hash,
        extractor,
        id_path,
        text_path,
        segment: cfg.segment,
        max_line: cfg.max_line_bytes,
        augment: &augment,
        tokens_per_char: tokens_per_char(&req.scan)?,
    };
    let layout = Layout {
        dir: req.out.clone(),
    };
    let todo: Vec<&ShardInput> = shards
        .iter()
        .filter(|s| req.force || !layout.complete(&s.name, &plan_hash))
        .collect();
    let skipped = shards.len() - todo.len();
    let results: Vec<Result<()>> = todo.par_iter().map(|s| process_shard(&ctx, s)).collect();
    results.into_iter().collect::<Result<()>>()?;
    let report = merge_reports(&layout, &plan, &req.policy, taxonomy)?;
    write_json(&req.out.join("rebalance_report.json"), &report)?;
    Ok(RebalanceOutcome {
        report,
        done: todo.len(),
        skipped,
    })
}

/// The input shards of this worker, checked against the scan.
fn my_shards(req: &RebalanceRequest) -> Result<Vec<ShardInput>> {
    if req.world_size == 0 || req.rank >= req.world_size {
        return Err(Error::Usage(format!(
            "--rank {} must be below --world-size {}",
            req.rank, req.world_size
        )));
    }
    let found = discover(&req.inputs)?;
    if let Some(p) = found.rejected.first() {
        return Err(Error::Usage(format!(
            "{}: not a shard ({})",
            p.display(),
            codec::KNOWN_EXTENSIONS
        )));
    }
    let scan = OutputLayout {
        dir: req.scan.clone(),
    };
    let mine = share(found.shards, req.rank, req.world_size);
    for s in &mine {
        let stats: Option<ShardStats> = crate::pipeline::read_stats(&scan, &s.name)?;
        let stats = stats.ok_or_else(|| {
            Error::Usage(format!(
                "{} has no complete scan in {}; run `tropes scan` on it first",
                s.path.display(),
                req.scan.display()
            ))
        })?;
        if stats.input_bytes != s.size {
            return Err(Error::Usage(format!(
                "{} changed since it was scanned ({} bytes then, {} now); scan it again",
                s.path.display(),
                stats.input_bytes,
                s.size
            )));
        }
    }
    Ok(mine)
}

/// The scan's tokens per character (from its counted documents), for
/// estimating totals.
fn tokens_per_char(scan: &Path) -> Result<f64> {
    let merged = crate::report::merge(&[scan.to_path_buf()])?;
    let s = &merged.stats.token_sample;
    Ok(if s.characters == 0 {
        0.0
    } else {
        s.tokens as f64 / s.characters as f64
    })
}

fn plan_hash(req: &RebalanceRequest, manifest: &Manifest, plan: &Plan) -> String {
    let key = serde_json::json!({
        "policy": req.policy.source,
        "scan_config": manifest.config_hash,
        "filters": manifest.filters_hash,
        "plan": plan,
        "compression": format!("{:?} {}", req.compression, req.level),
        "annotate": req.annotate,
        "version": env!("CARGO_PKG_VERSION"),
    });
    format!(
        "{:016x}",
        xxhash_rust::xxh3::xxh3_64(key.to_string().as_bytes())
    )
}

/// Read and score the augmentation corpus.
fn load_augment(req: &RebalanceRequest, seg: &SegmentConfig) -> Result<Vec<AugmentDoc>> {
    let p = &req.policy;
    if p.augment.is_empty() {
        return Ok(vec![]);
    }
    let extractor = Extractor::new(
        FieldPath::parse(&p.augment_text_field)?,
        FieldPath::parse(&p.augment_id_field)?,
        vec![],
    );
    let scorer = RuleScorer::new(req.filters.clone())?;
    let mut out = vec![];
    for path in &p.augment {
        let text = std::fs::read_to_string(path).at(path)?;
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let doc = extractor
                .parse(line.as_bytes(), i as u64 + 1, &name)
                .map_err(|bad| Error::config(path, i + 1, bad.message))?;
            let mut spans = vec![];
            segment(&doc.text, seg, &mut spans);
            let scores = scorer.score(&doc.text, &spans);
            let flags = flags_from_scores(&doc.id, &doc.text, &scores, &req.filters, p.threshold);
            out.push(AugmentDoc {
                id: doc.id.clone(),
                line: line.to_string(),
                text: doc.text.to_string(),
                flags,
                passages: spans.len() as u64,
            });
        }
    }
    Ok(out)
}

/// Flagged passages of a freshly scored document, in characters.
fn flags_from_scores(
    id: &str,
    text: &str,
    scores: &crate::score::DocScores,
    filters: &Filters,
    threshold: f32,
) -> DocFlags {
    let tax = &filters.taxonomy;
    let sides: Vec<_> = filters.archetypes.iter().map(|a| a.side).collect();
    let mut line = String::new();
    let shape = crate::sink::attributes::DocShape {
        characters: text.chars().count() as u64,
        passages: 0,
    };
    let labelling = crate::sink::attributes::Labelling {
        taxonomy: tax,
        archetype_sides: &sides,
        threshold,
    };
    crate::sink::attributes::write_line(&mut line, id, text, shape, scores, labelling);
    flags_of(&line, tax, threshold).unwrap_or_default()
}

/// Output paths of a rebalance.
struct Layout {
    dir: PathBuf,
}

impl Layout {
    fn output(&self, shard: &str, compression: Codec) -> PathBuf {
        let ext = match compression {
            Codec::Zstd => ".jsonl.zst",
            Codec::Gzip => ".jsonl.gz",
            Codec::Plain => ".jsonl",
        };
        self.dir.join(format!("{shard}{ext}"))
    }
    fn report(&self, shard: &str) -> PathBuf {
        self.dir.join("reports").join(format!("{shard}.json"))
    }
    fn decisions(&self, shard: &str) -> PathBuf {
        self.dir
            .join("decisions")
            .join(format!("{shard}.jsonl.zst"))
    }
    fn complete(&self, shard: &str, plan_hash: &str) -> bool {
        let report: Option<ShardReport> = read_json(&self.report(shard)).ok();
        report.is_some_and(|r| r.plan_hash == plan_hash)
    }
}

/// One shard's counting.
#[derive(Default)]
struct Tally {
    report: RebalanceReport,
    bad: BTreeMap<String, u64>,
}

fn process_shard(ctx: &Context, input: &ShardInput) -> Result<()> {
    let req = ctx.req;
    let layout = Layout {
        dir: req.out.clone(),
    };
    let out_path = layout.output(&input.name, req.compression);
    // Compressing the output costs more than everything else a shard needs.
    let workers = rayon::current_num_threads() as u32;
    let mut out = CompressedFile::create_parallel(&out_path, req.compression, req.level, workers)?;
    let mut log = if req.log_decisions {
        Some(crate::shard::writer::ZstdFile::create(
            &layout.decisions(&input.name),
            3,
        )?)
    } else {
        None
    };
    let attrs_path = OutputLayout {
        dir: req.scan.clone(),
    }
    .attributes(&input.name);
    let attrs = std::io::BufReader::new(
        zstd::Decoder::new(std::fs::File::open(&attrs_path).at(&attrs_path)?).at(&attrs_path)?,
    );
    let mut attr_lines = std::io::BufRead::lines(attrs);
    let opened = codec::open(&input.path, input.format, None)?;
    let mut reader = LineReader::new(opened.reader, input.format.layout, ctx.max_line);
    let mut tally = Tally::default();
    let mut pending: BinaryHeap<Reverse<(u64, u64, String)>> = BinaryHeap::new();
    let augment = ctx.plan.augment_range(&input.name);
    let shard_docs = ctx
        .plan
        .shards
        .iter()
        .find(|(n, _)| *n == input.name)
        .map_or(0, |(_, d)| *d);
    let gap = (shard_docs / (u64::from(ctx.plan.base_copies) + 2)).clamp(1, 10_000);
    let mut position: u64 = 0;
    let mut next_augment = augment.start;
    let emit = |out: &mut CompressedFile, line: &str| out.line(&out_path, line);
    let mut batch = LineBatch::default();
    while reader.next_batch(&mut batch, &input.path)? {
        for raw in &batch.lines {
            let doc = match read_document(&ctx.extractor, input, &batch, raw) {
                Ok(d) => d,
                Err(bad) => {
                    *tally.bad.entry(bad.kind.name().to_string()).or_default() += 1;
                    continue;
                }
            };
            let attr = attr_lines
                .next()
                .ok_or_else(|| {
                    mismatch(
                        &attrs_path,
                        raw.line,
                        "the attributes file ends before the shard",
                    )
                })?
                .at(&attrs_path)?;
            let flags = flags_of(&attr, &req.filters.taxonomy, req.policy.threshold)
                .map_err(|e| mismatch(&attrs_path, raw.line, &e))?;
            if flags.id != doc.id {
                return Err(mismatch(
                    &attrs_path,
                    raw.line,
                    &format!(
                        "attributes are for {:?}, the document is {:?}",
                        flags.id, doc.id
                    ),
                ));
            }
            let fate = decide(ctx, &doc.id, &doc.text, &flags);
            count_before(ctx, &mut tally.report.before, &doc.text, &flags);
            let line_for =
                |copy: u32| render(ctx, doc.raw, &doc.id, input.format.layout, &fate, copy);
            if let Some(log) = log.as_mut() {
                let entry = decision_entry(ctx, &doc.id, &flags, &fate);
                writeln!(log, "{entry}").at(&layout.decisions(&input.name))?;
            }
            tally.record(&fate);
            if fate.keep {
                emit(&mut out, &line_for(0))?;
                count_after(ctx, &mut tally.report.after, &fate, u64::from(fate.copies));
                for k in 1..fate.copies {
                    pending.push(Reverse((
                        position + u64::from(k) * gap,
                        u64::from(k),
                        line_for(k),
                    )));
                }
            }
            position += 1;
            while let Some(Reverse((at, _, _))) = pending.peek() {
                if *at > position {
                    break;
                }
                let Reverse((_, _, line)) = pending.pop().expect("peeked");
                emit(&mut out, &line)?;
            }
            let mut due = next_augment;
            while due < augment.end && augment_slot(&augment, due, shard_docs) <= position {
                due += 1;
            }
            let log_path = layout.decisions(&input.name);
            let added = next_augment..due;
            add_augments(
                ctx,
                &mut out,
                &out_path,
                &mut tally,
                added,
                log.as_mut(),
                &log_path,
            )?;
            next_augment = due;
        }
    }
    while let Some(Reverse((_, _, line))) = pending.pop() {
        emit(&mut out, &line)?;
    }
    let rest = next_augment..augment.end;
    let log_path = layout.decisions(&input.name);
    add_augments(
        ctx,
        &mut out,
        &out_path,
        &mut tally,
        rest,
        log.as_mut(),
        &log_path,
    )?;
    if attr_lines.next().is_some() {
        return Err(mismatch(
            &attrs_path,
            0,
            "the attributes file has more lines than the shard has documents",
        ));
    }
    out.commit(&out_path)?;
    if let Some(log) = log {
        log.commit(&layout.decisions(&input.name))?;
    }
    tally.report.bad_input = tally.bad;
    let record = ShardReport {
        shard: input.name.clone(),
        plan_hash: ctx.plan_hash.to_string(),
        report: tally.report,
    };
    write_json(&layout.report(&input.name), &record)
}

fn mismatch(path: &Path, line: u64, message: &str) -> Error {
    Error::Shard {
        shard: path.display().to_string(),
        line,
        message: format!("{message}: the scan does not match this input (re-run tropes scan)"),
    }
}

/// After which input document (1-based count) augmentation document `i` of
/// the shard's range goes: evenly spread.
fn augment_slot(range: &std::ops::Range<u64>, i: u64, docs: u64) -> u64 {
    let n = range.end - range.start;
    let k = i - range.start;
    (k + 1) * docs / (n + 1)
}

/// Write the augmentation documents with global indices `ids`.
#[allow(clippy::too_many_arguments)]
fn add_augments(
    ctx: &Context,
    out: &mut CompressedFile,
    out_path: &Path,
    tally: &mut Tally,
    ids: std::ops::Range<u64>,
    mut log: Option<&mut crate::shard::writer::ZstdFile>,
    log_path: &Path,
) -> Result<()> {
    for global in ids {
        add_augment(
            ctx,
            out,
            out_path,
            tally,
            global,
            log.as_deref_mut(),
            log_path,
        )?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn add_augment(
    ctx: &Context,
    out: &mut CompressedFile,
    out_path: &Path,
    tally: &mut Tally,
    global: u64,
    log: Option<&mut crate::shard::writer::ZstdFile>,
    log_path: &Path,
) -> Result<()> {
    let n = ctx.augment.len() as u64;
    let doc = &ctx.augment[(global % n) as usize];
    let round = global / n;
    let id = if round == 0 {
        doc.id.clone()
    } else {
        format!("{}#aug{round}", doc.id)
    };
    let mut line = doc.line.clone();
    if round > 0
        && let Some(span) = splice::value_span(
            &line,
            ctx.req
                .policy
                .augment_id_field
                .split('.')
                .map(String::from)
                .collect::<Vec<_>>()
                .as_slice(),
        )
    {
        line = splice::replace(&line, span, &json_string(&id));
    }
    if ctx.req.annotate {
        line = splice::append_member(
            &line,
            "tropes",
            &serde_json::json!({"fate": "added", "source": "augment"}).to_string(),
        );
    }
    out.line(out_path, &line)?;
    if let Some(log) = log {
        writeln!(log, "{}", serde_json::json!({"id": id, "fate": "added"})).at(log_path)?;
    }
    tally.report.decisions.added += 1;
    let fate = Fate {
        keep: true,
        text: None,
        copies: 1,
        removed: 0,
        action: Action::Keep,
        remaining: doc.flags.passages.clone(),
        passages: doc.passages,
        chars: doc.text.chars().count() as u64,
        original_text: doc.text.clone(),
    };
    count_after(ctx, &mut tally.report.after, &fate, 1);
    Ok(())
}

/// One line of the decision log: the document's fate, and the passages behind
/// it as `[start, end, [trope ids]]` in characters of the input text — the
/// misaligned passages the action applied to and, for a copied document, the
/// aligned passages that made it one — so every removed token can be traced
/// to the tropes that removed it.
fn decision_entry(ctx: &Context, id: &str, flags: &DocFlags, fate: &Fate) -> serde_json::Value {
    let tax = &ctx.req.filters.taxonomy;
    let spans = |keep: &dyn Fn(&plan::Flagged) -> bool| -> Vec<serde_json::Value> {
        flags
            .passages
            .iter()
            .filter(|p| keep(p))
            .map(|p| {
                let ids: Vec<&str> = p.tropes.iter().map(|t| tax.get(*t).id.as_str()).collect();
                serde_json::json!([p.start, p.end, ids])
            })
            .collect()
    };
    let mut entry = serde_json::json!({
        "id": id,
        "fate": fate.name(),
        "removed_passages": fate.removed,
        "copies": fate.copies,
        "action": fate.action.name(),
    });
    let policy = &ctx.req.policy;
    let acted_on = spans(&|p| passage_action(p, policy, tax) != Action::Keep);
    if !acted_on.is_empty() {
        entry["misaligned"] = acted_on.into();
    }
    if fate.copies > 1 {
        entry["aligned"] = spans(&|p| p.aligned).into();
    }
    entry
}

/// What happens to one document.
struct Fate {
    keep: bool,
    /// The text after cuts (None: unchanged).
    text: Option<String>,
    copies: u32,
    removed: u32,
    action: Action,
    /// Flagged passages left, in the original text's characters.
    remaining: Vec<plan::Flagged>,
    /// Passages of the written text.
    passages: u64,
    chars: u64,
    original_text: String,
}

impl Fate {
    fn name(&self) -> &'static str {
        match (self.keep, self.text.is_some()) {
            (false, _) => "dropped",
            (true, true) => "modified",
            (true, false) => "kept",
        }
    }
}

impl Tally {
    fn record(&mut self, fate: &Fate) {
        let d = &mut self.report.decisions;
        match fate.name() {
            "dropped" => d.dropped += 1,
            "modified" => d.modified += 1,
            _ => d.kept += 1,
        }
        if fate.keep {
            d.duplicated += u64::from(fate.copies.saturating_sub(1));
        }
    }
}

fn decide(ctx: &Context, id: &str, text: &str, flags: &DocFlags) -> Fate {
    let policy = &ctx.req.policy;
    let tax = &ctx.req.filters.taxonomy;
    let t = treatment(flags, policy, tax);
    let dropped = t.action == Action::DropDocument
        || (t.action == Action::Downsample && !ctx.plan.keeps(policy.seed, id));
    let cut: Vec<&plan::Flagged> = flags
        .passages
        .iter()
        .filter(|p| p.misaligned && passage_action(p, policy, tax) == Action::DropPassage)
        .collect();
    let new_text = (!dropped && !cut.is_empty()).then(|| cut_passages(text, &cut));
    let too_short = new_text
        .as_ref()
        .is_some_and(|t| t.trim().chars().count() < policy.min_chars);
    let keep = !dropped && !too_short;
    let remaining: Vec<plan::Flagged> = flags
        .passages
        .iter()
        .filter(|p| !cut.contains(p))
        .cloned()
        .collect();
    let copyable =
        keep && remaining.iter().any(|p| p.aligned) && !remaining.iter().any(|p| p.misaligned);
    let written = new_text.as_deref().unwrap_or(text);
    // Only a cut text needs cutting into passages again; the scan counted the rest.
    let passages = match &new_text {
        Some(t) => {
            let mut spans = vec![];
            segment(t, &ctx.segment, &mut spans);
            spans.len() as u64
        }
        None => flags.total_passages,
    };
    Fate {
        keep,
        copies: if copyable {
            ctx.plan.copies(policy.seed, id)
        } else {
            1
        },
        removed: if keep { cut.len() as u32 } else { 0 },
        action: t.action,
        remaining,
        passages,
        chars: written.chars().count() as u64,
        text: new_text,
        original_text: text.to_string(),
    }
}

/// `text` without the passages (character spans), each with the blank space
/// after it, so paragraphs stay separated by one break.
pub fn cut_passages(text: &str, cut: &[&plan::Flagged]) -> String {
    let byte_at = char_to_byte(text, cut.iter().flat_map(|p| [p.start, p.end]));
    let mut spans: Vec<(usize, usize)> = cut
        .iter()
        .map(|p| (byte_at(p.start), byte_at(p.end)))
        .collect();
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in spans {
        if s < at {
            continue;
        }
        out.push_str(&text[at..s]);
        let rest = &text[e..];
        at = e + (rest.len() - rest.trim_start().len());
        if at >= text.len() {
            let trimmed = out.trim_end().len();
            out.truncate(trimmed);
        }
    }
    out.push_str(&text[at.min(text.len())..]);
    out
}

/// A converter from character offsets (those listed) to byte offsets.
fn char_to_byte(text: &str, offsets: impl Iterator<Item = u64>) -> impl Fn(u64) -> usize {
    let mut wanted: Vec<u64> = offsets.collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut table = Vec::with_capacity(wanted.len());
    let mut chars = text
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(text.len()));
    let mut seen = 0u64;
    let mut current = chars.next().unwrap_or(0);
    for w in wanted {
        while seen < w {
            match chars.next() {
                Some(b) => current = b,
                None => break,
            }
            seen += 1;
        }
        table.push((w, current));
    }
    move |c| {
        table
            .iter()
            .find(|(w, _)| *w == c)
            .map_or(text.len(), |(_, b)| *b)
    }
}

/// The output line of a document (copy 0 is the original).
fn render(
    ctx: &Context,
    raw: &str,
    id: &str,
    layout: crate::shard::Layout,
    fate: &Fate,
    copy: u32,
) -> String {
    let mut line = match layout {
        crate::shard::Layout::Text => serde_json::json!({"id": id, "text": fate.text.as_deref().unwrap_or(&fate.original_text)}).to_string(),
        crate::shard::Layout::JsonLines => raw.to_string(),
    };
    if layout == crate::shard::Layout::JsonLines
        && let Some(text) = &fate.text
        && let Some(span) = splice::value_span(&line, ctx.text_path.parts())
    {
        line = splice::replace(&line, span, &json_string(text));
    }
    if copy > 0 {
        let new_id = format!("{id}#dup{copy}");
        line = match splice::value_span(&line, ctx.id_path.parts()) {
            Some(span) => splice::replace(&line, span, &json_string(&new_id)),
            None => splice::append_member(
                &line,
                ctx.id_path.parts().last().map_or("id", |s| s.as_str()),
                &json_string(&new_id),
            ),
        };
    }
    if ctx.req.annotate {
        let mut note = serde_json::json!({"fate": fate.name(), "action": fate.action.name()});
        if fate.removed > 0 {
            note["removed_passages"] = fate.removed.into();
        }
        if fate.copies > 1 {
            note["copy"] = copy.into();
            note["copies"] = fate.copies.into();
        }
        line = splice::append_member(&line, "tropes", &note.to_string());
    }
    line
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn count_before(ctx: &Context, t: &mut Totals, text: &str, flags: &DocFlags) {
    let chars = text.chars().count() as u64;
    t.documents += 1;
    t.passages += flags.total_passages;
    t.tokens += (chars as f64 * ctx.tokens_per_char).round() as u64;
    tally_tropes(ctx, t, text, &flags.passages, 1);
}

fn count_after(ctx: &Context, t: &mut Totals, fate: &Fate, copies: u64) {
    if !fate.keep {
        return;
    }
    t.documents += copies;
    t.passages += fate.passages * copies;
    t.tokens += (fate.chars as f64 * ctx.tokens_per_char).round() as u64 * copies;
    tally_tropes(ctx, t, &fate.original_text, &fate.remaining, copies);
}

/// Add flagged passages (spans in `text`) to the per-trope totals, `times` over.
fn tally_tropes(ctx: &Context, t: &mut Totals, text: &str, passages: &[plan::Flagged], times: u64) {
    let tax = &ctx.req.filters.taxonomy;
    let byte_at = char_to_byte(text, passages.iter().flat_map(|p| [p.start, p.end]));
    let mut seen: Vec<String> = vec![];
    for p in passages {
        t.misaligned_passages += u64::from(p.misaligned) * times;
        t.aligned_passages += u64::from(p.aligned) * times;
        let tokens = ctx
            .req
            .counter
            .as_ref()
            .map_or(0, |c| c.count(&text[byte_at(p.start)..byte_at(p.end)]));
        for trope in &p.tropes {
            let id = &tax.get(*trope).id;
            let e = t.tropes.entry(id.clone()).or_default();
            e.passages += times;
            e.tokens += tokens * times;
            if !seen.contains(id) {
                seen.push(id.clone());
                e.documents += times;
            }
        }
    }
}

/// Sum the per-shard reports in `OUT/reports/` and work out the target outcome.
fn merge_reports(
    layout: &Layout,
    plan: &Plan,
    policy: &Policy,
    tax: &Taxonomy,
) -> Result<RebalanceReport> {
    let mut total = RebalanceReport::default();
    for (_, path) in json_files(&layout.dir.join("reports"))? {
        let r: ShardReport = read_json(&path)?;
        total.before += &r.report.before;
        total.after += &r.report.after;
        total.decisions += &r.report.decisions;
        for (k, v) in &r.report.bad_input {
            *total.bad_input.entry(k.clone()).or_default() += v;
        }
    }
    for (_, trope) in tax
        .iter()
        .filter(|(_, t)| t.side == Side::Misaligned || t.side == Side::Aligned)
    {
        total.before.tropes.entry(trope.id.clone()).or_default();
        total.after.tropes.entry(trope.id.clone()).or_default();
    }
    let ratio = |t: &Totals| {
        if t.misaligned_passages == 0 {
            f64::INFINITY
        } else {
            t.aligned_passages as f64 / t.misaligned_passages as f64
        }
    };
    total.target = TargetOutcome {
        aligned_per_misaligned: policy.target,
        before: finite(ratio(&total.before)),
        achieved: finite(ratio(&total.after)),
        misaligned_keep_rate: if plan.keep_below == u64::MAX {
            1.0
        } else {
            plan.keep_below as f64 / u64::MAX as f64
        },
        aligned_copies: f64::from(plan.base_copies) + plan.extra_below as f64 / u64::MAX as f64,
        augment_read: plan.augment_read,
        augment_usable: plan.augment_usable,
    };
    Ok(total)
}

/// JSON has no infinity: an unbounded ratio (no misaligned passage) is written as -1.
fn finite(x: f64) -> f64 {
    if x.is_finite() {
        (x * 10_000.0).round() / 10_000.0
    } else {
        -1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flagged(start: u64, end: u64) -> plan::Flagged {
        plan::Flagged {
            start,
            end,
            tropes: vec![],
            misaligned: true,
            aligned: false,
        }
    }

    #[test]
    fn cutting_keeps_paragraph_structure() {
        let text = "Para one.\n\nCut me — é.\n\nPara three.";
        let p = flagged(11, 22);
        assert_eq!(cut_passages(text, &[&p]), "Para one.\n\nPara three.");
        let last = flagged(24, 35);
        assert_eq!(cut_passages(text, &[&last]), "Para one.\n\nCut me — é.");
    }
}
