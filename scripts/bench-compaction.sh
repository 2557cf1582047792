#!/usr/bin/env bash
# Log compaction: the cleaner's throughput (MB/s of log cleaned), and the
# W2 workload (1 KiB records, acks=all, `strom perf produce`) rate and p99
# latency with the cleaner busy beside the same with it idle, same run
# (this machine is shared and noisy: compare the two lines).
#
# Fills a compacted topic with MB megabytes of 1 KiB keyed records over
# KEYS keys, with the cleaner off (a backoff of an hour). Then W2 runs on
# another topic with the cleaner still off; then the broker restarts with
# the cleaner on (backoff 100 ms, IO_CAP bytes/s, 0 = no cap) and W2 runs
# again while it cleans. Cleaner throughput: bytes before cleaning / time
# from that restart to the "compacted log segments" log line.
#
#   scripts/bench-compaction.sh
#   MB=500 KEYS=10000 RECORDS=300000 IO_CAP=50000000 scripts/bench-compaction.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${MB:-256}
KEYS=${KEYS:-5000}
RECORDS=${RECORDS:-200000}
IO_CAP=${IO_CAP:-0}
source scripts/bench-lib.sh
# (start_broker reads its log at once: make it exist first, for set -e.)
touch "$work/broker.log"
start_broker --log-cleaner-backoff-ms 3600000

echo "strom compaction bench: $MB MB keyed over $KEYS keys; W2 $RECORDS x 1 KiB acks=all; cleaner cap $IO_CAP B/s; $(nproc) cores"
"$bin" topics create -b "$addr" cmp --config cleanup.policy=compact \
    --config segment.bytes=$((16 << 20)) --config min.cleanable.dirty.ratio=0.01 >/dev/null
n=$((MB * 1024))
pad=$(printf '%01000d' 0)
awk -v n="$n" -v k="$KEYS" -v pad="$pad" 'BEGIN { for (i = 0; i < n; i++) printf "key%d:%d-%s\n", i % k, i, pad }' |
    "$bin" produce -b "$addr" -t cmp -K: --acks 1 >/dev/null
before=$(cat "$work/data/data/cmp-0/"*.log | wc -c)

w2() {
    "$bin" topics create -b "$addr" "$1" --config flush.policy=os >/dev/null
    "$bin" perf produce -b "$addr" --topic "$1" --num-records "$RECORDS" --record-size 1024 \
        --acks all 2>/dev/null | tail -1
}
# Both W2 runs start on a freshly restarted broker (the first seconds
# after a start are slower: cold caches, the logs' recovery), so that the
# cleaner is the only difference.
restart() {
    kill "$broker_pid"; wait "$broker_pid" 2>/dev/null || true
    mv "$work/broker.log" "$work/broker-$1.log"
    touch "$work/broker.log"
}
restart 1
start_broker --log-cleaner-backoff-ms 3600000
idle=$(w2 w2-idle)

restart 2
t0=$(date +%s.%N)
start_broker --log-cleaner-backoff-ms 100 --log-cleaner-io-max-bytes-per-second "$IO_CAP"
busy=$(w2 w2-busy)
for _ in $(seq 1 6000); do
    grep -q "compacted log segments topic=cmp" "$work/broker.log" && break
    sleep 0.1
done
t1=$(date +%s.%N)
line=$(grep -m1 "compacted log segments topic=cmp" "$work/broker.log" || true)
[ -n "$line" ] || { echo "the cleaner did not finish" >&2; exit 1; }
after=$(cat "$work/data/data/cmp-0/"*.log | wc -c)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
printf 'cleaner: %.1f MB -> %.1f MB in %.1f s (until the swap was logged): %.1f MB/s\n' \
    "$(awk -v b="$before" 'BEGIN { print b / 1048576 }')" "$(awk -v b="$after" 'BEGIN { print b / 1048576 }')" \
    "$secs" "$(awk -v b="$before" -v s="$secs" 'BEGIN { print b / 1048576 / s }')"
echo "W2 cleaner idle: $idle"
echo "W2 cleaner busy: $busy"
