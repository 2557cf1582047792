//! `strom groups delete-offsets` (native DeleteOffsets, Kafka's OffsetDelete
//! semantics) against a real broker with a real group member: offsets of
//! topics the active members subscribe to stay, others go, and an empty
//! group loses whatever is asked.
mod common;

use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{numbered_lines, send_signal, wait_with_deadline, Broker};

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// The group's committed offsets as (topic, partition) pairs, from
/// `groups describe --output json`.
fn committed(b: &Broker, group: &str) -> Vec<(String, i64)> {
    let out = b.ok(
        &["groups", "describe", "--group", group, "--output", "json"],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&out).expect("describe json");
    // One object per group, its rows under "partitions".
    let rows = v
        .get(0)
        .and_then(|g| g.get("partitions"))
        .and_then(|p| p.as_array())
        .cloned()
        .unwrap_or_default();
    let mut got: Vec<(String, i64)> = rows
        .iter()
        .filter(|r| r.get("current_offset").is_some_and(|o| !o.is_null()))
        .filter_map(|r| {
            Some((
                r.get("topic")?.as_str()?.to_string(),
                r.get("partition")?.as_i64()?,
            ))
        })
        .collect();
    got.sort();
    got
}

fn wait_state(b: &Broker, group: &str, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = b.run(&["groups", "list", "--state"], None);
        let listed = text(&out.stdout);
        if listed
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == [group, state])
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "group {group} never became {state}: {listed}"
        );
        thread::sleep(Duration::from_millis(100));
    }
}

/// A `consume --group` child, killed if the test fails before it ends it.
struct Member(Child);

impl Drop for Member {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn member(b: &Broker, topic: &str, group: &str) -> Member {
    let child = b
        .cmd(&["consume", "-t", topic, "--group", group])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn consumer");
    Member(child)
}

#[test]
fn subscribed_topics_keep_their_offsets_until_the_group_is_empty() {
    let b = Broker::start_with(&["--group-initial-rebalance-delay-ms", "0"]);
    b.create_topic("read", 2);
    b.create_topic("old", 1);
    b.ok(&["produce", "-t", "read"], Some(&numbered_lines(10)));
    b.ok(&["produce", "-t", "old"], Some(&numbered_lines(5)));
    for t in ["read", "old"] {
        b.ok(
            &["consume", "-t", t, "--group", "g", "--from-beginning", "-e"],
            None,
        );
    }
    let all = vec![
        ("old".to_string(), 0),
        ("read".to_string(), 0),
        ("read".to_string(), 1),
    ];
    assert_eq!(committed(&b, "g"), all);

    // A member reads `read`: its offsets stay, `old`'s go; exit 1 names why.
    let mut m = member(&b, "read", "g");
    wait_state(&b, "g", "Stable");
    let out = b.run(
        &[
            "groups",
            "delete-offsets",
            "--group",
            "g",
            "--topic",
            "read",
            "--topic",
            "old",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().take(3).collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec!["old", "0", "Successful"],
            vec!["read", "0", "Error:"],
            vec!["read", "1", "Error:"]
        ],
        "{table}"
    );
    assert!(table.contains("GROUP_SUBSCRIBED_TO_TOPIC"), "{table}");
    assert!(
        text(&out.stderr).contains("2 of 3 partitions kept their offsets"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        committed(&b, "g"),
        vec![("read".to_string(), 0), ("read".to_string(), 1)]
    );

    // The member leaves: now one partition of `read` can go alone.
    send_signal(m.0.id(), "-INT");
    assert!(wait_with_deadline(&mut m.0, Duration::from_secs(30)).success());
    wait_state(&b, "g", "Empty");
    let out = b.ok(
        &[
            "groups",
            "delete-offsets",
            "--group",
            "g",
            "--topic",
            "read:0",
        ],
        None,
    );
    assert!(
        text(&out).starts_with("Request succeed for deleting offsets from group g."),
        "{}",
        text(&out)
    );
    assert_eq!(committed(&b, "g"), vec![("read".to_string(), 1)]);

    // Survives a restart: the deletions were written to __consumer_offsets.
    let mut b = b;
    b.restart();
    assert_eq!(committed(&b, "g"), vec![("read".to_string(), 1)]);
}

#[test]
fn unknown_groups_topics_and_partitions_are_refused_clearly() {
    let b = Broker::start();
    b.create_topic("t", 1);
    b.ok(&["produce", "-t", "t"], Some(&numbered_lines(2)));
    b.ok(
        &[
            "consume",
            "-t",
            "t",
            "--group",
            "g",
            "--from-beginning",
            "-e",
        ],
        None,
    );

    let out = b.run(
        &[
            "groups",
            "delete-offsets",
            "--group",
            "nope",
            "--topic",
            "t",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("'nope'") && err.contains("does not exist"),
        "{err}"
    );

    let out = b.run(
        &[
            "groups",
            "delete-offsets",
            "--group",
            "g",
            "--topic",
            "missing",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("missing"),
        "{}",
        text(&out.stderr)
    );

    // A partition the topic does not have is answered in its row.
    let out = b.run(
        &[
            "groups",
            "delete-offsets",
            "--group",
            "g",
            "--topic",
            "t:0,7",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let table = text(&out.stdout);
    assert!(
        table.lines().any(|l| l.starts_with("t ")
            && l.contains(" 7 ")
            && l.contains("UNKNOWN_TOPIC_OR_PARTITION")),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.contains(" 0 ") && l.contains("Successful")),
        "{table}"
    );

    // Usage errors exit 2.
    for args in [
        &["groups", "delete-offsets", "--group", "g"][..],
        &["groups", "delete-offsets", "--topic", "t"],
        &["groups", "delete-offsets", "--group", "g", "--topic", "t:x"],
    ] {
        assert_eq!(b.run(args, None).status.code(), Some(2), "{args:?}");
    }
}
