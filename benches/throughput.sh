#!/usr/bin/env bash
# Throughput of `tropes scan` and `tropes rebalance` next to `zstd -dc | wc -l`
# on the same file, in the same run. Prints medians of RUNS runs (the machine
# is shared and noisy: compare ratios, not absolute figures).
#
#   benches/throughput.sh [SHARD] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
shard=${1:-../shared/bench/gutenberg-bench.jsonl.zst}
runs=${2:-5}
cargo build --release --quiet
bin=target/release/tropes
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bytes=$(zstd -dc "$shard" | wc -c)

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# Wall-clock seconds of one run; its CPU seconds (user + system, all threads)
# go to $work/cpu, so a "1 thread" row that keeps a helper thread busy (zstd's
# compression worker in rebalance) shows it.
# `times` prints the CPU time of finished children on its second line; it must
# run in this shell (in a $(…) subshell it sees none).
children_cpu() { awk 'NR == 2 {print ms($1) + ms($2)} function ms(t) {split(t, a, /[ms]/); return a[1] * 60 + a[2]}' "$1"; }
seconds() {
  local t0 t1
  times >"$work/times0"
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s.%N)
  times >"$work/times1"
  echo "$(children_cpu "$work/times1") - $(children_cpu "$work/times0")" | bc -l >>"$work/cpu"
  echo "$t1 - $t0" | bc -l
}
timed() { : >"$work/cpu"; for _ in $(seq "$runs"); do seconds "$@"; done | median; }
cpu() { median <"$work/cpu"; }
mbs() { echo "scale=1; $bytes / 1000000 / $1" | bc -l; }

zstd_wc() { zstd -dc "$shard" | wc -l; }
scan() { rm -rf "$work/scan"; "$bin" scan "$shard" --out "$work/scan" --quiet "$@"; }

# The reference takes a sixth of a second, so one slow run moves every ratio:
# it gets three times as many runs.
ref=$(runs=$((runs * 3)) timed zstd_wc)
printf '%-48s %8s %9s %7s %8s\n' "run ($runs runs each, median)" "seconds" "MB/s" "ratio" "cpu s"
# row LABEL SECONDS [TIMES [BYTES REF]]: TIMES copies of a shard of BYTES
# (default the benchmark shard) were read; REF is its zstd -dc time.
row() {
  local n=${3:-1} b=${4:-$bytes} r=${5:-$ref}
  printf '%-48s %8.2f %9s %7.2f %8.2f\n' "$1" "$2" "$(echo "scale=1; $n * $b / 1000000 / $2" | bc -l)" \
    "$(echo "$n * $r / $2" | bc -l)" "$(cpu)"
}
row "zstd -dc | wc -l (reference)" "$ref"
row "tropes scan, 1 thread" "$(timed scan --threads 1)"
row "tropes scan, 2 threads" "$(timed scan --threads 2)"
row "tropes scan, 1 thread, --no-tokens" "$(timed scan --threads 1 --no-tokens)"
row "tropes scan, 2 threads, --no-tokens" "$(timed scan --threads 2 --no-tokens)"
row "tropes scan, 2 threads, --index" "$(timed scan --threads 2 --index)"
# Three copies as three shards of one run: the start-up (tokenizer and automata,
# about 0.2 s) is paid once per process, as on a cluster worker with many shards.
mkdir -p "$work/three"
for c in a b c; do ln -s "$(realpath "$shard")" "$work/three/$c.jsonl.zst"; done
scan3() { rm -rf "$work/scan3"; "$bin" scan "$work/three" --out "$work/scan3" --quiet "$@"; }
row "tropes scan, 1 thread, 3 shards in one run" "$(timed scan3 --threads 1)" 3

# The worst case: text about AI, where most passages go to stage 2 (the
# labelled passages, 20 times over, as one shard). Its own reference row.
dense="$work/ai-dense.jsonl.zst"
for _ in $(seq 20); do cat corpora/labeled/dev/*.jsonl corpora/labeled/test/*.jsonl; done | zstd -q -o "$dense"
dense_bytes=$(zstd -dc "$dense" | wc -c)
dense_wc() { zstd -dc "$dense" | wc -l; }
dense_scan() { rm -rf "$work/dense"; "$bin" scan "$dense" --out "$work/dense" --quiet "$@"; }
dense_ref=$(runs=$((runs * 3)) timed dense_wc)
row "AI-dense shard: zstd -dc | wc -l" "$dense_ref" 1 "$dense_bytes" "$dense_ref"
row "AI-dense shard: tropes scan, 1 thread" "$(timed dense_scan --threads 1)" 1 "$dense_bytes" "$dense_ref"

scan --threads 2
cat > "$work/policy.toml" <<'POLICY'
seed = 1
[misaligned]
action = "drop_passage"
[aligned]
upsample = 2.0
POLICY
rebalance() { rm -rf "$work/out"; "$bin" rebalance "$shard" --scan "$work/scan" --policy "$work/policy.toml" --out "$work/out" --quiet "$@"; }
row "tropes rebalance, 1 thread" "$(timed rebalance --threads 1)"
row "tropes rebalance, 2 threads" "$(timed rebalance --threads 2)"
row "tropes rebalance, 1 thread, --level 1" "$(timed rebalance --threads 1 --level 1)"
row "tropes rebalance, 1 thread, --compression none" "$(timed rebalance --threads 1 --compression none)"
