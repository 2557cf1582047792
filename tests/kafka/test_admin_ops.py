#!/usr/bin/env python3
"""kafka-python's admin client against strom for the cluster, log-dir,
producer, leader-election and group-deletion APIs (issue 13):

  test_admin_ops.py BOOTSTRAP all
"""
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic


def wait(what, cond, within=30):
    deadline = time.time() + within
    while True:
        v = cond()
        if v:
            return v
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def main(bs):
    a = KafkaAdminClient(bootstrap_servers=bs, request_timeout_ms=20000)
    topic, group = "admin-ops", "admin-ops-group"
    a.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])

    # DescribeCluster: one broker, which is also the controller.
    cluster = a.describe_cluster()
    print("describe_cluster:", cluster)
    brokers = cluster["brokers"]
    assert len(brokers) == 1, cluster
    assert cluster["controller_id"] == brokers[0]["broker_id"], cluster
    assert cluster["cluster_id"], cluster

    # An idempotent producer writes; DescribeProducers shows it.
    p = KafkaProducer(bootstrap_servers=bs, acks="all", enable_idempotence=True)
    for i in range(20):
        p.send(topic, key=b"k%d" % i, value=b"v%d" % i, partition=i % 2)
    p.flush(30)
    p.close()
    producers = a.describe_producers([TopicPartition(topic, 0)])
    print("describe_producers:", producers)
    states = list(producers.values())[0]
    active = getattr(states, "active_producers", None) or states
    assert len(active) == 1, producers
    last_seq = getattr(active[0], "last_sequence", None)
    assert last_seq == 9, active

    # DescribeLogDirs: both partitions, with bytes on disk.
    dirs = a.describe_log_dirs(topic_partitions={topic: [0, 1]})
    print("describe_log_dirs:", dirs)
    text = repr(dirs)
    assert topic in text, dirs

    # A group commits on both partitions, then OffsetDelete removes one.
    c = KafkaConsumer(
        topic, bootstrap_servers=bs, group_id=group, auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    got = 0
    deadline = time.time() + 30
    while got < 20 and time.time() < deadline:
        for recs in c.poll(timeout_ms=500).values():
            got += len(recs)
    assert got == 20, got
    c.commit()
    # While the member is subscribed, its topic's offsets stay.
    res = a.delete_group_offsets(group, [TopicPartition(topic, 0)])
    print("delete_group_offsets while subscribed:", res)
    err = list(res.values())[0]
    assert "GroupSubscribedToTopic" in repr(err) or "SUBSCRIBED" in repr(err).upper(), res
    c.close()
    wait("the group to be empty", lambda: "'Empty'" in repr(a.describe_groups([group])))
    res = a.delete_group_offsets(group, [TopicPartition(topic, 0)])
    print("delete_group_offsets:", res)
    assert all(getattr(e, "errno", 0) == 0 for e in res.values()), res
    left = a.list_group_offsets({group: None})
    left = left.get(group, left)
    print("left:", left)
    assert set(left) == {TopicPartition(topic, 1)}, left

    # ElectLeaders: on one broker, no election is needed.
    r = a.elect_leaders(0, {topic: [0]}, raise_errors=False)
    print("elect_leaders:", r)
    assert "ElectionNotNeeded" in repr(r) or "84" in repr(r), r

    # DeleteGroups: the empty group goes.
    res = a.delete_groups([group])
    print("delete_groups:", res)
    assert "Error" not in repr(res), res
    listed = a.list_groups()
    print("list_groups:", listed)
    assert group not in repr(listed), listed
    a.delete_topics([topic])
    a.close()
    print("admin ops ok")


if __name__ == "__main__":
    bs, what = sys.argv[1], sys.argv[2]
    assert what == "all", what
    main(bs)
