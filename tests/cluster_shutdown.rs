//! Controlled shutdown with real processes: three `strom serve` brokers on
//! 127.0.0.1, a topic with replication factor 3 and min.insync.replicas=2,
//! and an idempotent acks=all producer sending numbered records. The leader
//! of partition 0 gets SIGTERM. Before it stops it must hand its partitions
//! over (new leaders and an ISR without it, far sooner than the session
//! timeout would fence it), the producer must see no error, and every
//! acknowledged record must be read back exactly once, in send order.
//! Restarted, the broker must rejoin every ISR through the usual catch-up.
//! The other two brokers then get the same in turn (a rolling restart, so
//! the metadata quorum's Raft leader is stopped too).
//!
//! All waits are deadlines on observed state (metadata, process exit, log
//! lines), never fixed sleeps; the producer is paced, which is load, not
//! waiting.
mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strom::client::{
    Acks, Client, ClientConfig, Consumer, ConsumerConfig, Producer, ProducerConfig, ProducerRecord,
    StartOffset, TopicInfo,
};

const TOPIC: &str = "handover";
const PARTITIONS: i32 = 3;
/// Long on purpose: leadership moving before this could only be the
/// controlled shutdown's doing, not the controller fencing a silent broker.
const SESSION_TIMEOUT_MS: u64 = 10_000;
/// The whole test, start to finish, stays within this.
const BUDGET: Duration = Duration::from_secs(55);

struct Node {
    id: i32,
    port: u16,
    ctrl_port: u16,
    dir: PathBuf,
    child: Option<Child>,
    /// Processes started so far: the log holds one ready line per life.
    lives: usize,
}

impl Node {
    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("broker.log")).unwrap_or_default()
    }
}

struct Cluster {
    nodes: Vec<Node>,
    voters: String,
    /// More `strom serve` flags for every broker.
    extra: Vec<String>,
    /// Every wait in the test gives up here.
    deadline: Instant,
    _tmp: tempfile::TempDir,
}

impl Cluster {
    fn start(n: i32, deadline: Instant) -> Cluster {
        Cluster::start_with(n, deadline, &[])
    }

    fn start_with(n: i32, deadline: Instant, extra: &[&str]) -> Cluster {
        let tmp = tempfile::tempdir().expect("tempdir");
        let nodes: Vec<Node> = (1..=n)
            .map(|id| Node {
                id,
                port: common::free_port(),
                ctrl_port: common::free_port(),
                dir: tmp.path().join(format!("n{id}")),
                child: None,
                lives: 0,
            })
            .collect();
        let voters = nodes
            .iter()
            .map(|n| format!("{}@127.0.0.1:{}", n.id, n.ctrl_port))
            .collect::<Vec<_>>()
            .join(",");
        let mut c = Cluster {
            nodes,
            voters,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            deadline,
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

    /// Client addresses of every broker but `except`.
    fn bootstrap(&self, except: Option<i32>) -> String {
        self.nodes
            .iter()
            .filter(|n| Some(n.id) != except)
            .map(|n| n.addr())
            .collect::<Vec<_>>()
            .join(",")
    }

    fn index(&self, id: i32) -> usize {
        self.nodes.iter().position(|n| n.id == id).expect("node id")
    }

    fn spawn(&mut self, i: usize) {
        let voters = self.voters.clone();
        let extra = self.extra.clone();
        let n = &mut self.nodes[i];
        std::fs::create_dir_all(&n.dir).expect("node dir");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(n.dir.join("broker.log"))
            .expect("broker log");
        n.lives += 1;
        // common::strom() clears every STROM_* variable: settings come
        // from flags only, including --replica-lag-time-max-ms.
        let child = common::strom()
            .args(["serve", "--node-id", &n.id.to_string()])
            .args(["--listen", &n.addr(), "--voters", &voters])
            .args([
                "--broker-session-timeout-ms",
                &SESSION_TIMEOUT_MS.to_string(),
            ])
            .args(["--replica-lag-time-max-ms", "5000"])
            .args(&extra)
            .arg("--data-dir")
            .arg(n.dir.join("data"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn strom serve");
        n.child = Some(child);
    }

    fn wait_ready(&mut self, i: usize) {
        let deadline = self.deadline;
        let n = &mut self.nodes[i];
        loop {
            if n.log().matches("strom: listening on").count() >= n.lives {
                return;
            }
            if let Some(Ok(Some(status))) = n.child.as_mut().map(|c| c.try_wait()) {
                panic!("broker {} exited with {status}:\n{}", n.id, n.log());
            }
            assert!(Instant::now() < deadline, "broker {} not ready", n.id);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            if let Some(mut c) = n.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
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

async fn client_for(bootstrap: &str) -> Client {
    let mut cfg = ClientConfig::new(bootstrap);
    cfg.request_timeout = Duration::from_secs(5);
    cfg.connect_timeout = Duration::from_secs(2);
    Client::connect(cfg).await.expect("client")
}

/// Polls the topic's metadata until `f` holds; panics at `deadline`.
async fn until_metadata(
    client: &Client,
    what: &str,
    deadline: Instant,
    f: impl Fn(&TopicInfo) -> bool,
) {
    loop {
        if let Ok(info) = client.refresh_topic(TOPIC, false).await {
            if f(&info) {
                return;
            }
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn full_isr(t: &TopicInfo) -> bool {
    t.partitions.len() == PARTITIONS as usize
        && t.partitions
            .iter()
            .all(|p| p.leader >= 0 && p.isr.len() == 3)
}

async fn create_topic(c: &Cluster) {
    // The brokers register with the quorum moments after they listen.
    loop {
        let out = common::strom()
            .args(["topics", "create", TOPIC, "-b", &c.bootstrap(None)])
            .args(["--partitions", &PARTITIONS.to_string()])
            .args(["--replication-factor", "3"])
            .args(["--config", "min.insync.replicas=2"])
            .output()
            .expect("topics create");
        if out.status.success() {
            break;
        }
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            Instant::now() < c.deadline,
            "cannot create the topic: {err}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let client = client_for(&c.bootstrap(None)).await;
    until_metadata(&client, "a full ISR", c.deadline, full_isr).await;
}

/// What the producer saw: record number → (partition, offset) when acked.
struct Sent {
    acked: BTreeMap<u64, (i32, i64)>,
    errors: Vec<String>,
    total: u64,
}

/// Sends numbered records (number mod partitions picks the partition)
/// with acks=all until `stop`, then waits for every answer.
async fn produce(bootstrap: String, stop: Arc<AtomicBool>) -> Sent {
    let client = client_for(&bootstrap).await;
    // The default retry budget (10 retries, 100 ms doubling to 1 s: about
    // 7.5 s) is shorter than the session timeout: without a handover a
    // partition of the stopped broker would stay leaderless for longer,
    // and its records would fail.
    let cfg = ProducerConfig {
        acks: Acks::All,
        linger: Duration::from_millis(2),
        request_timeout: Duration::from_secs(10),
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
        errors: Vec::new(),
        total: n,
    };
    for (n, f) in futures {
        match f.wait().await {
            Ok(md) => {
                sent.acked.insert(n, (md.partition, md.offset));
            }
            Err(e) => sent.errors.push(format!("record {n}: {e}")),
        }
    }
    producer.close().await;
    sent
}

/// Reads every partition from the start to its high watermark:
/// partition → [(offset, record number)].
async fn read_all(c: &Cluster) -> HashMap<i32, Vec<(i64, u64)>> {
    let client = client_for(&c.bootstrap(None)).await;
    let mut consumer = Consumer::new(client, ConsumerConfig::default());
    consumer
        .assign(TOPIC, None, StartOffset::Earliest)
        .await
        .expect("assign");
    let mut out: HashMap<i32, Vec<(i64, u64)>> = HashMap::new();
    while !consumer.at_end() {
        assert!(Instant::now() < c.deadline, "reading back took too long");
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

/// Every acknowledged record exactly once, at its acknowledged offset;
/// each partition in send order.
fn verify(sent: &Sent, read: &HashMap<i32, Vec<(i64, u64)>>) {
    let mut seen: HashMap<u64, Vec<(i32, i64)>> = HashMap::new();
    for (p, recs) in read {
        for w in recs.windows(2) {
            assert!(
                w[0].1 < w[1].1,
                "partition {p} out of order: {} at {} then {} at {}",
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
    let duplicates: Vec<_> = seen.iter().filter(|(_, v)| v.len() > 1).collect();
    let lost: Vec<_> = sent
        .acked
        .iter()
        .filter(|(n, at)| !seen.get(n).is_some_and(|v| v.contains(at)))
        .collect();
    println!(
        "controlled shutdown: sent {}, acked {}, errors {}, lost {}, duplicates {}",
        sent.total,
        sent.acked.len(),
        sent.errors.len(),
        lost.len(),
        duplicates.len()
    );
    assert!(
        sent.errors.is_empty(),
        "the producer saw errors: {:?}",
        &sent.errors[..sent.errors.len().min(5)]
    );
    assert_eq!(sent.acked.len() as u64, sent.total);
    assert!(
        lost.is_empty(),
        "acknowledged records missing or moved (record, where acked): {:?}",
        &lost[..lost.len().min(5)]
    );
    assert!(
        duplicates.is_empty(),
        "records written twice: {:?}",
        &duplicates[..duplicates.len().min(5)]
    );
}

/// SIGTERMs `victim`, checks that it handed everything over quickly and
/// exited cleanly, lets the others carry the load for a moment, restarts
/// it and waits until it is back in every ISR.
fn stop_and_restart(rt: &tokio::runtime::Runtime, cluster: &mut Cluster, victim: i32, why: &str) {
    let i = cluster.index(victim);
    let pid = cluster.nodes[i].child.as_ref().expect("running").id();
    let deadline = cluster.deadline;
    // The broker stays up while it hands over, so the others' metadata
    // must show the move before (or as) it exits.
    let survivors = rt.block_on(client_for(&cluster.bootstrap(Some(victim))));
    let sigterm = Instant::now();
    common::send_signal(pid, "-TERM");
    rt.block_on(until_metadata(
        &survivors,
        "the stopping broker to lead nothing and leave every ISR",
        deadline,
        |t| {
            t.partitions
                .iter()
                .all(|p| p.leader >= 0 && p.leader != victim && !p.isr.contains(&victim))
        },
    ));
    let handed_over = sigterm.elapsed();
    let status = {
        let child = cluster.nodes[i].child.as_mut().expect("running");
        common::wait_exit(child, deadline)
    };
    let exited = sigterm.elapsed();
    cluster.nodes[i].child = None;
    println!(
        "controlled shutdown: broker {victim} ({why}): leadership moved {} ms after SIGTERM \
         (session timeout {SESSION_TIMEOUT_MS} ms); the process exited after {} ms",
        handed_over.as_millis(),
        exited.as_millis()
    );
    let log = cluster.nodes[i].log();
    assert_eq!(
        status.map(|s| s.success()),
        Some(true),
        "broker {victim} did not exit cleanly after SIGTERM:\n{log}"
    );
    assert_eq!(
        log.matches("controlled shutdown: leadership handed over")
            .count(),
        cluster.nodes[i].lives,
        "broker {victim} did not report its handover:\n{log}"
    );
    assert!(
        handed_over < Duration::from_millis(SESSION_TIMEOUT_MS / 2),
        "leadership took {handed_over:?} to move: no faster than fencing"
    );

    // The others carry the load; then the broker returns and catches up.
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(1000)).await });
    cluster.spawn(i);
    cluster.wait_ready(i);
    let restarted = Instant::now();
    rt.block_on(until_metadata(
        &survivors,
        "the restarted broker back in every ISR",
        deadline,
        |t| t.partitions.iter().all(|p| p.isr.contains(&victim)),
    ));
    println!(
        "controlled shutdown: broker {victim} rejoined every ISR {} ms after its restart",
        restarted.elapsed().as_millis()
    );
}

#[test]
fn sigterm_hands_leadership_over_before_the_broker_stops() {
    let started = Instant::now();
    let deadline = started + BUDGET;
    let rt = runtime();
    let mut cluster = Cluster::start(3, deadline);
    rt.block_on(create_topic(&cluster));
    let stop = Arc::new(AtomicBool::new(false));
    let producing = rt.spawn(produce(cluster.bootstrap(None), stop.clone()));

    // Let the producer run against the full cluster, then stop the leader
    // of partition 0.
    let first = rt.block_on(async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let client = client_for(&cluster.bootstrap(None)).await;
        let info = client.refresh_topic(TOPIC, false).await.expect("metadata");
        info.partitions[0].leader
    });
    stop_and_restart(&rt, &mut cluster, first, "the leader of partition 0");
    // A rolling restart of the other two: one of the three is the Raft
    // leader of the metadata quorum, whose successor is elected only once
    // it has stopped.
    let others: Vec<i32> = cluster
        .nodes
        .iter()
        .map(|n| n.id)
        .filter(|id| *id != first)
        .collect();
    for id in others {
        stop_and_restart(&rt, &mut cluster, id, "rolling restart");
    }

    stop.store(true, Ordering::SeqCst);
    let sent = rt.block_on(producing).expect("producer task");
    let read = rt.block_on(read_all(&cluster));
    if std::env::var_os("STROM_KEEP_CLUSTER").is_some() {
        let kept = std::mem::replace(&mut cluster._tmp, tempfile::tempdir().expect("tmp"));
        eprintln!("cluster kept in {}", kept.keep().display());
    }
    verify(&sent, &read);

    // The leaders never asked to put a fenced broker back into an ISR
    // (the controller would refuse, and the high watermark would stall on
    // it while they waited for the answer).
    for n in &cluster.nodes {
        let log = n.log();
        assert!(
            !log.contains("is fenced and cannot join the ISR"),
            "broker {} proposed a fenced broker for an ISR:\n{log}",
            n.id
        );
    }
    println!(
        "controlled shutdown: test took {} ms",
        started.elapsed().as_millis()
    );
    assert!(started.elapsed() < BUDGET, "took {:?}", started.elapsed());
}

/// Kafka's automatic leader rebalance: once a restarted broker is back in
/// the ISR of the partitions it prefers to lead (first replica), the
/// controller gives them back, so a rolling restart does not leave one
/// broker leading everything. Under an acks=all producer, which must see
/// no error, lose nothing and write nothing twice.
#[test]
fn leadership_returns_to_preferred_replicas_after_a_restart() {
    let started = Instant::now();
    let deadline = started + BUDGET;
    let rt = runtime();
    let mut cluster = Cluster::start_with(
        3,
        deadline,
        &["--leader-imbalance-check-interval-ms", "500"],
    );
    rt.block_on(create_topic(&cluster));
    let client = rt.block_on(client_for(&cluster.bootstrap(None)));
    let preferred = |t: &TopicInfo| {
        t.partitions
            .iter()
            .all(|p| p.replicas.first() == Some(&p.leader) && p.isr.len() == 3)
    };
    rt.block_on(until_metadata(
        &client,
        "every partition led by its preferred replica",
        deadline,
        preferred,
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let producing = rt.spawn(produce(cluster.bootstrap(None), stop.clone()));
    let victim = rt
        .block_on(client.refresh_topic(TOPIC, false))
        .expect("metadata")
        .partitions[0]
        .leader;

    // Stops it (its partitions move to the others), restarts it, and
    // waits until it is back in every ISR.
    stop_and_restart(&rt, &mut cluster, victim, "preferred leader");
    let back_in_isr = Instant::now();
    let survivors = rt.block_on(client_for(&cluster.bootstrap(Some(victim))));
    rt.block_on(until_metadata(
        &survivors,
        "leadership back on the preferred replicas",
        deadline,
        preferred,
    ));
    println!(
        "preferred leader election: broker {victim} led its partitions again {} ms after it \
         rejoined the ISR (check interval 500 ms)",
        back_in_isr.elapsed().as_millis()
    );

    stop.store(true, Ordering::SeqCst);
    let sent = rt.block_on(producing).expect("producer task");
    let read = rt.block_on(read_all(&cluster));
    verify(&sent, &read);
    assert!(started.elapsed() < BUDGET, "took {:?}", started.elapsed());
}
