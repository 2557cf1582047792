//! A big create (thousands of partitions) does not stall the broker's
//! other clients, and once created the partitions cost few descriptors
//! each after a restart (issue 20, item 2).
mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{run_with_timeout, wait_with_deadline, Broker};

const PARTITIONS: u32 = 3000;

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn admin_requests_answer_while_a_big_create_runs_and_fds_per_partition_stay_low() {
    let mut b = Broker::start();
    b.create_topic("small", 1);
    let mut create = b
        .cmd(&[
            "topics",
            "create",
            "big",
            "--partitions",
            &PARTITIONS.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn create");

    // While the create runs, another client's list answers within a
    // deadline. Only rounds that started before the create finished count.
    let mut answered_during_create = 0;
    let deadline = Instant::now() + Duration::from_secs(50);
    while create.try_wait().expect("try_wait").is_none() && Instant::now() < deadline {
        let started = Instant::now();
        let out = run_with_timeout(b.cmd(&["topics", "list"]), None, Duration::from_secs(20));
        assert!(
            out.status.success(),
            "topics list during the create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l == "small"));
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "list took {:?}",
            started.elapsed()
        );
        answered_during_create += 1;
    }
    let status = wait_with_deadline(&mut create, Duration::from_secs(60));
    assert!(status.success(), "create failed");
    // Without a round inside the create the check above proved nothing.
    assert!(
        answered_during_create >= 1,
        "the create ended before any list"
    );

    // After a restart the broker holds a bounded number of fds per partition.
    b.restart();
    let pid = b.pid().expect("broker runs");
    let listed = b.ok(&["topics", "list"], None);
    assert!(String::from_utf8_lossy(&listed).lines().any(|l| l == "big"));
    let fds = open_fds(pid);
    eprintln!("{fds} fds after restart");
    let per_partition = fds as f64 / f64::from(PARTITIONS + 1);
    assert!(
        per_partition <= 2.5,
        "{fds} fds for {} partitions ({per_partition:.2} each)",
        PARTITIONS + 1
    );
}
