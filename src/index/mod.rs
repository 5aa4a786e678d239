//! The passage index (tantivy): one document per indexed passage, with its
//! text (stemmed, with positions, stored), where it comes from, its trope
//! scores as fast fields, tropes, stance and archetypes as filterable terms and
//! as facets for counting, and chosen metadata fields.
//!
//! ```text
//! DIR/index/                       one index (a single worker), or
//! DIR/index/part-<rank>/           one per worker (--rank/--world-size), searched together
//! <index>/tropes_index.json        filters hash, tool version, tropes, threshold, shards
//! ```

pub mod search;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::schema::{
    FAST, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::{Index, IndexWriter, TantivyDocument, Term};

use crate::error::{Error, IoContext, Result};
use crate::taxonomy::Taxonomy;

/// The index's own description, beside tantivy's files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexMeta {
    pub tool_version: String,
    pub filters_hash: String,
    pub tropes: Vec<String>,
    pub threshold: f32,
    /// Metadata fields indexed (`--index-field`).
    pub fields: Vec<String>,
    /// Every passage, or only those with an AI agent or a trope.
    pub all_passages: bool,
    /// Shards indexed.
    pub shards: Vec<String>,
}

const META_FILE: &str = "tropes_index.json";

/// The fields of the schema.
#[derive(Clone, Debug)]
pub struct Fields {
    pub text: Field,
    pub doc_id: Field,
    pub shard: Field,
    pub passage: Field,
    pub start: Field,
    pub end: Field,
    pub ai_agent: Field,
    pub stance: Field,
    pub trope: Field,
    pub archetype: Field,
    pub facets: Field,
    pub score_max: Field,
    /// `score_<trope id>`, in taxonomy order.
    pub scores: Vec<Field>,
    /// `meta_<name>`, in the order of [`IndexMeta::fields`].
    pub meta: Vec<Field>,
}

/// The schema for a taxonomy and metadata fields.
pub fn schema(tropes: &[String], fields: &[String]) -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text_indexing = TextFieldIndexing::default()
        .set_tokenizer("en_stem")
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let text = b.add_text_field(
        "text",
        TextOptions::default()
            .set_indexing_options(text_indexing)
            .set_stored(),
    );
    let f = Fields {
        text,
        doc_id: b.add_text_field("doc_id", STRING | STORED),
        shard: b.add_text_field("shard", STRING | STORED),
        passage: b.add_u64_field("passage", STORED | FAST),
        start: b.add_u64_field("start", STORED),
        end: b.add_u64_field("end", STORED),
        ai_agent: b.add_f64_field("ai_agent", STORED | FAST | INDEXED),
        stance: b.add_text_field("stance", STRING | STORED),
        trope: b.add_text_field("trope", STRING | STORED),
        archetype: b.add_text_field("archetype", STRING | STORED),
        facets: b.add_facet_field("facets", FacetOptions::default()),
        score_max: b.add_f64_field("score_max", FAST | INDEXED),
        scores: tropes
            .iter()
            .map(|t| b.add_f64_field(&format!("score_{t}"), STORED | FAST | INDEXED))
            .collect(),
        meta: fields
            .iter()
            .map(|m| b.add_text_field(&format!("meta_{}", m.replace('.', "_")), STRING | STORED))
            .collect(),
    };
    (b.build(), f)
}

/// One passage to index.
#[derive(Clone, Debug)]
pub struct PassageRecord<'a> {
    pub doc_id: &'a str,
    pub shard: &'a str,
    pub passage: u32,
    /// Character offsets in the document text.
    pub start: u64,
    pub end: u64,
    pub text: &'a str,
    pub ai_agent: f32,
    /// Every recorded trope score (taxonomy index, score).
    pub scores: Vec<(usize, f32)>,
    pub stance: &'static str,
    pub archetypes: Vec<String>,
    pub meta: Vec<Option<String>>,
}

/// An index being written.
pub struct Indexer {
    index: Index,
    writer: IndexWriter,
    fields: Fields,
    meta: IndexMeta,
    dir: PathBuf,
}

/// Memory budget of the index writer.
const WRITER_HEAP: usize = 256 << 20;

impl Indexer {
    /// Open the index at `dir` for writing, creating it when absent. An index
    /// made for other tropes or fields is an error (rebuild it with --force).
    pub fn open(dir: &Path, meta: IndexMeta, threads: usize, recreate: bool) -> Result<Indexer> {
        if recreate && dir.exists() {
            std::fs::remove_dir_all(dir).at(dir)?;
        }
        let (schema, fields) = schema(&meta.tropes, &meta.fields);
        let existing = dir.join(META_FILE);
        let (index, meta) = if existing.exists() {
            let old = read_meta(dir)?;
            if old.tropes != meta.tropes
                || old.fields != meta.fields
                || old.all_passages != meta.all_passages
            {
                return Err(Error::Usage(format!(
                    "{} was built for other tropes, fields or passages; rebuild it with `tropes index DIR INPUT… --force`",
                    dir.display()
                )));
            }
            (
                Index::open_in_dir(dir).map_err(|e| tantivy_error(dir, e))?,
                IndexMeta {
                    shards: old.shards,
                    ..meta
                },
            )
        } else {
            std::fs::create_dir_all(dir).at(dir)?;
            (
                Index::create_in_dir(dir, schema).map_err(|e| tantivy_error(dir, e))?,
                meta,
            )
        };
        let writer = index
            .writer_with_num_threads(threads.max(1), WRITER_HEAP * threads.max(1))
            .map_err(|e| tantivy_error(dir, e))?;
        Ok(Indexer {
            index,
            writer,
            fields,
            meta,
            dir: dir.to_path_buf(),
        })
    }

    /// Shards already in the index.
    pub fn shards(&self) -> &[String] {
        &self.meta.shards
    }

    /// Remove a shard's passages (before indexing it again).
    pub fn delete_shard(&mut self, shard: &str) {
        self.writer
            .delete_term(Term::from_field_text(self.fields.shard, shard));
        self.meta.shards.retain(|s| s != shard);
    }

    /// Note that a shard is fully indexed.
    pub fn shard_done(&mut self, shard: &str) {
        if !self.meta.shards.iter().any(|s| s == shard) {
            self.meta.shards.push(shard.to_string());
            self.meta.shards.sort();
        }
    }

    /// Add one passage.
    pub fn add(&self, p: &PassageRecord) -> Result<()> {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.text, p.text);
        doc.add_text(f.doc_id, p.doc_id);
        doc.add_text(f.shard, p.shard);
        doc.add_u64(f.passage, u64::from(p.passage));
        doc.add_u64(f.start, p.start);
        doc.add_u64(f.end, p.end);
        doc.add_f64(f.ai_agent, f64::from(p.ai_agent));
        doc.add_text(f.stance, p.stance);
        doc.add_facet(
            f.facets,
            tantivy::schema::Facet::from_path(["stance", p.stance]),
        );
        let mut max: f32 = 0.0;
        let mut scores = vec![0.0f32; f.scores.len()];
        for &(t, s) in &p.scores {
            scores[t] = s;
            max = max.max(s);
            if s >= self.meta.threshold {
                doc.add_text(f.trope, &self.meta.tropes[t]);
                doc.add_facet(
                    f.facets,
                    tantivy::schema::Facet::from_path(["trope", self.meta.tropes[t].as_str()]),
                );
            }
        }
        for (field, s) in f.scores.iter().zip(scores) {
            doc.add_f64(*field, f64::from(s));
        }
        doc.add_f64(f.score_max, f64::from(max));
        for a in &p.archetypes {
            doc.add_text(f.archetype, a);
            doc.add_facet(
                f.facets,
                tantivy::schema::Facet::from_path(["archetype", a.as_str()]),
            );
        }
        for (field, value) in f.meta.iter().zip(&p.meta) {
            if let Some(v) = value {
                doc.add_text(*field, v);
            }
        }
        self.writer
            .add_document(doc)
            .map_err(|e| tantivy_error(&self.dir, e))?;
        Ok(())
    }

    /// Commit and write the index's description.
    pub fn commit(mut self) -> Result<()> {
        self.writer
            .commit()
            .map_err(|e| tantivy_error(&self.dir, e))?;
        self.writer
            .wait_merging_threads()
            .map_err(|e| tantivy_error(&self.dir, e))?;
        let _ = &self.index;
        crate::shard::writer::write_json(&self.dir.join(META_FILE), &self.meta)
    }

    /// The threshold passages are labelled at.
    pub fn threshold(&self) -> f32 {
        self.meta.threshold
    }
}

/// Read an index's description.
pub fn read_meta(dir: &Path) -> Result<IndexMeta> {
    crate::pipeline::read_json(&dir.join(META_FILE))
}

/// The index directories under PATH: PATH itself, PATH/index, or the worker
/// parts in PATH/index/part-*.
pub fn locate(path: &Path) -> Result<Vec<PathBuf>> {
    let candidates = [path.to_path_buf(), path.join("index")];
    for c in &candidates {
        if c.join(META_FILE).exists() {
            return Ok(vec![c.clone()]);
        }
        let parts = parts_of(c);
        if !parts.is_empty() {
            return Ok(parts);
        }
    }
    Err(Error::Usage(format!(
        "no tropes index at {}; build one with `tropes scan INPUT… --out DIR --index` or `tropes index DIR INPUT…`",
        path.display()
    )))
}

fn parts_of(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(META_FILE).exists())
        .collect();
    out.sort();
    out
}

/// Where a worker's index goes in a scan directory.
pub fn index_dir(scan_dir: &Path, rank: usize, world_size: usize) -> PathBuf {
    if world_size <= 1 {
        scan_dir.join("index")
    } else {
        scan_dir.join("index").join(format!("part-{rank:05}"))
    }
}

/// Merge indexes into a new one at `out` (which must not exist).
pub fn merge(sources: &[PathBuf], out: &Path) -> Result<IndexMeta> {
    if out.exists() {
        return Err(Error::Usage(format!(
            "{} exists; merge into a new directory",
            out.display()
        )));
    }
    let mut metas = vec![];
    let mut indexes = vec![];
    for s in sources {
        for dir in locate(s)? {
            metas.push(read_meta(&dir)?);
            indexes.push(Index::open_in_dir(&dir).map_err(|e| tantivy_error(&dir, e))?);
        }
    }
    let first = metas
        .first()
        .cloned()
        .ok_or_else(|| Error::Usage("nothing to merge".into()))?;
    for m in &metas {
        if m.tropes != first.tropes
            || m.fields != first.fields
            || m.filters_hash != first.filters_hash
        {
            return Err(Error::Usage(
                "the indexes were built with different filters or fields; they cannot be merged"
                    .into(),
            ));
        }
    }
    std::fs::create_dir_all(out).at(out)?;
    let directory = tantivy::directory::MmapDirectory::open(out)
        .map_err(|e| Error::Other(format!("{}: {e}", out.display())))?;
    tantivy::indexer::merge_indices(&indexes, directory).map_err(|e| tantivy_error(out, e))?;
    let mut shards: Vec<String> = metas.iter().flat_map(|m| m.shards.clone()).collect();
    shards.sort();
    shards.dedup();
    let meta = IndexMeta { shards, ..first };
    crate::shard::writer::write_json(&out.join(META_FILE), &meta)?;
    Ok(meta)
}

/// Index metadata for the current filters and a scan configuration.
pub fn meta_for(
    filters_hash: &str,
    taxonomy: &Taxonomy,
    threshold: f32,
    fields: &[String],
    all: bool,
) -> IndexMeta {
    IndexMeta {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        filters_hash: filters_hash.to_string(),
        tropes: taxonomy.ids().into_iter().map(String::from).collect(),
        threshold,
        fields: fields.to_vec(),
        all_passages: all,
        shards: vec![],
    }
}

fn tantivy_error(dir: &Path, e: impl std::fmt::Display) -> Error {
    Error::Other(format!("{}: {e}", dir.display()))
}

/// Per-trope and per-stance counts, for `search --count`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Counts {
    pub hits: u64,
    pub tropes: BTreeMap<String, u64>,
    pub stances: BTreeMap<String, u64>,
    pub archetypes: BTreeMap<String, u64>,
}
