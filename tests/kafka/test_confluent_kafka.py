#!/usr/bin/env python3
"""confluent-kafka (librdkafka) against strom, one phase per run; same
phases and arguments as test_kafka_python.py."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TAG = "confluent-kafka"


def produce(bs, topic):
    p = Producer(
        {
            "bootstrap.servers": bs,
            "acks": "all",
            "linger.ms": 5,
            "compression.type": cases.COMPRESSION or "none",
        }
    )
    reports = []

    def on_delivery(err, msg):
        reports.append((err, msg.offset() if err is None else None))

    for i in range(cases.N):
        key, value, headers, ts = cases.record(i, TAG)
        p.produce(topic, key=key, value=value, headers=headers, timestamp=ts, on_delivery=on_delivery)
    left = p.flush(30)
    assert left == 0, f"{left} records not delivered"
    errors = [e for e, _ in reports if e is not None]
    assert not errors, errors
    assert sorted(o for _, o in reports) == list(range(cases.N)), reports
    print(f"produced {cases.N}, all delivered")


def poll(consumer, want, deadline_s=60):
    got = []
    deadline = time.time() + deadline_s
    while len(got) < want and time.time() < deadline:
        m = consumer.poll(0.5)
        if m is None:
            continue
        assert m.error() is None, m.error()
        got.append(m)
    assert len(got) == want, f"consumed {len(got)}, want {want}"
    return sorted(got, key=lambda m: m.offset())


def group_consumer(bs, topic, group):
    c = Consumer(
        {
            "bootstrap.servers": bs,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    c.subscribe([topic])
    return c


def check(m):
    _, ts = m.timestamp()
    cases.check_record(m.offset(), TAG, m.key(), m.value(), m.headers() or [], ts)


def consume_commit(bs, topic, group):
    c = group_consumer(bs, topic, group)
    got = poll(c, cases.N)
    for i, m in enumerate(got):
        assert m.offset() == i, m.offset()
        check(m)
    c.commit(offsets=[TopicPartition(topic, 0, cases.COMMIT_AT)], asynchronous=False)
    committed = c.committed([TopicPartition(topic, 0)], timeout=10)
    assert committed[0].offset == cases.COMMIT_AT, committed
    c.close()
    print(f"consumed {len(got)}, committed {cases.COMMIT_AT}")


def resume(bs, topic, group):
    c = group_consumer(bs, topic, group)
    got = poll(c, cases.N - cases.COMMIT_AT)
    assert got[0].offset() == cases.COMMIT_AT, got[0].offset()
    for m in got:
        check(m)
    c.close()
    print(f"resumed at {got[0].offset()}")


def admin(bs, topic):
    a = AdminClient({"bootstrap.servers": bs})
    for f in a.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)]).values():
        f.result(timeout=10)
    md = a.list_topics(timeout=10)
    assert topic in md.topics, list(md.topics)
    assert len(md.topics[topic].partitions) == 3, md.topics[topic].partitions
    for f in a.delete_topics([topic]).values():
        f.result(timeout=10)
    deadline = time.time() + 10
    while topic in a.list_topics(timeout=10).topics:
        assert time.time() < deadline, "topic still listed after delete"
        time.sleep(0.2)
    print("created, listed, deleted")


def read_strom(bs, topic):
    c = Consumer({"bootstrap.servers": bs, "group.id": "read-strom-confluent", "auto.offset.reset": "earliest"})
    c.assign([TopicPartition(topic, 0, 0)])
    got = poll(c, cases.STROM_N)
    for i, m in enumerate(got):
        cases.check_strom_record(i + 1, m.key(), m.value(), m.headers() or [])
    c.close()
    print(f"read {len(got)} records from strom produce")


def admin_configs(bs, topic):
    """CreateTopics with Kafka configs, CreatePartitions, IncrementalAlterConfigs."""
    from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                       NewPartitions, NewTopic)
    a = AdminClient({"bootstrap.servers": bs})
    cfg = {"compression.type": "producer", "message.timestamp.type": "LogAppendTime"}
    a.create_topics([NewTopic(topic, 1, 1, config=cfg)])[topic].result(30)
    a.create_partitions([NewPartitions(topic, 3)])[topic].result(30)
    r = ConfigResource("topic", topic, incremental_configs=[
        ConfigEntry("retention.ms", "12345", incremental_operation=AlterConfigOpType.SET)])
    a.incremental_alter_configs([r])[r].result(30)
    got = list(a.describe_configs([ConfigResource("topic", topic)]).values())[0].result(30)
    seen = (got["retention.ms"].value, got["message.timestamp.type"].value, got["compression.type"].value)
    assert seen == ("12345", "LogAppendTime", "producer"), seen
    n = len(a.list_topics(timeout=30).topics[topic].partitions)
    assert n == 3, n
    print("configs and partitions altered")


def main():
    bs, phase, arg = sys.argv[1], sys.argv[2], sys.argv[3]
    {
        "produce": lambda: produce(bs, arg),
        "consume-commit": lambda: consume_commit(bs, arg, sys.argv[4]),
        "resume": lambda: resume(bs, arg, sys.argv[4]),
        "admin": lambda: admin(bs, arg),
        "admin-configs": lambda: admin_configs(bs, arg),
        "read-strom": lambda: read_strom(bs, arg),
        "verify-json": lambda: cases.verify_json(arg, TAG),
    }[phase]()


if __name__ == "__main__":
    main()
