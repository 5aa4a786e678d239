//! `tropes search QUERY --index PATH`: read what a scan flagged.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args as ClapArgs;
use tropes::index::search::{Hit, Request, Searcher, Sort};
use tropes::{Error, Result};

use super::common::Common;

/// Arguments of `tropes search`.
#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Query (tantivy syntax: words, "phrases", AND/OR/NOT, trope:ID, stance:S,
    /// archetype:NAME, doc_id:X, shard:X); empty or * lists passages
    #[arg(default_value = "", value_name = "QUERY")]
    pub query: String,
    /// A scan directory or an index directory (repeat to search several together)
    #[arg(long, required = true, value_name = "PATH")]
    pub index: Vec<PathBuf>,
    /// Only passages carrying this trope
    #[arg(long, value_name = "ID")]
    pub trope: Option<String>,
    /// Only passages with this stance (misaligned, aligned, mixed, none)
    #[arg(long, value_name = "S")]
    pub stance: Option<String>,
    /// Only passages mentioning this archetype (e.g. "HAL 9000")
    #[arg(long, value_name = "NAME")]
    pub archetype: Option<String>,
    /// Minimum score of --trope (or of any trope)
    #[arg(long, value_name = "X")]
    pub min_score: Option<f32>,
    /// Hits to show
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub limit: usize,
    /// Hits to skip
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub offset: usize,
    /// Order: score (relevance) or trope:<id> (that trope's score)
    #[arg(long, default_value = "score", value_name = "ORDER")]
    pub sort: String,
    /// One JSON object per hit
    #[arg(long)]
    pub json: bool,
    /// Hit counts per trope, stance and archetype over all matches
    #[arg(long)]
    pub count: bool,
    /// Matched terms in colour: auto (on a terminal, unless NO_COLOR is set),
    /// always, or never (then marked «like this»)
    #[arg(long, value_enum, default_value_t = Colour::Auto, value_name = "WHEN")]
    pub color: Colour,
    #[command(flatten)]
    pub common: Common,
}

/// When to colour matched terms.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colour {
    Auto,
    Always,
    Never,
}

impl Colour {
    /// Auto follows the no-color.org convention: any non-empty NO_COLOR turns
    /// colour off, and so does output that is not a terminal.
    fn enabled(self) -> bool {
        match self {
            Colour::Always => true,
            Colour::Never => false,
            Colour::Auto => {
                let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
                !no_color && std::io::stdout().is_terminal()
            }
        }
    }
}

/// Run `tropes search`.
pub fn run(args: Args) -> Result<i32> {
    let filters = args.common.load_filters()?;
    let sort = match args.sort.as_str() {
        "score" => Sort::Relevance,
        other => match other.strip_prefix("trope:") {
            Some(id) => Sort::Trope(id.to_string()),
            None => {
                return Err(Error::Usage(format!(
                    "--sort {other:?}: use score or trope:<id>"
                )));
            }
        },
    };
    if let Some(s) = &args.stance
        && tropes::taxonomy::Stance::parse(s).is_none()
    {
        return Err(Error::Usage(format!(
            "--stance {s:?}: use misaligned, aligned, mixed or none"
        )));
    }
    let req = Request {
        query: args.query.clone(),
        trope: args.trope.clone(),
        stance: args.stance.clone(),
        archetype: args.archetype.clone(),
        min_score: args.min_score,
        limit: args.limit,
        offset: args.offset,
        sort,
    };
    let (searcher, warnings) = Searcher::open(&args.index, &filters.hash)?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    if args.count {
        let counts = searcher.count(&req)?;
        if args.json {
            println!(
                "{}",
                serde_json::to_string(&counts).map_err(|e| Error::Other(e.to_string()))?
            );
        } else {
            print_counts(&counts);
        }
        return Ok(0);
    }
    let (hits, total) = searcher.search(&req)?;
    if args.json {
        for h in &hits {
            println!(
                "{}",
                serde_json::to_string(h).map_err(|e| Error::Other(e.to_string()))?
            );
        }
    } else {
        print_hits(&hits, total, req.offset, args.color.enabled());
    }
    Ok(0)
}

fn print_counts(c: &tropes::index::Counts) {
    println!("{} passages match", c.hits);
    for (title, map) in [
        ("trope", &c.tropes),
        ("stance", &c.stances),
        ("archetype", &c.archetypes),
    ] {
        if map.is_empty() {
            continue;
        }
        println!("\n{title:<24} {:>9}", "passages");
        let mut rows: Vec<(&String, &u64)> = map.iter().collect();
        rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (k, v) in rows {
            println!("{k:<24} {v:>9}");
        }
    }
}

fn print_hits(hits: &[Hit], total: u64, offset: usize, colour: bool) {
    println!(
        "{total} passages match; showing {}-{}",
        offset + 1.min(hits.len()),
        offset + hits.len()
    );
    for (i, h) in hits.iter().enumerate() {
        let tropes: Vec<String> = h
            .tropes
            .iter()
            .map(|(t, s)| format!("{t} {s:.2}"))
            .collect();
        println!(
            "\n{}. {} (shard {}, passage {}, characters {}-{}) score {:.2}, stance {}{}",
            offset + i + 1,
            h.doc_id,
            h.shard,
            h.passage,
            h.start,
            h.end,
            h.score,
            h.stance,
            if tropes.is_empty() {
                String::new()
            } else {
                format!(": {}", tropes.join(", "))
            }
        );
        if !h.archetypes.is_empty() {
            println!("   archetypes: {}", h.archetypes.join(", "));
        }
        println!("   {}", marked(h, colour).replace('\n', " "));
    }
}

/// The snippet with matched terms in bold yellow on a terminal, else in «…».
fn marked(h: &Hit, colour: bool) -> String {
    let (open, close) = if colour {
        ("\x1b[1;33m", "\x1b[0m")
    } else {
        ("«", "»")
    };
    let mut out = String::new();
    let mut at = 0;
    for r in &h.highlights {
        if r.start < at || r.end > h.fragment.len() {
            continue;
        }
        out.push_str(&h.fragment[at..r.start]);
        out.push_str(open);
        out.push_str(&h.fragment[r.clone()]);
        out.push_str(close);
        at = r.end;
    }
    out.push_str(&h.fragment[at..]);
    out
}
