//! Log compaction in a 3-broker cluster: every replica cleans its own copy
//! and they converge to the same newest value per key; and a replica that
//! was away longer than `delete.retention.ms` still gets the tombstones
//! written meanwhile (the leader keeps them until every replica has them),
//! so it cannot bring a deleted key back.
mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::cluster::{partitions, run_client, Cluster, Deadline, Part};
use strom::record::{batches, validate_batch, RecordIter};

const STEP: Duration = Duration::from_secs(30);
const FLAGS: &[&str] = &[
    "--log-cleaner-backoff-ms",
    "200",
    "--broker-session-timeout-ms",
    "6000",
    "--leader-imbalance-check-interval-ms",
    "0",
];

/// (offset, key, value; `None` a tombstone) of one record.
type Rec = (i64, String, Option<String>);

/// Every record in broker `node`'s copy of `topic`-0, read from its segment
/// files as they are now (a batch being written at the end of the active
/// segment is left out).
fn replica_records(c: &Cluster, node: usize, topic: &str) -> Vec<Rec> {
    let mut out = Vec::new();
    for path in c.nodes[node].segments(topic, 0).unwrap_or_default() {
        let Ok(data) = std::fs::read(&path) else {
            continue; // swapped by the cleaner meanwhile: read next time
        };
        for b in batches(&data) {
            let Ok(b) = b else { break };
            if validate_batch(b).is_err() {
                break;
            }
            let Ok(records) = RecordIter::new(Bytes::copy_from_slice(b)) else {
                break;
            };
            for r in records.flatten() {
                let text = |b: Option<Bytes>| b.map(|b| String::from_utf8_lossy(&b).into_owned());
                out.push((r.offset, text(r.key).unwrap_or_default(), text(r.value)));
            }
        }
    }
    out
}

/// The newest record of every key: (offset, value or `None`).
fn latest(records: &[Rec]) -> BTreeMap<String, (i64, Option<String>)> {
    let mut m = BTreeMap::new();
    for (o, k, v) in records {
        m.insert(k.clone(), (*o, v.clone()));
    }
    m
}

/// Keys with a live value, and that value (tombstoned keys left out).
fn live(records: &[Rec]) -> BTreeMap<String, String> {
    latest(records)
        .into_iter()
        .filter_map(|(k, (_, v))| v.map(|v| (k, v)))
        .collect()
}

fn describe(c: &Cluster, topic: &str) -> Vec<Part> {
    let (ok, out, err) = run_client(&["topics", "describe", topic], &c.bootstrap(), None, STEP);
    assert!(ok, "describe failed: {err}");
    partitions(&out)
}

/// Creates a one-partition RF 3 compacted topic, retrying until all three
/// brokers have registered, then waits for a full ISR.
fn create(c: &Cluster, topic: &str, configs: &[&str], deadline: Instant) -> Part {
    let mut args = vec![
        "topics",
        "create",
        topic,
        "--partitions",
        "1",
        "--replication-factor",
        "3",
    ];
    for kv in configs {
        args.extend(["--config", kv]);
    }
    loop {
        let (ok, _, err) = run_client(&args, &c.bootstrap(), None, STEP);
        if ok {
            break;
        }
        assert!(
            err.contains("live broker") && Instant::now() < deadline,
            "create failed: {err}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    wait_isr(c, topic, 3, deadline)
}

fn wait_isr(c: &Cluster, topic: &str, n: usize, deadline: Instant) -> Part {
    loop {
        let parts = describe(c, topic);
        if let Some(p) = parts.first().filter(|p| p.isr.len() == n && p.leader > 0) {
            return p.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no ISR of {n} for {topic}: {parts:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn produce(c: &Cluster, topic: &str, lines: &str, acks: &str) {
    let (ok, _, err) = run_client(
        &[
            "produce",
            "-t",
            topic,
            "-K",
            ":",
            "--null-marker",
            "NULL",
            "--acks",
            acks,
        ],
        &c.bootstrap(),
        Some(lines.as_bytes()),
        STEP,
    );
    assert!(ok, "produce failed: {err}");
}

/// `rounds` rounds of `keys` keys named `prefix{k}`, padded so that small
/// segments roll often.
fn rounds(prefix: &str, keys: usize, rounds: std::ops::Range<usize>) -> String {
    let mut s = String::new();
    for r in rounds {
        for k in 0..keys {
            s.push_str(&format!("{prefix}{k}:{prefix}{k}-r{r}-{:0>40}\n", 0));
        }
    }
    s
}

#[test]
fn the_replicas_of_a_compacted_topic_converge_to_the_same_keys() {
    let deadline = Instant::now() + Duration::from_secs(120);
    let c = Cluster::new(3, Deadline::At(deadline)).flags(FLAGS).start();
    create(
        &c,
        "conv",
        &[
            "cleanup.policy=compact",
            "segment.bytes=2048",
            "min.cleanable.dirty.ratio=0.01",
            "delete.retention.ms=0",
        ],
        deadline,
    );
    produce(&c, "conv", &rounds("key", 20, 0..30), "all");
    // Five keys deleted, then other keys so that the tombstones' segment
    // closes and is cleaned too.
    let deletes: String = (0..5).map(|k| format!("key{k}:NULL\n")).collect();
    produce(&c, "conv", &deletes, "all");
    produce(&c, "conv", &rounds("z", 20, 0..10), "all");
    let produced = 30 * 20 + 5 + 10 * 20;

    let mut want: BTreeMap<String, String> = BTreeMap::new();
    for k in 5..20 {
        want.insert(format!("key{k}"), format!("key{k}-r29-{:0>40}", 0));
    }
    for k in 0..20 {
        want.insert(format!("z{k}"), format!("z{k}-r9-{:0>40}", 0));
    }
    // Every replica cleans on its own: wait until each is compacted (far
    // fewer records than produced) and holds exactly the live keys.
    let copies = loop {
        let copies: Vec<Vec<Rec>> = (0..3).map(|i| replica_records(&c, i, "conv")).collect();
        let done = copies
            .iter()
            .all(|r: &Vec<Rec>| r.len() < produced / 2 && live(r) == want);
        if done {
            break copies;
        }
        if Instant::now() > deadline {
            let sizes: Vec<usize> = copies.iter().map(Vec::len).collect();
            panic!(
                "replicas did not converge: {sizes:?} records of {produced}; live keys {:?}",
                copies.iter().map(|r| live(r).len()).collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    // Same value at the same offset for every live key, on every replica.
    let at = |r: &[Rec]| -> BTreeMap<String, i64> {
        latest(r)
            .into_iter()
            .filter(|(_, (_, v))| v.is_some())
            .map(|(k, (o, _))| (k, o))
            .collect()
    };
    assert_eq!(at(&copies[0]), at(&copies[1]));
    assert_eq!(at(&copies[0]), at(&copies[2]));
    // And a reader sees the same from the leader.
    let (ok, out, err) = run_client(
        &[
            "consume",
            "-t",
            "conv",
            "--from-beginning",
            "-e",
            "-Z",
            "-f",
            "%k %s\\n",
        ],
        &c.bootstrap(),
        None,
        STEP,
    );
    assert!(ok, "consume failed: {err}");
    let mut read = BTreeMap::new();
    for l in out.lines() {
        let (k, v) = l.split_once(' ').unwrap_or((l, ""));
        if v == "NULL" {
            read.remove(k);
        } else {
            read.insert(k.to_string(), v.to_string());
        }
    }
    assert_eq!(read, want);
}

#[test]
fn a_replica_away_past_delete_retention_still_gets_the_tombstones() {
    let deadline = Instant::now() + Duration::from_secs(150);
    let mut c = Cluster::new(3, Deadline::At(deadline)).flags(FLAGS).start();
    let p = create(
        &c,
        "gone",
        &[
            "cleanup.policy=compact",
            "segment.bytes=1024",
            "min.cleanable.dirty.ratio=0.01",
            "delete.retention.ms=1000",
            "min.insync.replicas=1",
        ],
        deadline,
    );
    produce(&c, "gone", "victim:v1\n", "all");
    produce(&c, "gone", &rounds("f", 10, 0..3), "all");
    // Every replica has v1; one follower goes away.
    let away = *p
        .replicas
        .iter()
        .find(|r| **r != p.leader)
        .expect("follower");
    let away_i = c.index(away);
    loop {
        let has = replica_records(&c, away_i, "gone")
            .iter()
            .any(|(_, k, v)| k == "victim" && v.as_deref() == Some("v1"));
        if has {
            break;
        }
        assert!(Instant::now() < deadline, "broker {away} never got v1");
        std::thread::sleep(Duration::from_millis(100));
    }
    c.kill(away_i);
    produce(&c, "gone", "victim:NULL\n", "1");
    let deleted_at = Instant::now();
    let read_leader = |c: &Cluster| -> Vec<(String, String)> {
        let (ok, out, err) = run_client(
            &[
                "consume",
                "-t",
                "gone",
                "--from-beginning",
                "-e",
                "-Z",
                "-f",
                "%k %s\\n",
            ],
            &c.bootstrap_except(away),
            None,
            STEP,
        );
        assert!(ok, "consume failed: {err}");
        out.lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    // Well past delete.retention.ms, with the cleaner passing over the
    // tombstone's segment again and again (v1 is gone: cleaning reached
    // it), the tombstone stays while a replica lacks it.
    let mut r = 3;
    loop {
        produce(&c, "gone", &rounds("f", 10, r..r + 2), "1");
        r += 2;
        let read = read_leader(&c);
        let v1 = read.iter().any(|(k, v)| k == "victim" && v == "v1");
        if !v1 && deleted_at.elapsed() > Duration::from_secs(5) {
            assert!(
                read.iter().any(|(k, v)| k == "victim" && v == "NULL"),
                "the leader dropped the tombstone while broker {away} was away: {read:?}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "v1 never compacted away: {read:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // Back, it fetches the tombstone: its copy no longer has the key alive.
    c.restart(away_i);
    wait_isr(&c, "gone", 3, deadline);
    let tombstone_offset = latest(
        &replica_records(&c, c.index(p.leader), "gone")
            .into_iter()
            .filter(|(_, k, _)| k == "victim")
            .collect::<Vec<_>>(),
    )
    .get("victim")
    .map(|(o, _)| *o);
    loop {
        let copy = replica_records(&c, away_i, "gone");
        let end = copy.iter().map(|(o, _, _)| *o).max().unwrap_or(-1);
        if tombstone_offset.is_none_or(|t| end > t) {
            let l = latest(&copy);
            assert!(
                !matches!(l.get("victim"), Some((_, Some(_)))),
                "broker {away} brought the deleted key back: {:?}",
                l.get("victim")
            );
            break;
        }
        assert!(Instant::now() < deadline, "broker {away} did not catch up");
        std::thread::sleep(Duration::from_millis(100));
    }
    // With every replica past it, the tombstone goes too.
    loop {
        produce(&c, "gone", &rounds("f", 10, r..r + 2), "all");
        r += 2;
        let read = read_leader(&c);
        if !read.iter().any(|(k, _)| k == "victim") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the tombstone stayed after every replica had it: {read:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The offsets topic of a cluster is compacted like a single node's, on
/// every broker's disk, and applying the committed metadata to it is not
/// refused as a client's change to an internal topic would be.
#[test]
fn the_offsets_topic_is_compacted_on_every_broker() {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut c = Cluster::new(3, Deadline::At(deadline)).flags(FLAGS).start();
    let meta = |node: usize| {
        let path = c.nodes[node]
            .dir
            .join("data/meta/topics/__consumer_offsets.json");
        std::fs::read_to_string(path).unwrap_or_default()
    };
    for node in 0..3 {
        while !meta(node).contains("\"cleanup.policy\": \"compact\"") {
            assert!(
                Instant::now() < deadline,
                "broker {} has no compacted offsets topic: {}",
                node + 1,
                meta(node)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    // The sync retries every 5 s: give it a turn, then no broker may have
    // failed to apply the committed topic.
    std::thread::sleep(Duration::from_secs(6));
    for node in 0..3 {
        c.wait_ready(node);
        let log = c.nodes[node].log();
        assert!(
            !log.contains("cannot apply topic metadata locally"),
            "broker {}: {log}",
            node + 1
        );
    }
}
