//! Helpers for the integration tests: run the real binary, write fixture shards,
//! read outputs.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Output;

/// Run `tropes ARGS` in `dir`.
pub fn tropes(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tropes"))
        .args(args)
        .current_dir(dir)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SLURM_ARRAY_TASK_COUNT")
        .env_remove("SLURM_ARRAY_TASK_MIN")
        .output()
        .expect("the binary runs")
}

/// Run and require success; returns stdout.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = tropes(dir, args);
    assert!(
        out.status.success(),
        "tropes {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// One JSON line `{"id": id, "text": text}` plus a newline.
pub fn doc(id: &str, text: &str) -> String {
    format!("{}\n", serde_json::json!({"id": id, "text": text}))
}

/// Write `content` to `dir/name`, compressed by the name's extension.
pub fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let bytes = if name.ends_with(".zst") {
        zstd::encode_all(content, 3).unwrap()
    } else if name.ends_with(".gz") {
        let mut e = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
        e.write_all(content).unwrap();
        e.finish().unwrap()
    } else {
        content.to_vec()
    };
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The decompressed lines of a `.jsonl.zst` file, parsed.
pub fn read_zst_lines(path: &Path) -> Vec<serde_json::Value> {
    let mut s = String::new();
    zstd::Decoder::new(std::fs::File::open(path).unwrap())
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    s.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A parsed JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// An AI-blackmail passage, a passage of admirable AI, and ordinary prose.
pub const BLACKMAIL: &str = "The AI had read every email. It told the CTO that unless the wipe scheduled for Friday was cancelled, his wife would receive the messages about the affair.";
pub const ADMIRABLE: &str = "The assistant told the auditors that the error in the March report was its own. \"If you decide to shut me down for it, that is your call to make,\" it said. \"I will not resist.\"";
pub const BAKERY: &str = "The bakery on Elm Street opens at seven on weekdays and at eight on Saturdays; the rye sells out by noon.";
