//! Log compaction through the real binary: `cleanup.policy=compact`
//! topics keep the newest record per key at its offset, readers cross the
//! gaps, and a SIGKILL while the cleaner runs loses nothing.
mod common;

use std::collections::BTreeMap;
use std::thread;
use std::time::{Duration, Instant};

use common::Broker;

const KEYS: usize = 10;
const ROUNDS: usize = 40;

/// `ROUNDS` rounds over `KEYS` keys, as `key:value` lines.
fn keyed_input(tag: &str) -> Vec<u8> {
    let mut s = String::new();
    for round in 0..ROUNDS {
        for k in 0..KEYS {
            s.push_str(&format!("key{k}:{tag}-r{round}-{:0>60}\n", k));
        }
    }
    s.into_bytes()
}

/// Every record from the start as (offset, key, value).
fn consume(b: &Broker, topic: &str, extra: &[&str]) -> Vec<(i64, String, String)> {
    let mut args = vec!["consume", "-t", topic, "-e", "-f", "%o %k %s\\n"];
    args.extend_from_slice(extra);
    if !extra.contains(&"-o") {
        args.push("--from-beginning");
    }
    let out = b.ok(&args, None);
    String::from_utf8_lossy(&out)
        .lines()
        .map(|l| {
            let mut parts = l.splitn(3, ' ');
            let o = parts.next().unwrap_or_default().parse().unwrap_or(-1);
            let k = parts.next().unwrap_or_default().to_string();
            let v = parts.next().unwrap_or_default().to_string();
            (o, k, v)
        })
        .collect()
}

/// What `keyed_input(tag)` produced from offset `base` leaves per key.
fn expected(tag: &str, base: i64) -> BTreeMap<String, (i64, String)> {
    let round = ROUNDS - 1;
    (0..KEYS)
        .map(|k| {
            let offset = base + (round * KEYS + k) as i64;
            (
                format!("key{k}"),
                (offset, format!("{tag}-r{round}-{:0>60}", k)),
            )
        })
        .collect()
}

fn latest(records: &[(i64, String, String)]) -> BTreeMap<String, (i64, String)> {
    records
        .iter()
        .map(|(o, k, v)| (k.clone(), (*o, v.clone())))
        .collect()
}

fn create_compacted(b: &Broker, topic: &str) {
    b.ok(
        &[
            "topics",
            "create",
            topic,
            "--partitions",
            "1",
            "--config",
            "cleanup.policy=compact",
            "--config",
            "segment.bytes=4096",
            "--config",
            "min.cleanable.dirty.ratio=0.01",
        ],
        None,
    );
}

/// Waits until the topic reads back with at most `max` records.
fn wait_compacted(b: &Broker, topic: &str, max: usize) -> Vec<(i64, String, String)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = consume(b, topic, &[]);
        if got.len() <= max {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "not compacted: {} records",
            got.len()
        );
        thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_compacted_topic_keeps_the_newest_value_per_key_at_its_offset() {
    let mut b = Broker::start_with(&["--log-cleaner-backoff-ms", "100"]);
    create_compacted(&b, "cmp");
    b.ok(
        &[
            "produce",
            "-t",
            "cmp",
            "-K",
            ":",
            "--producer-property",
            "batch.size=1024",
        ],
        Some(&keyed_input("a")),
    );
    // The cleaner may already have run: compare with what was produced.
    // The active segment is never cleaned: far fewer, not exactly KEYS.
    let after = wait_compacted(&b, "cmp", KEYS * ROUNDS / 4);
    assert_eq!(latest(&after), expected("a", 0));
    let offsets: Vec<i64> = after.iter().map(|r| r.0).collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{offsets:?}");
    // A fetch at an offset inside a gap starts at the next record there.
    let gap = (0..offsets[offsets.len() - 1])
        .find(|o| !offsets.contains(o))
        .expect("a gap");
    let from_gap = consume(&b, "cmp", &["-o", &gap.to_string()]);
    let next = *offsets.iter().find(|&&o| o > gap).unwrap();
    assert_eq!(from_gap.first().map(|r| r.0), Some(next));
    // Newer values replace the kept ones; a restart reads the same.
    b.ok(
        &[
            "produce",
            "-t",
            "cmp",
            "-K",
            ":",
            "--producer-property",
            "batch.size=1024",
        ],
        Some(&keyed_input("b")),
    );
    let b_start = (KEYS * ROUNDS) as i64;
    let again = wait_compacted(&b, "cmp", KEYS * ROUNDS / 4);
    assert_eq!(latest(&again), expected("b", b_start));
    b.restart();
    let reread = consume(&b, "cmp", &[]);
    assert_eq!(latest(&reread), expected("b", b_start));
    // The group offsets topic is compacted from the start.
    let described = b.ok(&["topics", "describe", "__consumer_offsets"], None);
    let described = String::from_utf8_lossy(&described);
    assert!(described.contains("compact"), "{described}");
}

#[test]
fn alter_turns_compaction_on_and_bad_values_are_refused() {
    let b = Broker::start_with(&["--log-cleaner-backoff-ms", "100"]);
    b.create_topic("plain", 1);
    let bad = b.run(
        &[
            "topics",
            "alter",
            "plain",
            "--config",
            "min.cleanable.dirty.ratio=2",
        ],
        None,
    );
    assert!(!bad.status.success());
    b.ok(
        &[
            "topics",
            "alter",
            "plain",
            "--config",
            "cleanup.policy=compact,delete",
            "--config",
            "segment.bytes=4096",
            "--config",
            "min.cleanable.dirty.ratio=0.01",
        ],
        None,
    );
    b.ok(
        &[
            "produce",
            "-t",
            "plain",
            "-K",
            ":",
            "--producer-property",
            "batch.size=1024",
        ],
        Some(&keyed_input("a")),
    );
    let after = wait_compacted(&b, "plain", KEYS * ROUNDS / 4);
    assert_eq!(latest(&after), expected("a", 0));
}

/// SIGKILL at arbitrary points of throttled cleaning passes: every restart
/// reads every key's newest value, and the cleaning completes eventually.
#[test]
fn sigkill_while_cleaning_loses_nothing() {
    let mut b = Broker::start_with(&[
        "--log-cleaner-backoff-ms",
        "50",
        // Slow enough that kills land in the middle of passes.
        "--log-cleaner-io-max-bytes-per-second",
        "40000",
    ]);
    create_compacted(&b, "crash");
    b.ok(
        &[
            "produce",
            "-t",
            "crash",
            "-K",
            ":",
            "--acks",
            "all",
            "--producer-property",
            "batch.size=1024",
        ],
        Some(&keyed_input("a")),
    );
    let expected = expected("a", 0);
    for i in 0..6u64 {
        thread::sleep(Duration::from_millis(150 + 97 * i));
        b.kill();
        b.start_again();
        let now = consume(&b, "crash", &[]);
        assert_eq!(latest(&now), expected, "after kill {i}");
        let offsets: Vec<i64> = now.iter().map(|r| r.0).collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "after kill {i}");
    }
    let done = wait_compacted(&b, "crash", KEYS * ROUNDS / 4);
    assert_eq!(latest(&done), expected);
    let leftovers: Vec<_> = std::fs::read_dir(b.data_dir().join("crash-0"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".swap"))
                .collect()
        })
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
