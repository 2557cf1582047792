//! Process-level fault tests of replication: real `strom serve` processes
//! forming a 3-node cluster on 127.0.0.1, a producer with acks=all sending
//! numbered records while the test kills, pauses or cuts off brokers.
//! Afterwards every partition is read back and checked: every acknowledged
//! record is there exactly once at the offset it was acknowledged with,
//! each partition keeps the send order, and nothing appears twice.
//!
//! All waits are deadlines on observed state (metadata, log lines), never
//! fixed sleeps; the producer is paced, which is load, not waiting.
mod common;
#[path = "common/proxy.rs"]
mod proxy;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::cluster::{self, connect, runtime, Cluster, Deadline, Node, Numbered, Sent};
use proxy::{Fault, Proxy};
use strom::client::{Acks, Client, ProducerConfig, TopicInfo};

const TOPIC: &str = "faults";
const PARTITIONS: i32 = 2;
/// Each wait gives up this long after it begins.
const DEADLINE: Duration = Duration::from_secs(40);

/// Three brokers; with `proxied`, each behind a fault-injecting proxy
/// whose address it advertises, so that clients and the other brokers
/// reach it only through the proxy (`proxies[i]` for `nodes[i]`).
fn start(proxied: bool) -> (Cluster, Vec<Proxy>) {
    let mut c = Cluster::new(3, Deadline::After(DEADLINE)).flags(&[
        "--broker-session-timeout-ms",
        "1500",
        "--replica-lag-time-max-ms",
        "2000",
    ]);
    let mut proxies = Vec::new();
    if proxied {
        for n in &mut c.nodes {
            let p = Proxy::start(SocketAddr::from(([127, 0, 0, 1], n.port))).expect("proxy");
            n.advertised = Some(p.addr.to_string());
            proxies.push(p);
        }
    }
    (c.start(), proxies)
}

async fn client(c: &Cluster) -> Client {
    connect(&c.bootstrap()).await
}

/// Waits until `f` holds on fresh metadata of the topic; returns how long
/// that took.
async fn until_metadata(client: &Client, what: &str, f: impl Fn(&TopicInfo) -> bool) -> Duration {
    let deadline = Instant::now() + DEADLINE;
    let poll = Duration::from_millis(50);
    cluster::until_metadata(client, TOPIC, what, deadline, poll, f).await
}

async fn create_topic(c: &Cluster) {
    cluster::create_topic(c, TOPIC, PARTITIONS, &[]).await;
    let client = client(c).await;
    until_metadata(&client, "a full ISR", |t| {
        t.partitions.len() == PARTITIONS as usize
            && t.partitions
                .iter()
                .all(|p| p.leader >= 0 && p.isr.len() == 3)
    })
    .await;
}

/// Sends numbered records with acks=all until `stop`, retrying for as long
/// as a fault may last.
async fn produce(bootstrap: String, stop: Arc<AtomicBool>) -> Sent {
    let client = connect(&bootstrap).await;
    let cfg = ProducerConfig {
        acks: Acks::All,
        linger: Duration::from_millis(2),
        retries: 1000,
        retry_backoff: Duration::from_millis(50),
        retry_backoff_max: Duration::from_millis(500),
        request_timeout: Duration::from_secs(5),
        ..ProducerConfig::default()
    };
    cluster::produce_numbered(client, cfg, TOPIC, PARTITIONS, stop).await
}

/// Reads every partition from the start to its high watermark.
async fn read_all(c: &Cluster) -> Numbered {
    let client = client(c).await;
    until_metadata(&client, "leaders", |t| {
        t.partitions.iter().all(|p| p.leader >= 0)
    })
    .await;
    cluster::read_numbered(client, TOPIC, Instant::now() + DEADLINE).await
}

/// Checks the invariants and prints the figures.
fn verify(name: &str, sent: &Sent, read: &Numbered, faults: usize, failovers: &mut [Duration]) {
    let seen = cluster::locate(name, read);
    let duplicates = seen.values().filter(|v| v.len() > 1).count();
    let mut lost = 0;
    for (n, at) in &sent.acked {
        match seen.get(n) {
            Some(v) if v.contains(at) => {}
            Some(v) => panic!("{name}: record {n} acked at {at:?} but found at {v:?}"),
            None => {
                if lost < 5 {
                    let at_offset = read
                        .get(&at.0)
                        .and_then(|v| v.iter().find(|(o, _)| *o == at.1));
                    eprintln!(
                        "{name}: lost record {n} acked at {at:?}; stored there: {at_offset:?}"
                    );
                }
                lost += 1;
            }
        }
    }
    failovers.sort();
    let median = failovers
        .get(failovers.len() / 2)
        .copied()
        .unwrap_or_default();
    let max = failovers.last().copied().unwrap_or_default();
    println!(
        "{name}: faults injected {faults}, sent {}, acked {}, failed {}, lost {lost}, duplicates {duplicates}, \
         time to new leader median {} ms, max {} ms",
        sent.total,
        sent.acked.len(),
        sent.errors.len(),
        median.as_millis(),
        max.as_millis()
    );
    assert_eq!(lost, 0, "{name}: acknowledged records lost");
    assert_eq!(duplicates, 0, "{name}: records written twice");
    assert!(
        sent.acked.len() as u64 > sent.total / 2,
        "{name}: too little got through"
    );
}

#[test]
fn kill_the_leader_again_and_again() {
    let rt = runtime();
    let (mut cluster, _) = start(false);
    rt.block_on(create_topic(&cluster));
    let stop = Arc::new(AtomicBool::new(false));
    let producing = rt.spawn(produce(cluster.bootstrap(), stop.clone()));
    let mut failovers = Vec::new();
    let mut faults = 0;
    rt.block_on(async {
        let client = client(&cluster).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        for round in 0..4 {
            let info = client.refresh_topic(TOPIC, false).await.expect("metadata");
            let victim = info.partitions[round % PARTITIONS as usize].leader;
            let i = cluster.index(victim);
            cluster.kill(i);
            faults += 1;
            let p = round % PARTITIONS as usize;
            let took = until_metadata(&client, "a new leader", |t| {
                t.partitions[p].leader >= 0 && t.partitions[p].leader != victim
            })
            .await;
            failovers.push(took);
            // Let the producer run on the survivors for a while.
            tokio::time::sleep(Duration::from_millis(500)).await;
            cluster.restart(i);
            until_metadata(&client, "the restarted broker back in the ISR", |t| {
                t.partitions.iter().all(|p| p.isr.contains(&victim))
            })
            .await;
        }
    });
    stop.store(true, Ordering::SeqCst);
    let sent = rt.block_on(producing).expect("producer task");
    let read = rt.block_on(read_all(&cluster));
    verify("kill-leader", &sent, &read, faults, &mut failovers);
}

/// Holds a fault for `d` while the producer keeps sending.
async fn hold(d: Duration) {
    tokio::time::sleep(d).await;
}

#[test]
fn pause_brokers_and_cut_links() {
    let rt = runtime();
    let (mut cluster, proxies) = start(true);
    rt.block_on(create_topic(&cluster));
    let stop = Arc::new(AtomicBool::new(false));
    let producing = rt.spawn(produce(cluster.bootstrap(), stop.clone()));
    let mut failovers = Vec::new();
    let mut faults = 0;
    rt.block_on(async {
        let client = client(&cluster).await;
        hold(Duration::from_millis(500)).await;
        let full_isr = |t: &TopicInfo| {
            t.partitions
                .iter()
                .all(|p| p.leader >= 0 && p.isr.len() == 3)
        };

        // A paused leader is fenced and replaced; when it resumes it must
        // not commit anything at its old epoch.
        let info = client.refresh_topic(TOPIC, false).await.expect("metadata");
        let victim = info.partitions[0].leader;
        let i = cluster.index(victim);
        cluster.signal(i, "-STOP");
        faults += 1;
        let took = until_metadata(&client, "a leader other than the paused one", |t| {
            t.partitions[0].leader >= 0 && t.partitions[0].leader != victim
        })
        .await;
        failovers.push(took);
        cluster.signal(i, "-CONT");
        until_metadata(&client, "the paused broker back in the ISR", full_isr).await;

        // The link to a leader goes dead, then is slow, then loses its
        // answers (requests still arrive: the producer must retry without
        // duplicating), then loses its requests.
        for fault in [
            Fault::Drop,
            Fault::Delay(Duration::from_millis(150)),
            Fault::CutFromTarget,
            Fault::CutToTarget,
        ] {
            let info = client.refresh_topic(TOPIC, false).await.expect("metadata");
            let leader = info.partitions[1].leader;
            let i = cluster.index(leader);
            let proxy = &proxies[i];
            proxy.set(fault);
            faults += 1;
            hold(Duration::from_millis(2500)).await;
            proxy.set(Fault::Pass);
            until_metadata(&client, "a full ISR after healing", full_isr).await;
        }
    });
    stop.store(true, Ordering::SeqCst);
    let sent = rt.block_on(producing).expect("producer task");
    let read = rt.block_on(read_all(&cluster));
    cluster.keep_if_asked();
    verify("pause-and-cut", &sent, &read, faults, &mut failovers);
}

/// Segment bytes of one partition replica, all segments in offset order.
fn log_bytes(node: &Node, partition: i32) -> Vec<u8> {
    let mut out = Vec::new();
    for f in node.segments(TOPIC, partition).expect("partition dir") {
        out.extend(std::fs::read(f).expect("segment"));
    }
    out
}

fn under_replicated(c: &Cluster) -> String {
    describe_filtered(c, "--under-replicated-partitions")
}

/// `topics describe` with one of kafka-topics' partition filters.
fn describe_filtered(c: &Cluster, filter: &str) -> String {
    let out = common::strom()
        .args(["topics", "describe", TOPIC, "-b", &c.bootstrap()])
        .arg(filter)
        .output()
        .expect("topics describe");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `under_replicated` until it lists `count` partitions: brokers
/// apply metadata changes moments apart, and the CLI may ask another
/// broker than the one a wait before it saw the change on.
fn until_under_replicated(c: &Cluster, count: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listed = under_replicated(c);
        if listed.lines().count() == count {
            return listed;
        }
        assert!(
            Instant::now() < deadline,
            "expected {count} under-replicated partitions, got:\n{listed}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_broker_that_was_down_catches_up_byte_for_byte() {
    let rt = runtime();
    let (mut cluster, _) = start(false);
    rt.block_on(create_topic(&cluster));
    let (victim, i) = rt.block_on(async {
        let client = client(&cluster).await;
        let info = client.refresh_topic(TOPIC, false).await.expect("metadata");
        // A follower of partition 0.
        let p = &info.partitions[0];
        let victim = *p
            .replicas
            .iter()
            .find(|r| **r != p.leader)
            .expect("follower");
        (victim, cluster.index(victim))
    });
    cluster.kill(i);
    let stop = Arc::new(AtomicBool::new(false));
    let producing = rt.spawn(produce(cluster.bootstrap(), stop.clone()));
    rt.block_on(async {
        let client = client(&cluster).await;
        until_metadata(&client, "the dead broker out of the ISR", |t| {
            t.partitions.iter().all(|p| !p.isr.contains(&victim))
        })
        .await;
        hold(Duration::from_secs(2)).await;
    });
    // kafka-topics style: only the partitions missing an in-sync replica.
    until_under_replicated(&cluster, PARTITIONS as usize);
    // RF=3 with min.insync.replicas=2 and one broker down: every partition
    // is at the minimum, none below it, none without a leader.
    let at_min = describe_filtered(&cluster, "--at-min-isr-partitions");
    assert_eq!(at_min.lines().count(), PARTITIONS as usize, "{at_min}");
    assert_eq!(
        describe_filtered(&cluster, "--under-min-isr-partitions"),
        ""
    );
    assert_eq!(describe_filtered(&cluster, "--unavailable-partitions"), "");
    stop.store(true, Ordering::SeqCst);
    let sent = rt.block_on(producing).expect("producer task");
    assert!(!sent.acked.is_empty());
    cluster.restart(i);
    rt.block_on(async {
        let client = client(&cluster).await;
        until_metadata(&client, "the restarted broker back in the ISR", |t| {
            t.partitions.iter().all(|p| p.isr.contains(&victim))
        })
        .await;
    });
    assert_eq!(
        until_under_replicated(&cluster, 0),
        "",
        "all replicas back in sync"
    );
    // Nothing is produced any more: every replica converges on the
    // leader's log, which is all below its high watermark.
    for p in 0..PARTITIONS {
        let start = Instant::now();
        loop {
            let logs: Vec<Vec<u8>> = cluster.nodes.iter().map(|n| log_bytes(n, p)).collect();
            if logs.iter().all(|l| *l == logs[0]) {
                println!(
                    "catch-up: partition {p}: {} bytes identical on all replicas",
                    logs[0].len()
                );
                break;
            }
            assert!(start.elapsed() < DEADLINE, "partition {p} replicas differ");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let read = rt.block_on(read_all(&cluster));
    verify("catch-up", &sent, &read, 1, &mut []);
}
