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
use std::time::{Duration, Instant};

use common::cluster::{self, partitions, Cluster, Deadline, Node, Part};

const TOPIC: &str = "events";
const PARTITIONS: usize = 4;
const LEARNER: i32 = 4;
const BUDGET: Duration = Duration::from_secs(55);

/// Brokers 1 to 3 are the voters, broker 4 the learner.
fn start(deadline: Instant) -> Cluster {
    Cluster::new(LEARNER, Deadline::At(deadline))
        .voters(3)
        .flags(&[
            "--broker-session-timeout-ms",
            "2000",
            "--replica-lag-time-max-ms",
            "5000",
        ])
        .node_flags(learner_flags)
        .start()
}

/// The learner has no `--voters` entry to take its controller address
/// from; asked at every start, so it follows a new `ctrl_port`.
fn learner_flags(n: &Node) -> Vec<String> {
    if n.id != LEARNER {
        return Vec::new();
    }
    vec![
        "--controller-listen".to_string(),
        format!("127.0.0.1:{}", n.ctrl_port),
    ]
}

fn run(args: &[&str], bootstrap: &str, stdin: Option<&[u8]>) -> (bool, String, String) {
    cluster::run_client(args, bootstrap, stdin, Duration::from_secs(30))
}

/// Polls `topics describe` through `bootstrap` until `f` holds on its
/// partitions; returns the output.
fn until_describe(c: &Cluster, what: &str, bootstrap: &str, f: impl Fn(&[Part]) -> bool) -> String {
    let deadline = c.deadline.starting_now();
    loop {
        let (ok, out, _) = run(&["topics", "describe", TOPIC], bootstrap, None);
        let parts = partitions(&out);
        if ok && parts.len() == PARTITIONS && f(&parts) {
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last describe:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `count` numbered records to every partition, acks=all (the CLI
/// default, idempotent), `tag` telling the rounds apart.
fn produce(bootstrap: &str, tag: &str, count: usize) {
    for p in 0..PARTITIONS {
        let lines: String = (0..count).map(|i| format!("{tag}-{p}-{i:04}\n")).collect();
        let (ok, _, err) = run(
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
    let mut c = start(deadline);
    let learner = c.index(LEARNER);
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
        let (ok, _, err) = run(
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
    let described = until_describe(&c, "a full ISR", &learner_addr, all_in_sync);
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
    until_describe(&c, "the voters to agree with the learner", &voter1, |p| {
        p == parts.as_slice()
    });

    produce(&c.bootstrap(), "a", 100);
    phase("first records acknowledged");

    // SIGKILL the learner: the controller fences it (its partition gets a
    // leader from the ISR, it leaves every ISR); acks=all writes go on
    // with the two voters of each partition (min.insync.replicas=2).
    c.kill(learner);
    let voters_only = c.bootstrap_except(LEARNER);
    until_describe(
        &c,
        "the killed learner to be fenced",
        &voters_only,
        learner_fenced,
    );
    produce(&voters_only, "b", 100);
    phase("learner fenced, more records acknowledged");

    // Restart at a new controller address: the quorum's membership follows
    // (the leader replicates there), it registers again, catches up and
    // rejoins every ISR.
    c.nodes[learner].ctrl_port = common::free_port();
    c.restart(learner);
    c.wait_log(learner, "its controller address is updated", 1);
    until_describe(
        &c,
        "the learner back in every ISR",
        &voters_only,
        all_in_sync,
    );
    // Its own view is current: it applies the log at the new address.
    until_describe(
        &c,
        "the learner's own metadata to show it in sync",
        &learner_addr,
        all_in_sync,
    );
    phase("learner rejoined at a new controller address");

    // SIGTERM (controlled shutdown hands its leadership over) and restart
    // at the same address: already a learner, nothing to change.
    c.signal(learner, "-TERM");
    let status = c.wait_exit(learner);
    assert!(
        status.is_some_and(|s| s.success()),
        "the learner did not stop cleanly on SIGTERM ({status:?}):\n{}",
        c.nodes[learner].log()
    );
    until_describe(
        &c,
        "the stopped learner out of every ISR",
        &voters_only,
        learner_fenced,
    );
    c.restart(learner);
    c.wait_log(learner, "already a learner of the metadata quorum", 1);
    until_describe(
        &c,
        "the learner back in every ISR again",
        &voters_only,
        all_in_sync,
    );
    produce(&c.bootstrap(), "c", 50);
    phase("learner rejoined at the same address");

    // Everything acknowledged, exactly once and in order, per partition.
    let (ok, out, err) = run(
        &[
            "consume",
            "-t",
            TOPIC,
            "--from-beginning",
            "-e",
            "-f",
            "%p %s\n",
        ],
        &c.bootstrap(),
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
    let described = until_describe(&c, "a final full ISR", &c.bootstrap(), all_in_sync);
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
