#!/usr/bin/env bash
# Sink throughput into SQLite: `strom connect standalone` with an upsert
# sqlite-sink draining N JSON records (keyed by id) from a topic, beside a
# plain loop of batched INSERT ... ON CONFLICT statements of the same rows
# into SQLite (`strom connect bench-sqlite-insert`, the same journal
# settings: WAL, synchronous=FULL) measured in the same run. Prints the
# median rows/s of REPS runs of each.
#
# The sink's time runs from the process start until the group's committed
# offset reaches N (so it includes joining the group and fetching).
#
#   scripts/bench-connect.sh                 # 200,000 records, builds release
#   N=500000 REPS=5 BENCH_DIR=/data scripts/bench-connect.sh
#   STROM_BIN=target/release/strom scripts/bench-connect.sh   # no build
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200000}
REPS=${REPS:-3}
BATCH=${BATCH:-5000}
BENCH_DIR=${BENCH_DIR:-/var/tmp}
if [ -n "${STROM_BIN:-}" ]; then
    bin=$(realpath "$STROM_BIN")
else
    cargo build --release --quiet
    bin=${CARGO_TARGET_DIR:-$(pwd)/target}/release/strom
fi
work=$(mktemp -d "$BENCH_DIR/strom-bench-connect.XXXXXX")
broker_pid=""
connect_pid=""
cleanup() {
    [ -n "$connect_pid" ] && kill "$connect_pid" 2>/dev/null && wait "$connect_pid" 2>/dev/null
    [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

"$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" \
    --group-initial-rebalance-delay-ms 0 2>"$work/broker.log" &
broker_pid=$!
addr=""
for _ in $(seq 1 300); do
    addr=$(sed -n 's/^strom: listening on \([^ ]*\).*/\1/p' "$work/broker.log")
    [ -n "$addr" ] && break
    sleep 0.1
done
[ -n "$addr" ] || { echo "broker did not start" >&2; cat "$work/broker.log" >&2; exit 1; }

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }

"$bin" topics create -b "$addr" bench --partitions 1 >/dev/null
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "%d\t{\"name\":\"item-%d\",\"amount\":%d}\n", i, i, i * 3 }' |
    "$bin" produce -b "$addr" -t bench -K $'\t' 2>/dev/null

sink=() plain=()
for r in $(seq 1 "$REPS"); do
    cat >"$work/sink-$r.toml" <<TOML
name = "bench-$r"
type = "sqlite-sink"
topic = "bench"
batch_max = $BATCH
[config]
path = "$work/sink-$r.db"
table = "bench"
mode = "upsert"
key_column = "id"
auto_create = true
TOML
    start=$(now)
    "$bin" connect standalone -b "$addr" "$work/sink-$r.toml" 2>"$work/connect-$r.log" &
    connect_pid=$!
    while :; do
        done_at=$("$bin" groups describe -b "$addr" --group "connect-bench-$r" 2>/dev/null |
            awk '$2 == "bench" {print $4}' || true)
        [ "$done_at" = "$N" ] && break
        kill -0 "$connect_pid" 2>/dev/null || { cat "$work/connect-$r.log" >&2; exit 1; }
        sleep 0.05
    done
    end=$(now)
    kill -TERM "$connect_pid" && wait "$connect_pid" || true
    connect_pid=""
    sink+=("$(awk -v n="$N" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }')")
    out=$("$bin" connect bench-sqlite-insert --path "$work/plain-$r.db" --records "$N" --batch "$BATCH")
    plain+=("$(echo "$out" | sed -n 's/.*: \([0-9]*\) rows\/s/\1/p')")
done
s=$(printf '%s\n' "${sink[@]}" | median)
p=$(printf '%s\n' "${plain[@]}" | median)
printf 'records=%s batch=%s reps=%s\n' "$N" "$BATCH" "$REPS"
printf 'sqlite-sink (upsert, via broker):   %8s rows/s   runs: %s\n' "$s" "${sink[*]}"
printf 'plain batched INSERT loop:          %8s rows/s   runs: %s\n' "$p" "${plain[*]}"
awk -v s="$s" -v p="$p" 'BEGIN { printf "sink / plain: %.2f\n", s / p }'
