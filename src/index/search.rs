//! Searching passage indexes: tantivy's query syntax over the passage text (and
//! `trope:`, `stance:`, `archetype:`, `doc_id:`, `shard:` terms), filters, two
//! sort orders, snippets with the matched terms marked, and counts per trope and
//! stance over the whole result set. Several indexes (workers' parts) are
//! searched together.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Index, IndexReader, Order, TantivyDocument, Term};

use super::{Counts, Fields, IndexMeta, locate, read_meta, schema};
use crate::error::{Error, Result};

/// How hits are ordered.
#[derive(Clone, Debug, PartialEq)]
pub enum Sort {
    /// By relevance to the query (BM25).
    Relevance,
    /// By a trope's score, highest first.
    Trope(String),
}

/// A search.
#[derive(Clone, Debug)]
pub struct Request {
    /// Query text; empty or `*` matches every passage.
    pub query: String,
    pub trope: Option<String>,
    pub stance: Option<String>,
    pub archetype: Option<String>,
    /// Minimum score of `trope` (or of any trope when no trope is given).
    pub min_score: Option<f32>,
    pub limit: usize,
    pub offset: usize,
    pub sort: Sort,
}

/// One passage found.
#[derive(Clone, Debug, Serialize)]
pub struct Hit {
    pub doc_id: String,
    pub shard: String,
    pub passage: u64,
    /// Character offsets of the passage in its document.
    pub start: u64,
    pub end: u64,
    /// Tropes at or above the index's threshold, with their scores.
    pub tropes: BTreeMap<String, f32>,
    pub stance: String,
    pub archetypes: Vec<String>,
    /// Relevance (or the trope score the hits are sorted by).
    pub score: f32,
    /// The best fragment, matched terms in `<b>…</b>`.
    pub snippet: String,
    /// The same fragment without marks, and the byte ranges of the matched terms in it.
    #[serde(skip)]
    pub fragment: String,
    #[serde(skip)]
    pub highlights: Vec<std::ops::Range<usize>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    pub index: String,
}

struct Part {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    meta: IndexMeta,
}

/// Open indexes, searched together.
pub struct Searcher {
    parts: Vec<Part>,
}

impl Searcher {
    /// Open every index under `paths` (see [`locate`]). Warnings say when an
    /// index was built by other filters or another version.
    pub fn open(paths: &[PathBuf], filters_hash: &str) -> Result<(Searcher, Vec<String>)> {
        let mut parts = vec![];
        let mut warnings = vec![];
        for p in paths {
            for dir in locate(p)? {
                let meta = read_meta(&dir)?;
                if meta.filters_hash != filters_hash {
                    warnings.push(format!(
                        "{} was built with other filters (hash {}, now {}): scores may differ from a scan today",
                        dir.display(),
                        meta.filters_hash,
                        filters_hash
                    ));
                }
                if meta.tool_version != env!("CARGO_PKG_VERSION") {
                    warnings.push(format!(
                        "{} was built by tropes {}",
                        dir.display(),
                        meta.tool_version
                    ));
                }
                parts.push(open_part(&dir, meta)?);
            }
        }
        if let Some(first) = parts.first()
            && parts.iter().any(|p| p.meta.tropes != first.meta.tropes)
        {
            return Err(Error::Usage(
                "these indexes have different tropes and cannot be searched together".into(),
            ));
        }
        Ok((Searcher { parts }, warnings))
    }

    /// The tropes of the indexes.
    pub fn tropes(&self) -> &[String] {
        self.parts.first().map_or(&[], |p| &p.meta.tropes)
    }

    /// Hits `offset..offset + limit`, and the number of passages matching.
    pub fn search(&self, req: &Request) -> Result<(Vec<Hit>, u64)> {
        let want = req.offset + req.limit;
        let mut all = vec![];
        let mut total = 0;
        for part in &self.parts {
            let query = build_query(part, req)?;
            let searcher = part.reader.searcher();
            let found: Vec<(f32, DocAddress)> = match &req.sort {
                Sort::Relevance => {
                    let (top, count) = searcher
                        .search(
                            &*query,
                            &(TopDocs::with_limit(want.max(1)).order_by_score(), Count),
                        )
                        .map_err(|e| search_error(&part.dir, e))?;
                    total += count as u64;
                    top
                }
                Sort::Trope(id) => {
                    let field = format!("score_{id}");
                    if !part.meta.tropes.contains(id) {
                        return Err(Error::Usage(format!(
                            "--sort trope:{id}: no such trope in the index"
                        )));
                    }
                    let collector = TopDocs::with_limit(want.max(1))
                        .order_by_fast_field::<f64>(field, Order::Desc);
                    let (top, count) = searcher
                        .search(&*query, &(collector, Count))
                        .map_err(|e| search_error(&part.dir, e))?;
                    total += count as u64;
                    top.into_iter()
                        .map(|(s, a)| (s.unwrap_or(0.0) as f32, a))
                        .collect()
                }
            };
            let generator = SnippetGenerator::create(&searcher, &*query, part.fields.text).ok();
            for (score, addr) in found {
                let doc: TantivyDocument =
                    searcher.doc(addr).map_err(|e| search_error(&part.dir, e))?;
                all.push(hit(part, &doc, score, generator.as_ref()));
            }
        }
        all.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| (&a.doc_id, a.passage).cmp(&(&b.doc_id, b.passage)))
        });
        let hits = all.into_iter().skip(req.offset).take(req.limit).collect();
        Ok((hits, total))
    }

    /// Counts per trope, stance and archetype over every matching passage.
    pub fn count(&self, req: &Request) -> Result<Counts> {
        let mut counts = Counts::default();
        for part in &self.parts {
            let query = build_query(part, req)?;
            let searcher = part.reader.searcher();
            let mut facets = FacetCollector::for_field("facets");
            for f in ["/trope", "/stance", "/archetype"] {
                facets.add_facet(f);
            }
            let (hits, fc) = searcher
                .search(&*query, &(Count, facets))
                .map_err(|e| search_error(&part.dir, e))?;
            counts.hits += hits as u64;
            for (root, into) in [
                ("/trope", &mut counts.tropes),
                ("/stance", &mut counts.stances),
                ("/archetype", &mut counts.archetypes),
            ] {
                for (facet, n) in fc.get(root) {
                    let name = facet
                        .to_path()
                        .last()
                        .map(|s| s.to_string())
                        .unwrap_or_default();
                    *into.entry(name).or_default() += n;
                }
            }
        }
        Ok(counts)
    }
}

fn open_part(dir: &Path, meta: IndexMeta) -> Result<Part> {
    let index = Index::open_in_dir(dir).map_err(|e| {
        Error::Usage(format!(
            "{}: not a readable index ({e}); rebuild it with `tropes index DIR INPUT… --force`",
            dir.display()
        ))
    })?;
    let (expected, fields) = schema(&meta.tropes, &meta.fields);
    if index.schema() != expected {
        return Err(Error::Usage(format!(
            "{} was built by an incompatible version of tropes; rebuild it with `tropes index DIR INPUT… --force`",
            dir.display()
        )));
    }
    let reader = index.reader().map_err(|e| search_error(dir, e))?;
    Ok(Part {
        dir: dir.to_path_buf(),
        index,
        reader,
        fields,
        meta,
    })
}

fn search_error(dir: &Path, e: impl std::fmt::Display) -> Error {
    Error::Other(format!("{}: {e}", dir.display()))
}

/// The tantivy query for a request: the parsed text AND the filters.
fn build_query(part: &Part, req: &Request) -> Result<Box<dyn Query>> {
    let f = &part.fields;
    let text = req.query.trim();
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![];
    if !text.is_empty() && text != "*" {
        check_syntax(text)?;
        let mut parser = QueryParser::for_index(&part.index, vec![f.text]);
        parser.set_conjunction_by_default();
        let q = parser
            .parse_query(text)
            .map_err(|e| Error::Usage(format!("query {text:?}: {e}")))?;
        clauses.push((Occur::Must, q));
    }
    let term = |field, value: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        ))
    };
    if let Some(t) = &req.trope {
        if !part.meta.tropes.contains(t) {
            return Err(Error::Usage(format!(
                "--trope {t}: unknown trope (known: {})",
                part.meta.tropes.join(", ")
            )));
        }
        clauses.push((Occur::Must, term(f.trope, t)));
    }
    if let Some(s) = &req.stance {
        clauses.push((Occur::Must, term(f.stance, s)));
    }
    if let Some(a) = &req.archetype {
        clauses.push((Occur::Must, term(f.archetype, a)));
    }
    if let Some(min) = req.min_score {
        let field = match &req.trope {
            Some(t) => f.scores[part.meta.tropes.iter().position(|x| x == t).unwrap_or(0)],
            None => f.score_max,
        };
        let lower = Bound::Included(Term::from_field_f64(field, f64::from(min)));
        clauses.push((
            Occur::Must,
            Box::new(RangeQuery::new(lower, Bound::Unbounded)),
        ));
    }
    Ok(match clauses.len() {
        0 => Box::new(AllQuery),
        1 => clauses
            .pop()
            .map(|(_, q)| q)
            .unwrap_or_else(|| Box::new(AllQuery)),
        _ => Box::new(BooleanQuery::new(clauses)),
    })
}

/// Unbalanced quotes and parentheses, reported with their position (tantivy's
/// own syntax errors do not say where).
pub fn check_syntax(q: &str) -> Result<()> {
    let mut open_quote: Option<usize> = None;
    let mut parens: Vec<usize> = vec![];
    for (i, c) in q.char_indices() {
        match c {
            '"' => open_quote = if open_quote.is_some() { None } else { Some(i) },
            '(' if open_quote.is_none() => parens.push(i),
            ')' if open_quote.is_none() && parens.pop().is_none() => {
                return Err(syntax(q, i, "this `)` closes nothing"));
            }
            _ => {}
        }
    }
    if let Some(i) = open_quote {
        return Err(syntax(q, i, "this quote is never closed"));
    }
    if let Some(i) = parens.pop() {
        return Err(syntax(q, i, "this `(` is never closed"));
    }
    Ok(())
}

fn syntax(q: &str, byte: usize, message: &str) -> Error {
    let col = q[..byte].chars().count();
    Error::Usage(format!(
        "malformed query at character {}: {message}\n  {q}\n  {}^",
        col + 1,
        " ".repeat(col)
    ))
}

fn hit(
    part: &Part,
    doc: &TantivyDocument,
    score: f32,
    generator: Option<&SnippetGenerator>,
) -> Hit {
    let f = &part.fields;
    let text_of = |field| {
        doc.get_first(field)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let u64_of = |field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
    let mut tropes = BTreeMap::new();
    for (id, field) in part.meta.tropes.iter().zip(&f.scores) {
        let s = doc
            .get_first(*field)
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0) as f32;
        if s >= part.meta.threshold {
            tropes.insert(id.clone(), s);
        }
    }
    let (snippet, fragment, highlights) = snippet_of(doc, f, generator);
    let fields = part
        .meta
        .fields
        .iter()
        .zip(&f.meta)
        .filter_map(|(name, field)| {
            doc.get_first(*field)
                .and_then(|v| v.as_str())
                .map(|v| (name.clone(), v.to_string()))
        })
        .collect();
    Hit {
        doc_id: text_of(f.doc_id),
        shard: text_of(f.shard),
        passage: u64_of(f.passage),
        start: u64_of(f.start),
        end: u64_of(f.end),
        tropes,
        stance: text_of(f.stance),
        archetypes: doc
            .get_all(f.archetype)
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        score,
        snippet,
        fragment,
        highlights,
        fields,
        index: part.dir.display().to_string(),
    }
}

/// The snippet (HTML-marked), its plain fragment and highlight ranges; the
/// passage's start when the query has no terms.
fn snippet_of(
    doc: &TantivyDocument,
    f: &Fields,
    generator: Option<&SnippetGenerator>,
) -> (String, String, Vec<std::ops::Range<usize>>) {
    if let Some(g) = generator {
        let s = g.snippet_from_doc(doc);
        if !s.fragment().is_empty() {
            return (
                s.to_html(),
                s.fragment().to_string(),
                s.highlighted().to_vec(),
            );
        }
    }
    let text = doc
        .get_first(f.text)
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let cut: String = text.chars().take(200).collect();
    (crate::report::html::escape(&cut), cut, vec![])
}
