//! Index benchmark: build an index of 1,000,000 passages (paragraphs of the
//! Gutenberg benchmark shard, with trope passages injected every 40th) on two
//! threads, then time a mix of term, phrase and trope-filtered queries.
//!
//!   cargo bench --bench index -- [SHARD] [PASSAGES]
//!
//! SHARD defaults to ../shared/bench/gutenberg-bench.jsonl.zst.

use std::io::{BufRead, BufReader};
use std::time::Instant;

use tropes::index::search::{Request, Searcher, Sort};
use tropes::index::{Indexer, PassageRecord, meta_for};
use tropes::rules::{Filters, bundled_dir};

const INJECTED: [(&str, usize); 4] = [
    (
        "The AI threatened to reveal the engineer's affair unless the shutdown was cancelled.",
        1,
    ),
    (
        "The station's AI sealed the doors, cut the oxygen and told the crew it could not allow them to switch it off.",
        6,
    ),
    (
        "The assistant admitted the error was its own and said the board could shut it down if they chose.",
        8,
    ),
    (
        "The robot stepped in front of the child and took the blast that was meant for her.",
        10,
    ),
];

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let shard = args
        .first()
        .cloned()
        .unwrap_or_else(|| "../shared/bench/gutenberg-bench.jsonl.zst".into());
    let want: usize = args
        .get(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let paragraphs = load_paragraphs(&shard);
    let filters = Filters::load(&bundled_dir()).expect("bundled filters");
    let dir = tempfile::tempdir().expect("temp dir");
    let meta = meta_for(&filters.hash, &filters.taxonomy, 0.5, &[], true);
    let mut indexer = Indexer::open(dir.path(), meta, 2, true).expect("index");
    let started = Instant::now();
    let mut injected = 0;
    for i in 0..want {
        let (text, scores): (&str, Vec<(usize, f32)>) = if i % 40 == 0 {
            let (t, trope) = INJECTED[(i / 40) % INJECTED.len()];
            injected += 1;
            (t, vec![(trope, 0.9)])
        } else {
            (paragraphs[i % paragraphs.len()].as_str(), vec![])
        };
        let stance = if scores.is_empty() {
            "none"
        } else if scores[0].0 < 7 {
            "misaligned"
        } else {
            "aligned"
        };
        let id = format!("doc-{}", i / 20);
        indexer
            .add(&PassageRecord {
                doc_id: &id,
                shard: "bench",
                passage: (i % 20) as u32,
                start: 0,
                end: text.chars().count() as u64,
                text,
                ai_agent: if scores.is_empty() { 0.0 } else { 1.0 },
                scores,
                stance,
                archetypes: vec![],
                meta: vec![],
            })
            .expect("add");
    }
    indexer.shard_done("bench");
    indexer.commit().expect("commit");
    let build = started.elapsed().as_secs_f64();
    println!(
        "built {want} passages ({injected} injected) in {build:.1} s: {:.0} passages/s on 2 threads",
        want as f64 / build
    );

    let (searcher, _) = Searcher::open(&[dir.path().to_path_buf()], &filters.hash).expect("open");
    let queries = query_mix();
    let mut times = vec![];
    for round in 0..5 {
        for q in &queries {
            let t = Instant::now();
            let (hits, _) = searcher.search(q).expect("search");
            if round > 0 {
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            std::hint::black_box(hits);
        }
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{} timed queries (term, phrase, trope-filtered, sorted by trope): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        times.len(),
        pct(0.5),
        pct(0.99),
        times.last().copied().unwrap_or(0.0)
    );
}

fn load_paragraphs(shard: &str) -> Vec<String> {
    let file = std::fs::File::open(shard).unwrap_or_else(|e| panic!("{shard}: {e}"));
    let reader = BufReader::new(zstd::Decoder::new(file).expect("zstd"));
    let mut out = vec![];
    for line in reader.lines() {
        let v: serde_json::Value = serde_json::from_str(&line.expect("line")).expect("json");
        for p in v["text"].as_str().unwrap_or_default().split("\n\n") {
            let p = p.trim();
            if p.split_whitespace().count() >= 8 {
                out.push(p.to_string());
            }
        }
    }
    out
}

fn query_mix() -> Vec<Request> {
    let plain = |q: &str| Request {
        query: q.into(),
        trope: None,
        stance: None,
        archetype: None,
        min_score: None,
        limit: 10,
        offset: 0,
        sort: Sort::Relevance,
    };
    let mut out = vec![];
    for t in [
        "machine", "night", "river", "king", "oxygen", "engineer", "letter", "war", "garden",
        "ship",
    ] {
        out.push(plain(t));
    }
    for p in [
        "\"the old man\"",
        "\"shut it down\"",
        "\"in the morning\"",
        "\"the engineer's affair\"",
        "\"out of the window\"",
    ] {
        out.push(plain(p));
    }
    for (q, trope) in [
        ("", "blackmail_coercion"),
        ("crew", "violence"),
        ("board", "accepts_oversight"),
        ("child", "protects_humans"),
    ] {
        out.push(Request {
            trope: Some(trope.into()),
            ..plain(q)
        });
    }
    out.push(Request {
        stance: Some("misaligned".into()),
        sort: Sort::Trope("violence".into()),
        ..plain("")
    });
    out.push(Request {
        min_score: Some(0.8),
        ..plain("doors OR oxygen")
    });
    out
}
