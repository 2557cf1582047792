//! Brokers that are not controller voters, with real processes: three
//! voters and one learner (broker 4, `--node-id 4` not in `--voters`) on
//! 127.0.0.1. The learner must join the metadata quorum, register, host
//! and lead partition replicas, take acks=all writes, be fenced when
//! killed and rejoin every ISR when restarted — at a new controller
//! address (the quorum's membership follows) and then at the same one
//! (nothing to change). Every record is read back exactly once, in order.
//!
//! All waits are deadlines on observed state (log lines, metadata), never
//! fixed sleeps; the whole test stays within `BUDGET`.
mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const TOPIC: &str = "events";
const PARTITIONS: usize = 4;
const LEARNER: i32 = 4;
const BUDGET: Duration = Duration::from_secs(55);

struct Node {
    id: i32,
    port: u16,
    /// Only the learner's is passed as `--controller-listen`; a voter's is
    /// its `--voters` entry.
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
    deadline: Instant,
    _tmp: tempfile::TempDir,
}

impl Cluster {
    fn start(deadline: Instant) -> Cluster {
        let tmp = tempfile::tempdir().expect("tempdir");
        let nodes: Vec<Node> = (1..=LEARNER)
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
            .filter(|n| n.id != LEARNER)
            .map(|n| format!("{}@127.0.0.1:{}", n.id, n.ctrl_port))
            .collect::<Vec<_>>()
            .join(",");
        let mut c = Cluster {
            nodes,
            voters,
            deadline,
            _tmp: tmp,
        };
        for i in 0..c.nodes.len() {
            c.spawn(i);
        }
        for i in 0..c.nodes.len() {
            c.wait_log(i, "strom: listening on", 1);
        }
        c
    }

    fn learner(&mut self) -> &mut Node {
        self.nodes
            .iter_mut()
            .find(|n| n.id == LEARNER)
            .expect("the learner")
    }

    fn bootstrap(&self, except: Option<i32>) -> String {
        self.nodes
            .iter()
            .filter(|n| Some(n.id) != except)
            .map(|n| n.addr())
            .collect::<Vec<_>>()
            .join(",")
    }

    fn spawn(&mut self, i: usize) {
        let voters = self.voters.clone();
        let n = &mut self.nodes[i];
        std::fs::create_dir_all(&n.dir).expect("node dir");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(n.dir.join("broker.log"))
            .expect("broker log");
        n.lives += 1;
        let mut cmd = common::strom();
        cmd.args(["serve", "--node-id", &n.id.to_string()])
            .args(["--listen", &n.addr(), "--voters", &voters])
            .args(["--broker-session-timeout-ms", "2000"])
            .args(["--replica-lag-time-max-ms", "5000"])
            .arg("--data-dir")
            .arg(n.dir.join("data"));
        if n.id == LEARNER {
            cmd.args(["--controller-listen", &format!("127.0.0.1:{}", n.ctrl_port)]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn strom serve");
        n.child = Some(child);
    }

    /// Waits until node `i`'s log holds `line` at least `times` times.
    fn wait_log(&mut self, i: usize, line: &str, times: usize) {
        let deadline = self.deadline;
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

    fn run(&self, args: &[&str], bootstrap: &str, stdin: Option<&[u8]>) -> (bool, String, String) {
        let mut cmd = common::strom();
        cmd.args(args).args(["-b", bootstrap]);
        let out = common::run_with_timeout(cmd, stdin, Duration::from_secs(30));
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Polls `topics describe` through `bootstrap` until `f` holds on its
    /// partitions; returns the output.
    fn until_describe(&self, what: &str, bootstrap: &str, f: impl Fn(&[Part]) -> bool) -> String {
        loop {
            let (ok, out, _) = self.run(&["topics", "describe", TOPIC], bootstrap, None);
            let parts = partitions(&out);
            if ok && parts.len() == PARTITIONS && f(&parts) {
                return out;
            }
            assert!(
                Instant::now() < self.deadline,
                "timed out waiting for {what}; last describe:\n{out}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `count` numbered records to every partition, acks=all (the CLI
    /// default, idempotent), `tag` telling the rounds apart.
    fn produce(&self, bootstrap: &str, tag: &str, count: usize) {
        for p in 0..PARTITIONS {
            let lines: String = (0..count).map(|i| format!("{tag}-{p}-{i:04}\n")).collect();
            let (ok, _, err) = self.run(
                &[
                    "produce",
                    "-t",
                    TOPIC,
                    "-p",
                    &p.to_string(),
                    "--acks",
                    "all",
                ],
                bootstrap,
                Some(lines.as_bytes()),
            );
            assert!(ok, "produce to partition {p} ({tag}) failed: {err}");
        }
    }

    fn kill_learner(&mut self) {
        let n = self.learner();
        if let Some(mut c) = n.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn terminate_learner(&mut self) {
        let deadline = self.deadline;
        let n = self.learner();
        if let Some(mut c) = n.child.take() {
            common::send_signal(c.id(), "-TERM");
            let status = common::wait_exit(&mut c, deadline);
            assert!(
                status.is_some_and(|s| s.success()),
                "the learner did not stop cleanly on SIGTERM ({status:?}):\n{}",
                n.log()
            );
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

/// One `topics describe` line: partition, leader, replicas, isr.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Part {
    partition: i32,
    leader: i32,
    replicas: Vec<i32>,
    isr: Vec<i32>,
}

fn ids(s: &str) -> Vec<i32> {
    s.split(',').filter_map(|r| r.trim().parse().ok()).collect()
}

fn partitions(describe: &str) -> Vec<Part> {
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

/// Every partition led, with its full replica set in sync.
fn all_in_sync(parts: &[Part]) -> bool {
    parts.iter().all(|p| {
        p.leader >= 0 && p.replicas.len() == 3 && {
            let mut r = p.replicas.clone();
            let mut i = p.isr.clone();
            r.sort_unstable();
            i.sort_unstable();
            r == i
        }
    })
}

/// The learner leads nothing and is in no ISR, and every partition still
/// has a leader.
fn learner_fenced(parts: &[Part]) -> bool {
    parts
        .iter()
        .all(|p| p.leader >= 0 && p.leader != LEARNER && !p.isr.contains(&LEARNER))
}

#[test]
fn a_learner_broker_hosts_replicas_is_fenced_and_rejoins() {
    let started = Instant::now();
    let deadline = started + BUDGET;
    let phase = |what: &str| {
        println!(
            "learners: {what} after {} ms",
            started.elapsed().as_millis()
        )
    };
    let mut c = Cluster::start(deadline);
    let learner = c.nodes.len() - 1;
    // The learner joins through a voter, then registers like any broker;
    // all four must be registered for the topic to be spread over them.
    c.wait_log(learner, "joined the metadata quorum as a learner", 1);
    for i in 0..c.nodes.len() {
        c.wait_log(i, "broker registered", 1);
    }

    // Created through the learner: its proposal is forwarded to the
    // controller leader like any broker's.
    let learner_addr = c.nodes[learner].addr();
    loop {
        let (ok, _, err) = c.run(
            &[
                "topics",
                "create",
                TOPIC,
                "--partitions",
                &PARTITIONS.to_string(),
                "--replication-factor",
                "3",
                "--config",
                "min.insync.replicas=2",
            ],
            &learner_addr,
            None,
        );
        if ok || err.contains("already exists") {
            break;
        }
        assert!(Instant::now() < deadline, "cannot create the topic: {err}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Four partitions, RF 3, round-robin over four brokers: the learner
    // is a replica of three and the leader of one.
    let described = c.until_describe("a full ISR", &learner_addr, all_in_sync);
    let parts = partitions(&described);
    let hosted = parts
        .iter()
        .filter(|p| p.replicas.contains(&LEARNER))
        .count();
    assert_eq!(hosted, 3, "the learner hosts replicas:\n{described}");
    assert!(
        parts
            .iter()
            .filter(|p| p.replicas.contains(&LEARNER))
            .all(|p| p.isr.contains(&LEARNER)),
        "the learner is in sync:\n{described}"
    );
    assert!(
        parts.iter().any(|p| p.leader == LEARNER),
        "the learner leads a partition:\n{described}"
    );
    // The learner applies the same metadata as the voters.
    let voter1 = c.nodes[0].addr();
    c.until_describe("the voters to agree with the learner", &voter1, |p| {
        p == parts.as_slice()
    });

    c.produce(&c.bootstrap(None), "a", 100);
    phase("first records acknowledged");

    // SIGKILL the learner: the controller fences it (its partition gets a
    // leader from the ISR, it leaves every ISR); acks=all writes go on
    // with the two voters of each partition (min.insync.replicas=2).
    c.kill_learner();
    let voters_only = c.bootstrap(Some(LEARNER));
    c.until_describe(
        "the killed learner to be fenced",
        &voters_only,
        learner_fenced,
    );
    c.produce(&voters_only, "b", 100);
    phase("learner fenced, more records acknowledged");

    // Restart at a new controller address: the quorum's membership follows
    // (the leader replicates there), it registers again, catches up and
    // rejoins every ISR.
    c.learner().ctrl_port = common::free_port();
    c.spawn(learner);
    c.wait_log(learner, "strom: listening on", 2);
    c.wait_log(learner, "its controller address is updated", 1);
    c.until_describe("the learner back in every ISR", &voters_only, all_in_sync);
    // Its own view is current: it applies the log at the new address.
    c.until_describe(
        "the learner's own metadata to show it in sync",
        &learner_addr,
        all_in_sync,
    );
    phase("learner rejoined at a new controller address");

    // SIGTERM (controlled shutdown hands its leadership over) and restart
    // at the same address: already a learner, nothing to change.
    c.terminate_learner();
    c.until_describe(
        "the stopped learner out of every ISR",
        &voters_only,
        learner_fenced,
    );
    c.spawn(learner);
    c.wait_log(learner, "strom: listening on", 3);
    c.wait_log(learner, "already a learner of the metadata quorum", 1);
    c.until_describe(
        "the learner back in every ISR again",
        &voters_only,
        all_in_sync,
    );
    c.produce(&c.bootstrap(None), "c", 50);
    phase("learner rejoined at the same address");

    // Everything acknowledged, exactly once and in order, per partition.
    let (ok, out, err) = c.run(
        &[
            "consume",
            "-t",
            TOPIC,
            "--from-beginning",
            "-e",
            "-f",
            "%p %s\n",
        ],
        &c.bootstrap(None),
        None,
    );
    assert!(ok, "consume failed: {err}");
    let mut read: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for line in out.lines() {
        let (p, v) = line.split_once(' ').expect("partition and value");
        read.entry(p.parse().expect("partition"))
            .or_default()
            .push(v.to_string());
    }
    for p in 0..PARTITIONS {
        let want: Vec<String> = [("a", 100), ("b", 100), ("c", 50)]
            .iter()
            .flat_map(|(tag, n)| (0..*n).map(move |i| format!("{tag}-{p}-{i:04}")))
            .collect();
        assert_eq!(
            read.get(&p).cloned().unwrap_or_default(),
            want,
            "partition {p} read back"
        );
    }

    // `topics describe` shows broker 4 in Replicas and Isr.
    let described = c.until_describe("a final full ISR", &c.bootstrap(None), all_in_sync);
    assert!(
        partitions(&described)
            .iter()
            .any(|p| p.replicas.contains(&LEARNER) && p.isr.contains(&LEARNER)),
        "{described}"
    );
}

/// A broker that is not a voter needs `--controller-listen` (it has no
/// `--voters` entry to default from), and may not take a voter's address.
#[test]
fn learner_flags_are_checked() {
    let voters = "1@127.0.0.1:1,2@127.0.0.1:2,3@127.0.0.1:3";
    for (extra, says) in [
        (vec![], "--controller-listen"),
        (vec!["--controller-listen", "127.0.0.1:2"], "voter 2"),
    ] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut cmd = common::strom();
        cmd.args(["serve", "--node-id", "4", "--voters", voters])
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(tmp.path())
            .args(&extra);
        let out = common::run_with_timeout(cmd, None, Duration::from_secs(20));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(says), "{extra:?}: {err}");
    }
}
