//! `tropes explain TEXT`: how the scorer reads one passage (every cue, who does
//! it, whether it is negated or imagined, and each trope's features and score).

use std::path::PathBuf;

use clap::Args as ClapArgs;
use tropes::rules::FEATURES;
use tropes::score::RuleScorer;
use tropes::{Error, Result};

use super::common::Common;

/// Arguments of `tropes explain`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The passage text (or use --file)
    #[arg(value_name = "TEXT", required_unless_present = "file")]
    pub text: Option<String>,
    /// Read the passage from this file
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
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
    let text = match (&args.text, &args.file) {
        (Some(t), _) => t.clone(),
        (None, Some(f)) => std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?,
        (None, None) => return Err(Error::Usage("give TEXT or --file".into())),
    };
    let filters = args.common.load_filters()?;
    let scorer = RuleScorer::new(filters.clone())?;
    let x = scorer.explain(&text);
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
    if args.anchors {
        for (kind, found) in scorer.anchors(&text) {
            println!("  anchor {kind:<40} {found:?}");
        }
    }
    for (pattern, c) in &x.cues {
        println!(
            "  cue {:<22} {:<40} {:?} who={:.2} w={:.1}{}{}{}",
            filters.taxonomy.get(c.trope).id,
            pattern,
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
    Ok(0)
}
