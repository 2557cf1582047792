//! End to end through the real binary: produce → broker → consume.
mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::{numbered_lines, strom, wait_with_deadline, Broker};

const N: usize = 100_000;

fn consume_all(b: &Broker, topic: &str, extra: &[&str]) -> Vec<u8> {
    let mut args = vec!["consume", "-t", topic, "--from-beginning", "-e"];
    args.extend_from_slice(extra);
    b.ok(&args, None)
}

fn sorted_lines(data: &[u8]) -> Vec<&[u8]> {
    let mut v: Vec<&[u8]> = data
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    v.sort_unstable();
    v
}

#[test]
fn lines_round_trip_in_order_on_one_partition() {
    let b = Broker::start();
    b.create_topic("one", 1);
    let input = numbered_lines(N);
    b.ok(&["produce", "-t", "one"], Some(&input));
    let out = b.run(&["consume", "-t", "one", "--from-beginning", "-e"], None);
    assert!(out.status.success());
    assert!(
        out.stdout == input,
        "consumed data differs from produced data"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("Processed a total of {N} messages")),
        "{err}"
    );
}

#[test]
fn three_partitions_keep_every_record_and_survive_a_restart() {
    let mut b = Broker::start();
    b.create_topic("three", 3);
    let input = numbered_lines(N);
    b.ok(&["produce", "-t", "three", "--acks", "1"], Some(&input));
    let out = consume_all(&b, "three", &[]);
    assert_eq!(sorted_lines(&out), sorted_lines(&input));

    b.restart();
    let again = consume_all(&b, "three", &[]);
    assert_eq!(sorted_lines(&again), sorted_lines(&input));
}

#[test]
fn keyed_records_land_on_the_murmur2_partition() {
    let b = Broker::start();
    b.create_topic("keyed", 3);
    let mut input = Vec::new();
    for i in 0..300 {
        input.extend_from_slice(format!("key-{i}:value-{i}\n").as_bytes());
    }
    b.ok(&["produce", "-t", "keyed", "-K", ":"], Some(&input));
    let out = consume_all(&b, "keyed", &["-f", "%k %p\\n"]);
    let text = String::from_utf8(out).expect("utf8");
    let mut seen = 0;
    for line in text.lines() {
        let (key, p) = line.split_once(' ').expect("key and partition");
        let p: i32 = p.parse().expect("partition number");
        assert_eq!(
            p,
            strom::client::partitioner::partition_for_key(key.as_bytes(), 3),
            "{key}"
        );
        seen += 1;
    }
    assert_eq!(seen, 300);
}

#[test]
fn consume_into_a_closed_pipe_exits_zero() {
    let b = Broker::start();
    b.create_topic("piped", 1);
    b.ok(&["produce", "-t", "piped"], Some(&numbered_lines(N)));
    let mut child = b
        .cmd(&["consume", "-t", "piped", "--from-beginning"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn consume");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    for _ in 0..5 {
        lines.next().expect("a line").expect("readable");
    }
    drop(lines); // like `| head -5`
    let status = wait_with_deadline(&mut child, Duration::from_secs(60));
    assert_eq!(status.code(), Some(0));
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        std::io::Read::read_to_string(&mut e, &mut err).ok();
    }
    assert!(!err.contains("error"), "{err}");
}

#[test]
fn json_output_feeds_json_input_exactly() {
    let b = Broker::start();
    b.create_topic("src", 2);
    b.create_topic("dst", 1);
    // Binary key, text value with quotes and newline, null value, headers.
    let input = concat!(
        r#"{"key":{"base64":"AP8Q"},"value":"a \"quoted\"\nline","headers":[{"key":"h1","value":{"base64":"gA=="}},{"key":"h2","value":null}]}"#,
        "\n",
        r#"{"key":"plain","value":null}"#,
        "\n",
        r#"{"value":"no key","headers":[{"key":"dup","value":"1"},{"key":"dup","value":"2"}]}"#,
        "\n"
    );
    b.ok(
        &["produce", "-t", "src", "--input", "json"],
        Some(input.as_bytes()),
    );
    let first = consume_all(&b, "src", &["--output", "json"]);
    b.ok(&["produce", "-t", "dst", "--input", "json"], Some(&first));
    let second = consume_all(&b, "dst", &["--output", "json"]);

    let strip = |data: &[u8]| -> Vec<String> {
        let mut v: Vec<String> = data
            .split(|&c| c == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                let mut j: serde_json::Value = serde_json::from_slice(l).expect("json line");
                let o = j.as_object_mut().expect("object");
                for k in ["topic", "partition", "offset"] {
                    o.remove(k);
                }
                j.to_string()
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(strip(&first).len(), 3);
    assert_eq!(strip(&first), strip(&second));
    let text = String::from_utf8_lossy(&second);
    assert!(text.contains(r#""key":{"base64":"AP8Q"}"#), "{text}");
}

#[test]
fn unreachable_broker_is_one_line_and_exit_1() {
    let out = common::run_with_timeout(
        {
            let mut c = strom();
            c.args(["topics", "list", "-b", "127.0.0.1:1"]);
            c
        },
        None,
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot reach broker at 127.0.0.1:1"),
        "{err}"
    );
    assert!(err.contains("Is strom serve running?"), "{err}");
}

#[test]
fn group_flag_rejects_explicit_partitions_and_offsets() {
    // A group decides partitions and start offsets itself (see tests/groups.rs).
    for extra in [["-p", "0"], ["-o", "5"]] {
        let out = common::run_with_timeout(
            {
                let mut c = strom();
                c.args(["consume", "-t", "x", "--group", "g", "-b", "127.0.0.1:1"])
                    .args(extra);
                c
            },
            None,
            Duration::from_secs(30),
        );
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with --group"));
    }
}

#[test]
fn every_codec_round_trips_through_produce_and_consume_and_survives_a_restart() {
    let mut b = Broker::start();
    let input = numbered_lines(20_000);
    for codec in ["gzip", "snappy", "lz4", "zstd"] {
        let topic = format!("z-{codec}");
        b.create_topic(&topic, 2);
        b.ok(&["produce", "-t", &topic, "-z", codec], Some(&input));
        let out = consume_all(&b, &topic, &[]);
        assert_eq!(sorted_lines(&out), sorted_lines(&input), "{codec}");
    }
    // Offsets and the log's recovery see compressed batches like any other.
    b.restart();
    for codec in ["gzip", "snappy", "lz4", "zstd"] {
        let out = consume_all(&b, &format!("z-{codec}"), &[]);
        assert_eq!(
            sorted_lines(&out),
            sorted_lines(&input),
            "{codec} after restart"
        );
    }
    let out = b.run(&["produce", "-t", "z-gzip", "-z", "brotli"], Some(b"x\n"));
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown codec is a usage error"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("brotli"));
}

#[test]
fn acks_minus_one_is_kafkas_spelling_of_all() {
    let b = Broker::start();
    b.create_topic("acks", 1);
    b.ok(&["produce", "-t", "acks", "--acks", "-1"], Some(b"a\nb\n"));
    b.ok(&["produce", "-t", "acks", "--acks=-1"], Some(b"c\n"));
    assert_eq!(consume_all(&b, "acks", &[]), b"a\nb\nc\n");
    let out = b.run(&["produce", "-t", "acks", "--acks", "-2"], Some(b"x\n"));
    assert_eq!(
        out.status.code(),
        Some(2),
        "other negatives are usage errors"
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("-- -2"),
        "no clap '--' tip"
    );
}
