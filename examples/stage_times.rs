use std::sync::Arc;
use std::time::Instant;
use tropes::rules::{Filters, bundled_dir};
use tropes::score::prefilter::Prefilter;
use tropes::score::{RuleScorer, Scorer};
use tropes::segment::{SegmentConfig, segment};
fn main() {
    let text = std::fs::read_to_string("/tmp/bench.txt").unwrap();
    let docs: Vec<&str> = text.split("\n\n\n\n").collect();
    let filters = Arc::new(Filters::load(&bundled_dir()).unwrap());
    let pre = Prefilter::new(&filters).unwrap();
    let scorer = RuleScorer::new(filters.clone()).unwrap();
    let cfg = SegmentConfig::default();
    let t = Instant::now();
    let mut hits = vec![];
    let mut n = 0;
    for d in &docs {
        pre.hits(d, &mut hits);
        n += hits.len();
    }
    let a = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut spans = vec![];
    let mut np = 0;
    let mut all_spans = vec![];
    for d in &docs {
        spans.clear();
        segment(d, &cfg, &mut spans);
        np += spans.len();
        all_spans.push(spans.clone());
    }
    let s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut esc = 0;
    for (d, sp) in docs.iter().zip(&all_spans) {
        pre.hits(d, &mut hits);
        esc += pre
            .escalate(d, sp, &hits)
            .iter()
            .filter(|e| e.escalate)
            .count();
    }
    let e = t.elapsed().as_secs_f64() - a;
    let t = Instant::now();
    let mut scored = 0;
    for (d, sp) in docs.iter().zip(&all_spans) {
        scored += scorer.score(d, sp).passages.len();
    }
    let all = t.elapsed().as_secs_f64();
    let mb = text.len() as f64 / 1e6;
    println!(
        "agents AC {a:.3}s ({:.0} MB/s, {n} hits); segment {s:.3}s ({:.0} MB/s, {np} passages); escalate(cues) {e:.3}s ({esc}); full score {all:.3}s ({scored} scored)",
        mb / a,
        mb / s
    );
}
