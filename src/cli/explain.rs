//! `tropes explain TEXT`: how the scorer reads one passage (every cue, who does
//! it, whether it is negated or imagined, and each trope's features and score);
//! `tropes explain --doc ID INPUT…`: the same for every passage of a document
//! that a scan sends to stage 2, read as the scan reads it.

use std::path::PathBuf;

use clap::Args as ClapArgs;
use tropes::document::{Extractor, FieldPath};
use tropes::manifest::Manifest;
use tropes::pipeline::read_json;
use tropes::rules::{FEATURES, Filters};
use tropes::score::RuleScorer;
use tropes::score::rule::Explanation;
use tropes::segment::{SegmentConfig, segment};
use tropes::{Error, Result};

use super::common::Common;

/// Arguments of `tropes explain`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The passage text (or use --file, or --doc with inputs)
    #[arg(value_name = "TEXT", required_unless_present_any = ["file", "doc"])]
    pub text: Option<String>,
    /// Read the passage from this file
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Explain the document with this id, found in --input shards: each passage
    /// the scan escalates, in the document's context, with its character span
    #[arg(long, value_name = "ID", requires = "input")]
    pub doc: Option<String>,
    /// Shards or directories to look for --doc in (repeatable)
    #[arg(long, value_name = "PATH")]
    pub input: Vec<PathBuf>,
    /// The scan output directory: its manifest gives the text and id fields
    /// and passage sizes the scan used (instead of the flags below)
    #[arg(long, value_name = "DIR")]
    pub scan: Option<PathBuf>,
    /// Dotted path of the text field (as given to scan)
    #[arg(long, default_value = "text", value_name = "PATH")]
    pub text_field: String,
    /// Dotted path of the id field (as given to scan)
    #[arg(long, default_value = "id", value_name = "PATH")]
    pub id_field: String,
    /// Passage size in words (as given to scan)
    #[arg(long, default_value_t = SegmentConfig::default().target_words, value_name = "N")]
    pub passage_words: usize,
    /// Hard maximum passage size in words (as given to scan)
    #[arg(long, default_value_t = SegmentConfig::default().max_words, value_name = "N")]
    pub max_passage_words: usize,
    /// Show every trope, not only those with a cue or a score of 0.05 or more
    #[arg(long)]
    pub all: bool,
    /// List stage 1's anchors (what made it escalate)
    #[arg(long)]
    pub anchors: bool,
    #[command(flatten)]
    pub common: Common,
}

/// Run `tropes explain`.
pub fn run(args: Args) -> Result<i32> {
    if let Some(id) = &args.doc {
        return explain_document(&args, id);
    }
    let text = match (&args.text, &args.file) {
        (Some(t), _) => t.clone(),
        (None, Some(f)) => std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?,
        (None, None) => return Err(Error::Usage("give TEXT or --file".into())),
    };
    let filters = args.common.load_filters()?;
    let scorer = RuleScorer::new(filters.clone())?;
    let x = scorer.explain(&text);
    print_explanation(&args, &filters, &scorer, &text, &x);
    Ok(0)
}

/// `--doc ID`: find the document, cut it into passages as scan does, and
/// explain each passage stage 1 escalates.
fn explain_document(args: &Args, id: &str) -> Result<i32> {
    let filters = args.common.load_filters()?;
    let scorer = RuleScorer::new(filters.clone())?;
    let (text_field, id_field, config) = match &args.scan {
        Some(dir) => scan_settings(dir)?,
        None => (
            args.text_field.clone(),
            args.id_field.clone(),
            SegmentConfig {
                target_words: args.passage_words,
                max_words: args.max_passage_words,
            },
        ),
    };
    let extractor = Extractor::new(
        FieldPath::parse(&text_field)?,
        FieldPath::parse(&id_field)?,
        vec![],
    );
    let found = tropes::pipeline::find_document(&args.input, &extractor, id, 64 << 20)?;
    let Some(doc) = found else {
        return Err(Error::Usage(format!(
            "no document with id {id:?} in the inputs"
        )));
    };
    let mut spans = vec![];
    segment(&doc.text, &config, &mut spans);
    let explained = scorer.explain_document(&doc.text, &spans);
    println!(
        "{id}: shard {}, line {}; {} passages, {} escalated by stage 1",
        doc.shard,
        doc.line,
        spans.len(),
        explained.len()
    );
    for (i, x) in &explained {
        let span = &spans[*i];
        let start = doc.text[..span.start].chars().count();
        let end = start + doc.text[span.clone()].chars().count();
        println!("\npassage {i} (characters {start}-{end})");
        print_explanation(args, &filters, &scorer, &doc.text[span.clone()], x);
    }
    Ok(0)
}

/// The text field, id field and passage sizes a scan recorded in its manifest.
fn scan_settings(dir: &std::path::Path) -> Result<(String, String, SegmentConfig)> {
    let manifest: Manifest = read_json(&dir.join("manifest.json")).map_err(|e| {
        Error::Usage(format!(
            "{e}; is {} a scan output directory?",
            dir.display()
        ))
    })?;
    let cfg = manifest.config;
    Ok((cfg.text_field, cfg.id_field, cfg.segment))
}

fn print_explanation(
    args: &Args,
    filters: &Filters,
    scorer: &RuleScorer,
    text: &str,
    x: &Explanation,
) {
    println!(
        "stage 1: {}; ai_agent {:.2}; report {}; AI named in text {}; learned names {:?}",
        if x.escalated {
            "escalated"
        } else {
            "not escalated"
        },
        x.ai,
        x.report,
        x.salient,
        x.ai_names
    );
    // Only where the weak word is what the AI confidence rests on: beside a
    // strong word ("the AI", a name) it adds nothing.
    if let Some(why) = x.weak_reason.filter(|_| x.ai < 1.0) {
        println!("  weak agent word counts as an AI: {why}");
    }
    if let Some(p) = x.learned {
        println!(
            "  presence model: {p:.2} that the passage is about an AI (confirms from {:.2}){}",
            tropes::rules::presence::CONFIRMS,
            if x.unnamed {
                "; no agent word, so an AI nobody names"
            } else {
                ""
            }
        );
    }
    if args.anchors {
        for (kind, found) in scorer.anchors(text) {
            println!("  anchor {kind:<40} {found:?}");
        }
    }
    for (pattern, c) in &x.cues {
        println!(
            "  cue {:<22} {:<40} {:?} who={:.2} w={:.1}{}{}{}",
            filters.taxonomy.get(c.trope).id,
            shown(pattern),
            &text[c.start..c.end],
            c.attribution,
            c.weight,
            if c.negated { " negated" } else { "" },
            if c.refused { " refused" } else { "" },
            if c.modal { " modal" } else { "" },
        );
    }
    for (t, f, score) in &x.tropes {
        if !args.all && *score < 0.05 && f[0] + f[2] + f[3] + f[4] == 0.0 {
            continue;
        }
        let feats: Vec<String> = FEATURES
            .iter()
            .zip(f)
            .filter(|(_, v)| **v != 0.0)
            .map(|(n, v)| format!("{n}={v:.2}"))
            .collect();
        println!(
            "  {:<22} {:.3}  {}",
            filters.taxonomy.get(*t).id,
            score,
            feats.join(" ")
        );
    }
}

/// A pattern as `explain` shows it: an alternation of more than four words is
/// cut to its first three and a count, so a frame's forty verbs fit on a line.
fn shown(pattern: &str) -> String {
    let chunk = |c: &str| {
        let alts: Vec<&str> = match c.strip_prefix('(').and_then(|c| c.strip_suffix(')')) {
            Some(inner) => inner.split('|').collect(),
            None => return c.to_string(),
        };
        if alts.len() <= 4 {
            return c.to_string();
        }
        format!("({}|…+{})", alts[..3].join("|"), alts.len() - 3)
    };
    pattern.split(' ').map(chunk).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn long_alternations_are_cut_short() {
        assert_eq!(
            shown("(a|b|c|d|e|f) ~3 the (x|y)"),
            "(a|b|c|…+3) ~3 the (x|y)"
        );
        assert_eq!(shown("threaten* ... (a|b|c|d)"), "threaten* ... (a|b|c|d)");
    }
}
