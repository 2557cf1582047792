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

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use proxy::{Fault, Proxy};
use strom::client::{
    Acks, Client, ClientConfig, Consumer, ConsumerConfig, Producer, ProducerConfig, ProducerRecord,
    StartOffset,
};

const TOPIC: &str = "faults";
const PARTITIONS: i32 = 2;
const DEADLINE: Duration = Duration::from_secs(40);

struct Node {
    id: i32,
    port: u16,
    ctrl_port: u16,
    dir: PathBuf,
    proxy: Option<Proxy>,
    child: Option<Child>,
    /// Processes started so far: the log holds one ready line per life.
    lives: usize,
}

impl Node {
    fn advertised(&self) -> String {
        match &self.proxy {
            Some(p) => p.addr.to_string(),
            None => format!("127.0.0.1:{}", self.port),
        }
    }
    fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).expect("running")
    }
}

struct Cluster {
    nodes: Vec<Node>,
    voters: String,
    _tmp: tempfile::TempDir,
}

impl Cluster {
    fn start(n: i32, proxied: bool) -> Cluster {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut nodes = Vec::new();
        for id in 1..=n {
            let port = common::free_port();
            let proxy = proxied
                .then(|| Proxy::start(SocketAddr::from(([127, 0, 0, 1], port))).expect("proxy"));
            nodes.push(Node {
                id,
                port,
                ctrl_port: common::free_port(),
                dir: tmp.path().join(format!("n{id}")),
                proxy,
                child: None,
                lives: 0,
            });
        }
        let voters = nodes
            .iter()
            .map(|n| format!("{}@127.0.0.1:{}", n.id, n.ctrl_port))
            .collect::<Vec<_>>()
            .join(",");
        let mut c = Cluster {
            nodes,
            voters,
            _tmp: tmp,
        };
        for i in 0..c.nodes.len() {
            c.spawn(i);
        }
        for i in 0..c.nodes.len() {
            c.wait_ready(i);
        }
        c
    }

    fn bootstrap(&self) -> String {
        self.nodes
            .iter()
            .map(|n| n.advertised())
            .collect::<Vec<_>>()
            .join(",")
    }

    fn index(&self, id: i32) -> usize {
        self.nodes.iter().position(|n| n.id == id).expect("node id")
    }

    fn spawn(&mut self, i: usize) {
        let voters = self.voters.clone();
        let n = &mut self.nodes[i];
        std::fs::create_dir_all(&n.dir).expect("dir");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(n.dir.join("broker.log"))
            .expect("log");
        n.lives += 1;
        let mut cmd = Command::new(common::strom_bin());
        cmd.env_remove("RUST_LOG")
            .env("STROM_REPLICA_LAG_TIME_MAX_MS", "2000")
            .args(["serve", "--node-id", &n.id.to_string()])
            .args(["--listen", &format!("127.0.0.1:{}", n.port)])
            .args(["--voters", &voters])
            .args(["--broker-session-timeout-ms", "1500"])
            .args(["--data-dir", &n.dir.join("data").to_string_lossy()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(p) = &n.proxy {
            cmd.args(["--advertised-listener", &p.addr.to_string()]);
        }
        n.child = Some(cmd.spawn().expect("spawn strom serve"));
    }

    fn wait_ready(&mut self, i: usize) {
        let n = &mut self.nodes[i];
        let log = n.dir.join("broker.log");
        let started = Instant::now();
        loop {
            let lives = std::fs::read_to_string(&log)
                .map(|s| s.matches("strom: listening on").count())
                .unwrap_or(0);
            if lives >= n.lives {
                return;
            }
            if let Some(Ok(Some(status))) = n.child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "broker {} exited with {status}:\n{}",
                    n.id,
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(started.elapsed() < DEADLINE, "broker {} not ready", n.id);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn restart(&mut self, i: usize) {
        self.kill(i);
        self.spawn(i);
        self.wait_ready(i);
    }

    fn signal(&self, i: usize, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.nodes[i].pid().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill {sig} failed");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            // A paused process must be resumed to die promptly.
            if self.nodes[i].child.is_some() {
                let _ = Command::new("kill")
                    .args(["-CONT", &self.nodes[i].pid().to_string()])
                    .status();
            }
            self.kill(i);
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

async fn client(c: &Cluster) -> Client {
    client_for(&c.bootstrap()).await
}

async fn client_for(bootstrap: &str) -> Client {
    let mut cfg = ClientConfig::new(bootstrap);
    cfg.request_timeout = Duration::from_secs(5);
    cfg.connect_timeout = Duration::from_secs(2);
    Client::connect(cfg).await.expect("client")
}

/// Waits until `f` holds on fresh metadata of the topic.
async fn until_metadata(
    client: &Client,
    what: &str,
    f: impl Fn(&strom::client::TopicInfo) -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        if let Ok(info) = client.refresh_topic(TOPIC, false).await {
            if f(&info) {
                return start.elapsed();
            }
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn create_topic(c: &Cluster) {
    // The brokers register with the quorum moments after they listen.
    let start = Instant::now();
    loop {
        let out = common::strom()
            .args(["topics", "create", TOPIC, "-b", &c.bootstrap()])
            .args([
                "--partitions",
                &PARTITIONS.to_string(),
                "--replication-factor",
                "3",
            ])
            .args(["--config", "min.insync.replicas=2"])
            .output()
            .expect("topics create");
        if out.status.success() {
            break;
        }
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(start.elapsed() < DEADLINE, "cannot create the topic: {err}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let client = client(c).await;
    until_metadata(&client, "a full ISR", |t| {
        t.partitions.len() == PARTITIONS as usize
            && t.partitions
                .iter()
                .all(|p| p.leader >= 0 && p.isr.len() == 3)
    })
    .await;
}

/// What the producer saw: record number → (partition, offset) when acked.
struct Sent {
    acked: BTreeMap<u64, (i32, i64)>,
    failed: u64,
    total: u64,
}

/// Sends numbered records (number mod partitions picks the partition)
/// with acks=all until `stop`, then waits for every answer.
async fn produce(bootstrap: String, stop: Arc<AtomicBool>) -> Sent {
    let client = client_for(&bootstrap).await;
    let cfg = ProducerConfig {
        acks: Acks::All,
        linger: Duration::from_millis(2),
        retries: 1000,
        retry_backoff: Duration::from_millis(50),
        retry_backoff_max: Duration::from_millis(500),
        request_timeout: Duration::from_secs(5),
        ..ProducerConfig::default()
    };
    let producer = Producer::new(client, cfg);
    producer.wait_ready().await;
    assert!(producer.producer_id().is_some(), "idempotent producer id");
    let mut futures = Vec::new();
    let mut n = 0u64;
    while !stop.load(Ordering::SeqCst) {
        for _ in 0..20 {
            let value = n.to_string();
            let rec = ProducerRecord {
                topic: TOPIC,
                partition: Some((n % PARTITIONS as u64) as i32),
                value: Some(value.as_bytes()),
                ..Default::default()
            };
            futures.push((n, producer.send(&rec).await.expect("send")));
            n += 1;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    producer.flush().await;
    let mut sent = Sent {
        acked: BTreeMap::new(),
        failed: 0,
        total: n,
    };
    for (n, f) in futures {
        match f.wait().await {
            Ok(md) => {
                sent.acked.insert(n, (md.partition, md.offset));
            }
            Err(_) => sent.failed += 1,
        }
    }
    producer.close().await;
    sent
}

/// Reads every partition from the start to its high watermark.
async fn read_all(c: &Cluster) -> HashMap<i32, Vec<(i64, u64)>> {
    let client = client(c).await;
    until_metadata(&client, "leaders", |t| {
        t.partitions.iter().all(|p| p.leader >= 0)
    })
    .await;
    let mut consumer = Consumer::new(client, ConsumerConfig::default());
    consumer
        .assign(TOPIC, None, StartOffset::Earliest)
        .await
        .expect("assign");
    let mut out: HashMap<i32, Vec<(i64, u64)>> = HashMap::new();
    let start = Instant::now();
    while !consumer.at_end() {
        assert!(start.elapsed() < DEADLINE, "reading back took too long");
        let Ok(records) = consumer.poll().await else {
            continue;
        };
        for r in records {
            let v = r.value.expect("value");
            let n: u64 = std::str::from_utf8(&v)
                .expect("utf8")
                .parse()
                .expect("number");
            out.entry(r.partition).or_default().push((r.offset, n));
        }
    }
    out
}

/// Checks the invariants and prints the figures.
fn verify(
    name: &str,
    sent: &Sent,
    read: &HashMap<i32, Vec<(i64, u64)>>,
    faults: usize,
    failovers: &mut [Duration],
) {
    let mut seen: HashMap<u64, Vec<(i32, i64)>> = HashMap::new();
    for (p, recs) in read {
        for w in recs.windows(2) {
            assert!(
                w[0].1 < w[1].1,
                "{name}: partition {p} out of order: {} at {} then {} at {}",
                w[0].1,
                w[0].0,
                w[1].1,
                w[1].0
            );
        }
        for (off, n) in recs {
            seen.entry(*n).or_default().push((*p, *off));
        }
    }
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
        sent.failed,
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
    let mut cluster = Cluster::start(3, false);
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
    let mut cluster = Cluster::start(3, true);
    rt.block_on(create_topic(&cluster));
    let stop = Arc::new(AtomicBool::new(false));
    let producing = rt.spawn(produce(cluster.bootstrap(), stop.clone()));
    let mut failovers = Vec::new();
    let mut faults = 0;
    rt.block_on(async {
        let client = client(&cluster).await;
        hold(Duration::from_millis(500)).await;
        let full_isr = |t: &strom::client::TopicInfo| {
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
            let proxy = cluster.nodes[i].proxy.as_ref().expect("proxied");
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
    if std::env::var_os("STROM_KEEP_CLUSTER").is_some() {
        let kept = std::mem::replace(&mut cluster._tmp, tempfile::tempdir().expect("tmp"));
        eprintln!("cluster kept in {}", kept.keep().display());
    }
    verify("pause-and-cut", &sent, &read, faults, &mut failovers);
}

/// Segment bytes of one partition replica, all segments in offset order.
fn log_bytes(node: &Node, partition: i32) -> Vec<u8> {
    let dir = node
        .dir
        .join("data/data")
        .join(format!("{TOPIC}-{partition}"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("partition dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
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
    let mut cluster = Cluster::start(3, false);
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
