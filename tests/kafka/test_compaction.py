"""Kafka clients read a compacted topic (gaps between offsets, batches with
fewer records than their offset range, empty batches) to its end, and see
every key's newest value.

    test_compaction.py BOOTSTRAP CLIENT TOPIC EXPECTED_JSON

EXPECTED_JSON: {"key": [offset, value], ...} (what `strom consume` read)
and "end": the log end offset.
"""
import json
import sys
import time


def read_kafka_python(bs, topic, end):
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(bootstrap_servers=bs, enable_auto_commit=False, consumer_timeout_ms=1000)
    tp = TopicPartition(topic, 0)
    c.assign([tp])
    c.seek_to_beginning(tp)
    got = []
    deadline = time.time() + 60
    while c.position(tp) < end and time.time() < deadline:
        for batch in c.poll(timeout_ms=500).values():
            got.extend((r.offset, r.key, r.value) for r in batch)
    assert c.position(tp) >= end, (c.position(tp), end)
    c.close()
    return got


def read_confluent(bs, topic, end):
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bs, "group.id": "compaction-check",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.time() + 60
    while time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                break
            raise RuntimeError(m.error())
        got.append((m.offset(), m.key(), m.value()))
    c.close()
    return got


def main():
    bs, client, topic, path = sys.argv[1:5]
    with open(path) as f:
        expected = json.load(f)
    end = expected.pop("end")
    read = read_kafka_python if client == "kafka_python" else read_confluent
    got = read(bs, topic, end)
    offsets = [o for o, _, _ in got]
    assert offsets == sorted(set(offsets)), offsets
    latest = {}
    for o, k, v in got:
        latest[k.decode()] = [o, v.decode()]
    assert latest == expected, (latest, expected)
    print(f"{client}: read {len(got)} records up to {end}, newest of {len(latest)} keys")


if __name__ == "__main__":
    main()
