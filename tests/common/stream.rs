//! Helpers for tests that run `strom stream` against a broker.
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::{send_signal, wait_exit, Broker};

/// Starts `strom stream` with `args` (broker address added).
pub fn start_stream(b: &Broker, args: &[&str]) -> Child {
    super::strom()
        .args(["stream", "-b", &b.addr])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn strom stream")
}

/// The topic's records as `consume` prints them with `extra` flags (none
/// while the topic does not exist yet).
pub fn read_topic(b: &Broker, topic: &str, extra: &[&str]) -> Vec<String> {
    let out = b.run(
        &[&["consume", "-t", topic, "--from-beginning", "-e"], extra].concat(),
        None,
    );
    if !out.status.success() {
        return Vec::new();
    }
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits until `topic` holds at least `n` records.
pub fn wait_records(b: &Broker, topic: &str, n: usize, extra: &[&str]) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = read_topic(b, topic, extra);
        if got.len() >= n {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{topic} has {} records, expected {n}",
            got.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Stops a stream with SIGTERM and checks that it exits 0 by itself.
pub fn stop_stream(mut child: Child) {
    send_signal(child.id(), "-TERM");
    let status = wait_exit(&mut child, Instant::now() + Duration::from_secs(30));
    let status = status.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("strom stream did not stop on SIGTERM")
    });
    assert!(status.success(), "strom stream exited with {status:?}");
}

pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

pub fn produce_lines(b: &Broker, topic: &str, lines: &[String]) {
    let input = lines.join("\n") + "\n";
    b.ok(&["produce", "-t", topic], Some(input.as_bytes()));
}
