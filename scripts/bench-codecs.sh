#!/usr/bin/env bash
# Producer and consumer throughput per codec, 1 KiB records, 1 partition,
# acks=1, beside uncompressed measured in the same run (this machine is
# shared and noisy: compare ratios). Records are kafka-producer-perf-test's
# payload (random upper-case letters), so the codecs' ratios are modest.
# The consumer decodes every record (`perf consume --decode`), inflating
# compressed batches as an application would. Prints medians of REPS runs.
#
#   scripts/bench-codecs.sh
#   REPS=5 RECORDS=500000 CODECS="none zstd" scripts/bench-codecs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
RECORDS=${RECORDS:-300000}
SIZE=${SIZE:-1024}
CODECS=${CODECS:-none gzip snappy lz4 zstd}
source scripts/bench-lib.sh
start_broker

echo "strom codec bench: $RECORDS x $SIZE B, $REPS reps (medians), broker $addr, $(nproc) cores"
# Reps interleave the codecs, so a noisy minute hurts every codec alike.
declare -A prod cons disk
for r in $(seq 1 "$REPS"); do
    for codec in $CODECS; do
        topic="bench-$codec-$r"
        "$bin" topics create -b "$addr" "$topic" --config flush.policy=os >/dev/null
        out=$("$bin" perf produce -b "$addr" --topic "$topic" --num-records "$RECORDS" \
            --record-size "$SIZE" --acks 1 --producer-props "compression.type=$codec" 2>/dev/null | tail -1)
        prod[$codec]+="$(echo "$out" | sed -n 's/.*sent, \([0-9.]*\) records\/sec.*/\1/p') "
        out=$("$bin" perf consume -b "$addr" --topic "$topic" --messages "$RECORDS" --decode 2>/dev/null | tail -1)
        cons[$codec]+="$(echo "$out" | cut -d, -f6 | tr -d ' ') "
        disk[$codec]+="$(cat "$work/data/data/$topic-0/"*.log | wc -c) "
        "$bin" topics delete -b "$addr" "$topic" >/dev/null
    done
done
for codec in $CODECS; do
    p=$(printf '%s\n' ${prod[$codec]} | median)
    c=$(printf '%s\n' ${cons[$codec]} | median)
    d=$(printf '%s\n' ${disk[$codec]} | median)
    [ "$codec" = none ] && { base_p=$p; base_c=$c; base_d=$d; }
    printf '%-7s produce %9.0f rec/s %7.1f MB/s | consume+decode %9.0f rec/s %7.1f MB/s | log %6.1f MB' \
        "$codec" "$p" "$(awk -v n="$p" -v s="$SIZE" 'BEGIN {print n * s / 1048576}')" \
        "$c" "$(awk -v n="$c" -v s="$SIZE" 'BEGIN {print n * s / 1048576}')" \
        "$(awk -v d="$d" 'BEGIN {print d / 1048576}')"
    if [ -n "${base_p:-}" ] && [ "$codec" != none ]; then
        printf ' | vs none: produce %.2fx, consume %.2fx, size %.2fx' \
            "$(awk -v a="$p" -v b="$base_p" 'BEGIN {print a / b}')" \
            "$(awk -v a="$c" -v b="$base_c" 'BEGIN {print a / b}')" \
            "$(awk -v a="$d" -v b="$base_d" 'BEGIN {print a / b}')"
    fi
    echo
done
