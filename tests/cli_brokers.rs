//! `strom brokers list|describe` (issue 20): each broker's version,
//! listeners, uptime, disk, partitions and health, from the broker itself.
mod common;

use std::time::Duration;

use common::cluster::{run_client, Cluster, Deadline};
use common::Broker;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_single_broker_describes_itself() {
    let b = Broker::start();
    b.create_topic("three", 3);
    let listed = text(&b.ok(&["brokers", "list"], None));
    let mut lines = listed.lines();
    assert!(
        lines.next().is_some_and(|h| h.starts_with("ID")),
        "{listed}"
    );
    let row = lines.next().unwrap_or_default();
    assert!(row.starts_with("1*"), "the controller is marked: {listed}");
    assert!(row.contains(&b.addr), "{listed}");
    assert!(row.contains(env!("CARGO_PKG_VERSION")), "{listed}");
    assert!(row.trim_end().ends_with("ok"), "{listed}");

    let json = text(&b.ok(&["brokers", "describe", "--output", "json"], None));
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let me = &v[0];
    assert_eq!(me["id"], 1);
    assert_eq!(me["health"], "ok");
    assert_eq!(me["listener"].as_str(), Some(b.addr.as_str()));
    assert_eq!(me["clustered"], false);
    assert!(me["uptime_ms"].as_i64().is_some_and(|u| u >= 0), "{json}");
    assert!(
        me["disk_free_bytes"].as_i64().is_some_and(|f| f > 0),
        "{json}"
    );
    // Three partitions of "three" plus the offsets topic's, all led here.
    let parts = me["partitions"].as_i64().unwrap_or(0);
    assert!(parts >= 3, "{json}");
    assert_eq!(me["leaders"].as_i64(), Some(parts), "{json}");

    let out = b.run(&["brokers", "describe", "--id", "7"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no broker with id 7"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn every_cluster_member_answers_for_itself() {
    let c = Cluster::new(3, Deadline::After(Duration::from_secs(60))).start();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    // The metadata names all three once they registered.
    let json = loop {
        let (ok, out, err) = run_client(
            &["brokers", "list", "--output", "json"],
            &c.bootstrap(),
            None,
            Duration::from_secs(30),
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        if ok && v.as_array().is_some_and(|a| a.len() == 3) {
            break v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "three healthy brokers: {out} {err}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let brokers = json.as_array().cloned().unwrap_or_default();
    let ids: Vec<i64> = brokers.iter().filter_map(|b| b["id"].as_i64()).collect();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(
        brokers.iter().filter(|b| b["controller"] == true).count(),
        1
    );
    for b in &brokers {
        assert_eq!(b["health"], "ok", "{b}");
        assert_eq!(b["clustered"], true, "{b}");
        assert!(b["controller_listener"].is_string(), "{b}");
    }
}
