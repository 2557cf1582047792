//! `strom topics` through the real binary.
mod common;

use std::time::Duration;

use common::{run_with_timeout, strom, Broker};

fn exit_code(args: &[&str]) -> (Option<i32>, String) {
    let mut c = strom();
    // An unreachable address proves the check happens before any I/O.
    c.args(args).args(["-b", "127.0.0.1:1"]);
    let out = run_with_timeout(c, None, Duration::from_secs(30));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn illegal_topic_names_are_usage_errors_before_connecting() {
    let long = "x".repeat(250);
    for name in ["a/b", "..", ".", "with space", "ümlaut", long.as_str()] {
        let (code, err) = exit_code(&["topics", "create", name]);
        assert_eq!(code, Some(2), "{name:?}: {err}");
        assert!(!err.contains("cannot reach"), "{err}");
        let (code, _) = exit_code(&["produce", "-t", name]);
        assert_eq!(code, Some(2), "{name:?}");
        let (code, _) = exit_code(&["consume", "-t", name]);
        assert_eq!(code, Some(2), "{name:?}");
    }
    assert_eq!(
        exit_code(&[
            "topics",
            "create",
            "--topic",
            "ok.name_1-x",
            "--partitions",
            "0"
        ])
        .0,
        Some(2)
    );
}

#[test]
fn help_and_version_exit_zero() {
    for args in [
        &["--help"][..],
        &["--version"],
        &["topics", "create", "--help"],
    ] {
        let out = run_with_timeout(
            {
                let mut c = strom();
                c.args(args);
                c
            },
            None,
            Duration::from_secs(30),
        );
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(!out.stdout.is_empty());
    }
}

#[test]
fn create_list_describe_alter_delete() {
    let b = Broker::start();
    let out = b.ok(
        &[
            "topics",
            "create",
            "orders",
            "--partitions",
            "2",
            "--config",
            "retention.ms=3600000",
        ],
        None,
    );
    assert_eq!(String::from_utf8_lossy(&out), "Created topic orders.\n");

    // Kafka's --if-not-exists: silent success; without it, exit 1.
    b.ok(&["topics", "create", "orders", "--if-not-exists"], None);
    let again = b.run(&["topics", "create", "orders"], None);
    assert_eq!(again.status.code(), Some(1));
    let err = String::from_utf8_lossy(&again.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");

    b.create_topic("audit", 1);
    let list = String::from_utf8(b.ok(&["topics", "list"], None)).expect("utf8");
    let names: Vec<&str> = list.lines().collect();
    assert!(
        names.contains(&"orders") && names.contains(&"audit"),
        "{list}"
    );

    let desc = String::from_utf8(b.ok(&["topics", "describe", "orders"], None)).expect("utf8");
    let lines: Vec<&str> = desc.lines().collect();
    assert_eq!(lines.len(), 3, "{desc}");
    assert!(
        lines[0].starts_with("Topic: orders\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: "),
        "{desc}"
    );
    assert!(lines[0].contains("retention.ms=3600000"), "{desc}");
    assert_eq!(
        lines[1],
        "\tTopic: orders\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1"
    );

    let json = b.ok(
        &[
            "topics", "describe", "--topic", "orders", "--output", "json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&json).expect("json");
    assert_eq!(v[0]["name"], "orders");
    assert_eq!(v[0]["partitions"].as_array().map(Vec::len), Some(2));

    b.ok(&["topics", "alter", "orders", "--partitions", "4"], None);
    let desc = String::from_utf8(b.ok(&["topics", "describe", "orders"], None)).expect("utf8");
    assert!(desc.contains("PartitionCount: 4"), "{desc}");

    b.ok(&["topics", "delete", "orders"], None);
    let list = String::from_utf8(b.ok(&["topics", "list"], None)).expect("utf8");
    assert!(!list.lines().any(|l| l == "orders"), "{list}");
    assert_eq!(
        b.run(&["topics", "delete", "orders"], None).status.code(),
        Some(1)
    );
    b.ok(&["topics", "delete", "orders", "--if-exists"], None);
    assert_eq!(
        b.run(&["topics", "describe", "orders"], None).status.code(),
        Some(1)
    );
}

#[test]
fn topics_offsets_prints_earliest_latest_and_by_time_per_partition() {
    let b = Broker::start();
    b.create_topic("offs", 2);
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    b.ok(&["produce", "-t", "offs", "-p", "1"], Some(b"a\nb\nc\n"));
    let text = |v: Vec<u8>| String::from_utf8_lossy(&v).into_owned();
    assert_eq!(
        text(b.ok(&["topics", "offsets", "offs"], None)),
        "offs:0:0\noffs:1:3\n"
    );
    assert_eq!(
        text(b.ok(&["topics", "offsets", "offs", "--time", "-2"], None)),
        "offs:0:0\noffs:1:0\n"
    );
    // By time: the first record at or after it, -1 where there is none.
    let at = (before - 60_000).to_string();
    assert_eq!(
        text(b.ok(
            &[
                "topics",
                "offsets",
                "--topic",
                "offs",
                "--time",
                &at,
                "--partitions",
                "1"
            ],
            None
        )),
        "offs:1:0\n"
    );
    let future = (before + 3_600_000).to_string();
    assert_eq!(
        text(b.ok(&["topics", "offsets", "offs", "--time", &future], None)),
        "offs:0:-1\noffs:1:-1\n"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&b.ok(&["topics", "offsets", "offs", "--output", "json"], None))
            .expect("json");
    assert_eq!(json[1]["offset"], 3);
    // A partition the topic lacks and a bad time are usage errors; a
    // missing topic is a failure.
    let out = b.run(&["topics", "offsets", "offs", "--partitions", "5"], None);
    assert_eq!(out.status.code(), Some(2));
    let out = b.run(&["topics", "offsets", "offs", "--time", "soon"], None);
    assert_eq!(out.status.code(), Some(2));
    let out = b.run(&["topics", "offsets", "nosuch"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown topic nosuch"));
}

#[test]
fn delete_config_of_an_unknown_key_is_an_error() {
    let b = Broker::start();
    b.ok(
        &["topics", "create", "t", "--config", "retention.ms=3600000"],
        None,
    );
    let out = b.run(
        &["topics", "alter", "t", "--delete-config", "retention.msx"],
        None,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("unknown topic config 'retention.msx'"),
        "{err}"
    );
    // A known key is deleted (back to its default).
    b.ok(
        &["topics", "alter", "t", "--delete-config", "retention.ms"],
        None,
    );
    let desc = String::from_utf8(b.ok(&["topics", "describe", "t"], None)).expect("utf8");
    assert!(!desc.contains("retention.ms=3600000"), "{desc}");
}

/// Names of the entries of the broker's `data/` directory (one per
/// partition: `<topic>-<partition>`).
fn partition_dirs(b: &Broker) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(b.data_dir().join("data"))
        .expect("data dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    v.sort();
    v
}

#[test]
fn the_longest_name_kafka_allows_works_and_dot_underscore_collisions_are_refused() {
    let mut b = Broker::start();
    // 249 characters: Kafka's limit, which used to fail on disk with
    // "File name too long" and leave a directory behind.
    let long = "t".repeat(249);
    b.ok(&["topics", "create", &long, "--partitions", "3"], None);
    b.ok(&["produce", "-t", &long], Some(b"kept\n"));
    b.restart();
    let out = b.ok(&["consume", "-t", &long, "--from-beginning", "-e"], None);
    assert_eq!(String::from_utf8_lossy(&out), "kept\n");

    b.create_topic("orders.eu", 1);
    let out = b.run(&["topics", "create", "orders_eu"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("collides with existing topic 'orders.eu'"),
        "{err}"
    );
    b.create_topic("orders-eu", 1);
    let mut want: Vec<String> = (0..3).map(|p| format!("{long}-{p}")).collect();
    want.extend(["orders-eu-0".to_string(), "orders.eu-0".to_string()]);
    let dirs: Vec<String> = partition_dirs(&b)
        .into_iter()
        .filter(|d| !d.starts_with("__"))
        .collect();
    want.sort();
    assert_eq!(dirs, want, "one directory per partition, nothing else");
}

#[test]
fn list_takes_a_kafka_topics_regex_and_exclude_internal() {
    let b = Broker::start();
    for t in ["orders", "orders.v2", "old-orders", "audit"] {
        b.create_topic(t, 1);
    }
    let list = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["topics", "list"];
        all.extend_from_slice(args);
        String::from_utf8(b.ok(&all, None))
            .expect("utf8")
            .lines()
            .map(str::to_string)
            .collect()
    };
    // The broker creates __consumer_offsets and __transaction_state at start.
    assert_eq!(
        list(&["--internal"]),
        [
            "__consumer_offsets",
            "__transaction_state",
            "audit",
            "old-orders",
            "orders",
            "orders.v2"
        ]
    );
    assert_eq!(
        list(&["--exclude-internal"]),
        ["audit", "old-orders", "orders", "orders.v2"]
    );
    // The whole name must match; commas separate alternatives; --topic or
    // the argument.
    assert_eq!(list(&["orders.*"]), ["orders", "orders.v2"]);
    assert_eq!(list(&["--topic", "orders.*"]), ["orders", "orders.v2"]);
    assert_eq!(list(&["--topic", "orders,audit"]), ["audit", "orders"]);
    assert_eq!(
        list(&[".*orders", "--exclude-internal"]),
        ["old-orders", "orders"]
    );
    assert!(list(&["--topic", "__.*"]).is_empty());
    assert_eq!(
        list(&["--internal", "--topic", "__.*"]),
        ["__consumer_offsets", "__transaction_state"]
    );
    let json = b.ok(&["topics", "list", "o.*", "--output", "json"], None);
    let names: Vec<String> = serde_json::from_slice(&json).expect("json");
    assert_eq!(names, ["old-orders", "orders", "orders.v2"]);

    // A bad pattern or contradicting flags: usage errors before connecting.
    let (code, err) = exit_code(&["topics", "list", "--topic", "orders("]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not a valid regular expression"), "{err}");
    assert!(!err.contains("cannot reach"), "{err}");
    let (code, _) = exit_code(&["topics", "list", "--internal", "--exclude-internal"]);
    assert_eq!(code, Some(2));
    let (code, _) = exit_code(&["topics", "list", "a", "--topic", "b"]);
    assert_eq!(code, Some(2));
}

#[test]
fn delete_records_moves_the_log_start_from_flags_or_a_kafka_offset_file() {
    let b = Broker::start();
    b.create_topic("dr", 2);
    let lines: Vec<u8> = (0..40)
        .flat_map(|i| format!("{}:v{i}\n", i % 2).into_bytes())
        .collect();
    b.ok(&["produce", "-t", "dr", "-K", ":"], Some(&lines));
    let offsets = |time: &str| {
        String::from_utf8(b.ok(&["topics", "offsets", "dr", "--time", time], None)).expect("utf8")
    };
    let latest = offsets("latest");
    let ends: Vec<i64> = latest
        .lines()
        .filter_map(|l| l.rsplit(':').next()?.parse().ok())
        .collect();
    assert_eq!(ends.iter().sum::<i64>(), 40, "{latest}");
    let p0_end = ends[0];
    // Flags: partition 0 below 3.
    let out = String::from_utf8(b.ok(
        &[
            "topics",
            "delete-records",
            "dr",
            "--partition",
            "0",
            "--offset",
            "3",
        ],
        None,
    ))
    .expect("utf8");
    assert!(out.contains("partition: dr-0\tlow_watermark: 3"), "{out}");
    assert!(offsets("earliest").contains("dr:0:3"));
    // Kafka's JSON file: partition 1 wholly (-1), partition 0 to its end.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("plan.json");
    std::fs::write(
        &file,
        format!(
            r#"{{"partitions":[{{"topic":"dr","partition":1,"offset":-1}},{{"topic":"dr","partition":0,"offset":{p0_end}}}],"version":1}}"#
        ),
    )
    .expect("write plan");
    b.ok(
        &[
            "topics",
            "delete-records",
            "--offset-json-file",
            &file.to_string_lossy(),
        ],
        None,
    );
    let earliest = offsets("earliest");
    assert_eq!(earliest, latest, "everything below the ends is gone");
    let left = b.ok(&["consume", "-t", "dr", "--from-beginning", "-e"], None);
    assert!(left.is_empty());
    // Beyond the end: the partition's error, exit 1.
    let out = b.run(
        &["topics", "delete-records", "dr", "--offset", "9999"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("OFFSET_OUT_OF_RANGE"));
    // Internal topics are refused, a bad file is a usage error.
    let out = b.run(
        &[
            "topics",
            "delete-records",
            "__consumer_offsets",
            "--offset",
            "1",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    std::fs::write(&file, "{\"partitions\": 3}").expect("write bad plan");
    let out = b.run(
        &[
            "topics",
            "delete-records",
            "--offset-json-file",
            &file.to_string_lossy(),
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_missing_topic_has_one_wording_everywhere() {
    let b = Broker::start();
    for args in [
        &["consume", "-t", "nope", "-e"][..],
        &["consume", "-t", "nope", "-g", "g", "-e"],
        &["topics", "describe", "nope"],
        &["topics", "alter", "nope", "--partitions", "3"],
        &["topics", "delete", "nope"],
        &["topics", "offsets", "nope"],
        &["topics", "delete-records", "nope", "--offset", "1"],
    ] {
        let out = b.run(args, None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.starts_with("error: unknown topic nope."),
            "{args:?}: {err}"
        );
    }
}
