//! `strom stream --jq/--filter/--key-jq`: the built-in expressions end to
//! end (real broker, real stream processes), bad expressions, and
//! `--dry-run` with no broker at all.
mod common;

use common::stream::{read_topic, sorted, start_stream, stop_stream, wait_records};
use common::Broker;

fn order(i: u32) -> String {
    format!(r#"{{"id":{i},"user":"u{}","total":{i}}}"#, i % 5)
}

fn group_lag(b: &Broker, group: &str) -> Vec<String> {
    let desc = String::from_utf8(b.ok(&["groups", "describe", "--group", group], None)).unwrap();
    desc.lines()
        .filter(|l| l.starts_with(&format!("{group} ")))
        .map(|l| l.split_whitespace().nth(5).unwrap_or("?").to_string())
        .collect()
}

#[test]
fn jq_filter_and_key_jq_produce_exactly_the_expected_topics() {
    let b = Broker::start();
    b.create_topic("orders", 3);
    let lines: Vec<String> = (1..=200).map(order).collect();
    b.ok(
        &["produce", "-t", "orders"],
        Some((lines.join("\n") + "\n").as_bytes()),
    );

    let mapped = start_stream(
        &b,
        &[
            "--from",
            "orders",
            "--to",
            "totals",
            "--group",
            "g-map",
            // Two outputs per input: the doubled total and a marker.
            "--jq",
            r#".value |= (fromjson | .total * 2 | tostring), (.value = "seen")"#,
        ],
    );
    let filtered = start_stream(
        &b,
        &[
            "--from",
            "orders",
            "--to",
            "sevens",
            "--group",
            "g-filter",
            "--filter",
            ".value | fromjson | .total % 7 == 0",
        ],
    );
    let keyed = start_stream(
        &b,
        &[
            "--from",
            "orders",
            "--to",
            "by-user",
            "--group",
            "g-key",
            "--key-jq",
            ".value | fromjson | .user",
        ],
    );

    let mut want_map: Vec<String> = (1..=200).map(|i| (i * 2).to_string()).collect();
    want_map.extend(std::iter::repeat_n("seen".to_string(), 200));
    let got = wait_records(&b, "totals", want_map.len(), &[]);
    assert_eq!(sorted(got), sorted(want_map.clone()));

    let want_sevens: Vec<String> = (1..=200).filter(|i| i % 7 == 0).map(order).collect();
    let got = wait_records(&b, "sevens", want_sevens.len(), &[]);
    assert_eq!(sorted(got), sorted(want_sevens.clone()));

    let want_keyed: Vec<String> = (1..=200)
        .map(|i| format!("u{}\t{}", i % 5, order(i)))
        .collect();
    let key = ["--property", "print.key=true"];
    let got = wait_records(&b, "by-user", want_keyed.len(), &key);
    assert_eq!(sorted(got), sorted(want_keyed.clone()));

    for s in [mapped, filtered, keyed] {
        stop_stream(s);
    }
    // Nothing more than expected, and every input offset committed.
    assert_eq!(read_topic(&b, "totals", &[]).len(), want_map.len());
    assert_eq!(read_topic(&b, "sevens", &[]).len(), want_sevens.len());
    assert_eq!(read_topic(&b, "by-user", &key).len(), want_keyed.len());
    for g in ["g-map", "g-filter", "g-key"] {
        assert_eq!(group_lag(&b, g), ["0", "0", "0"], "{g}");
    }
}

#[test]
fn a_failing_expression_dead_letters_only_its_record() {
    let b = Broker::start();
    b.create_topic("nums", 1);
    b.ok(&["produce", "-t", "nums"], Some(b"1\nnot a number\n3\n"));
    let s = start_stream(
        &b,
        &[
            "--from",
            "nums",
            "--to",
            "plus-one",
            "--group",
            "g",
            "--jq",
            ".value |= (tonumber + 1 | tostring)",
            "--on-error",
            "dlq:nums-dlq",
        ],
    );
    let got = wait_records(&b, "plus-one", 2, &[]);
    assert_eq!(got, ["2", "4"]);
    let dead = wait_records(&b, "nums-dlq", 1, &["--output", "json"]);
    stop_stream(s);
    assert_eq!(dead.len(), 1, "{dead:?}");
    let d: serde_json::Value = serde_json::from_str(&dead[0]).unwrap();
    assert_eq!(d["value"], "not a number");
    let header = |name: &str| {
        d["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["key"] == name)
            .map(|h| h["value"].as_str().unwrap().to_string())
    };
    let error = header("strom.error").expect("strom.error header");
    assert!(error.starts_with("--jq: "), "{error}");
    assert_eq!(header("strom.source.offset").as_deref(), Some("1"));
}

#[test]
fn a_failing_expression_with_on_error_fail_stops_uncommitted() {
    let b = Broker::start();
    b.create_topic("nums", 1);
    b.ok(&["produce", "-t", "nums"], Some(b"1\nx\n"));
    let mut cmd = b.cmd(&[
        "stream",
        "--from",
        "nums",
        "--to",
        "out",
        "--group",
        "g",
        "--jq",
        ".value |= (tonumber | tostring)",
    ]);
    cmd.stdin(std::process::Stdio::null());
    let out = common::run_with_timeout(cmd, None, common::COMMAND_TIMEOUT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("nums:0 offset 1") && stderr.contains("--jq: "),
        "{stderr}"
    );
    assert!(
        stderr.contains("nothing of this batch was committed"),
        "{stderr}"
    );
    // Not committed: the next run of the group reads the failed record again.
    let s = start_stream(
        &b,
        &[
            "--from",
            "nums",
            "--to",
            "out",
            "--group",
            "g",
            "--jq",
            r#".value |= (try (tonumber | tostring) catch "bad")"#,
        ],
    );
    let got = wait_records(&b, "out", 1, &[]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut got = got;
    while !got.contains(&"bad".to_string()) {
        assert!(std::time::Instant::now() < deadline, "{got:?}");
        std::thread::sleep(std::time::Duration::from_millis(100));
        got = read_topic(&b, "out", &[]);
    }
    stop_stream(s);
}

fn strom_no_broker(args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut cmd = common::strom();
    cmd.args(args);
    common::run_with_timeout(cmd, Some(stdin), common::COMMAND_TIMEOUT)
}

#[test]
fn bad_expressions_exit_2_with_the_position() {
    let stream = [
        "stream",
        "-b",
        "127.0.0.1:1",
        "--from",
        "a",
        "--to",
        "b",
        "--group",
        "g",
    ];
    for (flag, expr, want) in [
        (
            "--jq",
            ".value |",
            "expected term, found the end at column 9",
        ),
        (
            "--filter",
            "nosuch(1)",
            "undefined filter nosuch/1 at column 1",
        ),
        ("--key-jq", "(.key", "unclosed parenthesis at column 1"),
    ] {
        let out = strom_no_broker(&[&stream[..], &[flag, expr]].concat(), b"");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert!(
            stderr.contains(&format!("invalid {flag} expression: {want}")),
            "{flag}: {stderr}"
        );
    }
    // No processor at all is a usage error too.
    let out = strom_no_broker(&stream, b"");
    assert_eq!(out.status.code(), Some(2));
    // consume and produce check before connecting.
    for args in [
        &["consume", "-b", "127.0.0.1:1", "-t", "t", "--filter", "if"][..],
        &["produce", "-b", "127.0.0.1:1", "-t", "t", "--jq", ".a |"][..],
    ] {
        let out = strom_no_broker(args, b"x\n");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("invalid --"), "{stderr}");
    }
}

#[test]
fn dry_run_needs_no_broker() {
    let run = |args: &[&str], stdin: &str| {
        let out = strom_no_broker(&[&["stream", "--dry-run"], args].concat(), stdin.as_bytes());
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&["--jq", ".value |= ascii_upcase"], "a\nbc\n");
    assert_eq!((code, out.as_str()), (Some(0), "A\nBC\n"), "{err}");

    let (code, out, err) = run(
        &[
            "--filter",
            ".value | length > 1",
            "--key-jq",
            ".value | length",
            "--keep-key",
        ],
        "a\nbb\nccc\n",
    );
    assert_eq!((code, out.as_str()), (Some(0), "2\tbb\n3\tccc\n"), "{err}");

    // Envelopes in and out; the expression sees the input's offset.
    let (code, out, err) = run(
        &[
            "--format",
            "json",
            "--from",
            "in",
            "--to",
            "out",
            "--jq",
            r#".value = "\(.topic)@\(.offset)""#,
        ],
        "{\"key\":\"k\",\"value\":\"v\",\"timestamp\":5}\n\n{\"value\":\"w\"}\n",
    );
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0]["value"], "in@0");
    assert_eq!(lines[0]["key"], "k");
    assert_eq!(lines[0]["timestamp"], 5);
    assert_eq!(lines[0]["topic"], "out");
    assert_eq!(lines[1]["value"], "in@2");

    // The expressions run before a child.
    let (code, out, err) = run(
        &["--filter", ".value != \"b\"", "--", "tr", "a-z", "A-Z"],
        "a\nb\nc\n",
    );
    assert_eq!((code, out.as_str()), (Some(0), "A\nC\n"), "{err}");

    // A failing record: skip goes on, fail stops with status 1.
    let jq = [".value |= (tonumber + 1 | tostring)"];
    let (code, out, err) = run(&["--jq", jq[0], "--on-error", "skip"], "1\nx\n3\n");
    assert_eq!((code, out.as_str()), (Some(0), "2\n4\n"), "{err}");
    let (code, _, err) = run(&["--jq", jq[0]], "1\nx\n3\n");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("input line 2") && err.contains("--jq: "),
        "{err}"
    );
}
