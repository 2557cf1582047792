#!/usr/bin/env bash
# Broker throughput, client and broker on this machine, 1 partition, acks=1,
# beside a raw sequential write of the same number of bytes measured in the
# same run (this machine is shared and noisy, so ratios carry over better
# than absolute figures). Prints the median of REPS runs for each case.
#
#   scripts/bench-broker.sh            # builds release, uses /var/tmp
#   REPS=5 BENCH_DIR=/data scripts/bench-broker.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
source scripts/bench-lib.sh
start_broker

# MB/s of a raw sequential buffered write of $1 bytes in 1 MiB blocks.
raw_write() {
    local mb=$(( $1 / 1048576 ))
    dd if=/dev/zero of="$work/raw.bin" bs=1M count="$mb" 2>&1 |
        awk '/copied/ {print $(NF-1) * ($NF=="GB/s" ? 1000 : 1)}'
    rm -f "$work/raw.bin"
}

run_case() {
    local name=$1 size=$2 records=$3
    local prod=() cons=() raw=()
    for r in $(seq 1 "$REPS"); do
        local topic="bench-$name-$r"
        "$bin" topics create -b "$addr" "$topic" --config flush.policy=os >/dev/null
        local out
        out=$("$bin" perf produce -b "$addr" --topic "$topic" --num-records "$records" \
            --record-size "$size" --acks 1 2>/dev/null | tail -1)
        prod+=("$(echo "$out" | sed -n 's/.*records\/sec (\([0-9.]*\) MB\/sec).*/\1/p') $(echo "$out" | sed -n 's/.*sent, \([0-9.]*\) records\/sec.*/\1/p') $(echo "$out" | sed -n 's/.*, \([0-9.]*\) ms 99th.*/\1/p')")
        out=$("$bin" perf consume -b "$addr" --topic "$topic" --messages "$records" 2>/dev/null | tail -1)
        cons+=("$(echo "$out" | cut -d, -f4 | tr -d ' ') $(echo "$out" | cut -d, -f6 | tr -d ' ')")
        raw+=("$(raw_write $(( size * records )))")
        "$bin" topics delete -b "$addr" "$topic" >/dev/null
    done
    local p_mb p_rec p_p99 c_mb c_rec r_mb
    p_mb=$(printf '%s\n' "${prod[@]}" | awk '{print $1}' | median)
    p_rec=$(printf '%s\n' "${prod[@]}" | awk '{print $2}' | median)
    p_p99=$(printf '%s\n' "${prod[@]}" | awk '{print $3}' | median)
    c_mb=$(printf '%s\n' "${cons[@]}" | awk '{print $1}' | median)
    c_rec=$(printf '%s\n' "${cons[@]}" | awk '{print $2}' | median)
    r_mb=$(printf '%s\n' "${raw[@]}" | median)
    printf '%-6s produce %10.0f rec/s %8.1f MB/s (p99 %s ms) | consume %10.0f rec/s %8.1f MB/s | raw write %7.1f MB/s | produce/raw %.2f\n' \
        "$name" "$p_rec" "$p_mb" "$p_p99" "$c_rec" "$c_mb" "$r_mb" "$(awk -v a="$p_mb" -v b="$r_mb" 'BEGIN {print a / b}')"
}

echo "strom broker bench: $REPS reps (medians), data in $work, broker $addr, $(nproc) cores"
run_case 100B 100 5000000
run_case 1KiB 1024 2000000
