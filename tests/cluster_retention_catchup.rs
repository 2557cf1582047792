//! A follower that was down while retention deleted what it misses: its
//! log ends below the leader's log start, so fetching from its end is out
//! of range for good. It must restart its log at the leader's log start
//! (Kafka's truncateFullyAndStartAt), catch up from there, rejoin the ISR
//! and, once it leads, serve the partition from that start.
//!
//! Three real `strom serve` processes on 127.0.0.1; every wait is a
//! deadline on observed state (metadata, files, log lines), and the whole
//! test stays under one overall deadline.
mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::cluster::{self, connect, Cluster, Deadline, Node};
use strom::client::{
    Acks, Admin, Client, ClientConfig, Consumer, ConsumerConfig, OffsetSpec, Producer,
    ProducerConfig, ProducerRecord, StartOffset, TopicInfo,
};

const TOPIC: &str = "catchup";
/// Small segments and a small size limit: retention deletes segments
/// every few dozen records.
const SEGMENT_BYTES: &str = "1024";
const RETENTION_BYTES: &str = "4096";
/// Every wait of the test shares this budget.
const BUDGET: Duration = Duration::from_secs(55);
/// The log line of a follower restarting its log (fetcher path).
const RESET_LINE: &str = "restarting it there";

/// Three brokers; every wait of the test shares `BUDGET`.
fn start() -> Cluster {
    Cluster::new(3, Deadline::At(Instant::now() + BUDGET))
        .flags(&[
            "--broker-session-timeout-ms",
            "1500",
            "--replica-lag-time-max-ms",
            "2000",
            // Retention runs often enough to act within the test.
            "--log-retention-check-interval-ms",
            "200",
        ])
        .start()
}

/// Panics when the test's budget is spent.
fn check_deadline(c: &Cluster, what: &str) {
    assert!(
        Instant::now() < c.deadline.starting_now(),
        "timed out waiting for {what}"
    );
}

/// One stored batch, as found in a replica's segment files.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Batch {
    base: i64,
    last: i64,
    bytes: Vec<u8>,
}

/// Every whole batch in a replica's segment files, in offset order
/// (a batch still being written at the end of a file is left out).
fn disk_batches(node: &Node) -> Vec<Batch> {
    let Ok(files) = node.segments(TOPIC, 0) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for f in files {
        // Retention may delete a file between the listing and the read.
        let Ok(data) = std::fs::read(&f) else {
            continue;
        };
        let mut pos = 0usize;
        while pos + 61 <= data.len() {
            let base = i64::from_be_bytes(data[pos..pos + 8].try_into().expect("8 bytes"));
            let len = i32::from_be_bytes(data[pos + 8..pos + 12].try_into().expect("4 bytes"));
            let delta = i32::from_be_bytes(data[pos + 23..pos + 27].try_into().expect("4 bytes"));
            let end = pos + 12 + len.max(0) as usize;
            if len < 49 || end > data.len() {
                break;
            }
            out.push(Batch {
                base,
                last: base + i64::from(delta),
                bytes: data[pos..end].to_vec(),
            });
            pos = end;
        }
    }
    out
}

/// (first offset, end offset) of a replica's stored batches.
fn disk_range(node: &Node) -> Option<(i64, i64)> {
    let b = disk_batches(node);
    Some((b.first()?.base, b.last()?.last + 1))
}

/// Waits until `f` holds on the topic's metadata as every running broker
/// answers it; returns one of the answers. Asking all of them matters: a
/// broker that just restarted answers from its own, possibly old, copy of
/// the metadata until it has caught up with the quorum.
async fn until_all(c: &Cluster, what: &str, f: impl Fn(&TopicInfo) -> bool) -> Arc<TopicInfo> {
    loop {
        let mut answers = Vec::new();
        for n in c.nodes.iter().filter(|n| n.child.is_some()) {
            let mut cfg = ClientConfig::new(n.addr());
            cfg.request_timeout = Duration::from_secs(2);
            cfg.connect_timeout = Duration::from_secs(1);
            let Ok(client) = Client::connect(cfg).await else {
                break;
            };
            match client.refresh_topic(TOPIC, false).await {
                Ok(info) if f(&info) => answers.push(info),
                _ => break,
            }
        }
        if answers.len() == c.nodes.iter().filter(|n| n.child.is_some()).count() {
            if let Some(info) = answers.pop() {
                return info;
            }
        }
        check_deadline(c, what);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (blocking) until `f` holds.
fn until(c: &Cluster, what: &str, mut f: impl FnMut() -> bool) {
    while !f() {
        check_deadline(c, what);
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn create_topic(c: &Cluster) {
    let segment_bytes = format!("segment.bytes={SEGMENT_BYTES}");
    let retention_bytes = format!("retention.bytes={RETENTION_BYTES}");
    cluster::create_topic(c, TOPIC, 1, &[&segment_bytes, &retention_bytes]).await;
    until_all(c, "a full ISR", |t| {
        t.partitions.len() == 1 && t.partitions[0].leader >= 0 && t.partitions[0].isr.len() == 3
    })
    .await;
}

/// ~100 bytes per record; the number first so reading back can check it.
fn value(n: i64) -> String {
    format!("{n:08} {}", "x".repeat(90))
}

fn number(v: &[u8]) -> i64 {
    std::str::from_utf8(&v[..8])
        .expect("utf8")
        .parse()
        .expect("number")
}

/// Sends records `from..to` with an idempotent acks=all producer in small
/// paced batches (many segments), and checks each landed at offset == n:
/// nothing else writes the partition.
async fn produce(bootstrap: &str, from: i64, to: i64) {
    let producer = Producer::new(
        connect(bootstrap).await,
        ProducerConfig {
            acks: Acks::All,
            linger: Duration::from_millis(1),
            batch_size: 600,
            retries: 1000,
            retry_backoff: Duration::from_millis(50),
            retry_backoff_max: Duration::from_millis(500),
            request_timeout: Duration::from_secs(5),
            ..ProducerConfig::default()
        },
    );
    producer.wait_ready().await;
    let mut pending = Vec::new();
    for n in from..to {
        let v = value(n);
        let rec = ProducerRecord {
            topic: TOPIC,
            partition: Some(0),
            value: Some(v.as_bytes()),
            ..Default::default()
        };
        pending.push((n, producer.send(&rec).await.expect("send")));
        if n % 5 == 4 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    producer.flush().await;
    for (n, f) in pending {
        let md = f.wait().await.expect("acknowledged");
        assert_eq!(md.offset, n, "record {n} acknowledged at {}", md.offset);
    }
    producer.close().await;
}

#[test]
fn follower_behind_the_leaders_log_start_catches_up_from_there() {
    let rt = cluster::runtime();
    let mut cluster = start();
    rt.block_on(create_topic(&cluster));
    let bootstrap = cluster.bootstrap();
    let info = rt.block_on(until_all(&cluster, "a leader", |t| {
        t.partitions[0].leader >= 0
    }));
    let leader = info.partitions[0].leader;
    let victim = *info.partitions[0]
        .replicas
        .iter()
        .find(|r| **r != leader)
        .expect("a follower");
    let (li, vi) = (cluster.index(leader), cluster.index(victim));

    // Everyone has the first records, then the follower dies.
    rt.block_on(produce(&bootstrap, 0, 40));
    until(&cluster, "the follower to store the first records", || {
        disk_range(&cluster.nodes[vi]).is_some_and(|(_, end)| end >= 40)
    });
    cluster.kill(vi);
    let (_, victim_end) = disk_range(&cluster.nodes[vi]).expect("victim log");
    rt.block_on(until_all(
        &cluster,
        "the dead follower out of the ISR",
        |t| !t.partitions[0].isr.contains(&victim),
    ));

    // Many more records: the leader's retention deletes every segment the
    // follower would need next.
    rt.block_on(produce(&bootstrap, 40, 340));
    until(&cluster, "retention past the follower's end", || {
        disk_range(&cluster.nodes[li]).is_some_and(|(start, _)| start > victim_end)
    });
    let (leader_start, leader_end) = disk_range(&cluster.nodes[li]).expect("leader log");
    assert_eq!(leader_end, 340);
    println!("follower ends at {victim_end}, leader's log starts at {leader_start}");

    cluster.restart(vi);
    rt.block_on(until_all(
        &cluster,
        "the restarted follower in the ISR",
        |t| t.partitions[0].isr.contains(&victim),
    ));
    assert!(
        cluster.nodes[vi].log().contains(RESET_LINE),
        "the follower did not restart its log:\n{}",
        cluster.nodes[vi].log()
    );

    // Nothing is produced any more: the follower converges on the
    // leader's log; where both still have a batch, it is the same bytes.
    // (Each applies retention on its own, so their starts may differ.)
    until(&cluster, "the follower's log to match the leader's", || {
        let ours = disk_batches(&cluster.nodes[vi]);
        let theirs: BTreeMap<i64, Batch> = disk_batches(&cluster.nodes[li])
            .into_iter()
            .map(|b| (b.base, b))
            .collect();
        let contiguous = ours.windows(2).all(|w| w[1].base == w[0].last + 1);
        let shared = ours.iter().filter(|b| theirs.contains_key(&b.base)).count();
        let same = ours
            .iter()
            .all(|b| theirs.get(&b.base).is_none_or(|t| t == b));
        contiguous
            && same
            && shared > 0
            && ours.first().is_some_and(|b| b.base > victim_end)
            && ours.last().is_some_and(|b| b.last + 1 == 340)
    });

    // The restarted follower leads: each round kills the current leader,
    // whose successor is the first live member of the ISR; the killed one
    // comes back at the ISR's end.
    rt.block_on(async {
        for _ in 0..4 {
            let info = until_all(&cluster, "a leader", |t| t.partitions[0].leader >= 0).await;
            let current = info.partitions[0].leader;
            if current == victim {
                return;
            }
            let i = cluster.index(current);
            cluster.kill(i);
            let info = until_all(&cluster, "a new leader", |t| {
                t.partitions[0].leader >= 0 && t.partitions[0].leader != current
            })
            .await;
            cluster.restart(i);
            if info.partitions[0].leader == victim {
                return;
            }
            until_all(&cluster, "a full ISR", |t| t.partitions[0].isr.len() == 3).await;
        }
        panic!("broker {victim} never became the leader");
    });

    // Reading from the beginning on it starts at its log start, which
    // is past everything retention deleted, and holds every record from
    // there on, in order, at its own offset.
    let (first, read, earliest) = rt.block_on(async {
        until_all(&cluster, "the restarted broker leading", |t| {
            t.partitions[0].leader == victim
        })
        .await;
        let client = connect(&cluster.nodes[vi].addr()).await;
        let earliest = Admin::new(client.clone())
            .list_offsets(TOPIC, &[0], OffsetSpec::Earliest)
            .await
            .expect("list offsets")[0]
            .offset;
        let mut consumer = Consumer::new(client, ConsumerConfig::default());
        consumer
            .assign(TOPIC, None, StartOffset::Earliest)
            .await
            .expect("assign");
        let mut read: Vec<(i64, i64)> = Vec::new();
        while !consumer.at_end() {
            check_deadline(&cluster, "reading the partition back");
            let Ok(records) = consumer.poll().await else {
                continue;
            };
            for r in records {
                read.push((r.offset, number(&r.value.expect("value"))));
            }
        }
        (read.first().map(|r| r.0), read, earliest)
    });
    let (victim_start, _) = disk_range(&cluster.nodes[vi]).expect("victim log");
    println!(
        "restarted broker leads; its log starts at {victim_start}, reads {} records from {first:?}",
        read.len()
    );
    assert_eq!(earliest, victim_start, "earliest offset is the log start");
    assert_eq!(first, Some(victim_start), "reading starts at the log start");
    assert!(victim_start >= leader_start && victim_start > victim_end);
    assert!(
        read.iter().all(|(offset, n)| offset == n),
        "offsets hold their records"
    );
    let offsets: Vec<i64> = read.iter().map(|r| r.0).collect();
    let expected: Vec<i64> = (victim_start..340).collect();
    assert_eq!(
        offsets, expected,
        "every record from the start, once, in order"
    );
}
