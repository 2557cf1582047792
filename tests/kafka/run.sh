#!/usr/bin/env bash
# Kafka-client compatibility: kcat (librdkafka), kafka-python,
# confluent-kafka and kafkajs against a real strom broker, plus records crossing between
# those clients and `strom produce` / `strom consume`.
#
#   STROM_BIN=target/debug/strom STROM_TEST_PYTHON=.venv/bin/python tests/kafka/run.sh
#
# Starts a broker on an ephemeral port (and restarts it on the same port and
# data dir half way), runs every case under `timeout`, prints
# "N passed, N failed" and exits non-zero if anything failed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
: "${STROM_BIN:?set STROM_BIN to the strom binary}"
: "${STROM_TEST_PYTHON:?set STROM_TEST_PYTHON to a python with kafka-python and confluent-kafka}"
PY=$STROM_TEST_PYTHON
STEP_TIMEOUT=${STROM_TEST_STEP_TIMEOUT:-120}
# Timestamps the Python clients give their records (see cases.py).
export STROM_TEST_BASE_TS=$(( ($(date +%s) - 3600) * 1000 ))

work=$(mktemp -d)
data="$work/data"
broker_pid=""
port=""
passed=0
failed=0

log() { printf '%s\n' "$*" >&2; }

stop_broker() {
    if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
        kill -TERM "$broker_pid" 2>/dev/null
        for _ in $(seq 1 100); do
            kill -0 "$broker_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$broker_pid" 2>/dev/null
        wait "$broker_pid" 2>/dev/null
    fi
    broker_pid=""
}

cleanup() {
    stop_broker
    if [ -n "${STROM_TEST_KEEP:-}" ]; then
        log "kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# start_broker LISTEN: starts strom and waits (with a deadline) for its
# "listening on HOST:PORT" line; sets $port and $bs.
start_broker() {
    local listen=$1 logf="$work/broker.$(date +%s%N).log"
    STROM_LOG_CLEANER_BACKOFF_MS=${STROM_LOG_CLEANER_BACKOFF_MS:-200} \
        RUST_LOG=${RUST_LOG:-strom=info} "$STROM_BIN" serve --listen "$listen" --data-dir "$data" \
        --group-initial-rebalance-delay-ms 0 2>"$logf" &
    broker_pid=$!
    local deadline=$((SECONDS + 30))
    while [ $SECONDS -lt $deadline ]; do
        local line
        line=$(grep -m1 -o 'listening on [0-9.]*:[0-9]*' "$logf" 2>/dev/null)
        if [ -n "$line" ]; then
            port=${line##*:}
            bs="127.0.0.1:$port"
            export port bs
            log "broker up on $bs (pid $broker_pid, log $logf)"
            return 0
        fi
        if ! kill -0 "$broker_pid" 2>/dev/null; then
            log "broker exited early:"; cat "$logf" >&2
            return 1
        fi
        sleep 0.1
    done
    log "broker did not report its address within 30s:"; cat "$logf" >&2
    return 1
}

# check NAME CMD...: runs one case under a timeout and counts it.
check() {
    local name=$1; shift
    local out="$work/case.out"
    if timeout "$STEP_TIMEOUT" "$@" >"$out" 2>&1; then
        passed=$((passed + 1))
        log "PASS $name"
    else
        failed=$((failed + 1))
        log "FAIL $name"
        tail -n 40 "$out" | sed 's/^/    /' >&2
    fi
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

if ! start_broker 127.0.0.1:0; then
    failed=$((failed + 1))
    finish
fi

# ---------------------------------------------------------------- kcat
KCAT_N=10000
seq 1 $KCAT_N | awk '{ printf "key%d:value %d\n", $1, $1 }' >"$work/kcat.in"

kcat_produce() {
    kcat -b "$bs" -t kcat-lines -P -K: -X acks=all <"$work/kcat.in"
}
kcat_read_back() {
    kcat -b "$bs" -t kcat-lines -C -o beginning -e -q -f '%k:%s\n' >"$work/kcat.out" &&
        cmp "$work/kcat.in" "$work/kcat.out"
}
kcat_list() {
    local out
    out=$(kcat -b "$bs" -L) || return 1
    echo "$out"
    grep -q "broker 1 at 127.0.0.1:$port" <<<"$out" &&
        grep -q 'topic "kcat-lines" with 1 partitions' <<<"$out"
}
kcat_group() {
    local n
    n=$(kcat -b "$bs" -G kcat-group -X auto.offset.reset=earliest -c $KCAT_N -q -f '%s\n' kcat-lines | wc -l)
    echo "consumed $n"
    [ "$n" -eq $KCAT_N ]
}
export work KCAT_N
export -f kcat_produce kcat_read_back kcat_list kcat_group
check "kcat -P 10000 keyed lines" bash -c kcat_produce
check "kcat -C -o beginning -e reads them back identical" bash -c kcat_read_back
check "kcat -L lists the broker and topics" bash -c kcat_list
check "kcat -G consumes as a group" bash -c kcat_group

# ------------------------------------------------- Python clients, part 1
for client in kafka_python confluent_kafka; do
    script="$here/test_$client.py"
    topic="py-$client"
    check "$client: produce keyed records with headers" "$PY" "$script" "$bs" produce "$topic"
    check "$client: group consume, commit, close" "$PY" "$script" "$bs" consume-commit "$topic" "group-$client"
    check "$client: admin create, list, delete topic" "$PY" "$script" "$bs" admin "admin-$client"
    check "$client: strom consume reads its records intact" bash -c \
        "'$STROM_BIN' consume -b '$bs' -t '$topic' --from-beginning -e --output json >'$work/$client.json' &&
         '$PY' '$script' '$bs' verify-json '$work/$client.json'"
done

# A compacted topic: strom writes it, the cleaner makes gaps, and both
# Python clients read it to its end with every key's newest value.
compacted_setup() {
    "$STROM_BIN" topics create compacted -b "$bs" --config cleanup.policy=compact \
        --config segment.bytes=4096 --config min.cleanable.dirty.ratio=0.01 || return 1
    for r in $(seq 0 39); do
        for k in $(seq 0 9); do echo "key$k:r$r-k$k-$(printf '%060d' "$k")"; done
    done | "$STROM_BIN" produce -b "$bs" -t compacted -K: --producer-property batch.size=1024 || return 1
    local deadline=$((SECONDS + 60)) n
    while [ $SECONDS -lt $deadline ]; do
        n=$("$STROM_BIN" consume -b "$bs" -t compacted --from-beginning -e | wc -l)
        if [ "$n" -lt 100 ]; then
            echo "compacted to $n records"
            "$STROM_BIN" consume -b "$bs" -t compacted --from-beginning -e -f '%k %o %s\n' |
                awk 'BEGIN { printf "{" } { printf "%s\"%s\": [%s, \"%s\"]", (NR > 1 ? ", " : ""), $1, $2, $3 }
                     END { printf ", \"end\": 400}\n" }' >"$work/compacted.json"
            return 0
        fi
        sleep 0.2
    done
    echo "not compacted: $n records"
    return 1
}
export -f compacted_setup
check "strom: a compacted topic is cleaned" bash -c compacted_setup
for client in kafka_python confluent_kafka; do
    check "$client: reads a compacted topic across its gaps" \
        "$PY" "$here/test_compaction.py" "$bs" "$client" compacted "$work/compacted.json"
done

check "confluent_kafka: create_partitions, incremental_alter_configs, describe_configs" \
    "$PY" "$here/test_confluent_kafka.py" "$bs" admin-configs admin-configs-confluent

# Kafka clients' groups are the broker's groups: strom sees their commits
# and computes lag (committed at COMMIT_AT=60 of N=100 records).
for client in kafka_python confluent_kafka; do
    check "$client: its group shows in strom groups describe with correct lag" bash -c \
        "'$STROM_BIN' groups describe -b '$bs' --group 'group-$client' --output json >'$work/$client-group.json' &&
         '$PY' -c 'import json,sys
d = json.load(open(sys.argv[1]))
d = d[0] if isinstance(d, list) else d
rows = [r for r in d[\"partitions\"] if r[\"topic\"] == sys.argv[2]]
cur = sum(r[\"current_offset\"] or 0 for r in rows)
end = sum(r[\"log_end_offset\"] or 0 for r in rows)
lag = sum(r[\"lag\"] or 0 for r in rows)
assert (cur, end, lag) == (60, 100, 40), (cur, end, lag, rows)
' '$work/$client-group.json' 'py-$client'"
done

# strom produce -> each client
seq 1 20 | awk '{ printf "sk%d:sv%d\n", $1, $1 }' >"$work/strom.in"
check "strom produce -K -H" bash -c \
    "'$STROM_BIN' produce -b '$bs' -t from-strom -K : -H src=strom -H kind=cli <'$work/strom.in'"
for client in kafka_python confluent_kafka; do
    check "$client: reads records written by strom produce" \
        "$PY" "$here/test_$client.py" "$bs" read-strom from-strom
done

check "kafka_python: describe_cluster, describe_producers, describe_log_dirs, delete_group_offsets, elect_leaders, delete_groups" \
    "$PY" "$here/test_admin_ops.py" "$bs" all
check "confluent_kafka: dynamic broker configs (IncrementalAlterConfigs/DescribeConfigs on BROKER)" \
    "$PY" "$here/test_broker_configs.py" "$bs"

# ------------------------------------------------------------- kafkajs
# A pure-JavaScript client (its own protocol code, not librdkafka's):
# admin, idempotent and gzip producers, a group consumer. scripts/test.sh
# installs it (npm ci in tests/kafka/js); missing, it counts as a failure.
js="$here/js"
if [ -d "$js/node_modules/kafkajs" ] && command -v node >/dev/null 2>&1; then
    export KAFKAJS_NO_PARTITIONER_WARNING=1 STROM_BIN
    check "kafkajs: admin create, list, describe, createPartitions, deleteTopicRecords, describe/alterConfigs, delete" \
        node "$js/test_kafkajs.mjs" "$bs" admin js-admin
    check "kafkajs: idempotent producer, strom reads every record once, in order" \
        node "$js/test_kafkajs.mjs" "$bs" idempotent-produce js-idempotent 2000
    check "kafkajs: gzip producer read by strom; strom's gzip read by kafkajs" \
        node "$js/test_kafkajs.mjs" "$bs" gzip js-gzip
    check "kafkajs: group consumer commits; describeGroups, fetchOffsets, strom groups agree" \
        node "$js/test_kafkajs.mjs" "$bs" group js-group js-group-g
else
    failed=$((failed + 1))
    log "FAIL kafkajs: not installed (run: npm ci --prefix $js)"
fi

# ------------------------------------------------------------- codecs
source "$here/codecs.sh"

# --------------------------------------- restart, then resume from commits
stop_broker
if ! start_broker "127.0.0.1:$port"; then
    failed=$((failed + 1))
    finish
fi
check "kcat reads back after restart" bash -c kcat_read_back
for client in kafka_python confluent_kafka; do
    check "$client: resumes from the committed offset after restart" \
        "$PY" "$here/test_$client.py" "$bs" resume "py-$client" "group-$client"
done

# ------------------------------- idempotence through broker crashes (#13)
# Its own broker, killed with SIGKILL 5 times in each of 5 rounds while two
# busy loops hold the CPUs; every acknowledged record exactly once, in order.
STEP_TIMEOUT=$((STEP_TIMEOUT + 120)) check \
    "confluent_kafka: idempotent producer through 5x5 broker SIGKILLs under CPU load: no duplicate, no reorder" \
    "$PY" "$here/test_idempotent_crash.py" "$STROM_BIN" 5 5
# The cluster variant: RF 3, the leader of a partition SIGKILLed 6 times in
# each of 3 rounds, every other time kept down until a new leader is elected.
STEP_TIMEOUT=$((STEP_TIMEOUT + 180)) check \
    "confluent_kafka: idempotent producer through 3x6 leader SIGKILLs in a 3-broker cluster: no duplicate, no reorder" \
    "$PY" "$here/test_idempotent_crash_cluster.py" "$STROM_BIN" 3 6

# ------------------------------------------------ transactions (#16)
# Each case starts its own broker (see test_transactions.py).
for case in confluent-commit-abort kafka-python-commit-abort zombie timeout; do
    check "transactions: $case" "$PY" "$here/test_transactions.py" "$STROM_BIN" "$case"
done
STEP_TIMEOUT=$((STEP_TIMEOUT + 120)) check \
    "transactions: consume-transform-produce exactly once across SIGKILLs of the worker and the broker" \
    "$PY" "$here/test_transactions.py" "$STROM_BIN" eos-crash
# On a 3-broker cluster (RF 3): each case starts its own cluster (see
# test_transactions_cluster.py).
for case in commit-abort coordinator-failover leader-failover; do
    STEP_TIMEOUT=$((STEP_TIMEOUT + 60)) check "transactions in a cluster: $case" \
        "$PY" "$here/test_transactions_cluster.py" "$STROM_BIN" "$case"
done
STEP_TIMEOUT=$((STEP_TIMEOUT + 180)) check \
    "transactions in a cluster: consume-transform-produce exactly once across SIGKILLs of the worker and the coordinator's broker" \
    "$PY" "$here/test_transactions_cluster.py" "$STROM_BIN" eos-crash

finish
