#!/usr/bin/env python3
"""Kafka transactions (KIP-98) on a 3-broker strom cluster (issue 16), with
confluent-kafka (librdkafka) and kafka-python. Topics have replication
factor 3 and min.insync.replicas=2; `__transaction_state` is replicated
like any partition, and each transactional id's coordinator is the leader
of its partition.

    test_transactions_cluster.py STROM_BIN CASE

Each case starts its own cluster and exits 0 when it passed:

  commit-abort        test_transactions.py's commit/abort cases (both
                      clients), the zombie and the timeout, on the cluster
  coordinator-failover
                      the coordinator's broker is SIGKILLed while a
                      transaction is open, and again after its commit was
                      decided: the producer goes on at the new coordinator,
                      read_committed sees every committed record once and
                      no aborted one
  leader-failover     a data partition's leader is SIGKILLed in mid-
                      transaction: the transaction goes on at the new
                      leader and commits; its records are read once
  eos-crash           consume-transform-produce with
                      send_offsets_to_transaction while the worker is
                      SIGKILLed again and again and the coordinator's broker
                      once: every input is in the output exactly once
"""
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_transactions as single  # noqa: E402
from test_idempotent_crash_cluster import Cluster  # noqa: E402

from confluent_kafka import KafkaError, KafkaException, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

NODES = 3
# Kafka's default; strom's too.
TXN_STATE_PARTITIONS = 8
DEADLINE = 120


def java_hash(s):
    """Java's String.hashCode, as the brokers pick a partition with it."""
    h = 0
    for ch in s.encode("utf-16-be").decode("utf-16-be"):
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def txn_partition(tid):
    h = java_hash(tid)
    return (0 if h == -(1 << 31) else abs(h)) % TXN_STATE_PARTITIONS


def create_topic(bs, name, partitions):
    """RF 3, min.insync.replicas 2; retried while the cluster forms."""
    admin = AdminClient({"bootstrap.servers": bs})
    topic = NewTopic(name, partitions, NODES, config={"min.insync.replicas": "2"})
    deadline = time.time() + DEADLINE
    while True:
        try:
            for f in admin.create_topics([topic]).values():
                f.result(30)
            break
        except KafkaException as e:
            code = e.args[0].code()
            if code == KafkaError.TOPIC_ALREADY_EXISTS:
                break
            if code != KafkaError.INVALID_REPLICATION_FACTOR or time.time() > deadline:
                raise
        except Exception:  # noqa: BLE001 - a create unanswered while the cluster forms
            if time.time() > deadline:
                raise
        time.sleep(0.2)
    wait_leaders(admin, name, partitions)


def wait_leaders(admin, topic, partitions, isr=NODES):
    """Until every partition of `topic` has a leader and `isr` in-sync replicas."""
    deadline = time.time() + DEADLINE
    while time.time() < deadline:
        try:
            parts = admin.list_topics(topic, timeout=5).topics[topic].partitions
            if len(parts) == partitions and all(
                p.leader > 0 and len(p.isrs) >= isr for p in parts.values()
            ):
                return
        except Exception:  # noqa: BLE001 - retried until the deadline
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{topic} never got leaders and full ISRs")


def leader_of(bs, topic, partition):
    admin = AdminClient({"bootstrap.servers": bs})
    deadline = time.time() + DEADLINE
    while time.time() < deadline:
        try:
            p = admin.list_topics(topic, timeout=5).topics[topic].partitions[partition]
            if p.leader > 0:
                return p.leader
        except Exception:  # noqa: BLE001 - retried until the deadline
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{topic}-{partition} has no leader")


def coordinator_of(bs, tid):
    """The broker that coordinates `tid`: the leader of its partition of
    __transaction_state (created by the controller once 3 brokers are up)."""
    admin = AdminClient({"bootstrap.servers": bs})
    wait_leaders(admin, "__transaction_state", TXN_STATE_PARTITIONS, isr=1)
    return leader_of(bs, "__transaction_state", txn_partition(tid))


def case_commit_abort(cluster):
    bs = cluster.bootstrap
    single.create_topic = create_topic
    single.case_confluent_commit_abort(bs)
    single.case_kafka_python_commit_abort(bs)
    single.case_zombie(bs)
    single.case_timeout(bs)


def kill(cluster, node_id):
    cluster.nodes[node_id - 1].kill()
    print(f"killed broker {node_id}")


def restart(cluster, node_id):
    cluster.nodes[node_id - 1].start()


def kill_and_restart(cluster, node_id, down=2.0):
    kill(cluster, node_id)
    time.sleep(down)
    restart(cluster, node_id)


def case_coordinator_failover(cluster):
    bs = cluster.bootstrap
    create_topic(bs, "tx-cf", 3)
    wait_leaders(AdminClient({"bootstrap.servers": bs}), "__transaction_state", TXN_STATE_PARTITIONS)
    tid = "tid-coordinator-failover"
    p = single.txn_producer(bs, tid, **{"transaction.timeout.ms": 60000})
    # 1. The coordinator dies while the transaction is open.
    p.begin_transaction()
    single.send(p, "tx-cf", [f"a{i}" for i in range(300)], partitions=3)
    p.flush(60)
    coord = coordinator_of(bs, tid)
    kill(cluster, coord)
    # Down until the commit went through elsewhere: a real failover.
    single.send(p, "tx-cf", [f"a{i}" for i in range(300, 600)], partitions=3)
    p.commit_transaction(90)
    after = coordinator_of(bs, tid)
    assert after != coord, (after, coord)
    print(f"committed at coordinator {after} (was {coord})")
    restart(cluster, coord)
    # 2. An abort at the new coordinator.
    p.begin_transaction()
    single.send(p, "tx-cf", [f"x{i}" for i in range(100)], partitions=3)
    p.flush(60)
    p.abort_transaction(60)
    # 3. The coordinator dies right after the commit was asked for: the
    # decision is replicated, so the next coordinator finishes it.
    p.begin_transaction()
    single.send(p, "tx-cf", [f"b{i}" for i in range(300)], partitions=3)
    p.commit_transaction(90)
    second = coordinator_of(bs, tid)
    kill(cluster, second)
    p.begin_transaction()
    single.send(p, "tx-cf", [f"c{i}" for i in range(100)], partitions=3)
    p.commit_transaction(90)
    restart(cluster, second)
    want = sorted([f"a{i}" for i in range(600)] + [f"b{i}" for i in range(300)]
                  + [f"c{i}" for i in range(100)])
    got = single.read_all(bs, "tx-cf", "read_committed", expect_at_least=len(want))
    assert sorted(got) == want, (len(got), len(want), [v for v in got if v.startswith("x")][:5])
    print(f"read_committed: {len(got)} records, each once, 0 aborted")


def case_leader_failover(cluster):
    bs = cluster.bootstrap
    create_topic(bs, "tx-lf", 1)
    tid = "tid-leader-failover"
    p = single.txn_producer(bs, tid, **{"transaction.timeout.ms": 60000})
    coord = coordinator_of(bs, tid)
    for round_ in range(2):
        leader = leader_of(bs, "tx-lf", 0)
        p.begin_transaction()
        single.send(p, "tx-lf", [f"r{round_}-{i}" for i in range(200)], partitions=1)
        p.flush(60)
        # The data partition's leader; if it is also the coordinator, the
        # coordinator fails over too.
        kill(cluster, leader)
        single.send(p, "tx-lf", [f"r{round_}-{i}" for i in range(200, 400)], partitions=1)
        p.commit_transaction(90)
        assert leader_of(bs, "tx-lf", 0) != leader
        restart(cluster, leader)
        wait_leaders(AdminClient({"bootstrap.servers": bs}), "tx-lf", 1)
        print(f"round {round_}: committed across the failover of leader {leader} "
              f"(coordinator {coord})")
    want = sorted(f"r{r}-{i}" for r in range(2) for i in range(400))
    got = single.read_all(bs, "tx-lf", "read_committed", expect_at_least=len(want))
    assert sorted(got) == want, (len(got), len(set(got)), len(want))
    print(f"read_committed: {len(got)} records, each once")


def eos_worker(bs):
    single.eos_worker(bs)


def case_eos_crash(binary, cluster):
    bs = cluster.bootstrap
    create_topic(bs, single.EOS_IN, 3)
    create_topic(bs, single.EOS_OUT, 3)
    feed = Producer({"bootstrap.servers": bs, "enable.idempotence": True})
    for i in range(single.N_INPUT):
        feed.produce(single.EOS_IN, value=str(i).encode(), partition=i % 3)
    feed.flush(60)
    kills = 0
    for kills in range(1, 5):
        w = subprocess.Popen([sys.executable, __file__, "eos-worker", bs])
        time.sleep(random.uniform(7.0, 9.0))
        w.send_signal(signal.SIGKILL)
        w.wait()
        print(f"killed the worker ({kills}); committed so far: {single.committed_total(bs)}")
        if kills == 2:
            kill_and_restart(cluster, coordinator_of(bs, "tid-eos"))
    w = subprocess.Popen([sys.executable, __file__, "eos-worker", bs])
    deadline = time.time() + 180
    try:
        while single.committed_total(bs) < single.N_INPUT:
            assert time.time() < deadline, f"stuck at {single.committed_total(bs)} committed"
            assert w.poll() is None, "worker died"
            time.sleep(0.5)
    finally:
        w.kill()
        w.wait()
    out = single.read_all(bs, single.EOS_OUT, "read_committed", expect_at_least=single.N_INPUT)
    want = sorted(f"out-{i}" for i in range(single.N_INPUT))
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
        cluster = Cluster(binary, tmp)
        for b in cluster.nodes:
            b.extra_args += ["--transaction-abort-check-interval-ms", "200",
                             "--group-initial-rebalance-delay-ms", "0"]
        cluster.start()
        try:
            if case == "eos-crash":
                case_eos_crash(binary, cluster)
            else:
                {
                    "commit-abort": case_commit_abort,
                    "coordinator-failover": case_coordinator_failover,
                    "leader-failover": case_leader_failover,
                }[case](cluster)
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
