//! `DIR/manifest.json`: what a scan directory holds. It is rebuilt from the
//! per-shard files on disk after every run, so workers that share a directory
//! (`--rank/--world-size`) never lose each other's entries, and it has no
//! timestamps: the same shards give the same bytes.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{IoContext, Result};
use crate::pipeline::{OutputLayout, RecordedConfig, ShardFailure, ShardStats, read_json};

/// The manifest of a scan directory.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub tool: String,
    pub version: String,
    pub filters_hash: String,
    pub config_hash: String,
    pub config: RecordedConfig,
    pub shards: Vec<ManifestShard>,
    pub totals: Totals,
}

/// One shard in the manifest.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ManifestShard {
    pub name: String,
    /// `complete` or `failed`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xxh3: Option<String>,
    pub lines: u64,
    pub documents: u64,
    pub bad_records: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Sums over complete shards.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Totals {
    pub shards_complete: u64,
    pub shards_failed: u64,
    pub lines: u64,
    pub documents: u64,
    pub bad_records: u64,
}

/// Rebuild the manifest from `stats/` and `failed/` under the layout's directory.
pub fn rebuild(
    layout: &OutputLayout,
    filters_hash: &str,
    config: &RecordedConfig,
    config_hash: &str,
) -> Result<Manifest> {
    let mut shards = vec![];
    let mut totals = Totals::default();
    for (name, path) in json_files(&layout.dir.join("stats"))? {
        let s: ShardStats = read_json(&path)?;
        let bad = s.stats.bad_total();
        totals.shards_complete += 1;
        totals.lines += s.lines;
        totals.documents += s.stats.documents;
        totals.bad_records += bad;
        shards.push(ManifestShard {
            name,
            status: "complete".into(),
            bytes: Some(s.input_bytes),
            xxh3: Some(s.input_xxh3),
            lines: s.lines,
            documents: s.stats.documents,
            bad_records: bad,
            error: None,
        });
    }
    for (name, path) in json_files(&layout.dir.join("failed"))? {
        let f: ShardFailure = read_json(&path)?;
        totals.shards_failed += 1;
        shards.push(ManifestShard {
            name,
            status: "failed".into(),
            bytes: None,
            xxh3: None,
            lines: f.line,
            documents: 0,
            bad_records: 0,
            error: Some(format!("{}:{}: {}", f.path, f.line, f.error)),
        });
    }
    shards.sort_by(|a, b| (&a.name, &a.status).cmp(&(&b.name, &b.status)));
    Ok(Manifest {
        tool: "tropes".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        filters_hash: filters_hash.into(),
        config_hash: config_hash.into(),
        config: config.clone(),
        shards,
        totals,
    })
}

/// Write the manifest, unless the file already holds exactly this.
pub fn write(layout: &OutputLayout, manifest: &Manifest) -> Result<()> {
    let path = layout.manifest();
    let mut text = serde_json::to_string_pretty(manifest).unwrap_or_default();
    text.push('\n');
    if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    crate::shard::writer::write_json(&path, manifest)
}

/// `(shard name, path)` of every `*.json` under `dir`, sorted.
pub fn json_files(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>> {
    let mut out = vec![];
    if dir.exists() {
        collect(dir, dir, &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, std::path::PathBuf)>) -> Result<()> {
    for entry in std::fs::read_dir(dir).at(dir)? {
        let path = entry.at(dir)?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, out)?;
        } else if let Some(name) = path
            .strip_prefix(root)
            .ok()
            .and_then(|r| r.to_str())
            .and_then(|r| r.strip_suffix(".json"))
        {
            out.push((name.replace('\\', "/"), path.clone()));
        }
    }
    Ok(())
}
