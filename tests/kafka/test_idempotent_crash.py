#!/usr/bin/env python3
"""An idempotent confluent-kafka producer against a broker that is killed
with SIGKILL and restarted again and again, with the CPUs busy beside it:
every acknowledged record must be in the log exactly once, and in the order
it was sent, per partition (issue 13).

    test_idempotent_crash.py STROM_BIN [ROUNDS] [KILLS]

Each round starts its own broker on a fresh data dir, writes numbered
records (record i to partition i % 3) while it kills and restarts the
broker KILLS times, then flushes the producer and reads every partition
back. Prints one line per round; exits 1 if any round found a duplicate, a
reordered or a lost record, or a producer error.
"""
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

PARTITIONS = 3
TOPIC = "idem-crash"
# Seconds between kills: long enough for the producer to reconnect and get
# going again, short enough that 5 rounds stay well under two minutes.
GAP = (0.8, 1.6)
STARTUP_DEADLINE = 30
FLUSH_DEADLINE = 90
# Records offered per second: enough that several produce requests per
# partition are always in flight, few enough to read back quickly.
RATE = 40_000


class Broker:
    """One strom broker on a fixed data dir; restarted on the same port."""

    def __init__(self, binary, data_dir, log_dir, extra_args=()):
        self.binary = binary
        self.extra_args = list(extra_args)
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.port = 0
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        log_path = os.path.join(self.log_dir, f"broker.{self.starts}.log")
        log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", f"127.0.0.1:{self.port}",
             "--data-dir", self.data_dir, *self.extra_args],
            stdout=subprocess.DEVNULL, stderr=log,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "strom=info")},
        )
        log.close()
        deadline = time.time() + STARTUP_DEADLINE
        while time.time() < deadline:
            with open(log_path, "rb") as f:
                m = re.search(rb"listening on [0-9.]+:([0-9]+)", f.read())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        with open(log_path, "rb") as f:
            sys.stderr.write(f.read().decode(errors="replace"))
        raise RuntimeError("broker did not come up")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def cpu_load(seconds):
    """Two busy loops (the machine's two cores), each ending on its own."""
    code = f"import time\nend = time.time() + {seconds}\nwhile time.time() < end: pass\n"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]


def produce_through_crashes(broker, bs, kills):
    p = Producer({
        "bootstrap.servers": bs,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 2,
        # Reconnect quickly after each restart.
        "reconnect.backoff.ms": 20,
        "reconnect.backoff.max.ms": 200,
        # Connection failures are the point here: keep them out of the log.
        "log_level": 2,
    })
    acked = [set() for _ in range(PARTITIONS)]
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            acked[msg.partition()].add(int(msg.value()))

    sent = 0
    next_kill = time.time() + random.uniform(*GAP)
    done_kills = 0
    stop_at = None
    start = time.time()
    while stop_at is None or time.time() < stop_at:
        if sent > (time.time() - start) * RATE:
            p.poll(0.001)
            continue
        try:
            p.produce(TOPIC, value=str(sent).encode(), partition=sent % PARTITIONS,
                      on_delivery=on_delivery)
            sent += 1
        except BufferError:
            p.poll(0.01)
            continue
        if sent % 500 == 0:
            p.poll(0)
        if stop_at is None and time.time() >= next_kill:
            broker.kill()
            broker.start()
            done_kills += 1
            if done_kills == kills:
                # Keep sending a little after the last restart.
                stop_at = time.time() + 0.5
            next_kill = time.time() + random.uniform(*GAP)
    left = p.flush(FLUSH_DEADLINE)
    if left:
        errors.append(f"{left} records neither acknowledged nor failed after {FLUSH_DEADLINE}s")
    return sent, acked, errors


def read_back(bs):
    c = Consumer({
        "bootstrap.servers": bs,
        "group.id": "idem-crash-verify",
        "enable.auto.commit": False,
    })
    ends = [c.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)[1]
            for p in range(PARTITIONS)]
    c.assign([TopicPartition(TOPIC, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
    values = [[] for _ in range(PARTITIONS)]
    deadline = time.time() + 60
    while any(len(values[p]) < ends[p] for p in range(PARTITIONS)) and time.time() < deadline:
        for m in c.consume(10000, 0.5):
            if m.error() is not None:
                raise RuntimeError(str(m.error()))
            values[m.partition()].append(int(m.value()))
    c.close()
    return ends, values


def check(acked, values):
    """(duplicates, reordered, lost) over all partitions."""
    duplicates = reordered = lost = 0
    for p in range(PARTITIONS):
        seen = set()
        last = -1
        for v in values[p]:
            if v in seen:
                duplicates += 1
                continue
            seen.add(v)
            if v < last:
                reordered += 1
            last = max(last, v)
        lost += len(acked[p] - seen)
    return duplicates, reordered, lost


def one_round(binary, kills, n):
    with tempfile.TemporaryDirectory() as work:
        broker = Broker(binary, os.path.join(work, "data"), work)
        load = []
        try:
            broker.start()
            bs = f"127.0.0.1:{broker.port}"
            admin = AdminClient({"bootstrap.servers": bs})
            for f in admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)]).values():
                f.result(10)
            load = cpu_load(kills * GAP[1] + 5)
            sent, acked, errors = produce_through_crashes(broker, bs, kills)
            for proc in load:
                proc.kill()
            ends, values = read_back(bs)
        finally:
            for proc in load:
                proc.kill()
                proc.wait()
            broker.stop()
    duplicates, reordered, lost = check(acked, values)
    n_acked = sum(len(a) for a in acked)
    print(f"round {n}: sent {sent}, acked {n_acked}, read {sum(ends)}, "
          f"{kills} kills: {duplicates} duplicates, {reordered} out of order, "
          f"{lost} lost, {len(errors)} producer errors {sorted(set(errors))[:3]}",
          flush=True)
    return duplicates == 0 and reordered == 0 and lost == 0 and not errors


def main():
    binary = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    kills = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    ok = True
    for n in range(1, rounds + 1):
        ok = one_round(binary, kills, n) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
