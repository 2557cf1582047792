#!/usr/bin/env python3
"""Kafka transactions (KIP-98) against a real strom broker, with
confluent-kafka (librdkafka) and kafka-python.

    test_transactions.py STROM_BIN CASE

Each case starts its own broker on a fresh data dir (transactions open past
their timeout are checked for every 200 ms) and exits 0 when it passed:

  confluent-commit-abort  committed and aborted transactions; read_committed
                          sees only the committed ones, read_uncommitted all
  kafka-python-commit-abort  the same with kafka-python's producer/consumer
  zombie                  a second producer with the same transactional.id
                          fences the first and aborts its open transaction
  timeout                 a transaction left open past transaction.timeout.ms
                          is aborted; the consumer moves past it
  eos-crash               consume-transform-produce with
                          send_offsets_to_transaction, the worker SIGKILLed
                          again and again (and the broker once): every input
                          is in the output exactly once
"""
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_idempotent_crash import Broker  # noqa: E402

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

DEADLINE = 60


def create_topic(bs, name, partitions):
    admin = AdminClient({"bootstrap.servers": bs})
    for f in admin.create_topics([NewTopic(name, partitions, 1)]).values():
        f.result(30)


def read_all(bs, topic, isolation, expect_at_least=None, idle=3.0):
    """Every value in `topic` (all partitions) under `isolation`, read until
    `expect_at_least` values came (or, without it, nothing new for `idle`
    seconds), within DEADLINE."""
    c = Consumer({
        "bootstrap.servers": bs,
        "group.id": f"reader-{random.random()}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "isolation.level": isolation,
    })
    c.subscribe([topic])
    out = []
    deadline = time.time() + DEADLINE
    last_new = time.time()
    while time.time() < deadline:
        m = c.poll(0.2)
        if m is None:
            if expect_at_least is None and time.time() - last_new > idle:
                break
            continue
        if m.error():
            continue
        out.append(m.value().decode())
        last_new = time.time()
        if expect_at_least is not None and len(out) >= expect_at_least:
            # A little longer, so extra records would show.
            expect_at_least = None
            last_new = time.time()
    c.close()
    return out


def txn_producer(bs, tid, **extra):
    p = Producer({"bootstrap.servers": bs, "transactional.id": tid, **extra})
    p.init_transactions(30)
    return p


def send(p, topic, values, partitions=2):
    for i, v in enumerate(values):
        p.produce(topic, value=v.encode(), key=str(i).encode(), partition=i % partitions)


def case_confluent_commit_abort(bs):
    create_topic(bs, "tx-c", 2)
    p = txn_producer(bs, "tid-confluent")
    p.begin_transaction()
    send(p, "tx-c", [f"a{i}" for i in range(100)])
    p.commit_transaction(30)
    p.begin_transaction()
    send(p, "tx-c", [f"x{i}" for i in range(100)])
    p.flush(30)
    p.abort_transaction(30)
    p.begin_transaction()
    send(p, "tx-c", [f"b{i}" for i in range(100)])
    p.commit_transaction(30)
    committed = read_all(bs, "tx-c", "read_committed", expect_at_least=200)
    assert sorted(committed) == sorted([f"a{i}" for i in range(100)] + [f"b{i}" for i in range(100)]), \
        (len(committed), [v for v in committed if v.startswith("x")][:5])
    everything = read_all(bs, "tx-c", "read_uncommitted", expect_at_least=300)
    assert len(everything) == 300, len(everything)
    print("read_committed: 200 committed, 0 aborted; read_uncommitted: 300")


def case_kafka_python_commit_abort(bs):
    from kafka import KafkaConsumer, KafkaProducer
    create_topic(bs, "tx-kp", 2)
    p = KafkaProducer(bootstrap_servers=bs, transactional_id="tid-kafka-python")
    p.init_transactions()
    p.begin_transaction()
    for i in range(50):
        p.send("tx-kp", value=f"a{i}".encode(), partition=i % 2)
    p.commit_transaction()
    p.begin_transaction()
    for i in range(50):
        p.send("tx-kp", value=f"x{i}".encode(), partition=i % 2)
    p.flush()
    p.abort_transaction()
    p.begin_transaction()
    for i in range(50):
        p.send("tx-kp", value=f"b{i}".encode(), partition=i % 2)
    p.commit_transaction()
    p.close()
    for isolation, want in (("read_committed", 100), ("read_uncommitted", 150)):
        c = KafkaConsumer("tx-kp", bootstrap_servers=bs, auto_offset_reset="earliest",
                          isolation_level=isolation, consumer_timeout_ms=4000,
                          group_id=None)
        got = [m.value.decode() for m in c]
        c.close()
        assert len(got) == want, (isolation, len(got))
        if isolation == "read_committed":
            assert not [v for v in got if v.startswith("x")], got
    print("kafka-python: read_committed 100, read_uncommitted 150")
    # confluent-kafka reads kafka-python's transactions the same way.
    assert len(read_all(bs, "tx-kp", "read_committed", expect_at_least=100)) == 100


def case_zombie(bs):
    create_topic(bs, "tx-z", 1)
    old = txn_producer(bs, "tid-zombie")
    old.begin_transaction()
    send(old, "tx-z", ["zombie"] * 5, partitions=1)
    old.flush(30)
    new = txn_producer(bs, "tid-zombie")  # fences `old`, aborts its txn
    new.begin_transaction()
    send(new, "tx-z", ["new"] * 5, partitions=1)
    new.commit_transaction(30)
    fenced = False
    try:
        old.produce("tx-z", value=b"zombie-late", partition=0)
        old.commit_transaction(30)
    except KafkaException as e:
        fenced = True
        print("old producer:", e)
    assert fenced, "the zombie's commit must fail"
    got = read_all(bs, "tx-z", "read_committed", expect_at_least=5)
    assert got == ["new"] * 5, got


def case_timeout(bs):
    create_topic(bs, "tx-t", 1)
    stuck = txn_producer(bs, "tid-stuck", **{"transaction.timeout.ms": 2000})
    stuck.begin_transaction()
    send(stuck, "tx-t", ["left-open"] * 3, partitions=1)
    stuck.flush(30)
    # Committed after the open transaction: read_committed sees it only
    # once the open one is aborted by the broker.
    other = txn_producer(bs, "tid-other")
    other.begin_transaction()
    send(other, "tx-t", ["after"], partitions=1)
    other.commit_transaction(30)
    got = read_all(bs, "tx-t", "read_committed", expect_at_least=1)
    assert got == ["after"], got
    try:
        stuck.commit_transaction(10)
        raise AssertionError("commit of a timed-out transaction succeeded")
    except KafkaException as e:
        print("timed-out producer:", e)


# ------------------------------------------------------- exactly once
N_INPUT = 10000
EOS_IN, EOS_OUT, EOS_GROUP = "eos-in", "eos-out", "eos-group"


def eos_worker(bs):
    """Consumes EOS_IN, writes `out-<value>` to EOS_OUT, offsets in the same
    transaction, up to 20 records per transaction (paced, so that the kills
    land while the input is still being worked through); runs until killed."""
    c = Consumer({
        "bootstrap.servers": bs, "group.id": EOS_GROUP,
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
        "isolation.level": "read_committed",
        # A killed worker's member leaves the group soon.
        "session.timeout.ms": 6000,
    })
    c.subscribe([EOS_IN])
    p = Producer({"bootstrap.servers": bs, "transactional.id": "tid-eos",
                  "transaction.timeout.ms": 10000})
    p.init_transactions(30)
    while True:
        msgs = [m for m in c.consume(20, 0.5) if not m.error()]
        if not msgs:
            continue
        p.begin_transaction()
        for m in msgs:
            p.produce(EOS_OUT, value=b"out-" + m.value(), partition=m.partition())
        p.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 30)
        p.commit_transaction(30)
        time.sleep(0.03)


def committed_total(bs):
    c = Consumer({"bootstrap.servers": bs, "group.id": EOS_GROUP})
    try:
        parts = c.committed([TopicPartition(EOS_IN, i) for i in range(3)], 10)
        return sum(max(tp.offset, 0) for tp in parts)
    except KafkaException:
        return -1
    finally:
        c.close()


def case_eos_crash(binary, broker, bs):
    create_topic(bs, EOS_IN, 3)
    create_topic(bs, EOS_OUT, 3)
    feed = Producer({"bootstrap.servers": bs, "enable.idempotence": True})
    for i in range(N_INPUT):
        feed.produce(EOS_IN, value=str(i).encode(), partition=i % 3)
    feed.flush(30)
    kills = 0
    for kills in range(1, 5):
        w = subprocess.Popen([sys.executable, __file__, "eos-worker", bs])
        # Past the dead member's session timeout (6 s), so every worker gets
        # partitions and is killed mid-stream.
        time.sleep(random.uniform(7.0, 9.0))
        w.send_signal(signal.SIGKILL)
        w.wait()
        print(f"killed the worker ({kills}); committed so far: {committed_total(bs)}")
        if kills == 1:
            broker.kill()
            broker.start()
            print("killed and restarted the broker")
    # The last worker runs until every input's offset is committed.
    w = subprocess.Popen([sys.executable, __file__, "eos-worker", bs])
    deadline = time.time() + 120
    try:
        while committed_total(bs) < N_INPUT:
            assert time.time() < deadline, f"stuck at {committed_total(bs)} committed"
            assert w.poll() is None, "worker died"
            time.sleep(0.5)
    finally:
        w.kill()
        w.wait()
    out = read_all(bs, EOS_OUT, "read_committed", expect_at_least=N_INPUT)
    want = sorted(f"out-{i}" for i in range(N_INPUT))
    dup = len(out) - len(set(out))
    missing = len(set(want) - set(out))
    print(f"output: {len(out)} records, {dup} duplicates, {missing} missing, {kills} worker kills")
    assert sorted(out) == want


def main():
    if sys.argv[1] == "eos-worker":
        eos_worker(sys.argv[2])
        return
    binary, case = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(binary, os.path.join(tmp, "data"), tmp,
                        ["--transaction-abort-check-interval-ms", "200",
                         "--group-initial-rebalance-delay-ms", "0"])
        broker.start()
        bs = f"127.0.0.1:{broker.port}"
        try:
            if case == "eos-crash":
                case_eos_crash(binary, broker, bs)
            else:
                {
                    "confluent-commit-abort": case_confluent_commit_abort,
                    "kafka-python-commit-abort": case_kafka_python_commit_abort,
                    "zombie": case_zombie,
                    "timeout": case_timeout,
                }[case](bs)
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
