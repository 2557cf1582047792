//! `strom stream --guarantee exactly-once` (issue 14): each batch's
//! outputs and input offsets commit in one transaction, so SIGKILLs at
//! random moments leave every input in the output exactly once for a
//! read_committed reader.
mod common;

use std::time::{Duration, Instant};

use common::stream::{read_topic, start_stream, stop_stream};
use common::{wait_exit, Broker};

const COMMITTED: &[&str] = &["--isolation-level", "read_committed"];

#[test]
fn sigkill_at_random_moments_leaves_each_input_once_in_the_output() {
    const N: usize = 20_000;
    const KILLS: usize = 20;
    let b = Broker::start_with(&[
        "--group-min-session-timeout-ms",
        "500",
        "--group-initial-rebalance-delay-ms",
        "0",
    ]);
    b.create_topic("in", 3);
    b.create_topic("out", 3);
    b.ok(&["produce", "-t", "in"], Some(&common::numbered_lines(N)));
    let mut want: Vec<String> = String::from_utf8(common::numbered_lines(N))
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect();
    want.sort();
    let args = [
        "--from",
        "in",
        "--to",
        "out",
        "--group",
        "eos",
        "--guarantee",
        "exactly-once",
        // Stable: each run fences the one killed before it at once.
        "--transactional-id",
        "eos-stream",
        // Small transactions, so that the kills land while input remains.
        "--batch-max",
        "20",
        "--consumer-property",
        "session.timeout.ms=1000",
        "--jq",
        ".",
    ];
    // A fixed-seed generator: different moments each kill, same every run.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut kills = 0;
    let mut seen = 0;
    for _ in 0..KILLS {
        let mut child = start_stream(&b, &args);
        // Until this run committed something, then a random moment later:
        // mid-batch, mid-produce, mid-offsets or mid-commit.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let n = read_topic(&b, "out", COMMITTED).len();
            if n > seen || n >= N {
                seen = n;
                break;
            }
            assert!(Instant::now() < deadline, "no progress past {n} outputs");
            std::thread::sleep(Duration::from_millis(20));
        }
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let delay = Duration::from_millis((seed >> 33) % 250);
        if wait_exit(&mut child, Instant::now() + delay).is_none() {
            let _ = child.kill();
            let _ = child.wait();
            kills += 1;
        }
        if seen >= N {
            break;
        }
    }
    eprintln!("{kills} SIGKILLs; {seen} outputs committed before the last run");
    assert!(kills >= 10, "only {kills} kills landed");
    let last = start_stream(&b, &args);
    let deadline = Instant::now() + Duration::from_secs(120);
    let got = loop {
        let got = read_topic(&b, "out", COMMITTED);
        if got.len() >= N {
            break got;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {N} inputs reached the output",
            got.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    stop_stream(last);
    let mut got = got;
    got.sort();
    let dups = got.len() - {
        let mut d = got.clone();
        d.dedup();
        d.len()
    };
    assert_eq!(dups, 0, "{dups} duplicates after {kills} kills");
    assert_eq!(got, want, "the output is not the input, once each");
    // Aborted attempts left their records in the log, unread.
    assert!(read_topic(&b, "out", &[]).len() >= N);
}

#[test]
fn exactly_once_refuses_what_it_cannot_keep() {
    let b = Broker::start();
    b.create_topic("in", 1);
    let stateful = b.run(
        &[
            "stream",
            "--from",
            "in",
            "--to",
            "out",
            "--group",
            "g",
            "--guarantee",
            "exactly-once",
            "--count-by",
            ".page",
            "--window",
            "tumbling:1m",
        ],
        None,
    );
    assert_eq!(stateful.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&stateful.stderr).contains("stateless"));
    let no_eos = b.run(
        &[
            "stream",
            "--from",
            "in",
            "--to",
            "out",
            "--group",
            "g",
            "--transactional-id",
            "x",
            "--jq",
            ".",
        ],
        None,
    );
    assert_eq!(no_eos.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_eos.stderr).contains("--guarantee exactly-once"));
}
