#!/usr/bin/env bash
# Throughput of a transactional producer beside a plain idempotent one, in
# the same run against the same broker: 1 KiB records, transactions of
# 1,000 records (issue 16). The driver is confluent-kafka (librdkafka).
#
#   STROM_TEST_PYTHON=.venv/bin/python scripts/bench-transactions.sh [RECORDS] [ROUNDS]
#
# Prints records/s and MB/s per mode, the median of ROUNDS runs each
# (modes interleaved so both see the same machine load).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${STROM_TEST_PYTHON:?set STROM_TEST_PYTHON to a python with confluent-kafka}"
RECORDS=${1:-200000}
ROUNDS=${2:-3}
source scripts/bench-lib.sh
start_broker

cat >"$work/drive.py" <<'PY'
import sys, time
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

bs, mode, topic, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
TXN = 1000
admin = AdminClient({"bootstrap.servers": bs})
for f in admin.create_topics([NewTopic(topic, 3, 1)]).values():
    f.result(30)
conf = {"bootstrap.servers": bs, "acks": "all", "linger.ms": 5,
        "enable.idempotence": True, "queue.buffering.max.messages": 1000000}
if mode == "transactional":
    conf["transactional.id"] = f"bench-{topic}"
p = Producer(conf)
value = b"x" * 1024
if mode == "transactional":
    p.init_transactions(30)
start = time.time()
sent = 0
while sent < n:
    if mode == "transactional":
        p.begin_transaction()
    for _ in range(min(TXN, n - sent)):
        while True:
            try:
                p.produce(topic, value=value)
                break
            except BufferError:
                p.poll(0.01)
        sent += 1
    if mode == "transactional":
        p.commit_transaction(60)
    else:
        p.poll(0)
p.flush(60)
secs = time.time() - start
print(f"{n / secs:.0f} {n * 1024 / secs / 1e6:.1f}")
PY

for mode in idempotent transactional; do : >"$work/$mode.rates"; done
for round in $(seq 1 "$ROUNDS"); do
    for mode in idempotent transactional; do
        "$STROM_TEST_PYTHON" "$work/drive.py" "$addr" "$mode" "bench-$mode-$round" "$RECORDS" >>"$work/$mode.rates"
    done
done
echo "records=$RECORDS record_bytes=1024 transaction_records=1000 rounds=$ROUNDS"
for mode in idempotent transactional; do
    rps=$(cut -d' ' -f1 "$work/$mode.rates" | median)
    mbs=$(cut -d' ' -f2 "$work/$mode.rates" | median)
    printf '%-14s %8s records/s %7s MB/s\n' "$mode" "$rps" "$mbs"
done
