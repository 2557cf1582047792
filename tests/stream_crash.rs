//! `strom stream` under SIGKILL (at least once: nothing lost) and with two
//! processes in one group (they split the partitions).
mod common;

use std::collections::HashSet;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{send_signal, wait_exit, Broker};

fn start_stream(b: &Broker, args: &[&str]) -> Child {
    common::strom()
        .args(["stream", "-b", &b.addr])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn strom stream")
}

fn read_topic(b: &Broker, topic: &str) -> Vec<String> {
    let out = b.run(&["consume", "-t", topic, "--from-beginning", "-e"], None);
    if !out.status.success() {
        return Vec::new();
    }
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect()
}

fn stop_stream(mut child: Child) {
    send_signal(child.id(), "-TERM");
    let status = wait_exit(&mut child, Instant::now() + Duration::from_secs(30));
    let status = status.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("strom stream did not stop on SIGTERM")
    });
    assert!(status.success(), "strom stream exited with {status:?}");
}

#[test]
fn sigkill_at_random_moments_loses_nothing() {
    const N: usize = 20_000;
    // Short sessions, so a killed member's partitions move on quickly.
    let b = Broker::start_with(&["--group-min-session-timeout-ms", "500"]);
    b.create_topic("in", 3);
    b.ok(&["produce", "-t", "in"], Some(&common::numbered_lines(N)));
    let want: HashSet<String> = String::from_utf8(common::numbered_lines(N))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let args = [
        "--from",
        "in",
        "--to",
        "out",
        "--group",
        "g",
        "--batch-max",
        "100",
        "--consumer-property",
        "session.timeout.ms=1000",
        "--",
        "cat",
    ];
    // A fixed-seed generator: different moments each kill, same every run.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut kills = 0;
    let mut seen = 0;
    for _ in 0..6 {
        let mut child = start_stream(&b, &args);
        // Wait until this run has produced something, then kill it a
        // random moment later: mid-batch, mid-produce or mid-commit.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let n = read_topic(&b, "out").len();
            if n > seen {
                seen = n;
                break;
            }
            if n >= N || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let delay = Duration::from_millis((seed >> 33) % 300);
        if wait_exit(&mut child, Instant::now() + delay).is_none() {
            let _ = child.kill();
            let _ = child.wait();
            kills += 1;
        }
    }
    assert!(kills >= 5, "only {kills} kills landed");
    let last = start_stream(&b, &args);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let got: HashSet<String> = read_topic(&b, "out").into_iter().collect();
        let missing = want.difference(&got).count();
        if missing == 0 {
            assert!(got.is_subset(&want), "outputs that were never input");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} inputs never reached the output"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    stop_stream(last);
}

#[test]
fn two_processes_in_one_group_split_the_partitions() {
    let b = Broker::start();
    b.create_topic("in", 4);
    let args = |tag: &'static str| {
        vec![
            "--from".to_string(),
            "in".into(),
            "--to".into(),
            "out".into(),
            "--group".into(),
            "g".into(),
            "--".into(),
            "sed".into(),
            format!("s/^/{tag}:/"),
        ]
    };
    let a_args = args("A");
    let b_args = args("B");
    let sa = start_stream(&b, &a_args.iter().map(String::as_str).collect::<Vec<_>>());
    let sb = start_stream(&b, &b_args.iter().map(String::as_str).collect::<Vec<_>>());
    // Wait until both are members, then give them work.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = b.run(&["groups", "describe", "--group", "g", "--members"], None);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let members = text.lines().filter(|l| l.starts_with("g ")).count();
        let assigned: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("g "))
            .filter_map(|l| l.split_whitespace().last())
            .collect();
        if members == 2 && assigned.iter().all(|n| *n == "2") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the group never had two members with 2 partitions each:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Distinct keys spread the records over all four partitions.
    let input: String = (0..400).map(|i| format!("{i}:{i}\n")).collect();
    b.ok(&["produce", "-t", "in", "-K", ":"], Some(input.as_bytes()));
    let deadline = Instant::now() + Duration::from_secs(60);
    let got = loop {
        let got = read_topic(&b, "out");
        if got.len() >= 400 {
            break got;
        }
        assert!(Instant::now() < deadline, "only {} outputs", got.len());
        std::thread::sleep(Duration::from_millis(100));
    };
    let a = got.iter().filter(|l| l.starts_with("A:")).count();
    let bb = got.iter().filter(|l| l.starts_with("B:")).count();
    assert!(a > 0 && bb > 0, "A processed {a}, B {bb}");
    let inputs: HashSet<&str> = got.iter().map(|l| &l[2..]).collect();
    assert_eq!(inputs.len(), 400);
    stop_stream(sa);
    stop_stream(sb);
}
