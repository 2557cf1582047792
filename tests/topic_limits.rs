//! Huge partition counts (issue 20, item 6): refused against the broker's
//! caps before anything is created, and a create that fails half-way (out
//! of file descriptors) leaves nothing behind, not even after a restart.
mod common;

use common::Broker;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Partition directories of `topic` under the broker's `data/`.
fn dirs_of(b: &Broker, topic: &str) -> usize {
    let prefix = format!("{topic}-");
    std::fs::read_dir(b.data_dir().join("data"))
        .expect("data dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| {
            n.strip_prefix(&prefix)
                .is_some_and(|p| p.parse::<u32>().is_ok())
        })
        .count()
}

/// Runs a command that must fail with exit 1; its stderr.
fn refused(b: &Broker, args: &[&str]) -> String {
    let out = b.run(args, None);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    err
}

#[test]
fn huge_partition_counts_are_refused_before_anything_is_created() {
    let b = Broker::start();
    let err = refused(&b, &["topics", "create", "huge", "--partitions", "100000"]);
    assert!(err.contains("POLICY_VIOLATION"), "{err}");
    assert!(err.contains("--max-partitions-per-topic=10000"), "{err}");
    assert_eq!(dirs_of(&b, "huge"), 0, "nothing created");
    let listed = text(&b.ok(&["topics", "list"], None));
    assert!(!listed.lines().any(|l| l == "huge"), "{listed}");

    // Growing past the cap (CreatePartitions) is refused the same way.
    b.create_topic("small", 2);
    let err = refused(&b, &["topics", "alter", "small", "--partitions", "20000"]);
    assert!(err.contains("--max-partitions-per-topic"), "{err}");
    assert_eq!(dirs_of(&b, "small"), 2);
}

#[test]
fn the_broker_caps_are_flags() {
    let b = Broker::start_with(&["--max-partitions-per-topic", "40", "--max-partitions", "60"]);
    b.create_topic("a", 40);
    let err = refused(&b, &["topics", "alter", "a", "--partitions", "41"]);
    assert!(err.contains("--max-partitions-per-topic=40"), "{err}");
    // 8 consumer-offsets + 8 transaction-state partitions + 40 + 20 > 60.
    let err = refused(&b, &["topics", "create", "b", "--partitions", "20"]);
    assert!(err.contains("--max-partitions=60"), "{err}");
    assert!(err.contains("POLICY_VIOLATION"), "{err}");
    assert_eq!(dirs_of(&b, "b"), 0);
    b.create_topic("b", 4);
}

#[test]
fn the_default_cap_follows_the_open_file_limit() {
    let b = Broker::start_with_open_files(256, &[]);
    // 256 files hold (256 * 3/4) / 2 = 96 partitions, 8 of them taken.
    let err = refused(&b, &["topics", "create", "t", "--partitions", "100"]);
    assert!(err.contains("--max-partitions=96"), "{err}");
    assert!(err.contains("open-file limit 256"), "{err}");
    assert_eq!(dirs_of(&b, "t"), 0);
    b.create_topic("t", 80);
}

#[test]
fn a_create_that_runs_out_of_files_leaves_nothing_behind() {
    // Caps lifted: the create really runs out of descriptors half-way.
    let mut b = Broker::start_with_open_files(
        256,
        &[
            "--max-partitions",
            "100000",
            "--max-partitions-per-topic",
            "100000",
        ],
    );
    let err = refused(&b, &["topics", "create", "t", "--partitions", "300"]);
    assert!(err.contains("nothing was created"), "{err}");
    assert_eq!(dirs_of(&b, "t"), 0, "partitions made are removed again");
    let listed = text(&b.ok(&["topics", "list"], None));
    assert!(!listed.lines().any(|l| l == "t"), "{listed}");
    // The broker keeps serving, and a grow that runs out is undone too.
    b.create_topic("ok", 2);
    let err = refused(&b, &["topics", "alter", "ok", "--partitions", "300"]);
    assert!(err.contains("nothing was created"), "{err}");
    assert_eq!(dirs_of(&b, "ok"), 2);
    b.ok(&["produce", "-t", "ok", "-p", "1"], Some(b"still\n"));
    b.stop();
    // What a crash half-way through a create or grow would leave.
    for orphan in ["ghost-0", "ok-7"] {
        std::fs::create_dir(b.data_dir().join("data").join(orphan)).expect("mkdir");
    }
    b.start_again();
    assert_eq!(dirs_of(&b, "t"), 0, "nothing comes back after a restart");
    assert_eq!(
        dirs_of(&b, "ghost"),
        0,
        "directories no topic owns are removed"
    );
    assert_eq!(dirs_of(&b, "ok"), 2);
    let out = text(&b.ok(&["consume", "-t", "ok", "--from-beginning", "-e"], None));
    assert_eq!(out, "still\n");
}

#[test]
fn a_cluster_checks_the_same_caps_and_min_insync_replicas() {
    use common::cluster::{run_client, Cluster, Deadline};
    use std::time::{Duration, Instant};
    let c = Cluster::new(2, Deadline::After(Duration::from_secs(60)))
        .flags(&["--max-partitions-per-topic", "20"])
        .start();
    let boot = c.bootstrap();
    let run = |args: &[&str]| run_client(args, &boot, None, Duration::from_secs(60));
    // Both brokers must have registered before RF 2 is possible.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (ok, _, err) = run(&["topics", "create", "ok", "--replication-factor", "2"]);
        if ok {
            break;
        }
        assert!(Instant::now() < deadline, "RF 2 never possible: {err}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (ok, _, err) = run(&[
        "topics",
        "create",
        "m",
        "--replication-factor",
        "2",
        "--config",
        "min.insync.replicas=3",
    ]);
    assert!(!ok && err.contains("replication factor 2"), "{err}");
    let (ok, _, err) = run(&["topics", "alter", "ok", "--config", "min.insync.replicas=3"]);
    assert!(!ok && err.contains("INVALID_CONFIG"), "{err}");
    let (ok, _, err) = run(&["topics", "create", "big", "--partitions", "21"]);
    assert!(
        !ok && err.contains("--max-partitions-per-topic=20"),
        "{err}"
    );
    let (ok, _, err) = run(&["topics", "alter", "ok", "--partitions", "21"]);
    assert!(!ok && err.contains("POLICY_VIOLATION"), "{err}");
    let (ok, _, err) = run(&[
        "topics",
        "create",
        "m",
        "--replication-factor",
        "2",
        "--config",
        "min.insync.replicas=2",
    ]);
    assert!(ok, "{err}");
}
