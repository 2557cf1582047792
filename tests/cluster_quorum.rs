//! The metadata quorum with real processes: three brokers on 127.0.0.1
//! form a cluster, agree on topic metadata, fence a killed broker, survive
//! the loss of a minority, refuse writes without a majority, and keep
//! everything across restarts (Raft log + snapshot replay).
mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::cluster::{partitions, run_client};
use common::strom;

const STEP: Duration = Duration::from_secs(30);
const CMD: Duration = Duration::from_secs(40);

fn free_ports(n: usize) -> Vec<u16> {
    (0..n).map(|_| common::free_port()).collect()
}

struct Node {
    id: i32,
    client: String,
    dir: PathBuf,
    voters: String,
    child: Option<Child>,
}

impl Node {
    fn start(&mut self) {
        let mut child = strom()
            .args(["serve", "--node-id", &self.id.to_string()])
            .args(["--listen", &self.client, "--voters", &self.voters])
            .args(["--broker-session-timeout-ms", "2000", "--data-dir"])
            .arg(&self.dir)
            .env("RUST_LOG", "warn,openraft=off")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn strom serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        let id = self.id;
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                eprintln!("[node {id}] {line}");
                if line.starts_with("strom: listening on") {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(STEP).expect("broker ready line");
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn terminate(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// `strom <args> -b <this node>`: (success, stdout, stderr).
    fn run(&self, args: &[&str]) -> (bool, String, String) {
        run_client(args, &self.client, None, CMD)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

fn cluster(tmp: &tempfile::TempDir) -> Vec<Node> {
    let ports = free_ports(6);
    let voters = (0..3)
        .map(|i| format!("{}@127.0.0.1:{}", i + 1, ports[3 + i]))
        .collect::<Vec<_>>()
        .join(",");
    (0..3)
        .map(|i| Node {
            id: i as i32 + 1,
            client: format!("127.0.0.1:{}", ports[i]),
            dir: tmp.path().join(format!("n{}", i + 1)),
            voters: voters.clone(),
            child: None,
        })
        .collect()
}

/// Polls `f` until it returns `Some`, or panics with `what` at the deadline.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + STEP;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(200));
    }
}

fn create(node: &Node, topic: &str, partitions: &str, rf: &str) -> (bool, String, String) {
    node.run(&[
        "topics",
        "create",
        topic,
        "--partitions",
        partitions,
        "--replication-factor",
        rf,
    ])
}

fn same_everywhere(nodes: &[&Node], topic: &str) -> Option<String> {
    let mut first: Option<String> = None;
    for n in nodes {
        let (ok, out, _) = n.run(&["topics", "describe", topic]);
        if !ok || partitions(&out).is_empty() {
            return None;
        }
        match &first {
            None => first = Some(out),
            Some(f) if *f == out => {}
            Some(_) => return None,
        }
    }
    first
}

#[test]
fn quorum_agrees_fences_survives_minority_loss_and_restarts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut nodes = cluster(&tmp);
    for n in nodes.iter_mut() {
        n.start();
    }

    // A topic created through any broker is seen identically by all.
    eventually("create with RF 3", || {
        let (ok, _, err) = create(&nodes[1], "orders", "3", "3");
        (ok || err.contains("already exists")).then_some(())
    });
    let all: Vec<&Node> = nodes.iter().collect();
    let described = eventually("the same describe on every broker", || {
        same_everywhere(&all, "orders")
    });
    let parts = partitions(&described);
    assert_eq!(parts.len(), 3, "{described}");
    for p in &parts {
        assert_eq!(p.replicas.len(), 3, "{described}");
        assert_eq!(p.isr.len(), 3, "{described}");
        assert!(p.replicas.contains(&p.leader), "{described}");
    }

    // SIGKILL broker 3: its partitions get leaders from the ISR and it
    // leaves every ISR, within a few seconds.
    nodes[2].kill();
    eventually("broker 3 fenced", || {
        let (ok, out, _) = nodes[0].run(&["topics", "describe", "orders"]);
        let p = partitions(&out);
        let clean = ok
            && !p.is_empty()
            && p.iter()
                .all(|p| p.leader != 3 && p.leader != -1 && !p.isr.contains(&3));
        clean.then_some(())
    });

    // Two of three voters still form a majority.
    eventually("create with one voter down", || {
        let (ok, _, err) = create(&nodes[0], "payments", "2", "2");
        (ok || err.contains("already exists")).then_some(())
    });

    // One of three: no majority, a clear error instead of a hang.
    nodes[1].kill();
    let (ok, _, err) = create(&nodes[0], "refused", "1", "1");
    assert!(!ok, "create without a majority must fail");
    assert!(
        err.contains("REQUEST_TIMED_OUT") || err.contains("quorum"),
        "unclear error: {err}"
    );

    // Bring them back: everything is intact and agreed on.
    nodes[1].start();
    nodes[2].start();
    let all: Vec<&Node> = nodes.iter().collect();
    for topic in ["orders", "payments"] {
        eventually("topics intact after the majority returned", || {
            same_everywhere(&all, topic)
        });
    }

    // Restart all three: the Raft log and snapshot bring the topics back.
    for n in nodes.iter_mut() {
        n.terminate();
    }
    for n in nodes.iter_mut() {
        n.start();
    }
    let all: Vec<&Node> = nodes.iter().collect();
    for topic in ["orders", "payments"] {
        let out = eventually("topics after a full restart", || {
            same_everywhere(&all, topic)
        });
        assert!(!partitions(&out).is_empty());
    }
    eventually("create after a full restart", || {
        let (ok, _, err) = create(&nodes[2], "after-restart", "1", "3");
        (ok || err.contains("already exists")).then_some(())
    });
}
