#!/usr/bin/env bash
# Stream throughput: `strom stream --jq '.'` from one topic to another
# beside the bare pipe `strom consume -e | strom produce` on the same data
# in the same run (this machine is shared and noisy: compare the two).
# RECORDS records of each SIZE are written once with `perf produce`; each
# rep copies them to a fresh topic. Both sides produce with acks=all; the
# stream also commits its input offsets after each acknowledged batch.
# Prints records/s, the median of REPS runs.
#
#   scripts/bench-stream.sh
# The broker runs with --group-initial-rebalance-delay-ms 0, so a new
# group's join costs no 3 s wait; the rate after the first output is shown
# beside the end-to-end one all the same.
#
#   REPS=5 RECORDS=200000 SIZES="100" BATCH_MAX=50000 scripts/bench-stream.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
RECORDS=${RECORDS:-1000000}
SIZES=${SIZES:-100 1024}
PARTITIONS=${PARTITIONS:-1}
# Empty: the stream's own default (10000 without a CMD).
BATCH_MAX=${BATCH_MAX:-}
source scripts/bench-lib.sh
start_broker --group-initial-rebalance-delay-ms 0

now() { date +%s.%N; }
# Records in a topic: the sum of its partitions' end offsets.
count() { "$bin" topics offsets -b "$addr" "$1" | awk -F: '{n += $NF} END {print n + 0}'; }
create() { "$bin" topics create -b "$addr" "$1" --partitions "$PARTITIONS" --config flush.policy=os >/dev/null; }
rate() { awk -v n="$RECORDS" -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", n / (b - a)}'; }

# Seconds-precise wait for a topic to reach $RECORDS, bounded at 10 min.
wait_full() {
    local topic=$1 deadline=$(( $(date +%s) + 600 ))
    until [ "$(count "$topic")" -ge "$RECORDS" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "$topic never reached $RECORDS" >&2; exit 1; }
        sleep 0.05
    done
}

echo "strom stream bench: $RECORDS records, sizes $SIZES, $PARTITIONS partition(s), batch-max ${BATCH_MAX:-default}, $REPS reps (medians), broker $addr, $(nproc) cores"
for size in $SIZES; do
    src="src-$size"
    create "$src"
    "$bin" perf produce -b "$addr" --topic "$src" --num-records "$RECORDS" \
        --record-size "$size" --acks 1 >/dev/null 2>&1
    jq_rates=() jq_steady=() pipe_rates=()
    for r in $(seq 1 "$REPS"); do
        # The reps alternate the two, so a noisy minute hurts both alike.
        out="jq-$size-$r"
        create "$out"
        start=$(now)
        "$bin" stream -b "$addr" --from "$src" --to "$out" --group "g-$size-$r" \
            ${BATCH_MAX:+--batch-max "$BATCH_MAX"} --jq '.' 2>"$work/stream.log" &
        stream_pid=$!
        # The steady rate starts at the first output (after the group join).
        until [ "$(count "$out")" -gt 0 ]; do sleep 0.01; done
        first=$(now)
        wait_full "$out"
        end=$(now)
        kill -TERM "$stream_pid"
        wait "$stream_pid" || { cat "$work/stream.log" >&2; exit 1; }
        jq_rates+=("$(rate "$start" "$end")")
        jq_steady+=("$(rate "$first" "$end")")

        out="pipe-$size-$r"
        create "$out"
        start=$(now)
        "$bin" consume -b "$addr" -t "$src" --from-beginning -e 2>/dev/null |
            "$bin" produce -b "$addr" -t "$out"
        end=$(now)
        [ "$(count "$out")" -eq "$RECORDS" ] || { echo "pipe copied $(count "$out") records" >&2; exit 1; }
        pipe_rates+=("$(rate "$start" "$end")")
        "$bin" topics delete -b "$addr" "jq-$size-$r" >/dev/null
        "$bin" topics delete -b "$addr" "$out" >/dev/null
    done
    j=$(printf '%s\n' "${jq_rates[@]}" | median)
    js=$(printf '%s\n' "${jq_steady[@]}" | median)
    p=$(printf '%s\n' "${pipe_rates[@]}" | median)
    mb() { awk -v n="$1" -v s="$size" 'BEGIN {printf "%.1f", n * s / 1048576}'; }
    printf '%5s B  stream --jq . %8s rec/s %6s MB/s (after the group join %8s rec/s) | consume -e | produce %8s rec/s %6s MB/s | ratio %.2fx\n' \
        "$size" "$j" "$(mb "$j")" "$js" "$p" "$(mb "$p")" "$(awk -v a="$j" -v b="$p" 'BEGIN {print a / b}')"
    echo "        runs: jq ${jq_rates[*]}; jq after join ${jq_steady[*]}; pipe ${pipe_rates[*]}"
    "$bin" topics delete -b "$addr" "$src" >/dev/null
done
