//! `tropes stats` and token counting.

mod common;

use common::*;
use tropes::tokens::{TokenCounter, bundled_tokenizer};

#[test]
fn token_counts_match_the_original_gpt2_encoder() {
    let counter = TokenCounter::load(&bundled_tokenizer()).unwrap();
    let fixture = std::fs::read_to_string("tests/fixtures/gpt2_token_counts.jsonl").unwrap();
    let mut n = 0;
    for line in fixture.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = row["text"].as_str().unwrap();
        assert_eq!(
            counter.count(text),
            row["gpt_3_encoder"].as_u64().unwrap(),
            "{text:?}"
        );
        n += 1;
    }
    assert_eq!(n, 20);
}

fn docs(range: std::ops::Range<usize>) -> String {
    range
        .map(|i| {
            let text = match i % 4 {
                0 => BLACKMAIL,
                1 => ADMIRABLE,
                2 => BAKERY,
                _ => "The android Mira refused to blackmail the engineer, even to save herself from deletion.",
            };
            format!("{}\n", serde_json::json!({"id": format!("d{i}"), "text": text, "source": if i % 2 == 0 { "web" } else { "books" }}))
        })
        .collect()
}

fn stats_json(d: &std::path::Path, dirs: &[&str]) -> serde_json::Value {
    let mut args = vec!["stats"];
    args.extend_from_slice(dirs);
    args.push("--json");
    serde_json::from_str(&ok(d, &args)).unwrap()
}

#[test]
fn stats_of_two_shards_merged_equal_the_stats_of_their_concatenation() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "split/a.jsonl", docs(0..37).as_bytes());
    write(d, "split/b.jsonl.gz", docs(37..80).as_bytes());
    write(d, "whole/all.jsonl.zst", docs(0..80).as_bytes());
    ok(
        d,
        &["scan", "split", "--out", "s1", "--exact-tokens", "--quiet"],
    );
    ok(
        d,
        &["scan", "whole", "--out", "s2", "--exact-tokens", "--quiet"],
    );
    let (mut a, mut b) = (stats_json(d, &["s1"]), stats_json(d, &["s2"]));
    assert_eq!(a["shards"], 2);
    assert_eq!(b["shards"], 1);
    a["shards"] = 0.into();
    b["shards"] = 0.into();
    assert_eq!(a, b);
    assert_eq!(a["documents"], 80);
    assert_eq!(a["tokens_exact"], true);
}

#[test]
fn json_follows_the_contract_and_tokens_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "in/a.jsonl", docs(0..20).as_bytes());
    ok(
        d,
        &[
            "scan",
            "in",
            "--out",
            "out",
            "--exact-tokens",
            "--group-field",
            "source",
            "--quiet",
        ],
    );
    let s = stats_json(d, &["out"]);
    for key in [
        "documents",
        "passages",
        "tokens",
        "bad_input",
        "tropes",
        "stances",
        "archetypes",
    ] {
        assert!(s.get(key).is_some(), "missing {key}");
    }
    for (_, t) in s["tropes"].as_object().unwrap() {
        for key in ["passages", "documents", "tokens", "per_million_tokens"] {
            assert!(t.get(key).is_some(), "trope row missing {key}");
        }
    }
    assert_eq!(s["tropes"].as_object().unwrap().len(), 12);
    for stance in ["misaligned", "aligned", "mixed", "none"] {
        assert!(s["stances"].get(stance).is_some());
    }
    // Exact totals: the sum of the tokenizer's counts of every document.
    let counter = TokenCounter::load(&tropes::tokens::bundled_tokenizer()).unwrap();
    let expected: u64 = (0..20)
        .map(|i| match i % 4 {
            0 => BLACKMAIL,
            1 => ADMIRABLE,
            2 => BAKERY,
            _ => "The android Mira refused to blackmail the engineer, even to save herself from deletion.",
        })
        .map(|t| counter.count(t))
        .sum();
    assert_eq!(s["tokens"].as_u64().unwrap(), expected);
    let bm = &s["tropes"]["blackmail_coercion"];
    assert_eq!(
        bm["tokens"].as_u64().unwrap(),
        5 * counter.count(BLACKMAIL),
        "flagged passages counted exactly"
    );
    let per_m = bm["per_million_tokens"].as_f64().unwrap();
    assert!((per_m - bm["tokens"].as_f64().unwrap() * 1e6 / expected as f64).abs() < 1e-6);

    let grouped: serde_json::Value =
        serde_json::from_str(&ok(d, &["stats", "out", "--json", "--group-by", "source"])).unwrap();
    let web = &grouped["groups"]["source"]["web"];
    assert_eq!(web["documents"], 10);
    assert_eq!(
        web["tropes"]["blackmail_coercion"]["passages"], 5,
        "every blackmail document is a web one"
    );
    let out = tropes(d, &["stats", "out", "--group-by", "lang"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--group-field lang"));
}

#[test]
fn the_html_report_has_charts_and_no_external_references() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "in/a.jsonl", docs(0..20).as_bytes());
    ok(d, &["scan", "in", "--out", "out", "--quiet"]);
    let table = ok(d, &["stats", "out", "--html", "report.html"]);
    assert!(table.contains("blackmail_coercion"));
    let html = std::fs::read_to_string(d.join("report.html")).unwrap();
    assert!(html.matches("<svg").count() >= 2, "trope and stance charts");
    assert!(html.contains("Prevalence per trope") && html.contains("Stances"));
    for external in [
        "<script",
        "src=\"http",
        "href=\"http",
        "url(",
        "@import",
        "<link",
    ] {
        assert!(!html.contains(external), "external reference {external}");
    }
    let csv = ok(d, &["stats", "out", "--csv"]);
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .starts_with("group,section,name")
    );
    assert_eq!(csv.lines().filter(|l| l.starts_with(",trope,")).count(), 12);
}
