//! `strom stream` end to end: real broker, real stream process, real
//! children (grep, awk, jq, sh), outputs read back with `consume`.
mod common;

use common::stream::{produce_lines, read_topic, sorted, start_stream, stop_stream, wait_records};
use common::Broker;

#[test]
fn grep_and_awk_pipelines_produce_exactly_the_expected_topic() {
    let b = Broker::start();
    b.create_topic("nums", 3);
    let lines: Vec<String> = (1..=300).map(|i| i.to_string()).collect();
    produce_lines(&b, "nums", &lines);

    let grep = start_stream(
        &b,
        &[
            "--from", "nums", "--to", "sevens", "--group", "g1", "--", "grep", "7",
        ],
    );
    let awk = start_stream(
        &b,
        &[
            "--from",
            "nums",
            "--to",
            "doubled",
            "--group",
            "g2",
            "--batch-max",
            "7",
            "--",
            "awk",
            "{ print $1 * 2 }",
        ],
    );
    let want_grep: Vec<String> = lines.iter().filter(|l| l.contains('7')).cloned().collect();
    let want_awk: Vec<String> = (1..=300).map(|i| (i * 2).to_string()).collect();
    let got = wait_records(&b, "sevens", want_grep.len(), &[]);
    assert_eq!(sorted(got), sorted(want_grep.clone()));
    let got = wait_records(&b, "doubled", want_awk.len(), &[]);
    assert_eq!(sorted(got), sorted(want_awk));
    // Records arriving while the stream runs are processed too.
    produce_lines(&b, "nums", &["777".to_string()]);
    let got = wait_records(&b, "sevens", want_grep.len() + 1, &[]);
    assert!(got.contains(&"777".to_string()));
    stop_stream(grep);
    stop_stream(awk);
    // Exactly once here (no crash): nothing more than expected.
    assert_eq!(read_topic(&b, "sevens", &[]).len(), want_grep.len() + 1);
    // The group committed everything it processed.
    let desc = String::from_utf8(b.ok(&["groups", "describe", "--group", "g1"], None)).unwrap();
    let lag: Vec<&str> = desc
        .lines()
        .filter(|l| l.starts_with("g1 "))
        .map(|l| l.split_whitespace().nth(5).unwrap_or("?"))
        .collect();
    assert_eq!(lag, ["0", "0", "0"], "{desc}");
}

#[test]
fn jq_child_with_json_envelopes_keeps_keys_and_headers() {
    if std::process::Command::new("jq")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("jq is not installed; skipping (scripts/test.sh installs it)");
        return;
    }
    let b = Broker::start();
    b.create_topic("people", 2);
    b.ok(
        &["produce", "-t", "people", "-K", ":", "-H", "src=test"],
        Some(b"a:alice\nb:bob\nc:carol\n"),
    );
    let s = start_stream(
        &b,
        &[
            "--from",
            "people",
            "--to",
            "upper",
            "--group",
            "g",
            "--format",
            "json",
            "--",
            "jq",
            "-c",
            "select(.key != \"b\") | .value |= ascii_upcase",
        ],
    );
    let got = wait_records(&b, "upper", 2, &["-f", "%k=%s %h\n"]);
    assert_eq!(sorted(got), ["a=ALICE src=test", "c=CAROL src=test"]);
    stop_stream(s);
}

#[test]
fn failing_child_sends_records_to_the_dead_letter_topic() {
    let b = Broker::start();
    b.create_topic("in", 1);
    b.ok(
        &["produce", "-t", "in", "-K", ":"],
        Some(b"k1:ok\nk2:bad\n"),
    );
    // Fails (exit 3, with a message on stderr) for any batch holding "bad".
    let script =
        "x=$(cat); if echo \"$x\" | grep -q bad; then echo boom >&2; exit 3; fi; echo \"$x\"";
    let s = start_stream(
        &b,
        &[
            "--from",
            "in",
            "--to",
            "out",
            "--group",
            "g",
            "--batch-max",
            "1",
            "--retries",
            "1",
            "--on-error",
            "dlq:dead",
            "--",
            "sh",
            "-c",
            script,
        ],
    );
    let dead = wait_records(&b, "dead", 1, &["--output", "json"]);
    assert_eq!(dead.len(), 1);
    let v: serde_json::Value = serde_json::from_str(&dead[0]).unwrap();
    assert_eq!(v["key"], "k2");
    assert_eq!(v["value"], "bad");
    let headers: std::collections::HashMap<String, String> = v["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["key"].as_str().unwrap().to_string(),
                h["value"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(headers["strom.error.exit.code"], "3");
    assert_eq!(headers["strom.error.stderr"], "boom\n");
    assert_eq!(headers["strom.source.topic"], "in");
    assert_eq!(headers["strom.source.partition"], "0");
    assert_eq!(headers["strom.source.offset"], "1");
    assert!(headers["strom.error"].contains("failed"), "{headers:?}");
    assert_eq!(wait_records(&b, "out", 1, &[]), ["ok"]);
    stop_stream(s);
}

#[test]
fn on_error_fail_stops_without_committing_the_batch() {
    let b = Broker::start();
    b.create_topic("in", 1);
    b.ok(&["produce", "-t", "in"], Some(b"x\n"));
    let mut cmd = common::strom();
    cmd.args([
        "stream", "-b", &b.addr, "--from", "in", "--to", "out", "--group", "g",
    ])
    .args(["--retries", "0", "--", "false"]);
    let out = common::run_with_timeout(cmd, None, common::COMMAND_TIMEOUT);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing of this batch was committed"), "{err}");
    // The record was not committed: the next run of the group reads it.
    let s = start_stream(
        &b,
        &["--from", "in", "--to", "out", "--group", "g", "--", "cat"],
    );
    assert_eq!(wait_records(&b, "out", 1, &[]), ["x"]);
    stop_stream(s);
}

#[test]
fn exec_line_keeps_one_child_and_drops_records_on_empty_lines() {
    let b = Broker::start();
    b.create_topic("in", 1);
    let lines: Vec<String> = (1..=50).map(|i| i.to_string()).collect();
    produce_lines(&b, "in", &lines);
    // Odd numbers answer with an empty line (dropped); a counter shows that
    // one child served every record.
    let s = start_stream(
        &b,
        &[
            "--from",
            "in",
            "--to",
            "out",
            "--group",
            "g",
            "--exec",
            "line",
            "--batch-max",
            "7",
            "--",
            "sh",
            "-c",
            "n=0; while read -r x; do n=$((n+1)); if [ $((x % 2)) = 1 ]; then echo; else echo \"$n:$x\"; fi; done",
        ],
    );
    let want: Vec<String> = (1..=50)
        .filter(|i| i % 2 == 0)
        .map(|i| format!("{i}:{i}"))
        .collect();
    let got = wait_records(&b, "out", want.len(), &[]);
    assert_eq!(got, want);
    stop_stream(s);
}

#[test]
fn bad_stream_flags_are_usage_errors() {
    for args in [
        &["--on-error", "ignore"][..],
        &["--batch-max", "0"][..],
        &["--format", "lines", "--keep-partition"][..],
    ] {
        let mut cmd = common::strom();
        cmd.args([
            "stream",
            "-b",
            "127.0.0.1:1",
            "--from",
            "a",
            "--to",
            "b",
            "--group",
            "g",
        ])
        .args(args)
        .args(["--", "cat"]);
        let out = common::run_with_timeout(cmd, None, common::COMMAND_TIMEOUT);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
