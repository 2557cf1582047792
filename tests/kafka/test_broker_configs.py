#!/usr/bin/env python3
"""Dynamic broker configs through confluent-kafka's admin client (issue 13):
IncrementalAlterConfigs and DescribeConfigs on the BROKER resource of the
broker's node id (librdkafka cannot name the cluster default ""), a topic inheriting the new default, refusals for unknown
keys, then the default removed again.

  test_broker_configs.py BOOTSTRAP
"""
import sys

from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                   ConfigSource, NewTopic, ResourceType)
from confluent_kafka import KafkaException

TOPIC = "broker-configs-inherit"


def incremental(a, name, key, value, op=AlterConfigOpType.SET):
    res = ConfigResource(ResourceType.BROKER, name,
                         incremental_configs=[ConfigEntry(key, value, incremental_operation=op)])
    for f in a.incremental_alter_configs([res]).values():
        f.result(20)


def describe(a, rtype, name):
    (f,) = a.describe_configs([ConfigResource(rtype, name)]).values()
    return f.result(20)


def main(bs):
    a = AdminClient({"bootstrap.servers": bs})
    for f in a.create_topics([NewTopic(TOPIC, 1, 1)]).values():
        f.result(20)
    node = str(next(iter(a.list_topics(timeout=10).brokers)))
    incremental(a, node, "log.retention.ms", "3600000")
    broker = describe(a, ResourceType.BROKER, node)
    e = broker["log.retention.ms"]
    print("broker default:", e.value, e.source)
    assert e.value == "3600000" and e.source == ConfigSource.DYNAMIC_BROKER_CONFIG.value, e
    topic = describe(a, ResourceType.TOPIC, TOPIC)["retention.ms"]
    print("topic inherits:", topic.value, topic.source)
    assert topic.value == "3600000", topic
    try:
        incremental(a, node, "log.dirs", "/x")
        raise AssertionError("an unknown broker key was accepted")
    except KafkaException as err:
        print("refused:", err)
        assert "log.retention.ms" in str(err), err
    incremental(a, node, "log.retention.ms", None, AlterConfigOpType.DELETE)
    topic = describe(a, ResourceType.TOPIC, TOPIC)["retention.ms"]
    assert topic.value == "604800000", topic
    for f in a.delete_topics([TOPIC]).values():
        f.result(20)
    print("broker configs ok")


if __name__ == "__main__":
    main(sys.argv[1])
