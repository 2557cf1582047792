#!/usr/bin/env python3
"""kafka-python against strom, one phase per run (run.sh restarts the broker
between phases):

  test_kafka_python.py BOOTSTRAP produce TOPIC
  test_kafka_python.py BOOTSTRAP consume-commit TOPIC GROUP
  test_kafka_python.py BOOTSTRAP resume TOPIC GROUP
  test_kafka_python.py BOOTSTRAP admin TOPIC
  test_kafka_python.py BOOTSTRAP read-strom TOPIC
  test_kafka_python.py BOOTSTRAP verify-json FILE
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import NewTopic  # noqa: E402
from kafka.structs import OffsetAndMetadata  # noqa: E402

TAG = "kafka-python"


def produce(bs, topic):
    p = KafkaProducer(
        bootstrap_servers=bs, acks="all", linger_ms=5, compression_type=cases.COMPRESSION
    )
    futures = []
    for i in range(cases.N):
        key, value, headers, ts = cases.record(i, TAG)
        futures.append(p.send(topic, key=key, value=value, headers=headers, timestamp_ms=ts))
    p.flush(timeout=30)
    offsets = [f.get(timeout=30).offset for f in futures]
    assert offsets == list(range(cases.N)), offsets
    p.close()
    print(f"produced {cases.N}")


def poll(consumer, want, deadline_s=60):
    got = []
    deadline = time.time() + deadline_s
    while len(got) < want and time.time() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            got.extend(records)
    assert len(got) == want, f"consumed {len(got)}, want {want}"
    return sorted(got, key=lambda r: r.offset)


def group_consumer(bs, topic, group):
    return KafkaConsumer(
        topic,
        bootstrap_servers=bs,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )


def offset_and_metadata(offset):
    try:
        return OffsetAndMetadata(offset, "", -1)  # kafka-python >= 2.1
    except TypeError:
        return OffsetAndMetadata(offset, "")


def consume_commit(bs, topic, group):
    c = group_consumer(bs, topic, group)
    got = poll(c, cases.N)
    for i, r in enumerate(got):
        assert r.offset == i, r
        cases.check_record(i, TAG, r.key, r.value, r.headers, r.timestamp)
    tp = TopicPartition(topic, 0)
    c.commit({tp: offset_and_metadata(cases.COMMIT_AT)})
    assert c.committed(tp) == cases.COMMIT_AT, c.committed(tp)
    c.close()
    print(f"consumed {len(got)}, committed {cases.COMMIT_AT}")


def resume(bs, topic, group):
    c = group_consumer(bs, topic, group)
    got = poll(c, cases.N - cases.COMMIT_AT)
    assert got[0].offset == cases.COMMIT_AT, got[0]
    for r in got:
        cases.check_record(r.offset, TAG, r.key, r.value, r.headers, r.timestamp)
    c.close()
    print(f"resumed at {got[0].offset}")


def admin(bs, topic):
    a = KafkaAdminClient(bootstrap_servers=bs)
    a.create_topics([NewTopic(name=topic, num_partitions=3, replication_factor=1)])
    assert topic in a.list_topics(), a.list_topics()
    described = a.describe_topics([topic])
    assert len(described[0]["partitions"]) == 3, described
    a.delete_topics([topic])
    deadline = time.time() + 10
    while topic in a.list_topics():
        assert time.time() < deadline, "topic still listed after delete"
        time.sleep(0.2)
    a.close()
    print("created, listed, deleted")


def read_strom(bs, topic):
    c = KafkaConsumer(topic, bootstrap_servers=bs, group_id=None, auto_offset_reset="earliest")
    got = poll(c, cases.STROM_N)
    for i, r in enumerate(got):
        cases.check_strom_record(i + 1, r.key, r.value, r.headers)
    c.close()
    print(f"read {len(got)} records from strom produce")


def main():
    bs, phase, arg = sys.argv[1], sys.argv[2], sys.argv[3]
    {
        "produce": lambda: produce(bs, arg),
        "consume-commit": lambda: consume_commit(bs, arg, sys.argv[4]),
        "resume": lambda: resume(bs, arg, sys.argv[4]),
        "admin": lambda: admin(bs, arg),
        "read-strom": lambda: read_strom(bs, arg),
        "verify-json": lambda: cases.verify_json(arg, TAG),
    }[phase]()


if __name__ == "__main__":
    main()
