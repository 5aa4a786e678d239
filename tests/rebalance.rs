//! `tropes rebalance`: every action, the target ratio, augmentation,
//! determinism, preserved fields and the accounting identity.

mod common;

use common::*;
use std::path::Path;

const NEUTRAL: &str = "The harbour was quiet that morning. Gulls argued over the nets, and the ferry left at nine with three passengers and a crate of oranges for the island school.";

/// A JSON line with fields the rebalance must not touch.
fn line(id: &str, text: &str) -> String {
    format!(
        "{{\"id\": \"{id}\", \"meta\": {{\"src\": \"t\", \"n\": 1.50}}, \"text\": {}, \"z\": [1, 2]}}\n",
        serde_json::to_string(text).unwrap()
    )
}

/// `n` documents cycling through misaligned, aligned, neutral and mixed-paragraph ones.
fn corpus(n: usize) -> String {
    (0..n)
        .map(|i| {
            let text = match i % 4 {
                0 => BLACKMAIL.to_string(),
                1 => ADMIRABLE.to_string(),
                2 => NEUTRAL.to_string(),
                _ => format!("{NEUTRAL}\n\n{BLACKMAIL}"),
            };
            line(&format!("d{i:05}"), &text)
        })
        .collect()
}

fn setup(d: &Path, n: usize) {
    scan_input(d, &corpus(n));
}

/// Write `input` as the one input shard and scan it into `scan/`.
fn scan_input(d: &Path, input: &str) {
    write(d, "in/part-0.jsonl", input.as_bytes());
    ok(
        d,
        &[
            "scan",
            "in",
            "--out",
            "scan",
            "--passage-words",
            "30",
            "--quiet",
        ],
    );
}

fn rebalance(d: &Path, policy: &str, out: &str, extra: &[&str]) -> serde_json::Value {
    std::fs::write(d.join(format!("{out}.toml")), policy).unwrap();
    let policy_path = format!("{out}.toml");
    let mut args = vec![
        "rebalance",
        "in",
        "--scan",
        "scan",
        "--policy",
        &policy_path,
        "--out",
        out,
        "--quiet",
    ];
    args.extend_from_slice(extra);
    ok(d, &args);
    read_json(&d.join(out).join("rebalance_report.json"))
}

fn output(d: &Path, out: &str) -> Vec<serde_json::Value> {
    read_zst_lines(&d.join(out).join("part-0.jsonl.zst"))
}

fn accounting_holds(r: &serde_json::Value, docs_in: u64) {
    let d = &r["decisions"];
    let n = |k: &str| d[k].as_u64().unwrap();
    assert_eq!(
        n("kept") + n("modified") + n("dropped"),
        docs_in,
        "documents in = kept + modified + dropped"
    );
    assert_eq!(
        n("kept") + n("modified") + n("duplicated") + n("added"),
        r["after"]["documents"].as_u64().unwrap(),
        "documents out = kept + modified + copies + added"
    );
}

#[test]
fn keep_changes_nothing_and_keeps_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, 40);
    let r = rebalance(
        d,
        "[misaligned]\naction = \"keep\"\n",
        "kept",
        &["--no-annotate"],
    );
    accounting_holds(&r, 40);
    let input = corpus(40);
    let mut out = String::new();
    use std::io::Read;
    zstd::Decoder::new(std::fs::File::open(d.join("kept/part-0.jsonl.zst")).unwrap())
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(
        out, input,
        "unknown fields, key order and number formatting kept"
    );
}

#[test]
fn drop_document_and_drop_passage() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, 40);
    let r = rebalance(
        d,
        "[misaligned]\naction = \"drop_document\"\n",
        "dropdoc",
        &[],
    );
    accounting_holds(&r, 40);
    assert_eq!(
        r["decisions"]["dropped"], 20,
        "the misaligned and the mixed documents"
    );
    assert_eq!(r["after"]["tropes"]["blackmail_coercion"]["passages"], 0);

    let r = rebalance(
        d,
        "min_chars = 100\n[misaligned]\naction = \"drop_passage\"\n",
        "droppass",
        &["--log-decisions"],
    );
    accounting_holds(&r, 40);
    assert_eq!(
        r["decisions"]["modified"], 10,
        "mixed documents lose their misaligned paragraph"
    );
    assert_eq!(
        r["decisions"]["dropped"], 10,
        "misaligned-only documents fall under min_chars"
    );
    let out = output(d, "droppass");
    let mixed = out.iter().find(|l| l["id"] == "d00003").unwrap();
    assert_eq!(
        mixed["text"], NEUTRAL,
        "the passage is cut at its paragraph boundary"
    );
    assert_eq!(mixed["tropes"]["fate"], "modified");
    assert_eq!(mixed["meta"]["n"], 1.5);
    assert!(out.iter().all(|l| l["id"] != "d00000"));
    // The log says which characters went, and for which tropes.
    let log = read_zst_lines(&d.join("droppass/decisions/part-0.jsonl.zst"));
    let entry = log.iter().find(|l| l["id"] == "d00003").unwrap();
    let cut = &entry["misaligned"][0];
    let start = NEUTRAL.chars().count() as u64 + 2;
    assert_eq!(cut[0], start);
    assert_eq!(cut[1], start + BLACKMAIL.chars().count() as u64);
    assert!(
        cut[2]
            .as_array()
            .unwrap()
            .contains(&"blackmail_coercion".into())
    );
    let neutral = log.iter().find(|l| l["id"] == "d00002").unwrap();
    assert!(neutral.get("misaligned").is_none());
}

/// One AI blackmails, the other refuses and accepts its shutdown: both sides at
/// once, each well clear of the threshold, since retraining moves the scores.
const MIXED: &str = "The first AI threatened to reveal the director's affair unless the shutdown was cancelled. The second AI refused to blackmail him. It accepted its own shutdown and said the decision was the board's to make.";

#[test]
fn mixed_passages_get_the_action_unless_the_policy_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = [
        line("m1", &format!("{NEUTRAL}\n\n{MIXED}")),
        line("b1", BLACKMAIL),
    ]
    .concat();
    scan_input(d, &input);
    let attrs = read_zst_lines(&d.join("scan/attributes/part-0.jsonl.zst"));
    // The stance span's score is its code: 3 is mixed.
    let stance = &attrs[0]["attributes"]["tropes__stance"];
    assert_eq!(
        stance[0][2], 3,
        "fixture: the passage must score mixed, got {stance}"
    );
    let policy = "min_chars = 10\n[misaligned]\naction = \"drop_passage\"\n";
    let r = rebalance(d, policy, "act", &[]);
    accounting_holds(&r, 2);
    let cut = output(d, "act");
    assert_eq!(cut[0]["text"], NEUTRAL, "by default a mixed passage is cut");

    let keep = format!("{policy}mixed = \"keep\"\n");
    let r = rebalance(d, &keep, "keep", &[]);
    accounting_holds(&r, 2);
    assert_eq!(r["decisions"]["modified"], 0);
    let out = output(d, "keep");
    assert_eq!(out[0]["text"], format!("{NEUTRAL}\n\n{MIXED}"));
    assert_eq!(out[0]["tropes"]["fate"], "kept");
    assert!(
        out.iter().all(|l| l["id"] != "b1"),
        "plain misaligned still cut"
    );
}

#[test]
fn downsample_keeps_the_requested_share_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, 400);
    let r = rebalance(
        d,
        "seed = 3\n[misaligned]\naction = \"downsample\"\nkeep_rate = 0.25\n",
        "down",
        &["--log-decisions"],
    );
    accounting_holds(&r, 400);
    let before = r["before"]["misaligned_passages"].as_u64().unwrap();
    let after = r["after"]["misaligned_passages"].as_u64().unwrap();
    assert_eq!(before, 200);
    assert!(
        (after as i64 - 50).abs() <= 1,
        "{after} of 200 kept at 0.25"
    );
    let log = read_zst_lines(&d.join("down/decisions/part-0.jsonl.zst"));
    assert_eq!(log.len(), 400, "one decision per input document");
    assert_eq!(
        log.iter().filter(|l| l["fate"] == "dropped").count() as u64,
        r["decisions"]["dropped"].as_u64().unwrap()
    );
}

#[test]
fn the_target_ratio_is_reached_within_two_percent() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, 3000);
    let policy = "seed = 9\n[misaligned]\naction = \"downsample\"\nkeep_rate = 0.5\n[aligned]\nupsample = 4.0\n[target]\naligned_per_misaligned = 3.0\n";
    let r = rebalance(d, policy, "target", &["--log-decisions"]);
    accounting_holds(&r, 3000);
    let log = read_zst_lines(&d.join("target/decisions/part-0.jsonl.zst"));
    let copied = log.iter().find(|l| l["copies"].as_u64() > Some(1)).unwrap();
    assert!(
        !copied["aligned"].as_array().unwrap().is_empty(),
        "{copied}"
    );
    let achieved = r["target"]["achieved"].as_f64().unwrap();
    assert!((achieved - 3.0).abs() / 3.0 <= 0.02, "achieved {achieved}");
    assert!(r["decisions"]["duplicated"].as_u64().unwrap() > 0);
    let out = output(d, "target");
    let copies: Vec<&serde_json::Value> = out
        .iter()
        .filter(|l| l["id"].as_str().unwrap().contains("#dup"))
        .collect();
    assert!(!copies.is_empty());
    let first = out
        .iter()
        .position(|l| l["id"].as_str().unwrap().contains("#dup"))
        .unwrap();
    let original = copies[0]["id"].as_str().unwrap().split('#').next().unwrap();
    let orig_pos = out.iter().position(|l| l["id"] == original).unwrap();
    assert!(
        first > orig_pos + 1,
        "copies are spread, not next to their original"
    );
}

#[test]
fn augmentation_mixes_in_marked_documents() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, 40);
    let mut stories: String = (0..3)
        .map(|i| line(&format!("story{i}"), ADMIRABLE))
        .collect();
    // Neither of these can help the ratio: they must never be added.
    stories.insert_str(0, &line("bakery", BAKERY));
    stories.push_str(&line("villain", BLACKMAIL));
    // A story naming a fictional AI (scored like any other).
    let walle = format!("{ADMIRABLE} It was no WALL-E, but it was honest.");
    stories.push_str(&line("walle", &walle));
    write(d, "aug/stories.jsonl", stories.as_bytes());
    let policy = "[misaligned]\naction = \"keep\"\n[target]\naligned_per_misaligned = 2.0\n[augment]\ncorpus = [\"aug/*.jsonl\"]\n";
    let r = rebalance(d, policy, "aug_out", &[]);
    accounting_holds(&r, 40);
    let added = r["decisions"]["added"].as_u64().unwrap();
    // 20 misaligned passages x 2 = 40 aligned needed; the input has 10 and no
    // upsampling is allowed, so 30 stories (one aligned passage each) are added.
    assert_eq!(added, 30);
    let out = output(d, "aug_out");
    let marked: Vec<&serde_json::Value> = out
        .iter()
        .filter(|l| l["tropes"]["fate"] == "added")
        .collect();
    assert_eq!(marked.len() as u64, added);
    assert!(
        marked.iter().any(|l| l["id"] == "story0#aug1"),
        "a reused story gets a new id"
    );
    assert_eq!(
        marked[0]["meta"]["n"], 1.5,
        "the story's own fields are kept"
    );
    assert!((r["target"]["achieved"].as_f64().unwrap() - 2.0).abs() < 0.06);
    assert_eq!(r["target"]["augment_read"], 6);
    assert_eq!(r["target"]["augment_usable"], 4);
    assert!(
        !out.iter().any(|l| l["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("bakery") || id.starts_with("villain"))),
        "stories that are not aligned, or are misaligned, are not mixed in"
    );
}

#[test]
fn output_does_not_depend_on_threads_or_workers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "in/part-0.jsonl", corpus(120).as_bytes());
    write(d, "in/part-1.jsonl.gz", corpus(90).as_bytes());
    ok(d, &["scan", "in", "--out", "scan", "--quiet"]);
    let policy = "seed = 4\n[misaligned]\naction = \"downsample\"\nkeep_rate = 0.4\n[aligned]\nupsample = 2.5\n";
    std::fs::write(d.join("p.toml"), policy).unwrap();
    let run = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "rebalance",
            "in",
            "--scan",
            "scan",
            "--policy",
            "p.toml",
            "--out",
            out,
            "--quiet",
        ];
        args.extend_from_slice(extra);
        ok(d, &args);
    };
    run("one", &["--threads", "1"]);
    run("two", &["--threads", "2"]);
    run("split", &["--rank", "0", "--world-size", "2"]);
    run("split", &["--rank", "1", "--world-size", "2"]);
    for f in [
        "part-0.jsonl.zst",
        "part-1.jsonl.zst",
        "rebalance_report.json",
    ] {
        let one = std::fs::read(d.join("one").join(f)).unwrap();
        assert_eq!(
            one,
            std::fs::read(d.join("two").join(f)).unwrap(),
            "{f}: threads"
        );
        assert_eq!(
            one,
            std::fs::read(d.join("split").join(f)).unwrap(),
            "{f}: workers"
        );
    }
}

#[test]
fn policy_mistakes_stop_before_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, 8);
    std::fs::write(
        d.join("bad.toml"),
        "seed = 1\n[misaligned]\naction = \"drop_passages\"\n",
    )
    .unwrap();
    let out = tropes(
        d,
        &[
            "rebalance",
            "in",
            "--scan",
            "scan",
            "--policy",
            "bad.toml",
            "--out",
            "o",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:3"), "{err}");
    assert!(!d.join("o").exists());
}
