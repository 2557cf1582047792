//! strom's own transactional producer and read_committed consumer
//! (issue 16): `produce --transactional-id`, `consume --isolation-level`,
//! `strom transactions list|describe`, over the native protocol.
mod common;

use std::io::Write;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{wait_with_deadline, Broker};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn lines(from: std::ops::RangeInclusive<u32>) -> Vec<u8> {
    from.map(|i| format!("{i}\n"))
        .collect::<String>()
        .into_bytes()
}

/// Every value of `topic` as a consumer at `isolation` reads it.
fn read(b: &Broker, topic: &str, isolation: &str) -> Vec<String> {
    let out = b.ok(
        &[
            "consume",
            "-t",
            topic,
            "--from-beginning",
            "-e",
            "--isolation-level",
            isolation,
        ],
        None,
    );
    text(&out).lines().map(str::to_string).collect()
}

/// The `field` of `id` in `transactions describe --output json` (null
/// while the id is unknown: its producer has not started yet).
fn describe(b: &Broker, id: &str, field: &str) -> serde_json::Value {
    let out = b.run(&["transactions", "describe", id, "--output", "json"], None);
    if !out.status.success() {
        assert!(
            text(&out.stderr).contains("not found"),
            "{}",
            text(&out.stderr)
        );
        return serde_json::Value::Null;
    }
    let v: serde_json::Value = serde_json::from_str(&text(&out.stdout)).expect("describe json");
    let first = v.as_array().and_then(|a| a.first()).cloned().unwrap_or(v);
    first[field].clone()
}

/// A transactional producer whose stdin stays open: what it read is sent
/// in a transaction that stays open until stdin closes.
fn open_producer(b: &Broker, topic: &str, id: &str, extra: &[&str]) -> Child {
    let mut args = vec![
        "produce",
        "-t",
        topic,
        "--transactional-id",
        id,
        "--transaction-size",
        "1000000",
    ];
    args.extend_from_slice(extra);
    b.cmd(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn produce")
}

fn wait_state(b: &Broker, id: &str, want: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let state = describe(b, id, "state");
        if want.iter().any(|w| state == *w) {
            return;
        }
        assert!(Instant::now() < deadline, "{id} is {state}, not {want:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn committed_transactions_are_read_whole_and_listed() {
    let b = Broker::start();
    b.create_topic("orders", 3);
    b.ok(
        &[
            "produce",
            "-t",
            "orders",
            "--transactional-id",
            "loader",
            "--transaction-size",
            "100",
        ],
        Some(&lines(1..=1000)),
    );
    let mut got: Vec<u32> = read(&b, "orders", "read_committed")
        .iter()
        .filter_map(|l| l.parse().ok())
        .collect();
    got.sort_unstable();
    assert_eq!(got, (1..=1000).collect::<Vec<_>>());

    let listed = text(&b.ok(&["transactions", "list", "--output", "json"], None));
    let v: serde_json::Value = serde_json::from_str(&listed).expect("list json");
    let loader = v
        .as_array()
        .and_then(|a| a.iter().find(|t| t["transactional_id"] == "loader"))
        .unwrap_or_else(|| panic!("loader not listed: {listed}"));
    assert_eq!(loader["state"], "CompleteCommit", "{listed}");
    assert!(describe(&b, "loader", "producer_id")
        .as_i64()
        .is_some_and(|p| p >= 0));

    // --state filters.
    let ongoing = text(&b.ok(&["transactions", "list", "--state", "ongoing"], None));
    assert!(!ongoing.contains("loader"), "{ongoing}");
    let out = b.run(&["transactions", "list", "--state", "nonsense"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_newer_producer_fences_the_older_and_its_open_transaction_is_never_read() {
    let b = Broker::start();
    b.create_topic("t", 1);
    let mut old = open_producer(&b, "t", "app", &[]);
    old.stdin
        .as_mut()
        .expect("stdin")
        .write_all(&lines(1..=10))
        .expect("write");
    wait_state(&b, "app", &["Ongoing"]);
    // read_uncommitted sees the open transaction's records once written.
    let deadline = Instant::now() + Duration::from_secs(30);
    while read(&b, "t", "read_uncommitted").len() < 10 {
        assert!(Instant::now() < deadline, "the old producer's records");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(read(&b, "t", "read_committed").is_empty());

    // The same id again: the old one is fenced, its transaction aborted.
    b.ok(
        &["produce", "-t", "t", "--transactional-id", "app"],
        Some(b"new\n"),
    );
    drop(old.stdin.take());
    let status = wait_with_deadline(&mut old, Duration::from_secs(30));
    let mut err = String::new();
    if let Some(mut e) = old.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("fenced"), "{err}");

    assert_eq!(read(&b, "t", "read_committed"), ["new"]);
    assert_eq!(read(&b, "t", "read_uncommitted").len(), 11);
}

#[test]
fn a_transaction_open_past_its_timeout_is_aborted_by_the_broker() {
    let b = Broker::start_with(&["--transaction-abort-check-interval-ms", "100"]);
    b.create_topic("slow", 1);
    let mut p = open_producer(&b, "slow", "slowpoke", &["--transaction-timeout-ms", "500"]);
    p.stdin
        .as_mut()
        .expect("stdin")
        .write_all(&lines(1..=5))
        .expect("write");
    wait_state(&b, "slowpoke", &["Ongoing"]);
    wait_state(&b, "slowpoke", &["CompleteAbort", "PrepareAbort"]);
    drop(p.stdin.take());
    let status = wait_with_deadline(&mut p, Duration::from_secs(30));
    let mut err = String::new();
    if let Some(mut e) = p.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    assert_eq!(
        status.code(),
        Some(1),
        "the failed commit is reported: {err}"
    );
    assert!(read(&b, "slow", "read_committed").is_empty());

    // A timeout above the broker's maximum is refused.
    let out = b.run(
        &[
            "produce",
            "-t",
            "slow",
            "--transactional-id",
            "greedy",
            "--transaction-timeout-ms",
            "2000000000",
        ],
        Some(b"x\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).to_lowercase().contains("timeout"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn describe_producers_shows_an_open_transactions_first_offset() {
    let b = Broker::start();
    b.create_topic("p", 1);
    b.ok(&["produce", "-t", "p"], Some(&lines(1..=3)));
    let mut open = open_producer(&b, "p", "holder", &[]);
    open.stdin
        .as_mut()
        .expect("stdin")
        .write_all(&lines(1..=2))
        .expect("write");
    wait_state(&b, "holder", &["Ongoing"]);
    let producer_id = describe(&b, "holder", "producer_id");
    let deadline = Instant::now() + Duration::from_secs(30);
    let rows = loop {
        let out = text(&b.ok(
            &[
                "transactions",
                "describe-producers",
                "p",
                "--output",
                "json",
            ],
            None,
        ));
        let rows: Vec<serde_json::Value> = serde_json::from_str(&out).expect("json");
        if rows.len() == 2 && rows.iter().any(|r| r["producer_id"] == producer_id) {
            break rows;
        }
        assert!(Instant::now() < deadline, "{out}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let txn = rows
        .iter()
        .find(|r| r["producer_id"] == producer_id)
        .expect("the transactional producer");
    // The plain producer wrote offsets 0-2; the transaction starts at 3.
    assert_eq!(txn["current_txn_start_offset"], 3, "{rows:?}");
    assert_eq!(txn["last_sequence"], 1, "{rows:?}");
    let plain = rows
        .iter()
        .find(|r| r["producer_id"] != producer_id)
        .expect("the idempotent producer");
    assert!(plain["current_txn_start_offset"].is_null(), "{rows:?}");

    drop(open.stdin.take());
    let status = wait_with_deadline(&mut open, Duration::from_secs(30));
    assert!(status.success());
    let out = text(&b.ok(
        &[
            "transactions",
            "describe-producers",
            "p",
            "-p",
            "0",
            "--output",
            "json",
        ],
        None,
    ));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).expect("json");
    assert!(
        rows.iter().all(|r| r["current_txn_start_offset"].is_null()),
        "{out}"
    );
    let out = b.run(&["transactions", "describe-producers", "nope"], None);
    assert_eq!(out.status.code(), Some(1));
}
