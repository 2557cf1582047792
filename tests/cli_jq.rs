//! `consume` and `produce` with `--filter` and `--jq`: the expressions run
//! on each record's envelope, before printing and before sending.
mod common;

use common::Broker;

fn lines(out: &[u8]) -> Vec<String> {
    String::from_utf8(out.to_vec())
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn produce_filters_and_maps_each_input_record() {
    let b = Broker::start();
    b.create_topic("t", 1);
    let out = b.run(
        &[
            "produce",
            "-t",
            "t",
            "-H",
            "src=csv",
            "--filter",
            r##".value | startswith("#") | not"##,
            "--jq",
            r#".key = (.value | split(",")[0]) | .value |= (split(",")[1] // error("no comma"))"#,
        ],
        Some(b"a,1\n# comment\nb,2\nnocomma\nc,3\n"),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The record without a comma is reported and not sent; the rest are.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("input line 4 not sent: --jq: no comma"),
        "{stderr}"
    );
    let got = b.ok(
        &[
            "consume",
            "-t",
            "t",
            "--from-beginning",
            "-e",
            "-f",
            "%k=%s %h\\n",
        ],
        None,
    );
    assert_eq!(lines(&got), ["a=1 src=csv", "b=2 src=csv", "c=3 src=csv"]);
}

#[test]
fn produce_jq_on_json_input_keeps_timestamps_and_partitions() {
    let b = Broker::start();
    b.create_topic("t", 2);
    b.ok(
        &[
            "produce",
            "-t",
            "t",
            "--input",
            "json",
            "--keep-partition",
            "--jq",
            ".value |= ascii_upcase | .partition = 1",
        ],
        Some(b"{\"value\":\"x\",\"timestamp\":42}\n"),
    );
    let got = b.ok(
        &[
            "consume",
            "-t",
            "t",
            "--from-beginning",
            "-e",
            "-f",
            "%p %T %s\\n",
        ],
        None,
    );
    assert_eq!(lines(&got), ["1 42 X"]);
}

#[test]
fn consume_prints_and_counts_what_the_expressions_make() {
    let b = Broker::start();
    b.create_topic("t", 1);
    b.ok(
        &["produce", "-t", "t", "-K", ":"],
        Some(b"a:1\nb:2\na:3\nb:4\n"),
    );
    let consume = |extra: &[&str]| {
        b.run(
            &[&["consume", "-t", "t", "--from-beginning", "-e"], extra].concat(),
            None,
        )
    };
    let out = consume(&["--filter", r#".key == "a""#]);
    assert!(out.status.success());
    assert_eq!(lines(&out.stdout), ["1", "3"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Processed a total of 2 messages"),
        "{stderr}"
    );

    // Two outputs per record; --max-messages counts outputs printed.
    let out = consume(&[
        "--jq",
        ".value |= (tonumber * 10 | tostring), .",
        "--max-messages",
        "3",
    ]);
    assert!(out.status.success());
    assert_eq!(lines(&out.stdout), ["10", "1", "20"]);

    // --jq runs before --output json; the source position stays.
    let out = consume(&[
        "--filter",
        ".offset == 1",
        "--jq",
        ".key = null | .headers = {h: .value}",
        "--output",
        "json",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["offset"], 1);
    assert_eq!(v["key"], serde_json::Value::Null);
    assert_eq!(v["headers"][0]["key"], "h");
    assert_eq!(v["headers"][0]["value"], "2");

    // A record whose expression fails is reported and skipped; exit 1.
    let out = consume(&["--jq", r#"if .value == "2" then error("two") else . end"#]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(lines(&out.stdout), ["1", "3", "4"]);
    assert!(
        stderr.contains("t:0 offset 1 not printed: --jq: two"),
        "{stderr}"
    );
    // An output that is not an envelope says how to write one.
    let out = consume(&["--jq", ".value"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains(".value |="), "{stderr}");
}
