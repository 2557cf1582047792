//! `strom topics describe --log-dirs` (issue 13, kafka-log-dirs): every
//! partition replica with its broker, size on disk, log end and lag,
//! each asked of the broker that stores it (native DescribeLogDirs).
mod common;

use std::time::{Duration, Instant};

use common::cluster::{run_client, Cluster, Deadline};
use common::Broker;

fn rows(json: &str) -> Vec<serde_json::Value> {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

#[test]
fn a_single_node_shows_each_partition_with_its_size_and_log_end() {
    let b = Broker::start();
    b.create_topic("t", 2);
    let lines: String = (0..100).map(|i| format!("k{i}:value {i}\n")).collect();
    b.ok(&["produce", "-t", "t", "-K", ":"], Some(lines.as_bytes()));
    let out = b.ok(
        &["topics", "describe", "t", "--log-dirs", "--output", "json"],
        None,
    );
    let rows = rows(&String::from_utf8_lossy(&out));
    assert_eq!(rows.len(), 2, "{rows:?}");
    let ends: i64 = rows
        .iter()
        .filter_map(|r| r["log_end_offset"].as_i64())
        .sum();
    assert_eq!(ends, 100);
    for r in &rows {
        assert_eq!(r["topic"], "t");
        assert_eq!(r["broker"], 1);
        assert_eq!(r["leader"], true);
        assert_eq!(r["lag"], 0);
        assert_eq!(
            r["log_dir"].as_str(),
            b.data_dir().to_str(),
            "the broker's data dir"
        );
        // Non-empty partitions take bytes on disk.
        let end = r["log_end_offset"].as_i64().unwrap_or(0);
        let size = r["size_bytes"].as_i64().unwrap_or(0);
        assert_eq!(end > 0, size > 0, "{r}");
    }
    let out = b.run(&["topics", "describe", "missing", "--log-dirs"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown topic missing"));
}

#[test]
fn every_replica_of_a_cluster_is_listed_and_followers_catch_up() {
    let c = Cluster::new(3, Deadline::After(Duration::from_secs(90))).start();
    let step = Duration::from_secs(30);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (ok, _, err) = run_client(
            &[
                "topics",
                "create",
                "r",
                "--partitions",
                "2",
                "--replication-factor",
                "3",
            ],
            &c.bootstrap(),
            None,
            step,
        );
        if ok {
            break;
        }
        assert!(Instant::now() < deadline, "create failed: {err}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let lines: String = (0..200).map(|i| format!("{i}\n")).collect();
    let (ok, _, err) = run_client(
        &["produce", "-t", "r"],
        &c.bootstrap(),
        Some(lines.as_bytes()),
        step,
    );
    assert!(ok, "{err}");
    // Six replicas on three brokers; once the followers caught up, every
    // replica of a partition ends where its leader does, at the same size.
    loop {
        let (ok, out, err) = run_client(
            &["topics", "describe", "r", "--log-dirs", "--output", "json"],
            &c.bootstrap(),
            None,
            step,
        );
        let rows = rows(&out);
        let caught_up = ok
            && rows.len() == 6
            && rows.iter().all(|r| r["lag"] == 0)
            && (0..2).all(|p| {
                let sizes: Vec<_> = rows
                    .iter()
                    .filter(|r| r["partition"] == p)
                    .map(|r| r["size_bytes"].clone())
                    .collect();
                sizes.windows(2).all(|w| w[0] == w[1])
            });
        if caught_up {
            let leaders = rows.iter().filter(|r| r["leader"] == true).count();
            assert_eq!(leaders, 2, "{out}");
            let brokers: std::collections::BTreeSet<i64> =
                rows.iter().filter_map(|r| r["broker"].as_i64()).collect();
            assert_eq!(brokers.len(), 3, "{out}");
            let ends: i64 = rows
                .iter()
                .filter(|r| r["leader"] == true)
                .filter_map(|r| r["log_end_offset"].as_i64())
                .sum();
            assert_eq!(ends, 200, "{out}");
            break;
        }
        assert!(
            Instant::now() < deadline + Duration::from_secs(30),
            "{out} {err}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
