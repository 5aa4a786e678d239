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
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
timed() { for _ in $(seq "$runs"); do seconds "$@"; done | median; }
mbs() { echo "scale=1; $bytes / 1000000 / $1" | bc -l; }

zstd_wc() { zstd -dc "$shard" | wc -l; }
scan() { rm -rf "$work/scan"; "$bin" scan "$shard" --out "$work/scan" --quiet "$@"; }

ref=$(timed zstd_wc)
printf '%-44s %8s %9s %7s\n' "run ($runs runs each, median)" "seconds" "MB/s" "ratio"
row() { printf '%-44s %8.2f %9s %7.2f\n' "$1" "$2" "$(mbs "$2")" "$(echo "$ref / $2" | bc -l)"; }
row "zstd -dc | wc -l (reference)" "$ref"
row "tropes scan, 1 thread" "$(timed scan --threads 1)"
row "tropes scan, 2 threads" "$(timed scan --threads 2)"
row "tropes scan, 1 thread, --no-tokens" "$(timed scan --threads 1 --no-tokens)"
row "tropes scan, 2 threads, --no-tokens" "$(timed scan --threads 2 --no-tokens)"
row "tropes scan, 2 threads, --index" "$(timed scan --threads 2 --index)"

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
