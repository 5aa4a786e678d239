//! The first pass of a rebalance: read the scan's attributes for every shard
//! (not only this worker's), find the documents each rule applies to, and fix
//! the thresholds that select which of them are kept or copied.
//!
//! Every choice is keyed by a hash of (seed, document id): a document is kept
//! when its hash is below the keep threshold, and copied once more when its copy
//! hash is below the copy threshold. The thresholds are quantiles computed over
//! all documents, so the counts come out exact (to one document) and the same on
//! one machine or many, whatever the threads, shard order or worker split.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Deserialize;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::policy::{Action, Policy};
use crate::error::{Error, IoContext, Result};
use crate::pipeline::OutputLayout;
use crate::sink::attributes::PREFIX;
use crate::taxonomy::{Side, Taxonomy, TropeIdx};

/// One passage with tropes at the policy's threshold, in characters.
#[derive(Clone, Debug, PartialEq)]
pub struct Flagged {
    pub start: u64,
    pub end: u64,
    pub tropes: Vec<TropeIdx>,
    pub misaligned: bool,
    pub aligned: bool,
}

/// The flagged passages of one document, from its attributes line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DocFlags {
    pub id: String,
    pub passages: Vec<Flagged>,
    /// Passages the scan cut the text into (`tropes__passages`).
    pub total_passages: u64,
}

#[derive(Deserialize)]
struct AttrLine {
    id: String,
    attributes: BTreeMap<String, Vec<(u64, u64, f32)>>,
}

/// Parse one attributes line into the passages flagged at `threshold`.
pub fn flags_of(
    line: &str,
    taxonomy: &Taxonomy,
    threshold: f32,
) -> std::result::Result<DocFlags, String> {
    let a: AttrLine = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let mut by_span: BTreeMap<(u64, u64), Vec<TropeIdx>> = BTreeMap::new();
    for (idx, trope) in taxonomy.iter() {
        let Some(spans) = a.attributes.get(&format!("{PREFIX}{}", trope.id)) else {
            continue;
        };
        for &(s, e, score) in spans {
            if score >= threshold {
                by_span.entry((s, e)).or_default().push(idx);
            }
        }
    }
    let passages = by_span
        .into_iter()
        .map(|((start, end), tropes)| {
            let side = |s| tropes.iter().any(|t| taxonomy.get(*t).side == s);
            Flagged {
                start,
                end,
                misaligned: side(Side::Misaligned),
                aligned: side(Side::Aligned),
                tropes,
            }
        })
        .collect();
    let total_passages = a
        .attributes
        .get(&format!("{PREFIX}passages"))
        .and_then(|s| s.first())
        .map_or(0, |&(_, _, n)| n as u64);
    Ok(DocFlags {
        id: a.id,
        passages,
        total_passages,
    })
}

/// What the policy does to a document before any sampling.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Treatment {
    /// The most severe action of its misaligned passages (`Keep` when none).
    pub action: Action,
    /// The keep rate of a downsampled document (the lowest of its tropes').
    pub keep_rate: f64,
}

/// The action of a misaligned passage: the most severe of its tropes' (a
/// mixed passage the policy keeps: `Keep`).
pub fn passage_action(p: &Flagged, policy: &Policy, taxonomy: &Taxonomy) -> Action {
    if !policy.acts_on(p.misaligned, p.aligned) {
        return Action::Keep;
    }
    p.tropes
        .iter()
        .filter(|t| taxonomy.get(**t).side == Side::Misaligned)
        .map(|t| policy.rule(*t).action)
        .max()
        .unwrap_or(Action::Keep)
}

/// The treatment of a document.
pub fn treatment(d: &DocFlags, policy: &Policy, taxonomy: &Taxonomy) -> Treatment {
    let mut action = Action::Keep;
    let mut keep_rate: f64 = 1.0;
    let acted_on = d
        .passages
        .iter()
        .filter(|p| policy.acts_on(p.misaligned, p.aligned));
    for p in acted_on {
        action = action.max(passage_action(p, policy, taxonomy));
        for t in &p.tropes {
            let rule = policy.rule(*t);
            if rule.action == Action::Downsample {
                keep_rate = keep_rate.min(rule.keep_rate);
            }
        }
    }
    Treatment { action, keep_rate }
}

/// The hash behind every choice about a document, in [0, 2^64).
pub fn choice(seed: u64, id: &str, what: &str) -> u64 {
    let mut key = Vec::with_capacity(id.len() + what.len() + 1);
    key.extend_from_slice(what.as_bytes());
    key.push(0);
    key.extend_from_slice(id.as_bytes());
    xxh3_64_with_seed(&key, seed)
}

/// The decisions fixed by the first pass.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    /// A downsampled document is kept when its keep hash is below this.
    pub keep_below: u64,
    /// Every document with aligned passages is written this many times …
    pub base_copies: u32,
    /// … and once more when its copy hash is below this.
    pub extra_below: u64,
    /// Augmentation documents to add, over all shards.
    pub augment_documents: u64,
    /// Documents read from the augmentation corpus, and those usable (an
    /// aligned passage and no misaligned one).
    pub augment_read: u64,
    pub augment_usable: u64,
    /// Passage counts the plan expects (before min_chars drops), for the report.
    pub misaligned_before: u64,
    pub aligned_before: u64,
    pub misaligned_after: u64,
    pub aligned_after: u64,
    /// Shard names of the whole scan with their document counts, for spreading
    /// augmentation documents.
    pub shards: Vec<(String, u64)>,
}

/// A document that sampling can keep or copy.
struct Candidate {
    /// The hash the current choice is made on.
    hash: u64,
    /// The document's copy hash, for when a kept document is also copied.
    copy_hash: u64,
    misaligned: u64,
    aligned: u64,
}

/// Aligned passages per augmentation document, in corpus order.
pub type AugmentYield = Vec<u64>;

/// Build the plan from the scan in `scan_dir`.
pub fn plan(
    scan_dir: &Path,
    policy: &Policy,
    taxonomy: &Taxonomy,
    augment: &AugmentYield,
) -> Result<Plan> {
    let layout = OutputLayout {
        dir: scan_dir.to_path_buf(),
    };
    let mut fixed_m = 0;
    let mut fixed_a = 0;
    let mut sampled: Vec<Candidate> = vec![];
    let mut aligned_docs: Vec<Candidate> = vec![];
    let mut plan = Plan::default();
    for (name, _) in crate::manifest::json_files(&scan_dir.join("stats"))? {
        let path = layout.attributes(&name);
        let mut documents = 0;
        for_each_line(&path, |line_no, line| {
            documents += 1;
            let d = flags_of(line, taxonomy, policy.threshold).map_err(|e| Error::Shard {
                shard: path.display().to_string(),
                line: line_no,
                message: e,
            })?;
            let m = d.passages.iter().filter(|p| p.misaligned).count() as u64;
            let a = d.passages.iter().filter(|p| p.aligned).count() as u64;
            plan.misaligned_before += m;
            plan.aligned_before += a;
            let t = treatment(&d, policy, taxonomy);
            let (m_left, a_left) = survivors(&d, policy, taxonomy, t.action);
            match t.action {
                Action::DropDocument => {}
                Action::Downsample => sampled.push(Candidate {
                    hash: choice(policy.seed, &d.id, "keep"),
                    copy_hash: choice(policy.seed, &d.id, "copy"),
                    misaligned: m_left,
                    aligned: a_left,
                }),
                _ => {
                    fixed_m += m_left;
                    fixed_a += a_left;
                    if a_left > 0 && m_left == 0 {
                        let copy_hash = choice(policy.seed, &d.id, "copy");
                        aligned_docs.push(Candidate {
                            hash: copy_hash,
                            copy_hash,
                            misaligned: 0,
                            aligned: a_left,
                        });
                    }
                }
            }
            Ok(())
        })?;
        plan.shards.push((name, documents));
    }
    let keep_rate = downsample_rate(policy);
    let (keep_below, kept) = quantile(&mut sampled, |c| c.misaligned, keep_rate);
    plan.keep_below = keep_below;
    let m_out = fixed_m + kept.iter().map(|c| c.misaligned).sum::<u64>();
    let mut a_out = fixed_a;
    for c in kept.iter() {
        a_out += c.aligned;
        if c.aligned > 0 && c.misaligned == 0 {
            aligned_docs.push(Candidate {
                hash: c.copy_hash,
                copy_hash: c.copy_hash,
                misaligned: 0,
                aligned: c.aligned,
            });
        }
    }
    solve_copies(&mut plan, policy, &mut aligned_docs, a_out, m_out, augment);
    Ok(plan)
}

/// The keep rate of downsampled documents: the policy's lowest.
fn downsample_rate(policy: &Policy) -> f64 {
    policy
        .rules
        .iter()
        .filter(|r| r.action == Action::Downsample)
        .map(|r| r.keep_rate)
        .fold(1.0, f64::min)
}

/// Misaligned and aligned passages left in a document after passage cuts.
fn survivors(d: &DocFlags, policy: &Policy, taxonomy: &Taxonomy, action: Action) -> (u64, u64) {
    if action == Action::DropDocument {
        return (0, 0);
    }
    let left = d
        .passages
        .iter()
        .filter(|p| !(p.misaligned && passage_action(p, policy, taxonomy) == Action::DropPassage));
    let (mut m, mut a) = (0, 0);
    for p in left {
        m += u64::from(p.misaligned);
        a += u64::from(p.aligned);
    }
    (m, a)
}

/// Choose candidates by ascending hash until their `weight` reaches `rate` of
/// the total; returns the hash threshold and the chosen ones.
fn quantile(
    cands: &mut [Candidate],
    weight: impl Fn(&Candidate) -> u64,
    rate: f64,
) -> (u64, Vec<&Candidate>) {
    cands.sort_by_key(|c| c.hash);
    let total: u64 = cands.iter().map(&weight).sum();
    let want = (rate * total as f64).round() as u64;
    let mut got = 0;
    let mut below = 0;
    let mut chosen = vec![];
    for c in cands.iter() {
        if got >= want && rate < 1.0 {
            break;
        }
        got += weight(c);
        below = c.hash.saturating_add(1);
        chosen.push(c);
    }
    if rate >= 1.0 {
        below = u64::MAX;
    }
    (below, chosen)
}

/// Fix copies and augmentation so aligned/misaligned reaches the target (or,
/// without a target, apply the policy's upsample factor). Only documents whose
/// remaining passages are all aligned are copied: copying a mixed document
/// would copy its misaligned passages too.
fn solve_copies(
    plan: &mut Plan,
    policy: &Policy,
    docs: &mut [Candidate],
    a_out: u64,
    m_out: u64,
    augment: &AugmentYield,
) {
    let copyable: u64 = docs.iter().map(|c| c.aligned).sum();
    let most = (policy.upsample - 1.0) * copyable as f64;
    let extra_wanted = match policy.target {
        None => most,
        Some(r) => ((r * m_out as f64) - a_out as f64).clamp(0.0, most),
    };
    let per_passage = if copyable == 0 {
        0.0
    } else {
        extra_wanted / copyable as f64
    };
    plan.base_copies = 1 + per_passage.floor() as u32;
    let frac = per_passage - per_passage.floor();
    let (below, extra) = quantile(docs, |c| c.aligned, frac);
    plan.extra_below = if frac <= 0.0 { 0 } else { below };
    let mut aligned = a_out
        + u64::from(plan.base_copies - 1) * copyable
        + extra.iter().map(|c| c.aligned).sum::<u64>();
    if let Some(r) = policy.target {
        let needed = (r * m_out as f64).round() as u64;
        if aligned < needed && augment.iter().any(|a| *a > 0) {
            // Add documents while that brings the count closer to what is needed.
            let mut n = 0u64;
            loop {
                let next = aligned + augment[(n as usize) % augment.len()];
                if next.abs_diff(needed) >= aligned.abs_diff(needed) {
                    break;
                }
                aligned = next;
                n += 1;
            }
            plan.augment_documents = n;
        }
    }
    plan.misaligned_after = m_out;
    plan.aligned_after = aligned;
}

/// Call `f(line_number, line)` for every line of a zstd-compressed file.
pub fn for_each_line(path: &Path, mut f: impl FnMut(u64, &str) -> Result<()>) -> Result<()> {
    let file = std::fs::File::open(path).at(path)?;
    let reader = BufReader::new(zstd::Decoder::new(file).at(path)?);
    for (i, line) in reader.lines().enumerate() {
        let line = line.at(path)?;
        f(i as u64 + 1, &line)?;
    }
    Ok(())
}

impl Plan {
    /// Is a downsampled document with this id kept?
    pub fn keeps(&self, seed: u64, id: &str) -> bool {
        choice(seed, id, "keep") < self.keep_below
    }

    /// How many times a document whose remaining flagged passages are all
    /// aligned is written.
    pub fn copies(&self, seed: u64, id: &str) -> u32 {
        self.base_copies.max(1) + u32::from(choice(seed, id, "copy") < self.extra_below)
    }

    /// The global indices of the augmentation documents that go into the shard
    /// `name`: the total is spread over shards in proportion to their documents.
    pub fn augment_range(&self, name: &str) -> std::ops::Range<u64> {
        let total: u64 = self.shards.iter().map(|(_, d)| *d).sum();
        let mut before = 0;
        for (shard, docs) in &self.shards {
            if shard == name {
                let at = |d: u64| {
                    if total == 0 {
                        0
                    } else {
                        (self.augment_documents as u128 * d as u128 / total as u128) as u64
                    }
                };
                return at(before)..at(before + docs);
            }
            before += docs;
        }
        0..0
    }
}
