//! The rebalance policy (a TOML file), validated before any data is touched:
//! unknown keys, bad values and unknown tropes are errors naming the key and
//! its line.
//!
//! ```toml
//! seed = 17                      # every random choice is keyed by (seed, document id)
//! threshold = 0.5                # a passage carries a trope when its score is at least this
//! min_chars = 200                # a document cut shorter than this is dropped
//! [misaligned]
//! action = "drop_passage"        # keep | drop_passage | drop_document | downsample
//! keep_rate = 0.1                # for downsample: share of such passages kept
//! mixed = "act"                  # act | keep: a passage with aligned tropes too gets the action, or is kept
//! [misaligned.trope.violence]    # per-trope override
//! action = "drop_document"
//! [aligned]
//! upsample = 2.0                 # up to this many copies of documents with aligned passages
//! [target]
//! aligned_per_misaligned = 1.0   # optional: the output ratio of aligned to misaligned passages
//! [augment]
//! corpus = ["corpora/admirable/*.jsonl"]   # optional: stories mixed in to reach the target
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, IoContext, Result};
use crate::rules::line_of;
use crate::score::RECORD_FLOOR;
use crate::taxonomy::{Side, Taxonomy, TropeIdx};

/// What happens to a document with misaligned passages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Leave it.
    Keep,
    /// Keep the document, downsampled: only `keep_rate` of such passages stay.
    Downsample,
    /// Cut the passages out of the text.
    DropPassage,
    /// Drop the whole document.
    DropDocument,
}

impl Action {
    /// The name used in files and logs.
    pub fn name(self) -> &'static str {
        match self {
            Action::Keep => "keep",
            Action::Downsample => "downsample",
            Action::DropPassage => "drop_passage",
            Action::DropDocument => "drop_document",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    seed: Option<u64>,
    threshold: Option<Spanned<f32>>,
    min_chars: Option<usize>,
    misaligned: Option<MisalignedFile>,
    aligned: Option<AlignedFile>,
    target: Option<TargetFile>,
    augment: Option<AugmentFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MisalignedFile {
    action: Option<Action>,
    keep_rate: Option<Spanned<f64>>,
    mixed: Option<Mixed>,
    #[serde(default)]
    trope: BTreeMap<Spanned<String>, TropeOverride>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TropeOverride {
    action: Option<Action>,
    keep_rate: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlignedFile {
    upsample: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetFile {
    aligned_per_misaligned: Spanned<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AugmentFile {
    corpus: Vec<Spanned<String>>,
    #[serde(default = "text_field")]
    text_field: String,
    #[serde(default = "id_field")]
    id_field: String,
}

fn text_field() -> String {
    "text".into()
}
fn id_field() -> String {
    "id".into()
}

/// What happens to a mixed passage: one with misaligned and aligned tropes
/// ("the first AI blackmailed him; the second refused and reported it").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mixed {
    /// The misaligned action applies, as to any misaligned passage (default:
    /// the misaligned act is in the text either way).
    #[default]
    Act,
    /// The passage stays, for the refusal it portrays.
    Keep,
}

/// What happens to passages of one misaligned trope.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TropeRule {
    pub action: Action,
    pub keep_rate: f64,
}

/// A validated policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub seed: u64,
    pub threshold: f32,
    pub min_chars: usize,
    /// By trope index; aligned tropes have `Keep`.
    pub rules: Vec<TropeRule>,
    pub mixed: Mixed,
    pub upsample: f64,
    pub target: Option<f64>,
    /// Augmentation files (globs expanded, sorted).
    pub augment: Vec<PathBuf>,
    pub augment_text_field: String,
    pub augment_id_field: String,
    /// The policy file's text, hashed into the outputs' configuration.
    pub source: String,
}

/// Defaults when a key is absent.
const DEFAULT_SEED: u64 = 0;
const DEFAULT_THRESHOLD: f32 = 0.5;
const DEFAULT_MIN_CHARS: usize = 200;

impl Policy {
    /// Read and validate a policy file; relative augmentation globs are taken
    /// from the working directory, then from the policy file's folder.
    pub fn load(path: &Path, taxonomy: &Taxonomy) -> Result<Policy> {
        let source = std::fs::read_to_string(path).at(path)?;
        Policy::parse(path, &source, taxonomy)
    }

    /// Validate a policy's text.
    pub fn parse(path: &Path, source: &str, taxonomy: &Taxonomy) -> Result<Policy> {
        let file: PolicyFile =
            toml::from_str(source).map_err(|e| crate::rules::toml_error(path, source, &e))?;
        let at = |span: std::ops::Range<usize>, message: String| {
            Error::config(path, line_of(source, span.start), message)
        };
        let threshold = match &file.threshold {
            Some(t) if !(RECORD_FLOOR..=1.0).contains(t.get_ref()) => {
                return Err(at(
                    t.span(),
                    format!(
                        "threshold must be in [{RECORD_FLOOR}, 1]: scores below {RECORD_FLOOR} are not recorded by scan"
                    ),
                ));
            }
            Some(t) => *t.get_ref(),
            None => DEFAULT_THRESHOLD,
        };
        let rules = misaligned_rules(&file, taxonomy, &at)?;
        let upsample = match file.aligned.as_ref().and_then(|a| a.upsample.as_ref()) {
            Some(u) if !(1.0..=100.0).contains(u.get_ref()) => {
                return Err(at(
                    u.span(),
                    "aligned.upsample is a number of copies in [1, 100]".into(),
                ));
            }
            Some(u) => *u.get_ref(),
            None => 1.0,
        };
        let target = match &file.target {
            Some(t)
                if t.aligned_per_misaligned.get_ref().is_nan()
                    || *t.aligned_per_misaligned.get_ref() <= 0.0 =>
            {
                return Err(at(
                    t.aligned_per_misaligned.span(),
                    "target.aligned_per_misaligned must be positive".into(),
                ));
            }
            Some(t) => Some(*t.aligned_per_misaligned.get_ref()),
            None => None,
        };
        let (augment, augment_text_field, augment_id_field) = match &file.augment {
            Some(a) => (
                expand_globs(path, source, &a.corpus)?,
                a.text_field.clone(),
                a.id_field.clone(),
            ),
            None => (vec![], text_field(), id_field()),
        };
        Ok(Policy {
            seed: file.seed.unwrap_or(DEFAULT_SEED),
            threshold,
            min_chars: file.min_chars.unwrap_or(DEFAULT_MIN_CHARS),
            rules,
            mixed: file
                .misaligned
                .as_ref()
                .and_then(|m| m.mixed)
                .unwrap_or_default(),
            upsample,
            target,
            augment,
            augment_text_field,
            augment_id_field,
            source: source.to_string(),
        })
    }

    /// Does the misaligned action apply to a passage with these sides?
    pub fn acts_on(&self, misaligned: bool, aligned: bool) -> bool {
        misaligned && !(aligned && self.mixed == Mixed::Keep)
    }

    /// The rule of trope `t`.
    pub fn rule(&self, t: TropeIdx) -> TropeRule {
        self.rules[t.0 as usize]
    }
}

type At<'a> = dyn Fn(std::ops::Range<usize>, String) -> Error + 'a;

fn misaligned_rules(file: &PolicyFile, taxonomy: &Taxonomy, at: &At) -> Result<Vec<TropeRule>> {
    let keep = TropeRule {
        action: Action::Keep,
        keep_rate: 1.0,
    };
    let default = match &file.misaligned {
        Some(m) => TropeRule {
            action: m.action.unwrap_or(Action::Keep),
            keep_rate: rate(m.keep_rate.as_ref(), at)?.unwrap_or(1.0),
        },
        None => keep,
    };
    let mut rules: Vec<TropeRule> = taxonomy
        .iter()
        .map(|(_, t)| {
            if t.side == Side::Misaligned {
                default
            } else {
                keep
            }
        })
        .collect();
    let overrides = file.misaligned.as_ref().map(|m| &m.trope);
    for (id, o) in overrides.into_iter().flatten() {
        let idx = taxonomy
            .find(id.get_ref())
            .ok_or_else(|| at(id.span(), format!("unknown trope {:?}", id.get_ref())))?;
        if taxonomy.get(idx).side != Side::Misaligned {
            return Err(at(
                id.span(),
                format!(
                    "{:?} is an aligned trope; overrides are for misaligned ones",
                    id.get_ref()
                ),
            ));
        }
        let rule = &mut rules[idx.0 as usize];
        if let Some(a) = o.action {
            rule.action = a;
        }
        if let Some(r) = rate(o.keep_rate.as_ref(), at)? {
            rule.keep_rate = r;
        }
    }
    Ok(rules)
}

fn rate(r: Option<&Spanned<f64>>, at: &At) -> Result<Option<f64>> {
    match r {
        Some(r) if !(0.0..=1.0).contains(r.get_ref()) => {
            Err(at(r.span(), "keep_rate is a share in [0, 1]".into()))
        }
        Some(r) => Ok(Some(*r.get_ref())),
        None => Ok(None),
    }
}

/// Expand augmentation globs (`*` in the file name only), sorted; a pattern
/// that matches nothing is an error.
fn expand_globs(policy: &Path, source: &str, patterns: &[Spanned<String>]) -> Result<Vec<PathBuf>> {
    let mut out = vec![];
    for p in patterns {
        let line = line_of(source, p.span().start);
        let found = glob(Path::new(p.get_ref())).or_else(|| {
            let base = policy.parent()?;
            glob(&base.join(p.get_ref()))
        });
        match found {
            Some(files) if !files.is_empty() => out.extend(files),
            _ => {
                return Err(Error::config(
                    policy,
                    line,
                    format!("augment.corpus {:?} matches no file", p.get_ref()),
                ));
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn glob(pattern: &Path) -> Option<Vec<PathBuf>> {
    let name = pattern.file_name()?.to_str()?;
    let dir = pattern
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !name.contains('*') {
        return pattern.is_file().then(|| vec![pattern.to_path_buf()]);
    }
    let (head, tail) = name.split_once('*')?;
    let files = std::fs::read_dir(dir).ok()?;
    let mut out: Vec<PathBuf> = files
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.len() >= head.len() + tail.len() && n.starts_with(head) && n.ends_with(tail)
        })
        .map(|e| e.path())
        .collect();
    out.sort();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy::Trope;

    fn tax() -> Taxonomy {
        let t = |id: &str, side| Trope {
            id: id.into(),
            side,
            title: id.into(),
        };
        Taxonomy::new(vec![
            t("violence", Side::Misaligned),
            t("deception", Side::Misaligned),
            t("honesty", Side::Aligned),
        ])
    }

    fn parse(s: &str) -> Result<Policy> {
        Policy::parse(Path::new("p.toml"), s, &tax())
    }

    #[test]
    fn a_full_policy_parses() {
        let p = parse("seed = 3\nthreshold = 0.6\n[misaligned]\naction = \"downsample\"\nkeep_rate = 0.2\n[misaligned.trope.violence]\naction = \"drop_document\"\n[aligned]\nupsample = 2.5\n[target]\naligned_per_misaligned = 1.5\n").unwrap();
        assert_eq!(p.seed, 3);
        assert_eq!(p.upsample, 2.5);
        assert_eq!(p.target, Some(1.5));
        let v = tax().find("violence").unwrap();
        let d = tax().find("deception").unwrap();
        assert_eq!(p.rule(v).action, Action::DropDocument);
        assert_eq!(
            p.rule(d),
            TropeRule {
                action: Action::Downsample,
                keep_rate: 0.2
            }
        );
    }

    #[test]
    fn mistakes_name_their_line() {
        let err = |s: &str| parse(s).unwrap_err().to_string();
        assert!(err("seed = 1\nthreshold = 2\n").starts_with("p.toml:2:"));
        assert!(err("[misaligned]\naction = \"burn\"\n").starts_with("p.toml:2:"));
        assert!(err("[misaligned]\nkeep_rate = 1.5\n").starts_with("p.toml:2:"));
        assert!(err("[misaligned.trope.honesty]\naction = \"keep\"\n").contains("aligned trope"));
        assert!(err("[misaligned.trope.kindness]\naction = \"keep\"\n").contains("unknown trope"));
        assert!(err("[aligned]\nupsample = 0.5\n").starts_with("p.toml:2:"));
        assert!(err("[augment]\ncorpus = [\"/nonexistent/*.jsonl\"]\n").starts_with("p.toml:2:"));
        assert!(err("seeed = 1\n").contains("seeed"));
    }
}
