//! kcat's and the Kafka console tools' input/offset forms (issue 20):
//! `-o s@TS`, `-o e@TS`, datetimes, `stored`, `-Z`, and the console
//! producer's `parse.headers`.
mod common;

use common::Broker;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One partition, records v1..v6 with timestamps 1..6 s after 1.7e12 ms.
fn timed_topic(b: &Broker, topic: &str) {
    b.ok(
        &[
            "topics",
            "create",
            topic,
            "--config",
            "message.timestamp.type=CreateTime",
            // The 2023 timestamps must not fall to time-based retention.
            "--config",
            "retention.ms=-1",
        ],
        None,
    );
    let mut input = String::new();
    for i in 1..=6 {
        input.push_str(&format!(
            "{{\"key\":\"k{i}\",\"value\":\"v{i}\",\"timestamp\":{}}}\n",
            1_700_000_000_000i64 + i * 1000
        ));
    }
    input.push_str("{\"key\":null,\"value\":null,\"timestamp\":1700000007000}\n");
    b.ok(
        &["produce", "-t", topic, "--input", "json"],
        Some(input.as_bytes()),
    );
}

#[test]
fn start_and_end_at_timestamps_and_datetimes() {
    let b = Broker::start();
    timed_topic(&b, "timed");
    // s@ starts at the first record at or after the time; e@ stops before
    // the first record at or after its time, and the command exits.
    let out = b.ok(
        &[
            "consume",
            "-t",
            "timed",
            "-o",
            "s@1700000002000",
            "-o",
            "e@1700000005000",
        ],
        None,
    );
    assert_eq!(text(&out), "v2\nv3\nv4\n");
    // A UTC datetime works for both.
    let out = b.ok(
        &[
            "consume",
            "-t",
            "timed",
            "-o",
            "2023-11-14T22:13:24",
            "-o",
            "e@2023-11-14T22:13:26.000",
        ],
        None,
    );
    assert_eq!(text(&out), "v4\nv5\n");
    // e@ past every record: read to the end, then exit.
    let out = b.ok(
        &[
            "consume",
            "-t",
            "timed",
            "--from-beginning",
            "-o",
            "e@1800000000000",
        ],
        None,
    );
    assert_eq!(text(&out).lines().count(), 7);
}

#[test]
fn stored_needs_a_group_and_two_starts_are_refused() {
    let b = Broker::start();
    timed_topic(&b, "st");
    let out = b.run(&["consume", "-t", "st", "-o", "stored"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("give --group"),
        "{}",
        text(&out.stderr)
    );
    let out = b.run(&["consume", "-t", "st", "-o", "1", "-o", "2"], None);
    assert_eq!(out.status.code(), Some(2));
    // With a group, stored is the committed offset.
    b.ok(
        &[
            "consume",
            "-t",
            "st",
            "-g",
            "sg",
            "--from-beginning",
            "--max-messages",
            "2",
        ],
        None,
    );
    let out = b.ok(
        &[
            "consume",
            "-t",
            "st",
            "-g",
            "sg",
            "-o",
            "stored",
            "--max-messages",
            "1",
        ],
        None,
    );
    assert_eq!(text(&out), "v3\n");
}

#[test]
fn print_null_shows_null_keys_and_values() {
    let b = Broker::start();
    timed_topic(&b, "nulls");
    let out = b.ok(
        &["consume", "-t", "nulls", "-o", "6", "-e", "-f", "%k=%s\n"],
        None,
    );
    assert_eq!(text(&out), "=\n", "kcat prints nothing for null");
    let out = b.ok(
        &[
            "consume", "-t", "nulls", "-o", "6", "-e", "-f", "%k=%s\n", "-Z",
        ],
        None,
    );
    assert_eq!(text(&out), "NULL=NULL\n");
}

#[test]
fn parse_headers_reads_kafka_console_producer_lines() {
    let b = Broker::start();
    b.create_topic("hdrs", 1);
    b.ok(
        &[
            "produce",
            "-t",
            "hdrs",
            "--property",
            "parse.headers=true",
            "--property",
            "parse.key=true",
        ],
        Some(b"app:web,trace:42\tk1\tv1\n\tk2\tv2\n"),
    );
    let out = b.ok(
        &[
            "consume",
            "-t",
            "hdrs",
            "--from-beginning",
            "-e",
            "-f",
            "%h|%k|%s\n",
        ],
        None,
    );
    assert_eq!(text(&out), "app=web,trace=42|k1|v1\n|k2|v2\n");
    // A line without the headers delimiter is a bad line, named by number.
    let out = b.run(
        &["produce", "-t", "hdrs", "--property", "parse.headers=true"],
        Some(b"a:1\tv\nno-delimiter\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("input line 2: no headers delimiter"),
        "{}",
        text(&out.stderr)
    );
}
