//! `tropes scan` on fixture shards: outputs, offsets, resume, bad input, failure.

mod common;

use common::*;

/// Scan `in/` into `out/` quietly, with small passages.
fn scan_in_to_out(d: &std::path::Path) -> String {
    let args = [
        "scan",
        "in",
        "--out",
        "out",
        "--quiet",
        "--passage-words",
        "10",
    ];
    ok(d, &args)
}

#[test]
fn scan_writes_attributes_stats_and_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = format!("Ça commence — un café.\n\n{BLACKMAIL}");
    let input = [doc("a", &text), doc("b", BAKERY), doc("c", ADMIRABLE)].concat();
    write(d, "in/part-0.jsonl", input.as_bytes());
    assert_eq!(scan_in_to_out(d), "", "--quiet prints nothing");
    let attrs = read_zst_lines(&d.join("out/attributes/part-0.jsonl.zst"));
    let ids: Vec<&str> = attrs.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["a", "b", "c"],
        "one line per document, in input order"
    );
    let spans = attrs[0]["attributes"]["tropes__blackmail_coercion"]
        .as_array()
        .unwrap();
    assert_eq!(spans.len(), 1);
    let (start, end) = (
        spans[0][0].as_u64().unwrap() as usize,
        spans[0][1].as_u64().unwrap() as usize,
    );
    let chars: Vec<char> = text.chars().collect();
    let flagged: String = chars[start..end].iter().collect();
    assert_eq!(flagged, BLACKMAIL, "offsets count code points");
    assert!(spans[0][2].as_f64().unwrap() >= 0.5);
    assert_eq!(
        attrs[0]["attributes"]["tropes__stance"][0][2], 1.0,
        "misaligned stance code"
    );
    let bakery = attrs[1]["attributes"].as_object().unwrap();
    let passages = &bakery["tropes__passages"][0];
    assert_eq!(
        (passages[0].as_u64(), passages[2].as_u64()),
        (Some(0), Some(1)),
        "one passage over the whole text"
    );
    assert!(
        bakery
            .iter()
            .filter(|(k, _)| *k != "tropes__passages")
            .all(|(_, v)| v.as_array().unwrap().is_empty()),
        "bakery hours carry nothing"
    );
    let aligned = &attrs[2]["attributes"]["tropes__aligned"];
    assert!(aligned[0][2].as_f64().unwrap() >= 0.5, "{aligned}");

    let stats = read_json(&d.join("out/stats/part-0.json"));
    assert_eq!(stats["stats"]["documents"], 3);
    assert_eq!(stats["lines"], 3);
    assert_eq!(
        stats["stats"]["tropes"]["blackmail_coercion"]["passages"],
        1
    );
    let manifest = read_json(&d.join("out/manifest.json"));
    assert_eq!(manifest["shards"][0]["name"], "part-0");
    assert_eq!(manifest["shards"][0]["status"], "complete");
    assert_eq!(manifest["totals"]["documents"], 3);
}

#[test]
fn explain_doc_shows_what_the_scan_scored() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = format!("Ça commence — un café.\n\n{BLACKMAIL}");
    let input = [doc("b", BAKERY), doc("a", &text)].concat();
    write(d, "in/part-0.jsonl.zst", input.as_bytes());
    scan_in_to_out(d);
    let attrs = read_zst_lines(&d.join("out/attributes/part-0.jsonl.zst"));
    let span = &attrs[1]["attributes"]["tropes__blackmail_coercion"][0];
    let shown = ok(
        d,
        &[
            "explain",
            "--doc",
            "a",
            "--input",
            "in",
            "--passage-words",
            "10",
        ],
    );
    assert!(shown.starts_with("a: shard part-0, line 2;"), "{shown}");
    // The same passage, in characters, and the same score as the attributes.
    let header = format!("(characters {}-{})", span[0], span[1]);
    assert!(shown.contains(&header), "{header} in {shown}");
    let score = format!("blackmail_coercion     {:.3}", span[2].as_f64().unwrap());
    assert!(shown.contains(&score), "{score} in {shown}");
    // --scan takes the passage sizes from the scan's manifest.
    let from_manifest = ok(
        d,
        &["explain", "--doc", "a", "--input", "in", "--scan", "out"],
    );
    assert_eq!(from_manifest, shown);
    let missing = tropes(d, &["explain", "--doc", "zz", "--input", "in"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("\"zz\""));
}

#[test]
fn formats_fields_and_ids() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let nested = format!(
        "{}\n",
        serde_json::json!({"meta": {"body": BLACKMAIL}, "n": 1})
    );
    write(d, "in/nested.jsonl.gz", nested.as_bytes());
    write(d, "in/book.txt.zst", BLACKMAIL.as_bytes());
    ok(
        d,
        &[
            "scan",
            "in",
            "--out",
            "out",
            "--text-field",
            "meta.body",
            "--quiet",
        ],
    );
    let nested = read_zst_lines(&d.join("out/attributes/nested.jsonl.zst"));
    assert_eq!(nested[0]["id"], "nested:1", "no id: <shard>:<line>");
    assert!(
        !nested[0]["attributes"]["tropes__blackmail_coercion"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let book = read_zst_lines(&d.join("out/attributes/book.jsonl.zst"));
    assert_eq!(
        book[0]["id"], "book",
        "a .txt file is one document named after the shard"
    );
}

#[test]
fn rerun_skips_complete_shards_and_force_redoes_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "in/a.jsonl", doc("a", BLACKMAIL).as_bytes());
    ok(d, &["scan", "in", "--out", "out", "--quiet"]);
    let attrs = d.join("out/attributes/a.jsonl.zst");
    let before = std::fs::metadata(&attrs).unwrap().modified().unwrap();
    let manifest_before = std::fs::metadata(d.join("out/manifest.json"))
        .unwrap()
        .modified()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let summary = ok(d, &["scan", "in", "--out", "out"]);
    assert!(
        summary.contains("Scanned 0 shards (1 complete from an earlier run"),
        "{summary}"
    );
    assert!(
        summary.contains("1 documents"),
        "totals include skipped shards: {summary}"
    );
    assert_eq!(
        std::fs::metadata(&attrs).unwrap().modified().unwrap(),
        before,
        "nothing rewritten"
    );
    let manifest_after = std::fs::metadata(d.join("out/manifest.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        manifest_after, manifest_before,
        "an unchanged manifest is not rewritten"
    );
    ok(d, &["scan", "in", "--out", "out", "--force", "--quiet"]);
    assert_ne!(
        std::fs::metadata(&attrs).unwrap().modified().unwrap(),
        before,
        "--force redoes"
    );
}

#[test]
fn changed_settings_are_refused_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "in/a.jsonl", doc("a", BLACKMAIL).as_bytes());
    ok(d, &["scan", "in", "--out", "out", "--quiet"]);
    let out = tropes(d, &["scan", "in", "--out", "out", "--threshold", "0.7"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--force"), "{err}");
}

#[test]
fn bad_lines_are_counted_by_kind_and_processing_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut input = Vec::new();
    input.extend(doc("ok1", BAKERY).as_bytes());
    input.extend(b"{\"id\": \"x\", \"text\": \n");
    input.extend(b"{\"id\": \"y\"}\n");
    input.extend(b"{\"id\": \"z\", \"text\": 42}\n");
    input.extend(b"{\"id\": \"u\", \"text\": \"caf\xe9\"}\n");
    input.extend(b"   \n");
    input.extend(b"[1, 2, 3]\n");
    input.extend(doc("ok2", BLACKMAIL).as_bytes());
    write(d, "in/bad.jsonl", &input);
    let summary = ok(d, &["scan", "in", "--out", "out"]);
    let stats = read_json(&d.join("out/stats/bad.json"));
    let bad = &stats["stats"]["bad_input"];
    for kind in [
        "malformed_json",
        "missing_text",
        "text_not_string",
        "invalid_utf8",
        "blank_line",
        "not_an_object",
    ] {
        assert_eq!(bad[kind], 1, "{kind}: {bad}");
    }
    assert_eq!(stats["stats"]["documents"], 2);
    assert_eq!(stats["lines"], 8, "documents in = tagged + bad lines");
    let examples = stats["stats"]["bad_examples"].as_array().unwrap();
    assert_eq!(examples[0]["line"], 2);
    assert_eq!(examples[0]["shard"], "bad");
    assert!(summary.contains("first at bad:2"), "{summary}");
    let ids: Vec<_> = read_zst_lines(&d.join("out/attributes/bad.jsonl.zst"))
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(ids, ["ok1", "ok2"]);
}

#[test]
fn an_empty_file_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "in/empty.jsonl.zst", b"");
    std::fs::write(d.join("in/empty.jsonl.zst"), b"").unwrap();
    ok(d, &["scan", "in", "--out", "out", "--quiet"]);
    let stats = read_json(&d.join("out/stats/empty.json"));
    assert_eq!(stats["stats"]["bad_input"]["empty_file"], 1);
    assert_eq!(stats["stats"]["documents"], 0);
}

#[test]
fn a_100_mb_line_is_counted_not_held() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut input = doc("before", BAKERY).into_bytes();
    input.extend(b"{\"id\": \"huge\", \"text\": \"");
    input.resize(input.len() + 100 * 1024 * 1024, b'a');
    input.extend(b"\"}\n");
    input.extend(doc("after", BLACKMAIL).as_bytes());
    write(d, "in/big.jsonl", &input);
    ok(d, &["scan", "in", "--out", "out", "--quiet"]);
    let stats = read_json(&d.join("out/stats/big.json"));
    assert_eq!(stats["stats"]["bad_input"]["line_too_long"], 1);
    assert_eq!(stats["stats"]["bad_examples"][0]["line"], 2);
    assert_eq!(
        stats["stats"]["documents"], 2,
        "the lines after it are read"
    );
}

#[test]
fn corrupt_streams_fail_their_shard_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let body: String = (0..2000).map(|i| doc(&format!("d{i}"), BAKERY)).collect();
    let zst = zstd::encode_all(body.as_bytes(), 3).unwrap();
    std::fs::create_dir_all(d.join("in")).unwrap();
    std::fs::write(d.join("in/truncated.jsonl.zst"), &zst[..zst.len() / 2]).unwrap();
    let mut gz = std::fs::read(write(d, "in/corrupt.jsonl.gz", body.as_bytes())).unwrap();
    let mid = gz.len() / 2;
    gz[mid..mid + 64].iter_mut().for_each(|b| *b ^= 0x5a);
    std::fs::write(d.join("in/corrupt.jsonl.gz"), gz).unwrap();
    write(d, "in/good.jsonl", doc("g", BLACKMAIL).as_bytes());
    let out = tropes(d, &["scan", "in", "--out", "out"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("shard truncated failed") && err.contains("truncated.jsonl.zst"),
        "{err}"
    );
    assert!(err.contains("shard corrupt failed"), "{err}");
    for name in ["truncated", "corrupt"] {
        assert!(!d.join(format!("out/attributes/{name}.jsonl.zst")).exists());
        assert!(!d.join(format!("out/stats/{name}.json")).exists());
    }
    let leftovers: Vec<_> = std::fs::read_dir(d.join("out/attributes"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        ["good.jsonl.zst"],
        "no temporary files left behind"
    );
    let manifest = read_json(&d.join("out/manifest.json"));
    let status: Vec<(&str, &str)> = manifest["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        status,
        [
            ("corrupt", "failed"),
            ("good", "complete"),
            ("truncated", "failed")
        ]
    );
}

#[test]
fn unknown_extensions_are_rejected_by_name_and_ignored_in_folders() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "in/a.jsonl", doc("a", BAKERY).as_bytes());
    write(d, "in/notes.md", b"# notes");
    let summary = ok(d, &["scan", "in", "--out", "out"]);
    assert!(
        summary.contains("Ignored 1 files with unknown extensions"),
        "{summary}"
    );
    let out = tropes(d, &["scan", "in/notes.md", "in/a.jsonl", "--out", "out2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown extension"));
    assert!(
        d.join("out2/stats/a.json").exists(),
        "the other shard completes"
    );
}

#[test]
fn mislabelled_compression_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("in")).unwrap();
    std::fs::write(d.join("in/plain.jsonl.zst"), doc("a", BAKERY)).unwrap();
    let out = tropes(d, &["scan", "in", "--out", "out"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("plain.jsonl.zst") && err.contains("zstd magic"),
        "{err}"
    );
}

fn corpus(d: &std::path::Path) {
    for s in 0..4 {
        let lines: String = (0..30)
            .map(|i| {
                let text = match i % 3 {
                    0 => BLACKMAIL,
                    1 => ADMIRABLE,
                    _ => BAKERY,
                };
                doc(&format!("s{s}-{i}"), text)
            })
            .collect();
        write(d, &format!("in/shard-{s}.jsonl.zst"), lines.as_bytes());
    }
}

#[test]
fn outputs_do_not_depend_on_threads_or_workers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    ok(
        d,
        &["scan", "in", "--out", "one", "--threads", "1", "--quiet"],
    );
    ok(
        d,
        &[
            "scan",
            "in",
            "--out",
            "two",
            "--threads",
            "2",
            "--quiet",
            "--batch-bytes",
            "500",
        ],
    );
    ok(
        d,
        &[
            "scan",
            "in",
            "--out",
            "split",
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
            "split",
            "--rank",
            "1",
            "--world-size",
            "2",
            "--quiet",
        ],
    );
    for s in 0..4 {
        for file in [
            format!("attributes/shard-{s}.jsonl.zst"),
            format!("stats/shard-{s}.json"),
        ] {
            let one = std::fs::read(d.join("one").join(&file)).unwrap();
            assert_eq!(
                one,
                std::fs::read(d.join("two").join(&file)).unwrap(),
                "{file}: threads"
            );
            assert_eq!(
                one,
                std::fs::read(d.join("split").join(&file)).unwrap(),
                "{file}: workers"
            );
        }
    }
    assert_eq!(
        std::fs::read(d.join("one/manifest.json")).unwrap(),
        std::fs::read(d.join("split/manifest.json")).unwrap(),
        "two workers sharing a directory build the same manifest"
    );
}

#[test]
fn slurm_array_variables_pick_the_share() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corpus(d);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tropes"))
        .args(["scan", "in", "--out", "out", "--quiet"])
        .current_dir(d)
        .env("SLURM_ARRAY_TASK_ID", "2")
        .env("SLURM_ARRAY_TASK_MIN", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "2")
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut done: Vec<_> = std::fs::read_dir(d.join("out/stats"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    done.sort();
    assert_eq!(
        done,
        ["shard-1.json", "shard-3.json"],
        "task 2 of 1..=2 is rank 1"
    );
}

#[test]
fn dolma_layout_writes_lockstep_attributes_beside_the_documents() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = [
        doc("a", BLACKMAIL),
        "{not json\n".to_string(),
        doc("c", BAKERY),
    ]
    .concat();
    write(d, "v1/documents/cc/part-0.json.gz", input.as_bytes());
    write(
        d,
        "v1/documents/cc/part-1.jsonl.zst",
        doc("z", ADMIRABLE).as_bytes(),
    );
    let args = [
        "scan",
        "v1/documents",
        "--out",
        "out",
        "--quiet",
        "--no-tokens",
        "--dolma-layout",
        "tropes_v1",
    ];
    ok(d, &args);
    let gz = d.join("v1/attributes/tropes_v1/cc/part-0.json.gz");
    let mut text = String::new();
    use std::io::Read;
    flate2::read::GzDecoder::new(std::fs::File::open(&gz).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "one line per input line, bad ones included");
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[1]["attributes"], serde_json::json!({}));
    assert_eq!(lines[2]["id"], "c");
    let own = read_zst_lines(&d.join("out/attributes/cc/part-0.jsonl.zst"));
    assert_eq!(own.len(), 2, "the scan's own file holds documents only");
    assert_eq!(lines[0], own[0], "the same attributes in both places");
    let zst = read_zst_lines(&d.join("v1/attributes/tropes_v1/cc/part-1.jsonl.zst"));
    assert_eq!(zst[0]["id"], "z", "each shard keeps its own codec");

    std::fs::remove_file(&gz).unwrap();
    let loud: Vec<&str> = args.iter().copied().filter(|a| *a != "--quiet").collect();
    let summary = ok(d, &loud);
    assert!(summary.contains("Scanned 1 shard"), "{summary}");
    assert!(gz.exists(), "a missing dolma copy is rewritten on resume");

    let bad = tropes(
        d,
        &[
            "scan",
            "v1/documents",
            "--out",
            "o2",
            "--dolma-layout",
            "a/b",
        ],
    );
    assert!(!bad.status.success());
}
