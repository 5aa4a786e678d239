//! The scan pipeline: shards → documents → passages → scores → sinks.
//!
//! Shards run in parallel on the rayon pool. Inside a shard, batches of lines are
//! tagged in parallel while the next batch is read (`rayon::join`), and results
//! are written in input order, so memory stays at about two batches per shard in
//! flight and the output does not depend on the number of threads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::document::{BadRecord, Document, Extractor};
use crate::error::{Error, IoContext, Result};
use crate::rules::Filters;
use crate::score::{DocScores, Labels, Scorer};
use crate::segment::{SegmentConfig, segment};
use crate::shard::codec::{self, Fingerprint};
use crate::shard::reader::StreamError;
use crate::shard::writer::{CompressedFile, ZstdFile, write_json};
use crate::shard::{BadKind, Layout, LineBatch, LineReader, RawLine, ShardInput};
use crate::sink::attributes;
use crate::sink::stats::{Counts, Prevalence};
use crate::taxonomy::{ArchetypeSide, Stance};
use crate::tokens::{TokenCounter, TokenSampling};

/// Everything that decides what a scan writes (threads and ranks do not).
#[derive(Clone, Debug)]
pub struct ScanConfig {
    pub extractor: Extractor,
    pub segment: SegmentConfig,
    /// A passage carries a trope when its score is at least this.
    pub threshold: f32,
    /// Lines longer than this are counted as bad and not held in memory.
    pub max_line_bytes: usize,
    /// Bytes of input lines per batch.
    pub batch_bytes: usize,
    pub sampling: TokenSampling,
    /// Also prepare passages for the search index.
    pub index: Option<IndexOptions>,
    /// Also write each JSON shard's attributes where `dolma mix` looks for
    /// them, under this attribute-set name (see [`dolma_attributes_path`]).
    pub dolma_layout: Option<String>,
}

/// What goes into the search index.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexOptions {
    /// Every passage, not only those with an AI agent or a trope.
    pub all: bool,
    /// Positions, among the extractor's fields, of the fields to index.
    pub fields: Vec<usize>,
}

/// A passage ready for the index (owned: it outlives the input batch).
#[derive(Clone, Debug)]
pub struct IndexPassage {
    pub passage: u32,
    pub start: u64,
    pub end: u64,
    pub text: String,
    pub ai_agent: f32,
    pub scores: Vec<(usize, f32)>,
    pub stance: &'static str,
    pub archetypes: Vec<String>,
}

/// The part of the configuration recorded in outputs and hashed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RecordedConfig {
    pub text_field: String,
    pub id_field: String,
    pub fields: Vec<String>,
    pub segment: SegmentConfig,
    pub threshold: f32,
    pub max_line_bytes: usize,
    pub tokenizer: Option<String>,
    pub token_sampling: TokenSampling,
}

/// The per-shard stats file, `DIR/stats/<shard>.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardStats {
    pub shard: String,
    pub input_bytes: u64,
    pub input_xxh3: String,
    /// Lines read (documents + bad records).
    pub lines: u64,
    pub tool_version: String,
    pub filters_hash: String,
    pub config_hash: String,
    pub stats: Prevalence,
}

/// A failed shard's record, `DIR/failed/<shard>.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardFailure {
    pub shard: String,
    pub path: String,
    pub line: u64,
    pub error: String,
}

/// How a shard ended in this run.
#[derive(Clone, Debug)]
pub enum ShardStatus {
    Done,
    /// Complete from an earlier run; not redone.
    Skipped,
    Failed(ShardFailure),
}

/// One shard's result.
#[derive(Clone, Debug)]
pub struct ShardResult {
    pub name: String,
    pub status: ShardStatus,
    pub stats: Option<Prevalence>,
}

/// Live counters for a progress display.
#[derive(Debug, Default)]
pub struct Progress {
    /// Compressed input bytes read.
    pub bytes: AtomicU64,
    /// Documents and bad records processed.
    pub records: AtomicU64,
}

/// One tagged document, ready for the sinks.
pub struct Tagged {
    pub id: String,
    pub characters: u64,
    pub passages: u32,
    pub scores: DocScores,
    /// Labels of each scored passage at the threshold.
    pub labels: Vec<Labels>,
    /// Characters and exact tokens of each scored passage (tokens only for
    /// flagged passages: an AI agent or a trope).
    pub passage_sizes: Vec<(u64, u64)>,
    /// The whole document's tokens, when it was counted.
    pub doc_tokens: Option<u64>,
    /// The attributes line, newline included.
    pub attributes: String,
    /// The values of the recorded fields (`--group-field`, `--index-field`), in order.
    pub groups: Vec<Option<String>>,
    /// Passages for the search index (empty unless indexing).
    pub index: Vec<IndexPassage>,
}

/// What tags documents: scorer, filters, configuration and token counter.
pub struct Tagger<'a> {
    pub scorer: &'a dyn Scorer,
    pub filters: &'a Filters,
    pub config: &'a ScanConfig,
    pub counter: Option<&'a TokenCounter>,
    archetype_sides: Vec<ArchetypeSide>,
}

impl<'a> Tagger<'a> {
    /// A tagger.
    pub fn new(
        scorer: &'a dyn Scorer,
        filters: &'a Filters,
        config: &'a ScanConfig,
        counter: Option<&'a TokenCounter>,
    ) -> Tagger<'a> {
        let archetype_sides = filters.archetypes.iter().map(|a| a.side).collect();
        Tagger {
            scorer,
            filters,
            config,
            counter,
            archetype_sides,
        }
    }

    /// Segment, score, count and serialise one document.
    pub fn tag(&self, doc: &Document) -> Tagged {
        let text: &str = &doc.text;
        let mut spans = vec![];
        segment(text, &self.config.segment, &mut spans);
        let scores = self.scorer.score(text, &spans);
        let tax = &self.filters.taxonomy;
        let labels: Vec<Labels> = scores
            .passages
            .iter()
            .map(|p| p.labels(tax, self.config.threshold))
            .collect();
        let passage_sizes = scores
            .passages
            .iter()
            .zip(&labels)
            .map(|(p, l)| {
                let t = &text[p.span.clone()];
                let flagged = l.ai_agent || !l.tropes.is_empty();
                let tokens = if flagged { self.count(t) } else { 0 };
                (t.chars().count() as u64, tokens)
            })
            .collect();
        let characters = text.chars().count() as u64;
        let doc_tokens = self
            .counter
            .filter(|_| self.config.sampling.counts(&doc.id))
            .map(|c| c.count(text));
        let mut line = String::with_capacity(512);
        let sides = &self.archetype_sides;
        let shape = attributes::DocShape {
            characters,
            passages: spans.len() as u32,
        };
        let labelling = attributes::Labelling {
            taxonomy: tax,
            archetype_sides: sides,
            threshold: self.config.threshold,
        };
        attributes::write_line(&mut line, &doc.id, text, shape, &scores, labelling);
        let groups = doc
            .fields
            .iter()
            .map(|f| f.as_ref().and_then(|v| v.as_text()).map(|v| v.into_owned()))
            .collect();
        let index = match &self.config.index {
            Some(opts) => self.index_passages(text, &spans, &scores, &labels, opts.all),
            None => vec![],
        };
        Tagged {
            index,
            id: doc.id.clone(),
            characters,
            passages: spans.len() as u32,
            scores,
            labels,
            passage_sizes,
            doc_tokens,
            attributes: line,
            groups,
        }
    }

    /// The passages to index: those with an AI agent or a trope, or all.
    fn index_passages(
        &self,
        text: &str,
        spans: &[crate::segment::Span],
        scores: &DocScores,
        labels: &[Labels],
        all: bool,
    ) -> Vec<IndexPassage> {
        let scored: BTreeMap<u32, (&crate::score::Scored, &Labels)> = scores
            .passages
            .iter()
            .zip(labels)
            .map(|(p, l)| (p.passage, (p, l)))
            .collect();
        let chosen: Vec<usize> = if all {
            (0..spans.len()).collect()
        } else {
            scored
                .iter()
                .filter(|(_, (_, l))| l.ai_agent || !l.tropes.is_empty())
                .map(|(i, _)| *i as usize)
                .collect()
        };
        let chars = attributes::CharOffsets::new(
            text,
            chosen.iter().flat_map(|&i| [spans[i].start, spans[i].end]),
        );
        chosen
            .into_iter()
            .map(|i| {
                let span = &spans[i];
                let found = scored.get(&(i as u32));
                IndexPassage {
                    passage: i as u32,
                    start: chars.get(span.start),
                    end: chars.get(span.end),
                    text: text[span.clone()].to_string(),
                    ai_agent: found.map_or(0.0, |(p, _)| p.ai_agent),
                    scores: found.map_or(vec![], |(p, _)| {
                        p.tropes.iter().map(|(t, s)| (t.0 as usize, *s)).collect()
                    }),
                    stance: found.map_or(Stance::None, |(_, l)| l.stance).name(),
                    archetypes: found.map_or(vec![], |(p, _)| {
                        let mut names: Vec<String> = p
                            .archetypes
                            .iter()
                            .map(|a| self.filters.archetypes[a.archetype as usize].name.clone())
                            .collect();
                        names.dedup();
                        names
                    }),
                }
            })
            .collect()
    }

    fn count(&self, text: &str) -> u64 {
        self.counter.map_or(0, |c| c.count(text))
    }

    /// Add a tagged document to `stats`, and to the stats of its groups.
    pub fn count_into(&self, stats: &mut Prevalence, t: &Tagged) {
        self.count_one(stats, t);
        let fields = self.config.extractor.fields();
        for (field, value) in fields.iter().zip(&t.groups) {
            let by_value = stats.groups.entry(field.to_string()).or_default();
            let key = match value {
                Some(v) if by_value.contains_key(v) || by_value.len() < MAX_GROUPS => v.clone(),
                Some(_) => OTHER_GROUP.to_string(),
                None => MISSING_GROUP.to_string(),
            };
            self.count_one(by_value.entry(key).or_default(), t);
        }
    }

    fn count_one(&self, stats: &mut Prevalence, t: &Tagged) {
        stats.documents += 1;
        stats.passages += u64::from(t.passages);
        stats.escalated_passages += u64::from(t.scores.escalated);
        stats.characters += t.characters;
        if let Some(tokens) = t.doc_tokens {
            stats.token_sample.add(t.characters, tokens);
        }
        let tax = &self.filters.taxonomy;
        let mut doc_seen = DocSeen::default();
        let mut flagged_chars = 0;
        let mut flagged_passages = 0;
        for ((p, l), &(chars, tokens)) in t
            .scores
            .passages
            .iter()
            .zip(&t.labels)
            .zip(&t.passage_sizes)
        {
            let size = Counts {
                passages: 1,
                documents: 0,
                characters: chars,
                tokens,
            };
            if l.ai_agent {
                stats.ai_agent += &size;
                doc_seen.mark(&mut stats.ai_agent.documents, "ai_agent");
            }
            for tr in &l.tropes {
                let id = &tax.get(*tr).id;
                let entry = stats.tropes.entry(id.clone()).or_default();
                entry.counts += &size;
                entry.score_sum_e6 += (p.score_of(*tr) as f64 * 1e6).round() as u64;
                doc_seen.mark(&mut entry.counts.documents, id);
            }
            if l.stance != Stance::None {
                flagged_chars += chars;
                flagged_passages += 1;
                let entry = stats
                    .stances
                    .entry(l.stance.name().to_string())
                    .or_default();
                *entry += &size;
                doc_seen.mark(&mut entry.documents, l.stance.name());
            }
            self.count_archetypes(stats, p, &mut doc_seen);
        }
        let none = stats
            .stances
            .entry(Stance::None.name().to_string())
            .or_default();
        none.passages += u64::from(t.passages) - flagged_passages;
        none.characters += t.characters - flagged_chars.min(t.characters);
        none.documents += u64::from(flagged_passages == 0);
    }

    fn count_archetypes(
        &self,
        stats: &mut Prevalence,
        p: &crate::score::Scored,
        seen: &mut DocSeen,
    ) {
        let mut in_passage: Vec<u16> = vec![];
        for m in &p.archetypes {
            let name = &self.filters.archetypes[m.archetype as usize].name;
            let entry = stats.archetypes.entry(name.clone()).or_default();
            entry.mentions += 1;
            if !in_passage.contains(&m.archetype) {
                in_passage.push(m.archetype);
                entry.passages += 1;
            }
            seen.mark(&mut entry.documents, &format!("archetype:{name}"));
        }
    }
}

/// Distinct values of a group field kept per shard; documents with further
/// values are counted under [`OTHER_GROUP`].
pub const MAX_GROUPS: usize = 1000;
/// The group of documents whose value did not fit under [`MAX_GROUPS`].
pub const OTHER_GROUP: &str = "(other)";
/// The group of documents without the field.
pub const MISSING_GROUP: &str = "(missing)";

/// Labels already counted for the current document.
#[derive(Default)]
struct DocSeen(Vec<String>);

impl DocSeen {
    fn mark(&mut self, counter: &mut u64, key: &str) {
        if !self.0.iter().any(|k| k == key) {
            self.0.push(key.to_string());
            *counter += 1;
        }
    }
}

/// The outputs of a scan in `DIR`.
#[derive(Clone, Debug)]
pub struct OutputLayout {
    pub dir: PathBuf,
}

impl OutputLayout {
    pub fn attributes(&self, shard: &str) -> PathBuf {
        self.dir
            .join("attributes")
            .join(format!("{shard}.jsonl.zst"))
    }
    pub fn stats(&self, shard: &str) -> PathBuf {
        self.dir.join("stats").join(format!("{shard}.json"))
    }
    pub fn failed(&self, shard: &str) -> PathBuf {
        self.dir.join("failed").join(format!("{shard}.json"))
    }
    pub fn manifest(&self) -> PathBuf {
        self.dir.join("manifest.json")
    }
}

/// Hash of the recorded configuration.
pub fn config_hash(config: &RecordedConfig) -> String {
    let json = serde_json::to_vec(config).unwrap_or_default();
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&json))
}

/// Everything `scan_shard` needs besides the shard.
pub struct ShardJob<'a> {
    pub tagger: &'a Tagger<'a>,
    pub layout: &'a OutputLayout,
    pub filters_hash: &'a str,
    pub config_hash: &'a str,
    pub progress: &'a Progress,
    /// Where passages go when indexing.
    pub indexer: Option<&'a crate::index::Indexer>,
}

/// Scan one shard into its attributes and stats files. A corrupt stream fails
/// the shard: nothing is left under its final names.
pub fn scan_shard(job: &ShardJob, input: &ShardInput) -> ShardResult {
    match scan_shard_inner(job, input) {
        Ok(stats) => ShardResult {
            name: input.name.clone(),
            status: ShardStatus::Done,
            stats: Some(stats),
        },
        Err(failure) => {
            let _ = write_json(&job.layout.failed(&input.name), &failure);
            ShardResult {
                name: input.name.clone(),
                status: ShardStatus::Failed(failure),
                stats: None,
            }
        }
    }
}

fn scan_shard_inner(
    job: &ShardJob,
    input: &ShardInput,
) -> std::result::Result<Prevalence, ShardFailure> {
    let fail = |line: u64, error: String| ShardFailure {
        shard: input.name.clone(),
        path: input.path.display().to_string(),
        line,
        error,
    };
    let bytes_counter = Arc::new(AtomicU64::new(0));
    let opened = codec::open(&input.path, input.format, Some(bytes_counter.clone()))
        .map_err(|e| fail(0, e.to_string()))?;
    let attrs_path = job.layout.attributes(&input.name);
    let mut attrs = AttributeSinks::create(&attrs_path, dolma_target(job.tagger.config, input))
        .map_err(|e| fail(0, e.to_string()))?;
    let mut stats = Prevalence::default();
    let mut reader = LineReader::new(
        opened.reader,
        input.format.layout,
        job.tagger.config.max_line_bytes,
    );
    if opened.empty {
        stats.add_bad(
            &input.name,
            0,
            BadKind::EmptyFile.name(),
            "the file is empty",
        );
    } else {
        let reported = StreamCounter {
            bytes: &bytes_counter,
            progress: job.progress,
        };
        process_stream(job, input, &mut reader, &mut attrs, &mut stats, &reported)
            .map_err(|e| fail(e.line, format!("corrupt or truncated stream: {}", e.error)))?;
    }
    attrs
        .commit()
        .map_err(|e| fail(reader.lines_read(), e.to_string()))?;
    let fp = opened.fingerprint.get();
    let record = shard_stats(job, input, fp, reader.lines_read(), &stats);
    write_json(&job.layout.stats(&input.name), &record)
        .map_err(|e| fail(reader.lines_read(), e.to_string()))?;
    let _ = std::fs::remove_file(job.layout.failed(&input.name));
    Ok(stats)
}

struct StreamCounter<'a> {
    bytes: &'a AtomicU64,
    progress: &'a Progress,
}

impl StreamCounter<'_> {
    /// Move the bytes read since the last call into the shared progress.
    fn publish(&self, records: u64) {
        let b = self.bytes.swap(0, Ordering::Relaxed);
        self.progress.bytes.fetch_add(b, Ordering::Relaxed);
        self.progress.records.fetch_add(records, Ordering::Relaxed);
    }
}

/// Where a shard's attributes lines go: the scan's own file and, with
/// `--dolma-layout`, a copy beside the documents in their codec.
struct AttributeSinks {
    path: PathBuf,
    main: ZstdFile,
    dolma: Option<(PathBuf, CompressedFile)>,
}

impl AttributeSinks {
    fn create(path: &Path, dolma: Option<(PathBuf, codec::Codec)>) -> Result<AttributeSinks> {
        let dolma = match dolma {
            Some((p, c)) => {
                let level = if c == codec::Codec::Gzip { 6 } else { 3 };
                let file = CompressedFile::create(&p, c, level)?;
                Some((p, file))
            }
            None => None,
        };
        Ok(AttributeSinks {
            path: path.to_path_buf(),
            main: ZstdFile::create(path, 3)?,
            dolma,
        })
    }

    /// A tagged document's line (newline included).
    fn document(&mut self, line: &str) -> std::io::Result<()> {
        use std::io::Write;
        self.main.write_all(line.as_bytes())?;
        if let Some((_, d)) = &mut self.dolma {
            d.write_all(line.as_bytes())?;
        }
        Ok(())
    }

    /// A bad input line has no attributes line in the scan's own file (it is
    /// counted in the stats instead), but dolma's mixer reads attributes in
    /// lockstep with the documents, so its copy gets an empty one.
    fn bad_line(&mut self, shard: &str, line: u64) -> std::io::Result<()> {
        use std::io::Write;
        if let Some((_, d)) = &mut self.dolma {
            let id = serde_json::to_string(&format!("{shard}:{line}"))?;
            writeln!(d, "{{\"id\":{id},\"attributes\":{{}}}}")?;
        }
        Ok(())
    }

    fn commit(self) -> Result<()> {
        if let Some((p, d)) = self.dolma {
            d.commit(&p)?;
        }
        self.main.commit(&self.path)
    }
}

/// The dolma-layout attributes file of a JSON shard, with its codec, when
/// `--dolma-layout` is on and the shard sits under a `documents/` folder.
fn dolma_target(config: &ScanConfig, input: &ShardInput) -> Option<(PathBuf, codec::Codec)> {
    let name = config.dolma_layout.as_deref()?;
    if input.format.layout != Layout::JsonLines {
        return None;
    }
    dolma_attributes_path(&input.path, name).map(|p| (p, input.format.codec))
}

/// Where `dolma mix` looks for the attribute set `name` of the document file
/// `doc`: `<root>/documents/<rel>` becomes `<root>/attributes/<name>/<rel>`,
/// same file name (so same compression). The last `documents` folder in the
/// path counts; `None` when there is none.
pub fn dolma_attributes_path(doc: &Path, name: &str) -> Option<PathBuf> {
    let parts: Vec<_> = doc.components().collect();
    let file_index = parts.len().checked_sub(1)?;
    let at = parts[..file_index]
        .iter()
        .rposition(|c| c.as_os_str() == "documents")?;
    let mut out: PathBuf = parts[..at].iter().collect();
    out.push("attributes");
    out.push(name);
    out.extend(&parts[at + 1..]);
    Some(out)
}

/// Whether a shard's dolma-layout attributes, if asked for, are in place.
pub fn dolma_complete(config: &ScanConfig, input: &ShardInput) -> bool {
    dolma_target(config, input).is_none_or(|(p, _)| p.exists())
}

fn process_stream(
    job: &ShardJob,
    input: &ShardInput,
    reader: &mut LineReader,
    attrs: &mut AttributeSinks,
    stats: &mut Prevalence,
    counter: &StreamCounter,
) -> std::result::Result<(), StreamError> {
    let batch_bytes = job.tagger.config.batch_bytes;
    let mut batch = reader.read_batch(batch_bytes)?;
    let mut spare = LineBatch::default();
    while !batch.is_empty() {
        let (next, results) = rayon::join(
            || reader.refill(batch_bytes, &mut spare),
            || tag_batch(job.tagger, input, &batch),
        );
        for (line, result) in results {
            match result {
                Ok(tagged) => {
                    attrs
                        .document(&tagged.attributes)
                        .map_err(|error| StreamError { line, error })?;
                    job.tagger.count_into(stats, &tagged);
                    index_document(job, input, &tagged).map_err(|e| StreamError {
                        line,
                        error: std::io::Error::other(e.to_string()),
                    })?;
                }
                Err(bad) => {
                    attrs
                        .bad_line(&input.name, line)
                        .map_err(|error| StreamError { line, error })?;
                    stats.add_bad(&input.name, line, bad.kind.name(), &bad.message)
                }
            }
        }
        counter.publish(batch.lines.len() as u64);
        next?;
        std::mem::swap(&mut batch, &mut spare);
    }
    counter.publish(0);
    Ok(())
}

/// Add a tagged document's passages to the index, if indexing.
fn index_document(job: &ShardJob, input: &ShardInput, tagged: &Tagged) -> Result<()> {
    let (Some(indexer), Some(opts)) = (job.indexer, &job.tagger.config.index) else {
        return Ok(());
    };
    let meta: Vec<Option<String>> = opts
        .fields
        .iter()
        .map(|&i| tagged.groups.get(i).cloned().flatten())
        .collect();
    for p in &tagged.index {
        indexer.add(&crate::index::PassageRecord {
            doc_id: &tagged.id,
            shard: &input.name,
            passage: p.passage,
            start: p.start,
            end: p.end,
            text: &p.text,
            ai_agent: p.ai_agent,
            scores: p.scores.clone(),
            stance: p.stance,
            archetypes: p.archetypes.clone(),
            meta: meta.clone(),
        })?;
    }
    Ok(())
}

/// Index a shard a scan completed earlier: tag it again (the same filters and
/// settings give the same scores) and add its passages, writing nothing else.
pub fn index_shard(job: &ShardJob, input: &ShardInput) -> Result<()> {
    let opened = codec::open(&input.path, input.format, None)?;
    let mut reader = LineReader::new(
        opened.reader,
        input.format.layout,
        job.tagger.config.max_line_bytes,
    );
    let shard_error = |e: StreamError| e.in_shard(&input.path);
    let batch_bytes = job.tagger.config.batch_bytes;
    let mut batch = reader.read_batch(batch_bytes).map_err(shard_error)?;
    let mut spare = LineBatch::default();
    while !batch.is_empty() {
        let (next, results) = rayon::join(
            || reader.refill(batch_bytes, &mut spare),
            || tag_batch(job.tagger, input, &batch),
        );
        for (_, result) in results {
            if let Ok(tagged) = result {
                index_document(job, input, &tagged)?;
            }
        }
        next.map_err(shard_error)?;
        std::mem::swap(&mut batch, &mut spare);
    }
    Ok(())
}

fn tag_batch(
    tagger: &Tagger,
    input: &ShardInput,
    batch: &LineBatch,
) -> Vec<(u64, std::result::Result<Tagged, BadRecord>)> {
    batch
        .lines
        .par_iter()
        .with_min_len(8)
        .map(|line| (line.line, tag_line(tagger, input, batch, line)))
        .collect()
}

fn tag_line(
    tagger: &Tagger,
    input: &ShardInput,
    batch: &LineBatch,
    line: &RawLine,
) -> std::result::Result<Tagged, BadRecord> {
    let doc = read_document(&tagger.config.extractor, input, batch, line)?;
    Ok(tagger.tag(&doc))
}

/// Turn a raw line into a document, or classify why it is not one.
/// A document found by id: its shard, line and text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundDocument {
    pub shard: String,
    pub line: u64,
    pub text: String,
}

/// The first document with id `id` in the shards under `inputs` (sorted by
/// name, read through in order): for explaining one document after a scan.
/// Lines that are not documents are passed over; a corrupt stream is an error.
pub fn find_document(
    inputs: &[PathBuf],
    extractor: &Extractor,
    id: &str,
    max_line_bytes: usize,
) -> Result<Option<FoundDocument>> {
    for input in crate::shard::discover(inputs)?.shards {
        let opened = codec::open(&input.path, input.format, None)?;
        let mut reader = LineReader::new(opened.reader, input.format.layout, max_line_bytes);
        let mut batch = LineBatch::default();
        while reader.next_batch(&mut batch, &input.path)? {
            for raw in &batch.lines {
                if let Ok(doc) = read_document(extractor, &input, &batch, raw)
                    && doc.id == id
                {
                    return Ok(Some(FoundDocument {
                        shard: input.name.clone(),
                        line: raw.line,
                        text: doc.text.into_owned(),
                    }));
                }
            }
        }
    }
    Ok(None)
}

pub fn read_document<'b>(
    extractor: &Extractor,
    input: &ShardInput,
    batch: &'b LineBatch,
    line: &RawLine,
) -> std::result::Result<Document<'b>, BadRecord> {
    if let Some(len) = line.too_long {
        return Err(BadRecord {
            kind: BadKind::LineTooLong,
            message: format!("a line of {len} bytes is over the --max-line-bytes limit"),
        });
    }
    let bytes = batch.bytes(line);
    match input.format.layout {
        Layout::Text => {
            let text = std::str::from_utf8(bytes).map_err(|e| BadRecord {
                kind: BadKind::InvalidUtf8,
                message: format!("invalid UTF-8 at byte {}", e.valid_up_to()),
            })?;
            Ok(Document {
                id: input.name.clone(),
                text: text.into(),
                line: line.line,
                fields: vec![],
                raw: "",
            })
        }
        Layout::JsonLines if bytes.iter().all(u8::is_ascii_whitespace) => Err(BadRecord {
            kind: BadKind::BlankLine,
            message: "blank line".into(),
        }),
        Layout::JsonLines => extractor.parse(bytes, line.line, &input.name),
    }
}

fn shard_stats(
    job: &ShardJob,
    input: &ShardInput,
    fp: Fingerprint,
    lines: u64,
    stats: &Prevalence,
) -> ShardStats {
    ShardStats {
        shard: input.name.clone(),
        input_bytes: fp.bytes,
        input_xxh3: format!("{:016x}", fp.xxh3),
        lines,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        filters_hash: job.filters_hash.to_string(),
        config_hash: job.config_hash.to_string(),
        stats: stats.clone(),
    }
}

/// Read a shard's stats file, if the shard is complete.
pub fn read_stats(layout: &OutputLayout, shard: &str) -> Result<Option<ShardStats>> {
    let stats = layout.stats(shard);
    if !stats.exists() || !layout.attributes(shard).exists() {
        return Ok(None);
    }
    read_json(&stats).map(Some)
}

/// Read a JSON file into `T`, naming the file on error.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).at(path)?;
    serde_json::from_slice(&bytes).map_err(|e| Error::config(path, e.line(), e.to_string()))
}
