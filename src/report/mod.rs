//! Prevalence reports: the merged stats of one or many scan directories, with
//! the derived figures people ask for (tokens, per million tokens, share of
//! documents), rendered as a terminal table ([`table`]), JSON, CSV ([`csv`]) or
//! a self-contained HTML page with charts ([`html`]).

pub mod csv;
pub mod html;
pub mod table;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::error::{Error, Result};
use crate::manifest::json_files;
use crate::pipeline::{ShardStats, read_json};
use crate::rules::Filters;
use crate::sink::stats::{ArchetypeCounts, Counts, Prevalence, TropeCounts};
use crate::taxonomy::{ArchetypeSide, Side, Stance};

/// The merged stats of a set of scan outputs, before any rendering.
#[derive(Clone, Debug, Default)]
pub struct Merged {
    pub stats: Prevalence,
    pub shards: usize,
    /// Filter hashes seen, with the number of shards for each (more than one
    /// means the shards were tagged by different filters).
    pub filters: BTreeMap<String, usize>,
}

/// Merge the per-shard stats found under `paths` (scan directories, or single
/// `stats/*.json` files).
pub fn merge(paths: &[PathBuf]) -> Result<Merged> {
    let mut out = Merged::default();
    for path in paths {
        for file in stats_files(path)? {
            let shard: ShardStats = read_json(&file)?;
            out.stats += &shard.stats;
            out.shards += 1;
            *out.filters.entry(shard.filters_hash).or_default() += 1;
        }
    }
    if out.shards == 0 {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(Error::Usage(format!(
            "no stats found in {}; run `tropes scan INPUT… --out DIR` first",
            names.join(", ")
        )));
    }
    Ok(out)
}

fn stats_files(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let dir = if path.join("stats").is_dir() {
        path.join("stats")
    } else {
        path.to_path_buf()
    };
    Ok(json_files(&dir)?.into_iter().map(|(_, p)| p).collect())
}

/// One row of a report: counts and the shares derived from them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Row {
    pub passages: u64,
    pub documents: u64,
    pub characters: u64,
    pub tokens: u64,
    /// Tokens of these passages per million tokens of the corpus.
    pub per_million_tokens: f64,
    /// Share of the corpus's documents with at least one such passage.
    pub share_of_documents: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side: Option<&'static str>,
}

/// One archetype's mentions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArchetypeRow {
    pub name: String,
    pub side: &'static str,
    pub mentions: u64,
    pub passages: u64,
    pub documents: u64,
}

/// A prevalence report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub shards: usize,
    pub documents: u64,
    pub passages: u64,
    pub characters: u64,
    /// Exact when every document was counted, else estimated (see below).
    pub tokens: u64,
    pub tokens_exact: bool,
    /// Standard error of the token total when estimated (0 when exact).
    pub tokens_std_error: f64,
    /// Documents whose tokens were counted.
    pub tokens_counted_documents: u64,
    pub escalated_passages: u64,
    pub escalation_rate: f64,
    pub bad_input: BTreeMap<String, u64>,
    pub ai_agent: Row,
    pub tropes: Ordered<Row>,
    pub stances: Ordered<Row>,
    pub archetypes: Ordered<ArchetypeRow>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, Ordered<Report>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A list of named values, written as a JSON object in list order.
#[derive(Clone, Debug, Default)]
pub struct Ordered<T>(pub Vec<(String, T)>);

impl<T: Serialize> Serialize for Ordered<T> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<T> Ordered<T> {
    /// The value named `key`.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// How a report is built.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    /// Report groups of this recorded field too.
    pub group_by: Option<&'a str>,
    /// Archetypes listed (by mentions).
    pub top_archetypes: usize,
}

impl Report {
    /// Build the report of merged stats, tropes in the filters' order.
    pub fn new(merged: &Merged, filters: &Filters, options: Options) -> Result<Report> {
        let mut report = Report::of(&merged.stats, filters, options.top_archetypes);
        report.shards = merged.shards;
        if merged.filters.len() > 1 {
            report.warnings.push(format!(
                "the shards were tagged with {} different filter sets: {:?}",
                merged.filters.len(),
                merged.filters
            ));
        }
        if let Some(field) = options.group_by {
            let values = merged.stats.groups.get(field).ok_or_else(|| {
                let known: Vec<&String> = merged.stats.groups.keys().collect();
                Error::Usage(format!(
                    "the scan did not record {field:?} (recorded: {known:?}); scan with --group-field {field}"
                ))
            })?;
            let mut rows: Vec<(String, Report)> = values
                .iter()
                .map(|(value, stats)| {
                    (
                        value.clone(),
                        Report::of(stats, filters, options.top_archetypes),
                    )
                })
                .collect();
            rows.sort_by(|a, b| b.1.documents.cmp(&a.1.documents).then(a.0.cmp(&b.0)));
            report.groups.insert(field.to_string(), Ordered(rows));
        }
        Ok(report)
    }

    /// The report of one `Prevalence` (no groups).
    fn of(p: &Prevalence, filters: &Filters, top: usize) -> Report {
        let tokens = p.tokens_total().round() as u64;
        let row = |c: &Counts| Row {
            passages: c.passages,
            documents: c.documents,
            characters: c.characters,
            tokens: c.tokens,
            per_million_tokens: ratio(c.tokens, tokens) * 1e6,
            share_of_documents: ratio(c.documents, p.documents),
            ..Row::default()
        };
        let tropes = filters
            .taxonomy
            .iter()
            .map(|(_, t)| {
                let c = p.tropes.get(&t.id).copied().unwrap_or_default();
                let mut r = row(&c.counts);
                r.mean_score = Some(round3(mean(&c)));
                r.side = Some(side_name(t.side));
                (t.id.clone(), r)
            })
            .collect();
        Report {
            shards: 1,
            documents: p.documents,
            passages: p.passages,
            characters: p.characters,
            tokens,
            tokens_exact: p.tokens_exact(),
            tokens_std_error: p.tokens_std_error().round(),
            tokens_counted_documents: p.token_sample.documents,
            escalated_passages: p.escalated_passages,
            escalation_rate: ratio(p.escalated_passages, p.passages),
            bad_input: p.bad_input.clone(),
            ai_agent: row(&p.ai_agent),
            tropes: Ordered(tropes),
            stances: Ordered(stance_rows(p, tokens, &row)),
            archetypes: Ordered(archetype_rows(p, filters, top)),
            groups: BTreeMap::new(),
            warnings: vec![],
        }
    }
}

fn stance_rows(p: &Prevalence, tokens: u64, row: &dyn Fn(&Counts) -> Row) -> Vec<(String, Row)> {
    let mut flagged_tokens = 0;
    let mut out: Vec<(String, Row)> = Stance::ALL
        .iter()
        .filter(|s| **s != Stance::None)
        .map(|s| {
            let c = p.stances.get(s.name()).copied().unwrap_or_default();
            flagged_tokens += c.tokens;
            (s.name().to_string(), row(&c))
        })
        .collect();
    // Tokens of trope-free passages are the rest of the corpus (an estimate when
    // the total is one).
    let mut none = p
        .stances
        .get(Stance::None.name())
        .copied()
        .unwrap_or_default();
    none.tokens = tokens.saturating_sub(flagged_tokens);
    out.push((Stance::None.name().to_string(), row(&none)));
    out
}

fn archetype_rows(p: &Prevalence, filters: &Filters, top: usize) -> Vec<(String, ArchetypeRow)> {
    let side_of = |name: &str| {
        filters
            .archetypes
            .iter()
            .find(|a| a.name == name)
            .map_or("unknown", |a| match a.side {
                ArchetypeSide::Villain => "villain",
                ArchetypeSide::Admirable => "admirable",
            })
    };
    let mut rows: Vec<(&String, &ArchetypeCounts)> = p.archetypes.iter().collect();
    rows.sort_by(|a, b| b.1.mentions.cmp(&a.1.mentions).then(a.0.cmp(b.0)));
    rows.into_iter()
        .take(top)
        .map(|(name, c)| {
            let r = ArchetypeRow {
                name: name.clone(),
                side: side_of(name),
                mentions: c.mentions,
                passages: c.passages,
                documents: c.documents,
            };
            (name.clone(), r)
        })
        .collect()
}

fn mean(c: &TropeCounts) -> f64 {
    c.mean_score()
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Misaligned => "misaligned",
        Side::Aligned => "aligned",
    }
}

/// `a / b`, 0 when `b` is 0.
pub fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
