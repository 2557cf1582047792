//! `strom topics elect-leaders` (kafka-leader-election) on a single broker,
//! where every partition is led by its only replica, and in a 3-broker
//! cluster with automatic rebalancing off, where a restarted preferred
//! leader gets its partitions back only when asked.
mod common;

use std::time::{Duration, Instant};

use common::cluster::{partitions, run_client, Cluster, Deadline, Part};
use common::Broker;

const STEP: Duration = Duration::from_secs(30);

#[test]
fn a_single_broker_has_nothing_to_elect_and_bad_requests_are_refused() {
    let b = Broker::start();
    b.create_topic("t", 2);
    let text = |args: &[&str]| String::from_utf8(b.ok(args, None)).expect("utf8");
    let all = ["topics", "elect-leaders", "--election-type", "preferred"];
    assert_eq!(
        text(&[&all[..], &["--all-topic-partitions"]].concat()),
        "No partition needed a leader election (PREFERRED).\n"
    );
    assert_eq!(
        text(&[&all[..], &["--topic", "t"]].concat()),
        "Valid replica already elected for partitions t-0, t-1\n"
    );
    // A partition the topic does not have: named, exit 1.
    let out = b.run(
        &[
            "topics",
            "elect-leaders",
            "--election-type",
            "unclean",
            "--topic",
            "t",
            "--partition",
            "5",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("Error completing leader election (UNCLEAN) for partition: t-5: ")
            && stdout.contains("UNKNOWN_TOPIC_OR_PARTITION"),
        "{stdout}"
    );
    // The JSON file form; a bad file is a usage error.
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("plan.json");
    std::fs::write(&good, r#"{"partitions": [{"topic": "t", "partition": 1}]}"#).expect("write");
    let good = good.to_string_lossy().into_owned();
    assert_eq!(
        text(&[&all[..], &["--path-to-json-file", &good]].concat()),
        "Valid replica already elected for partitions t-1\n"
    );
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"partitions": [{"topic": "t"}]}"#).expect("write");
    let bad = bad.to_string_lossy().into_owned();
    for args in [
        vec!["topics", "elect-leaders", "--all-topic-partitions"],
        all.to_vec(),
        [&all[..], &["--topic", "t", "--all-topic-partitions"]].concat(),
        [&all[..], &["--partition", "0", "--all-topic-partitions"]].concat(),
        vec![
            "topics",
            "elect-leaders",
            "--election-type",
            "sideways",
            "--topic",
            "t",
        ],
        [&all[..], &["--path-to-json-file", &bad]].concat(),
    ] {
        let out = b.run(&args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
}

fn describe(c: &Cluster) -> Vec<Part> {
    let (ok, out, err) = run_client(&["topics", "describe", "t"], &c.bootstrap(), None, STEP);
    assert!(ok, "describe failed: {err}");
    partitions(&out)
}

fn wait_until(
    c: &Cluster,
    what: &str,
    deadline: Instant,
    f: impl Fn(&[Part]) -> bool,
) -> Vec<Part> {
    loop {
        let parts = describe(c);
        if parts.len() == 3 && f(&parts) {
            return parts;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {parts:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_preferred_election_hands_leadership_back_after_a_restart() {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut c = Cluster::new(3, Deadline::At(deadline))
        .flags(&[
            "--leader-imbalance-check-interval-ms",
            "0",
            "--broker-session-timeout-ms",
            "6000",
        ])
        .start();
    // Until all three brokers have registered, RF 3 is refused.
    loop {
        let (ok, _, err) = run_client(
            &[
                "topics",
                "create",
                "t",
                "--partitions",
                "3",
                "--replication-factor",
                "3",
            ],
            &c.bootstrap(),
            None,
            STEP,
        );
        if ok {
            break;
        }
        assert!(
            err.contains("live broker") && Instant::now() < deadline,
            "create failed: {err}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let full_isr = |ps: &[Part]| ps.iter().all(|p| p.isr.len() == 3);
    let before = wait_until(&c, "a full ISR", deadline, full_isr);
    let victim = before[0].leader;
    assert_eq!(before[0].replicas.first(), Some(&victim));

    c.kill(c.index(victim));
    wait_until(&c, "a new leader for partition 0", deadline, |ps| {
        ps[0].leader != victim && ps[0].leader > 0
    });
    c.restart(c.index(victim));
    let moved = wait_until(
        &c,
        "the restarted broker back in every ISR",
        deadline,
        full_isr,
    );
    // Rebalancing is off, so it leads again only when asked (unless the
    // controller had to give it a leaderless partition back when it
    // registered: a loaded machine can fence a second broker meanwhile).
    let needs_election = moved[0].leader != victim;

    let (ok, out, err) = run_client(
        &[
            "topics",
            "elect-leaders",
            "--election-type",
            "preferred",
            "--all-topic-partitions",
        ],
        &c.bootstrap(),
        None,
        STEP,
    );
    if !ok {
        for n in &c.nodes {
            eprintln!("---- node log\n{}", n.log());
        }
    }
    assert!(ok, "elect-leaders failed: {out}{err}");
    if needs_election {
        assert!(
            out.starts_with("Successfully completed leader election (PREFERRED) for partitions ")
                && out.contains("t-0"),
            "{out}"
        );
    }
    let after = describe(&c);
    for p in &after {
        assert_eq!(p.replicas.first(), Some(&p.leader), "{after:?}");
    }
    // Asked again, nothing is needed.
    let (ok, out, _) = run_client(
        &[
            "topics",
            "elect-leaders",
            "--election-type",
            "preferred",
            "--topic",
            "t",
        ],
        &c.bootstrap(),
        None,
        STEP,
    );
    assert!(ok);
    assert_eq!(
        out,
        "Valid replica already elected for partitions t-0, t-1, t-2\n"
    );
}
