//! `strom brokers configs|alter-configs` (issue 13): the broker-wide
//! defaults of topic configs, under Kafka's broker names, read and changed
//! at run time from the strom CLI over the native protocol.
mod common;

use std::time::Duration;

use common::cluster::{run_client, Cluster, Deadline};
use common::Broker;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// (value, source) of `name` for `broker` (None: the cluster default row).
fn setting(json: &str, broker: Option<i64>, name: &str) -> Option<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v.as_array()?
        .iter()
        .find(|r| r["name"] == name && r["broker"].as_i64() == broker)
        .map(|r| {
            (
                r["value"].as_str().unwrap_or_default().to_string(),
                r["source"].as_str().unwrap_or_default().to_string(),
            )
        })
}

/// The topic's effective `key` (`topics describe --all-configs`).
fn topic_config(b: &Broker, topic: &str, key: &str) -> String {
    let out = text(&b.ok(
        &[
            "topics",
            "describe",
            topic,
            "--all-configs",
            "--output",
            "json",
        ],
        None,
    ));
    let v: serde_json::Value = serde_json::from_str(&out).expect("topics describe json");
    v[0]["configs"][key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {out}"))
        .to_string()
}

#[test]
fn a_single_node_changes_its_defaults_at_run_time_and_keeps_them() {
    let mut b = Broker::start();
    b.create_topic("follows", 1);
    b.ok(
        &["topics", "create", "own", "--config", "retention.ms=1234"],
        None,
    );
    let json = text(&b.ok(&["brokers", "configs", "--output", "json"], None));
    assert_eq!(
        setting(&json, Some(1), "log.retention.ms"),
        Some(("604800000".into(), "default".into())),
        "{json}"
    );

    b.ok(
        &[
            "brokers",
            "alter-configs",
            "--config",
            "log.retention.ms=86400000",
        ],
        None,
    );
    let json = text(&b.ok(&["brokers", "configs", "--output", "json"], None));
    assert_eq!(
        setting(&json, Some(1), "log.retention.ms"),
        Some(("86400000".into(), "cluster-default".into())),
        "{json}"
    );
    // Every topic without its own value follows at once; an override wins.
    assert_eq!(topic_config(&b, "follows", "retention.ms"), "86400000");
    assert_eq!(topic_config(&b, "own", "retention.ms"), "1234");

    // The broker's own value wins over the cluster default.
    b.ok(
        &[
            "brokers",
            "alter-configs",
            "--id",
            "1",
            "--config",
            "log.retention.ms=3600000",
        ],
        None,
    );
    assert_eq!(topic_config(&b, "follows", "retention.ms"), "3600000");
    let json = text(&b.ok(
        &[
            "brokers",
            "configs",
            "--cluster-default",
            "--output",
            "json",
        ],
        None,
    ));
    assert_eq!(
        setting(&json, None, "log.retention.ms"),
        Some(("86400000".into(), "cluster-default".into())),
        "{json}"
    );

    // --validate-only changes nothing.
    let out = b.run(
        &[
            "brokers",
            "alter-configs",
            "--config",
            "log.retention.ms=5",
            "--validate-only",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("nothing was changed"));

    // Kept across a restart.
    b.restart();
    assert_eq!(topic_config(&b, "follows", "retention.ms"), "3600000");
    let json = text(&b.ok(
        &["brokers", "configs", "--id", "1", "--output", "json"],
        None,
    ));
    assert_eq!(
        setting(&json, Some(1), "log.retention.ms"),
        Some(("3600000".into(), "broker".into())),
        "{json}"
    );

    // Deleting the broker's value falls back to the cluster default.
    b.ok(
        &[
            "brokers",
            "alter-configs",
            "--id",
            "1",
            "--delete-config",
            "log.retention.ms",
        ],
        None,
    );
    assert_eq!(topic_config(&b, "follows", "retention.ms"), "86400000");
}

#[test]
fn bad_broker_configs_are_refused_with_a_clear_error() {
    let b = Broker::start();
    let cases: [(&[&str], &str); 4] = [
        (
            &["brokers", "alter-configs", "--config", "no.such.key=1"],
            "no.such.key",
        ),
        (
            &[
                "brokers",
                "alter-configs",
                "--config",
                "log.retention.ms=abc",
            ],
            "log.retention.ms",
        ),
        (
            &[
                "brokers",
                "alter-configs",
                "--id",
                "9",
                "--config",
                "log.retention.ms=1000",
            ],
            "broker 9",
        ),
        (&["brokers", "configs", "--id", "9"], "broker 9"),
    ];
    for (args, names) in cases {
        let out = b.run(args, None);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(names), "{args:?}: {err}");
    }
    let out = b.run(&["brokers", "alter-configs"], None);
    assert_eq!(
        out.status.code(),
        Some(2),
        "nothing to change is a usage error"
    );
    // Nothing changed by the refused requests.
    let json = text(&b.ok(&["brokers", "configs", "--output", "json"], None));
    assert_eq!(
        setting(&json, Some(1), "log.retention.ms").map(|s| s.1),
        Some("default".into()),
        "{json}"
    );
}

#[test]
fn a_cluster_shares_the_default_and_keeps_each_brokers_own_value() {
    let c = Cluster::new(3, Deadline::After(Duration::from_secs(60))).start();
    let run = |args: &[&str]| {
        let (ok, out, err) = run_client(args, &c.bootstrap(), None, Duration::from_secs(30));
        assert!(ok, "{args:?}: {err}");
        out
    };
    // Each broker registers itself in the metadata once it joined.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while run(&["brokers", "list", "--output", "json"])
        .matches("\"id\"")
        .count()
        < 3
    {
        assert!(std::time::Instant::now() < deadline, "three brokers");
        std::thread::sleep(Duration::from_millis(200));
    }
    run(&[
        "brokers",
        "alter-configs",
        "--config",
        "log.segment.bytes=2097152",
    ]);
    run(&[
        "brokers",
        "alter-configs",
        "--id",
        "2",
        "--config",
        "log.segment.bytes=4194304",
    ]);
    // The quorum carries both to every broker; each answers for itself.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let json = run(&["brokers", "configs", "--output", "json"]);
        let got: Vec<_> = (1..=3)
            .map(|id| setting(&json, Some(id), "log.segment.bytes"))
            .collect();
        let want = vec![
            Some(("2097152".to_string(), "cluster-default".to_string())),
            Some(("4194304".to_string(), "broker".to_string())),
            Some(("2097152".to_string(), "cluster-default".to_string())),
        ];
        if got == want {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{json}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
