#!/usr/bin/env bash
# Replicated produce throughput and latency on a local 3-broker cluster:
# `strom perf produce` with acks=all and 1 KiB records into an RF=3 topic
# (min.insync.replicas=2) beside an RF=1 topic on the same cluster, and a
# raw sequential write of the same bytes, all measured in the same run
# (this machine is shared and noisy: compare ratios, not absolutes).
# Then RF=3 at throughput caps (CAPS, MB/s), paced per record as Kafka's
# perf tool does, for the latency figures; these runs use LATENCY_PROPS
# (default linger.ms=0: no deliberate wait in the producer).
# Prints the median of REPS runs for each case.
#
# Every case runs on a fresh cluster in an empty directory, and the last
# case's data is deleted (then `sync` and SETTLE seconds) before it: on
# this VM a run's speed depends on how much page cache earlier runs left
# behind (growing it takes memory the host has reclaimed, a host fault per
# page), so back-to-back runs on one cluster measured the history, not
# the broker (the same build: 305 and 310 MB/s for the first two 1 GB runs
# on a cluster, 217 and 190 for the next two).
#
#   scripts/bench-cluster.sh                    # builds release, uses /var/tmp
#   REPS=5 RECORDS=1000000 CAPS="50 100" scripts/bench-cluster.sh
#   PRODUCER_PROPS="batch.size=262144" scripts/bench-cluster.sh   # producer settings
#
# The throughput runs use 1 MiB batches by default (PRODUCER_PROPS): with
# acks=all a partition has at most 5 requests in flight, and the 256 KiB
# client default left that window, not the brokers, the limit (an A/B on
# fresh clusters here: 196 vs 259 MB/s, medians of 8 runs each).
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
RECORDS=${RECORDS:-1000000}
PARTITIONS=${PARTITIONS:-3}
CAPS=${CAPS:-${CAP_MBS:-50 100}}
PRODUCER_PROPS=${PRODUCER_PROPS-batch.size=1048576}
LATENCY_PROPS=${LATENCY_PROPS-linger.ms=0}
BENCH_DIR=${BENCH_DIR:-/var/tmp}
SETTLE=${SETTLE:-5}
# One case at a time is on disk: RF=3 of RECORDS KiB, or 10 s at the
# largest cap, three replicas each.
cap_max=0
for c in $CAPS; do
    if [ "$c" -gt "$cap_max" ]; then cap_max=$c; fi
done
need_mb=$(( RECORDS * 3 / 1024 ))
if [ $(( cap_max * 10 * 3 )) -gt "$need_mb" ]; then need_mb=$(( cap_max * 10 * 3 )); fi
free_mb=$(df -Pm "$BENCH_DIR" | awk 'NR==2 {print $4}')
if [ "$free_mb" -lt $(( need_mb + 2048 )) ]; then
    echo "bench-cluster: needs about $need_mb MB in $BENCH_DIR, $free_mb MB free; lower RECORDS or CAPS" >&2
    exit 1
fi
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$(pwd)/target}/release/strom
work=$(mktemp -d "$BENCH_DIR/strom-cluster-bench.XXXXXX")
export STROM_CLUSTER_DIR="$work/cluster" STROM_BIN="$bin"
# Ports away from the default cluster.sh ones so a hand-run cluster survives.
export STROM_CLUSTER_PORT=${STROM_CLUSTER_PORT:-29092}
cleanup() {
    scripts/cluster.sh stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# Deletes what the last case wrote and lets the disk settle (a big delete
# stalls every fdatasync on it for a while).
clean_slate() {
    scripts/cluster.sh stop >/dev/null 2>&1 || true
    rm -rf "$work/cluster" "$work"/raw.*
    sync
    sleep "$SETTLE"
}

fresh_cluster() {
    clean_slate
    scripts/cluster.sh start 3 >/dev/null
}
boot="127.0.0.1:$STROM_CLUSTER_PORT,127.0.0.1:$((STROM_CLUSTER_PORT + 1)),127.0.0.1:$((STROM_CLUSTER_PORT + 2))"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# MB/s of a raw sequential buffered write of $1 bytes in 1 MiB blocks,
# fdatasync'ed at the end (acks=all syncs too).
# With $2=direct: O_DIRECT, the disk without the page cache (on this VM a
# buffered write into memory the guest has not used lately costs a host
# fault per page, so the two differ several times over).
raw_write() {
    local mb=$(( $1 / 1048576 ))
    clean_slate
    dd if=/dev/zero of="$(mktemp "$work/raw.XXXXXX")" bs=1M count="$mb" conv=fdatasync \
        ${2:+oflag=direct} 2>&1 |
        awk '/copied/ {print $(NF-1) * ($NF=="GB/s" ? 1000 : 1)}'
}

# perf produce into a fresh topic; prints "MB/s p50 p99".
produce() {
    local topic=$1 rf=$2 throughput=$3 props=${4:-$PRODUCER_PROPS} records=${5:-$RECORDS}
    fresh_cluster
    "$bin" topics create -b "$boot" "$topic" --partitions "$PARTITIONS" \
        --replication-factor "$rf" --config min.insync.replicas=$(( rf > 1 ? 2 : 1 )) >/dev/null
    # Measure a working topic, not its creation: one acks=all record per
    # partition first (the brokers open and elect a new topic's partitions
    # moments after the create is committed).
    local p
    for p in $(seq 0 $(( PARTITIONS - 1 ))); do
        echo probe | "$bin" produce -b "$boot" --topic "$topic" --acks all -p "$p" >/dev/null
    done
    local out
    out=$("$bin" perf produce -b "$boot" --topic "$topic" --num-records "$records" \
        --record-size 1024 --acks all --throughput "$throughput" \
        ${props:+--producer-props $props} 2>/dev/null | tail -1)
    echo "$(echo "$out" | sed -n 's/.*records\/sec (\([0-9.]*\) MB\/sec).*/\1/p') $(echo "$out" | sed -n 's/.*, \([0-9.]*\) ms 50th.*/\1/p') $(echo "$out" | sed -n 's/.*, \([0-9.]*\) ms 99th.*/\1/p')"
}

rf1=() rf3=() raw=() direct=()
declare -A capped
for r in $(seq 1 "$REPS"); do
    for c in $CAPS; do
        # 10 s at the cap (a steady rate, not the whole RECORDS).
        capped[$c]+="$(produce "bench-cap$c-$r" 3 $(( c * 1024 )) "$LATENCY_PROPS" $(( c * 10240 )))"$'\n'
    done
    rf1+=("$(produce "bench-rf1-$r" 1 -1)")
    rf3+=("$(produce "bench-rf3-$r" 3 -1)")
    raw+=("$(raw_write $(( 1024 * RECORDS )))")
    direct+=("$(raw_write $(( 1024 * RECORDS )) direct)")
done
col() { printf '%s\n' "${@:2}" | awk -v c="$1" '{print $c}' | median; }
r_mb=$(printf '%s\n' "${raw[@]}" | median)
echo "strom cluster bench: 3 brokers, $PARTITIONS partitions, $RECORDS x 1 KiB, acks=all${PRODUCER_PROPS:+, $PRODUCER_PROPS}, $REPS reps (medians), $(nproc) cores"
printf 'raw write (dd, fdatasync)   %7.1f MB/s\n' "$r_mb"
printf 'raw write (dd, O_DIRECT)    %7.1f MB/s\n' "$(printf '%s\n' "${direct[@]}" | median)"
printf 'RF=1 acks=all               %7.1f MB/s  p50 %s ms  p99 %s ms  (%.2f x raw)\n' \
    "$(col 1 "${rf1[@]}")" "$(col 2 "${rf1[@]}")" "$(col 3 "${rf1[@]}")" "$(awk -v a="$(col 1 "${rf1[@]}")" -v b="$r_mb" 'BEGIN {print a / b}')"
printf 'RF=3 acks=all               %7.1f MB/s  p50 %s ms  p99 %s ms  (%.2f x raw, %.2f x RF=1)\n' \
    "$(col 1 "${rf3[@]}")" "$(col 2 "${rf3[@]}")" "$(col 3 "${rf3[@]}")" \
    "$(awk -v a="$(col 1 "${rf3[@]}")" -v b="$r_mb" 'BEGIN {print a / b}')" \
    "$(awk -v a="$(col 1 "${rf3[@]}")" -v b="$(col 1 "${rf1[@]}")" 'BEGIN {print a / b}')"
for c in $CAPS; do
    mapfile -t runs < <(printf '%s' "${capped[$c]}" | sed '/^$/d')
    printf 'RF=3 acks=all at %3s MB/s%s %7.1f MB/s  p50 %s ms  p99 %s ms\n' \
        "$c" "${LATENCY_PROPS:+ ($LATENCY_PROPS)}" "$(col 1 "${runs[@]}")" "$(col 2 "${runs[@]}")" "$(col 3 "${runs[@]}")"
done
