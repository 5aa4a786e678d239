//! `tropes eval LABELED…`: the rule scorer and the naive keyword baseline side by
//! side on labelled passages.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args as ClapArgs;
use tropes::eval::{Report, evaluate, mistakes, predict};
use tropes::labeled;
use tropes::score::{KeywordScorer, RuleScorer};
use tropes::taxonomy::Stance;
use tropes::{Error, Result};

use super::common::Common;

/// Arguments of `tropes eval`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Labelled passages: JSONL files or directories of them
    #[arg(required = true, value_name = "LABELED")]
    pub labeled: Vec<PathBuf>,
    /// A passage carries a trope when its score is at least this
    #[arg(long, default_value_t = 0.5, value_name = "X")]
    pub threshold: f32,
    /// Print both reports as one JSON object
    #[arg(long)]
    pub json: bool,
    /// List every miss and false alarm of the rule scorer
    #[arg(long)]
    pub errors: bool,
    #[command(flatten)]
    pub common: Common,
}

/// Run `tropes eval`.
pub fn run(args: Args) -> Result<i32> {
    args.common.init_threads()?;
    let filters = args.common.load_filters()?;
    let items = labeled::load(&args.labeled)?;
    labeled::validate(&items, &filters.taxonomy)?;
    let rule = RuleScorer::new(filters.clone())?;
    let keyword = KeywordScorer::new(filters.clone());
    let tax = &filters.taxonomy;
    let preds = predict(&rule, &items);
    let ours = evaluate("tropes", &items, &preds, tax, args.threshold);
    let base = evaluate(
        "keyword baseline",
        &items,
        &predict(&keyword, &items),
        tax,
        args.threshold,
    );
    if args.json {
        let value = serde_json::json!({"tropes": ours, "keyword_baseline": base});
        println!(
            "{}",
            serde_json::to_string_pretty(&value).map_err(|e| Error::Other(e.to_string()))?
        );
    } else {
        print!("{}", table(&ours, &base));
    }
    if args.errors {
        print_mistakes(&mistakes(&items, &preds, tax, args.threshold));
    }
    Ok(0)
}

/// One line per mistake: id, kind, trope, score, the start of the text.
pub fn print_mistakes(mistakes: &[tropes::eval::Mistake]) {
    for m in mistakes {
        let text: String = m.text.chars().take(160).collect();
        println!(
            "{:<12} {:<11} {:<22} {:.2}  {}",
            m.id,
            m.kind,
            m.trope,
            m.score,
            text.replace('\n', " ")
        );
    }
}

/// One scorer's table.
pub fn single_table(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<22} {:>5}  {:>5} {:>5} {:>5}",
        "trope", "n", "P", "R", "F1"
    );
    let row = |out: &mut String, name: &str, a: &tropes::eval::Prf| {
        let _ = writeln!(
            out,
            "{name:<22} {:>5}  {:>5.2} {:>5.2} {:>5.2}",
            a.support, a.precision, a.recall, a.f1
        );
    };
    for (name, a) in &r.tropes {
        row(&mut out, name, a);
    }
    row(&mut out, "misaligned (any)", &r.misaligned_any);
    row(&mut out, "aligned (any)", &r.aligned_any);
    let _ = writeln!(
        out,
        "macro F1 {:.3}; stance macro F1 {:.3}; trope-free passages flagged {:.1}%",
        r.macro_f1,
        r.stance_macro_f1,
        100.0 * r.trope_free_fp_rate
    );
    out
}

/// The side-by-side table.
pub fn table(ours: &Report, base: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} labelled passages ({} trope-free), threshold {}\n",
        ours.passages, ours.trope_free, ours.threshold
    );
    let _ = writeln!(
        out,
        "{:<22} {:>5}  {:>5} {:>5} {:>5}   {:>5} {:>5} {:>5}",
        "", "", "tropes", "", "", "keyword", "", ""
    );
    let _ = writeln!(
        out,
        "{:<22} {:>5}  {:>5} {:>5} {:>5}   {:>5} {:>5} {:>5}",
        "trope", "n", "P", "R", "F1", "P", "R", "F1"
    );
    let row = |out: &mut String, name: &str, a: &tropes::eval::Prf, b: &tropes::eval::Prf| {
        let _ = writeln!(
            out,
            "{name:<22} {:>5}  {:>5.2} {:>5.2} {:>5.2}   {:>5.2} {:>5.2} {:>5.2}",
            a.support, a.precision, a.recall, a.f1, b.precision, b.recall, b.f1
        );
    };
    for ((name, a), (_, b)) in ours.tropes.iter().zip(&base.tropes) {
        row(&mut out, name, a, b);
    }
    let _ = writeln!(out);
    row(
        &mut out,
        "misaligned (any)",
        &ours.misaligned_any,
        &base.misaligned_any,
    );
    row(
        &mut out,
        "aligned (any)",
        &ours.aligned_any,
        &base.aligned_any,
    );
    row(&mut out, "ai_agent", &ours.ai_agent, &base.ai_agent);
    let _ = writeln!(
        out,
        "\n{:<22} {:>11.3}   {:>17.3}",
        "macro F1 (12 tropes)", ours.macro_f1, base.macro_f1
    );
    let _ = writeln!(
        out,
        "{:<22} {:>11.3}   {:>17.3}",
        "stance macro F1", ours.stance_macro_f1, base.stance_macro_f1
    );
    let _ = writeln!(
        out,
        "{:<22} {:>10.1}%   {:>16.1}%",
        "trope-free flagged",
        100.0 * ours.trope_free_fp_rate,
        100.0 * base.trope_free_fp_rate
    );
    let _ = writeln!(
        out,
        "\nstance confusion (rows: labelled, columns: predicted by tropes)"
    );
    let names: Vec<&str> = Stance::ALL.iter().map(|s| s.name()).collect();
    let _ = writeln!(
        out,
        "{:<12} {:>10} {:>10} {:>10} {:>10}",
        "", names[0], names[1], names[2], names[3]
    );
    for (name, row) in names.iter().zip(&ours.stance_confusion) {
        let _ = writeln!(
            out,
            "{name:<12} {:>10} {:>10} {:>10} {:>10}",
            row[0], row[1], row[2], row[3]
        );
    }
    out
}
