//! Shard discovery: expand the INPUT arguments into a sorted list of shards with
//! stable output names, and pick this worker's share for `--rank/--world-size`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Format;
use crate::error::{Error, IoContext, Result};

/// One input shard.
#[derive(Clone, Debug)]
pub struct ShardInput {
    /// Where the shard is.
    pub path: PathBuf,
    /// Its output name: the path relative to the INPUT it was found under, without
    /// format extensions (`data/en/part-1.jsonl.gz` under `data` → `en/part-1`).
    pub name: String,
    /// Its format.
    pub format: Format,
    /// Its size in bytes when discovered.
    pub size: u64,
}

/// What the INPUT arguments expand to.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Readable shards, sorted by name.
    pub shards: Vec<ShardInput>,
    /// Files under an INPUT directory that are not shards (unknown extension).
    pub skipped: Vec<PathBuf>,
    /// Files named on the command line whose extension is not a shard's.
    pub rejected: Vec<PathBuf>,
}

/// Expand `inputs` (files or directories, walked recursively) into shards.
/// Two shards with the same output name are an error: their outputs would collide.
pub fn discover(inputs: &[PathBuf]) -> Result<Discovery> {
    let mut found = Discovery::default();
    for input in inputs {
        let meta = std::fs::metadata(input).at(input)?;
        if meta.is_dir() {
            walk(input, input, &mut found)?;
        } else if let Some(format) = Format::of(input) {
            let name = input.file_name().unwrap_or_default().to_string_lossy();
            push(&mut found, input.clone(), &name, format, meta.len());
        } else {
            found.rejected.push(input.clone());
        }
    }
    check_unique(&found.shards)?;
    found.shards.sort_by(|a, b| a.name.cmp(&b.name));
    found.skipped.sort();
    Ok(found)
}

fn push(found: &mut Discovery, path: PathBuf, rel: &str, format: Format, size: u64) {
    let name = Format::strip_name(rel).replace('\\', "/");
    found.shards.push(ShardInput {
        path,
        name,
        format,
        size,
    });
}

fn walk(root: &Path, dir: &Path, found: &mut Discovery) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .at(dir)?
        .collect::<std::io::Result<_>>()
        .at(dir)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue; // hidden files and our own `.tmp` outputs
        }
        let meta = std::fs::metadata(&path).at(&path)?;
        if meta.is_dir() {
            walk(root, &path, found)?;
        } else if let Some(format) = Format::of(&path) {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            push(found, path, &rel, format, meta.len());
        } else {
            found.skipped.push(path);
        }
    }
    Ok(())
}

fn check_unique(shards: &[ShardInput]) -> Result<()> {
    let mut seen: BTreeMap<&str, &Path> = BTreeMap::new();
    for s in shards {
        if let Some(other) = seen.insert(&s.name, &s.path) {
            return Err(Error::Usage(format!(
                "{} and {} would both write outputs named {:?}; pass them in separate runs or rename one",
                other.display(),
                s.path.display(),
                s.name
            )));
        }
    }
    Ok(())
}

/// This worker's share of the sorted shards: every `world_size`-th, from `rank`.
pub fn share(shards: Vec<ShardInput>, rank: usize, world_size: usize) -> Vec<ShardInput> {
    shards
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % world_size == rank)
        .map(|(_, s)| s)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_sorts_and_skips() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("en")).unwrap();
        for f in ["en/b.jsonl.gz", "a.jsonl", "notes.md", ".hidden.jsonl"] {
            std::fs::write(d.join(f), b"").unwrap();
        }
        let found = discover(&[d.to_path_buf()]).unwrap();
        let names: Vec<_> = found.shards.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "en/b"]);
        assert_eq!(found.skipped, [d.join("notes.md")]);
    }

    #[test]
    fn colliding_names_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.jsonl"), b"").unwrap();
        std::fs::write(d.join("a.jsonl.zst"), b"").unwrap();
        assert!(discover(&[d.to_path_buf()]).is_err());
    }

    #[test]
    fn shares_partition_the_list() {
        let mk = |n: &str| ShardInput {
            path: n.into(),
            name: n.into(),
            format: Format::of(Path::new("x.jsonl")).unwrap(),
            size: 0,
        };
        let all: Vec<_> = ["a", "b", "c", "d", "e"].iter().map(|n| mk(n)).collect();
        let r0: Vec<_> = share(all.clone(), 0, 2)
            .into_iter()
            .map(|s| s.name)
            .collect();
        let r1: Vec<_> = share(all, 1, 2).into_iter().map(|s| s.name).collect();
        assert_eq!(r0, ["a", "c", "e"]);
        assert_eq!(r1, ["b", "d"]);
    }
}
