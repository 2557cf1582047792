//! strom's own transactional producer and read_committed consumer on a
//! 3-broker cluster (issue 16): the coordinator of a transactional id is
//! the leader of its `__transaction_state` partition, found with
//! FindCoordinator; it fails over with that partition, and a follower
//! promoted in mid-transaction keeps the transaction's records unread
//! until its marker.
mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::cluster::{create_topic, partitions, run_client, runtime, Cluster, Deadline};

/// Partitions of `__transaction_state` (the default).
const TXN_STATE_PARTITIONS: i32 = 8;
const STEP: Duration = Duration::from_secs(60);

fn lines(from: std::ops::RangeInclusive<u32>) -> Vec<u8> {
    from.map(|i| format!("{i}\n"))
        .collect::<String>()
        .into_bytes()
}

/// Java's String.hashCode, as the brokers place an id with it.
fn txn_partition(id: &str) -> i32 {
    let h = id
        .encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
    let abs = if h == i32::MIN { 0 } else { h.abs() };
    abs % TXN_STATE_PARTITIONS
}

/// The leader of `topic`-`partition` once every partition of `topic` has
/// a leader (and, with `full_isr`, three in-sync replicas).
fn leader(c: &Cluster, bootstrap: &str, topic: &str, partition: i32, full_isr: bool) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (ok, out, _) = run_client(&["topics", "describe", topic], bootstrap, None, STEP);
        let parts = partitions(&out);
        if ok
            && !parts.is_empty()
            && parts
                .iter()
                .all(|p| p.leader > 0 && (!full_isr || p.isr.len() == c.nodes.len()))
        {
            if let Some(p) = parts.iter().find(|p| p.partition == partition) {
                return p.leader;
            }
        }
        assert!(Instant::now() < deadline, "{topic} has no leaders: {out}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every value of `topic` read at `isolation`, sorted as numbers.
/// The leader of `topic`-`partition` once it is no longer `old`.
fn new_leader(c: &Cluster, bootstrap: &str, topic: &str, partition: i32, old: i32) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let l = leader(c, bootstrap, topic, partition, false);
        if l != old {
            return l;
        }
        assert!(
            Instant::now() < deadline,
            "{topic}-{partition} still led by {old}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn read(bootstrap: &str, topic: &str, isolation: &str) -> Vec<u32> {
    let (ok, out, err) = run_client(
        &[
            "consume",
            "-t",
            topic,
            "--from-beginning",
            "-e",
            "--isolation-level",
            isolation,
        ],
        bootstrap,
        None,
        STEP,
    );
    assert!(ok, "consume: {err}");
    let mut v: Vec<u32> = out.lines().filter_map(|l| l.parse().ok()).collect();
    v.sort_unstable();
    v
}

fn describe(bootstrap: &str, id: &str) -> serde_json::Value {
    let (ok, out, err) = run_client(
        &["transactions", "describe", id, "--output", "json"],
        bootstrap,
        None,
        STEP,
    );
    assert!(ok, "describe: {err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("describe json");
    v.as_array().and_then(|a| a.first()).cloned().unwrap_or(v)
}

#[test]
fn transactions_commit_and_fail_over_with_their_coordinator() {
    let mut c = Cluster::new(3, Deadline::After(Duration::from_secs(90))).start();
    runtime().block_on(create_topic(&c, "orders", 3, &[]));
    let bs = c.bootstrap();
    leader(&c, &bs, "__transaction_state", 0, true);
    let (ok, _, err) = run_client(
        &[
            "produce",
            "-t",
            "orders",
            "--transactional-id",
            "loader",
            "--transaction-size",
            "100",
        ],
        &bs,
        Some(&lines(1..=500)),
        STEP,
    );
    assert!(ok, "produce: {err}");
    let coordinator = leader(
        &c,
        &bs,
        "__transaction_state",
        txn_partition("loader"),
        false,
    );
    let first = describe(&bs, "loader");
    assert_eq!(first["state"], "CompleteCommit", "{first}");

    // The coordinator's broker dies: the partition's new leader loads the
    // id's state from the replicated log and fences the old epoch.
    c.kill(c.index(coordinator));
    let rest = c.bootstrap_except(coordinator);
    let (ok, _, err) = run_client(
        &[
            "produce",
            "-t",
            "orders",
            "--transactional-id",
            "loader",
            "--transaction-size",
            "100",
        ],
        &rest,
        Some(&lines(501..=1000)),
        STEP,
    );
    assert!(ok, "produce after the coordinator's failover: {err}");
    new_leader(
        &c,
        &rest,
        "__transaction_state",
        txn_partition("loader"),
        coordinator,
    );
    let second = describe(&rest, "loader");
    assert_eq!(second["state"], "CompleteCommit", "{second}");
    assert_eq!(second["producer_id"], first["producer_id"], "same id");
    assert!(
        second["producer_epoch"].as_i64() > first["producer_epoch"].as_i64(),
        "a new instance bumps the epoch: {first} then {second}"
    );
    assert_eq!(
        read(&rest, "orders", "read_committed"),
        (1..=1000).collect::<Vec<_>>()
    );
    // Every broker is asked: the id is listed once, whoever coordinates it.
    let (ok, out, err) = run_client(
        &["transactions", "list", "--output", "json"],
        &rest,
        None,
        STEP,
    );
    assert!(ok, "list: {err}");
    let listed: serde_json::Value = serde_json::from_str(&out).expect("list json");
    let n = listed.as_array().map_or(0, |a| {
        a.iter()
            .filter(|t| t["transactional_id"] == "loader")
            .count()
    });
    assert_eq!(n, 1, "{out}");
}

#[test]
fn a_follower_promoted_mid_transaction_keeps_it_unread_until_its_marker() {
    let mut c = Cluster::new(3, Deadline::After(Duration::from_secs(90))).start();
    runtime().block_on(create_topic(&c, "t", 1, &[]));
    let bs = c.bootstrap();
    leader(&c, &bs, "__transaction_state", 0, true);
    let data_leader = leader(&c, &bs, "t", 0, true);
    // A transaction that stays open while stdin does.
    let mut producer = common::strom()
        .args(["produce", "-t", "t", "-b", &bs])
        .args(["--transactional-id", "app", "--transaction-size", "1000000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn produce");
    producer
        .stdin
        .as_mut()
        .expect("stdin")
        .write_all(&lines(1..=50))
        .expect("write");
    let deadline = Instant::now() + Duration::from_secs(60);
    while read(&bs, "t", "read_uncommitted").len() < 50 {
        assert!(
            Instant::now() < deadline,
            "the open transaction's records never came"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(read(&bs, "t", "read_committed").is_empty());

    // The leader dies; a follower that replicated the open transaction
    // leads now, with the last stable offset still before it.
    c.kill(c.index(data_leader));
    let rest = c.bootstrap_except(data_leader);
    new_leader(&c, &rest, "t", 0, data_leader);
    assert_eq!(read(&rest, "t", "read_uncommitted").len(), 50);
    assert!(
        read(&rest, "t", "read_committed").is_empty(),
        "the promoted follower served an open transaction's records"
    );

    // Closing stdin commits: the marker goes to the new leader.
    drop(producer.stdin.take());
    let status = common::wait_with_deadline(&mut producer, Duration::from_secs(60));
    let mut err = String::new();
    if let Some(mut e) = producer.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    assert!(status.success(), "produce: {err}");
    assert_eq!(
        read(&rest, "t", "read_committed"),
        (1..=50).collect::<Vec<_>>()
    );
}
