#!/usr/bin/env bash
# Produce throughput with `serve --metrics` on and off, measured in the same
# run: W1 (100 B records) and W2 (1 KiB records), `strom perf produce` with
# acks=1 into one partition, the broker restarted between cases. Rounds
# alternate which case goes first so drift on this shared machine falls on
# both alike. While metrics are on, /metrics is scraped every second, as a
# Prometheus with a short interval would. Prints the median records/s of
# each case and the on/off ratio (target: within 2%, i.e. >= 0.98).
#
#   scripts/bench-metrics.sh                  # builds release, 3 rounds
#   ROUNDS=5 W1_RECORDS=5000000 scripts/bench-metrics.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
W1_RECORDS=${W1_RECORDS:-3000000}
W2_RECORDS=${W2_RECORDS:-1000000}
source scripts/bench-lib.sh

metrics_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Runs one perf produce; prints its records/s.
produce_once() {
    local topic=$1 size=$2 records=$3
    "$bin" topics create -b "$addr" "$topic" --config flush.policy=os >/dev/null
    "$bin" perf produce -b "$addr" --topic "$topic" --num-records "$records" \
        --record-size "$size" --acks 1 2>/dev/null | tail -1 |
        sed -n 's/.*sent, \([0-9.]*\) records\/sec.*/\1/p'
}

# One case: metrics "on" or "off"; prints records/s.
run_one() {
    local mode=$1 size=$2 records=$3 topic=$4 scraper="" rate
    if [ "$mode" = on ]; then
        local port
        port=$(metrics_port)
        start_broker --metrics "127.0.0.1:$port"
        (while sleep 1; do curl -s -o /dev/null "http://127.0.0.1:$port/metrics" || true; done) &
        scraper=$!
    else
        start_broker
    fi
    rate=$(produce_once "$topic" "$size" "$records")
    [ -n "$scraper" ] && kill "$scraper" 2>/dev/null && wait "$scraper" 2>/dev/null || true
    stop_broker
    rm -rf "$work/data"
    echo "$rate"
}

run_workload() {
    local name=$1 size=$2 records=$3
    local on=() off=()
    for r in $(seq 1 "$ROUNDS"); do
        local first=off second=on
        if [ $((r % 2)) -eq 0 ]; then first=on second=off; fi
        for mode in $first $second; do
            local rate
            rate=$(run_one "$mode" "$size" "$records" "bench-$name-$r-$mode")
            if [ "$mode" = on ]; then on+=("$rate"); else off+=("$rate"); fi
            printf '  %s round %d metrics %-3s %12.0f rec/s\n' "$name" "$r" "$mode" "$rate" >&2
        done
    done
    local m_on m_off
    m_on=$(printf '%s\n' "${on[@]}" | median)
    m_off=$(printf '%s\n' "${off[@]}" | median)
    printf '%-3s %-5s metrics off %12.0f rec/s | metrics on %12.0f rec/s | on/off %.3f\n' \
        "$name" "$size B" "$m_off" "$m_on" "$(awk -v a="$m_on" -v b="$m_off" 'BEGIN {print a / b}')"
}

echo "strom metrics bench: $ROUNDS rounds (medians), acks=1, 1 partition, data in $work, $(nproc) cores"
run_workload W1 100 "$W1_RECORDS"
run_workload W2 1024 "$W2_RECORDS"
