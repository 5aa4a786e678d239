//! Labelled passages (`corpora/labeled/`) in the TROPES.md schema, for `eval`
//! and `train`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, IoContext, Result};

/// One labelled passage.
#[derive(Clone, Debug, Deserialize)]
pub struct Labeled {
    pub id: String,
    pub text: String,
    #[serde(default)]
    pub register: String,
    pub ai_agent: bool,
    pub stance: String,
    pub tropes: Vec<String>,
    #[serde(default)]
    pub archetypes: Vec<String>,
    /// The file it was read from (cross-validation folds are by file).
    #[serde(skip)]
    pub source: String,
}

/// Read labelled passages from files or directories of `*.jsonl` (sorted).
pub fn load(paths: &[PathBuf]) -> Result<Vec<Labeled>> {
    let mut files = vec![];
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .at(p)?
                .map(|e| e.map(|e| e.path()))
                .collect::<std::io::Result<_>>()
                .at(p)?;
            found.retain(|f| f.extension().is_some_and(|e| e == "jsonl"));
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    let mut out = vec![];
    for f in &files {
        out.extend(load_file(f)?);
    }
    if out.is_empty() {
        return Err(Error::Usage("no labelled passages found".into()));
    }
    Ok(out)
}

fn load_file(path: &Path) -> Result<Vec<Labeled>> {
    let text = std::fs::read_to_string(path).at(path)?;
    let mut out = vec![];
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut item: Labeled =
            serde_json::from_str(line).map_err(|e| Error::config(path, i + 1, e.to_string()))?;
        item.source = path.display().to_string();
        out.push(item);
    }
    Ok(out)
}

/// Check every label names a known trope and stance.
pub fn validate(items: &[Labeled], taxonomy: &crate::taxonomy::Taxonomy) -> Result<()> {
    for item in items {
        for t in &item.tropes {
            if taxonomy.find(t).is_none() {
                return Err(Error::Other(format!("{}: unknown trope {t:?}", item.id)));
            }
        }
        if crate::taxonomy::Stance::parse(&item.stance).is_none() {
            return Err(Error::Other(format!(
                "{}: unknown stance {:?}",
                item.id, item.stance
            )));
        }
    }
    Ok(())
}
