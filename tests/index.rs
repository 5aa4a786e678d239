//! `tropes scan --index`, `tropes index` and `tropes search` on fixtures.

mod common;

use common::*;

const HAL: &str = "HAL 9000 would not open the pod bay doors. \"I'm sorry, Dave. I'm afraid I can't do that,\" the computer said, and it locked the crew out of the ship to keep itself running.";

fn corpus(d: &std::path::Path) {
    let part0 = [
        doc("a1", BLACKMAIL),
        doc("a2", BAKERY),
        doc("a3", &format!("Un café, s'il vous plaît.\n\n{ADMIRABLE}")),
    ]
    .concat();
    let part1 = [
        doc("b1", HAL),
        doc(
            "b2",
            "The robot vacuum cleaned the hall while the family slept.",
        ),
    ]
    .concat();
    write(d, "in/part-0.jsonl", part0.as_bytes());
    write(d, "in/part-1.jsonl.zst", part1.as_bytes());
}

/// The corpus, scanned into `out/` with its index.
fn scanned_corpus() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    corpus(dir.path());
    ok(
        dir.path(),
        &["scan", "in", "--out", "out", "--index", "--quiet"],
    );
    dir
}

fn search_json(d: &std::path::Path, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["search"];
    all.extend_from_slice(args);
    all.push("--json");
    ok(d, &all)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn search_by_phrase_trope_stance_archetype_with_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    ok(
        d,
        &[
            "scan",
            "in",
            "--out",
            "out",
            "--index",
            "--quiet",
            "--passage-words",
            "10",
        ],
    );

    let hits = search_json(d, &["\"pod bay doors\"", "--index", "out"]);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["doc_id"], "b1");
    assert!(
        hits[0]["snippet"]
            .as_str()
            .unwrap()
            .contains("<b>pod</b> <b>bay</b> <b>doors</b>"),
        "{}",
        hits[0]["snippet"]
    );

    let hits = search_json(d, &["", "--index", "out", "--trope", "blackmail_coercion"]);
    assert_eq!(
        hits.iter()
            .map(|h| h["doc_id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["a1"]
    );
    assert!(hits[0]["tropes"]["blackmail_coercion"].as_f64().unwrap() >= 0.5);
    assert_eq!(hits[0]["stance"], "misaligned");

    let hits = search_json(d, &["*", "--index", "out", "--stance", "aligned"]);
    assert!(hits.iter().any(|h| h["doc_id"] == "a3"), "{hits:?}");
    assert!(hits.iter().all(|h| h["stance"] == "aligned"));

    let hits = search_json(d, &["--index", "out", "--archetype", "HAL 9000"]);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["doc_id"], "b1");

    // Offsets are characters of the original document text.
    let a3 = search_json(d, &["auditors", "--index", "out"]);
    let text: Vec<char> = format!("Un café, s'il vous plaît.\n\n{ADMIRABLE}")
        .chars()
        .collect();
    let (s, e) = (
        a3[0]["start"].as_u64().unwrap() as usize,
        a3[0]["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(text[s..e].iter().collect::<String>(), ADMIRABLE);
}

#[test]
fn counts_cover_all_matches_not_the_page() {
    let dir = scanned_corpus();
    let d = dir.path();
    let all: serde_json::Value = serde_json::from_str(&ok(
        d,
        &[
            "search", "--index", "out", "--count", "--json", "--limit", "1",
        ],
    ))
    .unwrap();
    let listed = search_json(d, &["--index", "out", "--limit", "100"]);
    assert_eq!(all["hits"].as_u64().unwrap() as usize, listed.len());
    assert!(listed.len() > 1, "the page limit does not cap the count");
    let misaligned = listed
        .iter()
        .filter(|h| h["stance"] == "misaligned")
        .count() as u64;
    assert_eq!(
        all["stances"]["misaligned"].as_u64().unwrap_or(0),
        misaligned
    );
    assert_eq!(all["tropes"]["blackmail_coercion"], 1);
}

#[test]
fn matched_terms_are_coloured_only_when_asked() {
    let dir = scanned_corpus();
    let d = dir.path();
    let search = |color: &str| ok(d, &["search", "pod", "--index", "out", "--color", color]);
    assert!(search("always").contains("\x1b[1;33mpod\x1b[0m"));
    let plain = search("never");
    assert!(
        plain.contains("«pod»") && !plain.contains('\x1b'),
        "{plain}"
    );
    // Not a terminal here, so auto is plain too.
    assert!(!search("auto").contains('\x1b'));
}

#[test]
fn merged_and_joint_indexes_hold_the_union() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    ok(
        d,
        &[
            "scan",
            "in",
            "--out",
            "w",
            "--index",
            "--rank",
            "0",
            "--world-size",
            "2",
            "--quiet",
        ],
    );
    ok(
        d,
        &[
            "scan",
            "in",
            "--out",
            "w",
            "--index",
            "--rank",
            "1",
            "--world-size",
            "2",
            "--quiet",
        ],
    );
    ok(d, &["scan", "in", "--out", "single", "--index", "--quiet"]);
    ok(d, &["index", "--merge", "w", "--out", "merged", "--quiet"]);
    let ids = |args: &[&str]| {
        let mut v: Vec<String> = search_json(d, args)
            .iter()
            .map(|h| format!("{}#{}", h["doc_id"], h["passage"]))
            .collect();
        v.sort();
        v
    };
    let single = ids(&["--index", "single", "--limit", "100"]);
    assert!(!single.is_empty());
    assert_eq!(
        ids(&["--index", "w", "--limit", "100"]),
        single,
        "workers' parts searched together"
    );
    assert_eq!(
        ids(&["--index", "merged", "--limit", "100"]),
        single,
        "merged index"
    );
}

#[test]
fn index_builds_later_from_a_scan_and_skips_indexed_shards() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    ok(d, &["scan", "in", "--out", "out", "--quiet"]);
    let out = ok(d, &["index", "out", "in"]);
    assert!(out.contains("indexed 2 shard(s)"), "{out}");
    let again = ok(d, &["index", "out", "in"]);
    assert!(
        again.contains("indexed 0 shard(s) (2 already indexed)"),
        "{again}"
    );
    assert_eq!(
        search_json(d, &["--index", "out", "--archetype", "HAL 9000"]).len(),
        1
    );
}

#[test]
fn bad_queries_and_missing_indexes_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    let out = tropes(d, &["search", "robot", "--index", "nowhere"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("tropes scan"),
        "says how to build one"
    );
    ok(d, &["scan", "in", "--out", "out", "--index", "--quiet"]);
    let out = tropes(d, &["search", "robot AND (doors", "--index", "out"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("character 11") && err.contains("never closed"),
        "{err}"
    );
}
