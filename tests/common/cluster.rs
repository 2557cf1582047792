//! Shared harness for tests that run a cluster of real `strom serve`
//! processes on 127.0.0.1: every broker gets ports from `free_port` and a
//! directory of its own in one temporary directory, and appends its stderr
//! to `broker.log` there, so the log holds one ready line per process the
//! broker ran. Waits are deadlines on what the logs and the metadata show,
//! never fixed sleeps.
//!
//! What only one test needs stays in that test: flags go in through
//! `Cluster::flags` and `Cluster::node_flags`, a proxy in front of a broker
//! through `Node::advertised`.

use std::collections::{BTreeMap, HashMap};
use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strom::client::{
    Client, ClientConfig, Consumer, ConsumerConfig, Producer, ProducerConfig, ProducerRecord,
    StartOffset, TopicInfo,
};

/// What a broker writes to stderr once it accepts connections.
pub const READY_LINE: &str = "strom: listening on";

/// When the harness's waits give up.
#[derive(Debug, Clone, Copy)]
pub enum Deadline {
    /// All at this instant: one budget for the whole test.
    At(Instant),
    /// Each this long after it begins.
    After(Duration),
}

impl Deadline {
    /// When a wait that begins now gives up.
    pub fn starting_now(self) -> Instant {
        match self {
            Deadline::At(at) => at,
            Deadline::After(d) => Instant::now() + d,
        }
    }
}

pub struct Node {
    pub id: i32,
    /// The client listener.
    pub port: u16,
    /// The controller listener: a voter's `--voters` entry (a learner's
    /// goes in through `Cluster::node_flags`).
    pub ctrl_port: u16,
    pub dir: PathBuf,
    /// The address the broker gives clients and the other brokers instead
    /// of its listener (`--advertised-listener`), e.g. a proxy in front.
    pub advertised: Option<String>,
    pub child: Option<Child>,
    /// Processes started so far: the log holds one ready line per life.
    pub lives: usize,
}

impl Node {
    /// The client listener's address.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Where clients reach the broker.
    pub fn advertised(&self) -> String {
        self.advertised.clone().unwrap_or_else(|| self.addr())
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).expect("running")
    }

    /// Everything the broker's processes wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("broker.log")).unwrap_or_default()
    }

    /// The segment files of the broker's replica of `topic`-`partition`,
    /// in offset order.
    pub fn segments(&self, topic: &str, partition: i32) -> std::io::Result<Vec<PathBuf>> {
        let dir = self
            .dir
            .join("data/data")
            .join(format!("{topic}-{partition}"));
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
            .collect();
        files.sort();
        Ok(files)
    }
}

pub struct Cluster {
    pub nodes: Vec<Node>,
    /// The first this many nodes are the metadata quorum's voters; the
    /// others join it as learners.
    voters: usize,
    /// More `strom serve` flags for every broker.
    flags: Vec<String>,
    /// More `strom serve` flags for one broker, asked at every start (so
    /// they follow changes to the node, such as a new controller port).
    node_flags: fn(&Node) -> Vec<String>,
    pub deadline: Deadline,
    tmp: tempfile::TempDir,
}

impl Cluster {
    /// `n` brokers with ids 1..=n, all voters, none started yet.
    pub fn new(n: i32, deadline: Deadline) -> Cluster {
        let tmp = tempfile::tempdir().expect("tempdir");
        let nodes = (1..=n)
            .map(|id| Node {
                id,
                port: super::free_port(),
                ctrl_port: super::free_port(),
                dir: tmp.path().join(format!("n{id}")),
                advertised: None,
                child: None,
                lives: 0,
            })
            .collect();
        Cluster {
            nodes,
            voters: n as usize,
            flags: Vec::new(),
            node_flags: |_| Vec::new(),
            deadline,
            tmp,
        }
    }

    /// Only the first `n` brokers vote in the metadata quorum.
    pub fn voters(mut self, n: usize) -> Cluster {
        self.voters = n;
        self
    }

    pub fn flags(mut self, flags: &[&str]) -> Cluster {
        self.flags = flags.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn node_flags(mut self, f: fn(&Node) -> Vec<String>) -> Cluster {
        self.node_flags = f;
        self
    }

    /// Starts every broker, then waits until each listens.
    pub fn start(mut self) -> Cluster {
        for i in 0..self.nodes.len() {
            self.spawn(i);
        }
        for i in 0..self.nodes.len() {
            self.wait_ready(i);
        }
        self
    }

    /// Client addresses of every broker.
    pub fn bootstrap(&self) -> String {
        self.bootstrap_filtered(|_| true)
    }

    /// Client addresses of every broker but `id`.
    pub fn bootstrap_except(&self, id: i32) -> String {
        self.bootstrap_filtered(|n| n.id != id)
    }

    fn bootstrap_filtered(&self, keep: impl Fn(&Node) -> bool) -> String {
        self.nodes
            .iter()
            .filter(|n| keep(n))
            .map(Node::advertised)
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn index(&self, id: i32) -> usize {
        self.nodes.iter().position(|n| n.id == id).expect("node id")
    }

    /// Starts broker `i` (without waiting for it to listen).
    pub fn spawn(&mut self, i: usize) {
        let voters = self.nodes[..self.voters]
            .iter()
            .map(|n| format!("{}@127.0.0.1:{}", n.id, n.ctrl_port))
            .collect::<Vec<_>>()
            .join(",");
        let node_flags = (self.node_flags)(&self.nodes[i]);
        let n = &mut self.nodes[i];
        std::fs::create_dir_all(&n.dir).expect("node dir");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(n.dir.join("broker.log"))
            .expect("broker log");
        n.lives += 1;
        // strom() clears every STROM_* variable: settings come from flags
        // only.
        let mut cmd = super::strom();
        cmd.args(["serve", "--node-id", &n.id.to_string()])
            .args(["--listen", &n.addr(), "--voters", &voters])
            .args(&self.flags)
            .args(node_flags)
            .arg("--data-dir")
            .arg(n.dir.join("data"));
        if let Some(addr) = &n.advertised {
            cmd.args(["--advertised-listener", addr]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn strom serve");
        n.child = Some(child);
    }

    /// Waits until broker `i`'s current process listens.
    pub fn wait_ready(&mut self, i: usize) {
        let lives = self.nodes[i].lives;
        self.wait_log(i, READY_LINE, lives);
    }

    /// Waits until broker `i`'s log holds `line` at least `times` times;
    /// panics early when its process exits.
    pub fn wait_log(&mut self, i: usize, line: &str, times: usize) {
        let deadline = self.deadline.starting_now();
        let n = &mut self.nodes[i];
        loop {
            if n.log().matches(line).count() >= times {
                return;
            }
            if let Some(Ok(Some(status))) = n.child.as_mut().map(|c| c.try_wait()) {
                panic!("broker {} exited with {status}:\n{}", n.id, n.log());
            }
            assert!(
                Instant::now() < deadline,
                "broker {}: no {line:?} in its log:\n{}",
                n.id,
                n.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no controlled shutdown, nothing flushed beyond the OS.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kills broker `i` if it runs, starts it again on the same directory
    /// and ports, and waits until it listens.
    pub fn restart(&mut self, i: usize) {
        self.kill(i);
        self.spawn(i);
        self.wait_ready(i);
    }

    /// Sends `signal` (e.g. "-STOP") to broker `i`.
    pub fn signal(&self, i: usize, signal: &str) {
        super::send_signal(self.nodes[i].pid(), signal);
    }

    /// Waits for broker `i` to exit by itself (after a signal); `None`
    /// when it still runs at the deadline.
    pub fn wait_exit(&mut self, i: usize) -> Option<ExitStatus> {
        let deadline = self.deadline.starting_now();
        let n = &mut self.nodes[i];
        let status = super::wait_exit(n.child.as_mut().expect("running"), deadline);
        if status.is_some() {
            n.child = None;
        }
        status
    }

    /// With STROM_KEEP_CLUSTER set, leaves the brokers' directories behind
    /// for a look after the test.
    pub fn keep_if_asked(&mut self) {
        if std::env::var_os("STROM_KEEP_CLUSTER").is_some() {
            let kept = std::mem::replace(&mut self.tmp, tempfile::tempdir().expect("tmp"));
            eprintln!("cluster kept in {}", kept.keep().display());
        }
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

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A client with timeouts short enough for a dead broker to be noticed
/// well within a test's deadline.
pub async fn connect(bootstrap: &str) -> Client {
    let mut cfg = ClientConfig::new(bootstrap);
    cfg.request_timeout = Duration::from_secs(5);
    cfg.connect_timeout = Duration::from_secs(2);
    Client::connect(cfg).await.expect("client")
}

/// Polls `topic`'s metadata every `poll` until `f` holds; returns how long
/// that took. Panics at `deadline`.
pub async fn until_metadata(
    client: &Client,
    topic: &str,
    what: &str,
    deadline: Instant,
    poll: Duration,
    f: impl Fn(&TopicInfo) -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        if let Ok(info) = client.refresh_topic(topic, false).await {
            if f(&info) {
                return start.elapsed();
            }
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(poll).await;
    }
}

/// Creates `topic` with `partitions` partitions on three replicas, so that
/// acks=all survives one broker down (min.insync.replicas=2), and
/// `configs` (`key=value`). Retries: the brokers register with the quorum
/// moments after they listen.
pub async fn create_topic(c: &Cluster, topic: &str, partitions: i32, configs: &[&str]) {
    let deadline = c.deadline.starting_now();
    loop {
        let mut cmd = super::strom();
        cmd.args(["topics", "create", topic, "-b", &c.bootstrap()])
            .args(["--partitions", &partitions.to_string()])
            .args(["--replication-factor", "3"])
            .args(["--config", "min.insync.replicas=2"]);
        for config in configs {
            cmd.args(["--config", config]);
        }
        let out = cmd.output().expect("topics create");
        if out.status.success() {
            return;
        }
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(Instant::now() < deadline, "cannot create the topic: {err}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What a producer of numbered records saw.
pub struct Sent {
    /// Record number → (partition, offset) it was acknowledged at.
    pub acked: BTreeMap<u64, (i32, i64)>,
    /// The records that failed, and why.
    pub errors: Vec<String>,
    pub total: u64,
}

/// Sends numbered records to `topic` (number mod `partitions` picks the
/// partition), 20 every 10 ms, until `stop`; then waits for every answer.
pub async fn produce_numbered(
    client: Client,
    cfg: ProducerConfig,
    topic: &'static str,
    partitions: i32,
    stop: Arc<AtomicBool>,
) -> Sent {
    let producer = Producer::new(client, cfg);
    producer.wait_ready().await;
    assert!(producer.producer_id().is_some(), "idempotent producer id");
    let mut futures = Vec::new();
    let mut n = 0u64;
    while !stop.load(Ordering::SeqCst) {
        for _ in 0..20 {
            let value = n.to_string();
            let rec = ProducerRecord {
                topic,
                partition: Some((n % partitions as u64) as i32),
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

/// Partition → [(offset, record number)] of a topic of numbered records.
pub type Numbered = HashMap<i32, Vec<(i64, u64)>>;

/// Reads every partition of `topic` from the start to its high watermark.
pub async fn read_numbered(client: Client, topic: &str, deadline: Instant) -> Numbered {
    let mut consumer = Consumer::new(client, ConsumerConfig::default());
    consumer
        .assign(topic, None, StartOffset::Earliest)
        .await
        .expect("assign");
    let mut out = Numbered::new();
    while !consumer.at_end() {
        assert!(Instant::now() < deadline, "reading back took too long");
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

/// Where each record was read: record number → [(partition, offset)].
/// Panics (naming the test `name`) when a partition does not hold its
/// records in send order.
pub fn locate(name: &str, read: &Numbered) -> HashMap<u64, Vec<(i32, i64)>> {
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
    seen
}

/// `strom <args> -b <bootstrap>`, killed after `timeout`: (success,
/// stdout, stderr).
pub fn run_client(
    args: &[&str],
    bootstrap: &str,
    stdin: Option<&[u8]>,
    timeout: Duration,
) -> (bool, String, String) {
    let mut cmd = super::strom();
    cmd.args(args).args(["-b", bootstrap]);
    let out = super::run_with_timeout(cmd, stdin, timeout);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One partition line of `topics describe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub partition: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

/// The partition lines of `topics describe` output.
pub fn partitions(describe: &str) -> Vec<Part> {
    let ids =
        |s: &str| -> Vec<i32> { s.split(',').filter_map(|r| r.trim().parse().ok()).collect() };
    describe
        .lines()
        .filter(|l| l.contains("Partition:"))
        .map(|l| {
            let field = |name: &str| {
                l.split('\t')
                    .find_map(|f| f.trim().strip_prefix(name).map(|v| v.trim().to_string()))
                    .unwrap_or_default()
            };
            Part {
                partition: field("Partition:").parse().unwrap_or(-1),
                leader: field("Leader:").parse().unwrap_or(-1),
                replicas: ids(&field("Replicas:")),
                isr: ids(&field("Isr:")),
            }
        })
        .collect()
}
