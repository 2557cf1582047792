//! The broker process as an operator sees it: a clean SIGTERM shutdown, a
//! SIGKILL that loses nothing acknowledged, and a data dir that only one
//! broker may open.
mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{numbered_lines, parse_ready_line, run_with_timeout, strom, wait_with_deadline};

/// Starts `strom serve` on `dir`; returns the child, its address and a
/// channel with every stderr line. The caller owns (and reaps) the child;
/// a broker that never gets ready is killed here.
fn serve(dir: &Path) -> (Child, String, mpsc::Receiver<String>) {
    let mut child = strom()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(addr) = parse_ready_line(&line) {
                    return (child, addr, rx);
                }
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("broker did not print its ready line within 30 s");
            }
        }
    }
}

fn produce(addr: &str, topic: &str, acks: &str, input: &[u8]) {
    let mut c = strom();
    c.args(["produce", "-b", addr, "-t", topic, "--acks", acks]);
    let out = run_with_timeout(c, Some(input), Duration::from_secs(60));
    assert!(
        out.status.success(),
        "produce: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn consume_all(addr: &str, topic: &str) -> Vec<u8> {
    let mut c = strom();
    c.args(["consume", "-b", addr, "-t", topic, "--from-beginning", "-e"]);
    let out = run_with_timeout(c, None, Duration::from_secs(60));
    assert!(
        out.status.success(),
        "consume: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn sigterm_shuts_down_cleanly_and_keeps_everything() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, addr, rx) = serve(dir.path());
    let input = numbered_lines(5000);
    produce(&addr, "t", "1", &input);
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = wait_with_deadline(&mut child, Duration::from_secs(30));
    assert!(
        status.success(),
        "broker exit status after SIGTERM: {status:?}"
    );
    let lines: Vec<String> = rx.try_iter().collect();
    assert!(
        lines.iter().any(|l| l.contains("shut down cleanly")),
        "no clean-shutdown line in {lines:?}"
    );
    let (mut child, addr, _rx) = serve(dir.path());
    assert_eq!(consume_all(&addr, "t"), input);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn sigkill_loses_no_acknowledged_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, addr, _rx) = serve(dir.path());
    // acks=1 under the os flush policy: acknowledged means written to the
    // page cache, which a killed process cannot lose.
    let mut c = strom();
    c.args([
        "topics",
        "create",
        "-b",
        &addr,
        "k",
        "--config",
        "flush.policy=os",
    ]);
    assert!(run_with_timeout(c, None, Duration::from_secs(30))
        .status
        .success());
    let input = numbered_lines(20_000);
    produce(&addr, "k", "1", &input);
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let (mut child, addr, _rx) = serve(dir.path());
    assert_eq!(consume_all(&addr, "k"), input);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_second_broker_cannot_open_the_same_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut first, _addr, _rx) = serve(dir.path());
    let mut c = strom();
    c.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path());
    let out = run_with_timeout(c, None, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1), "second broker must fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("in use by another strom process"),
        "stderr: {err}"
    );
    let _ = first.kill();
    let _ = first.wait();
}

#[test]
fn topic_configs_are_validated_and_kept_across_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, addr, _rx) = serve(dir.path());
    let run = |args: &[&str]| {
        let mut c = strom();
        c.args(args).args(["-b", &addr]);
        run_with_timeout(c, None, Duration::from_secs(30))
    };
    let bad = run(&["topics", "create", "c", "--config", "retention.ms=soon"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("retention.ms=soon"));
    let unknown = run(&["topics", "create", "c", "--config", "no.such=1"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown topic config"));
    let ok = run(&[
        "topics",
        "create",
        "c",
        "--partitions",
        "2",
        "--config",
        "retention.ms=3600000",
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    wait_with_deadline(&mut child, Duration::from_secs(30));
    let (mut child, addr2, _rx) = serve(dir.path());
    let mut c = strom();
    c.args(["topics", "describe", "c", "-b", &addr2]);
    let out = run_with_timeout(c, None, Duration::from_secs(30));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("PartitionCount: 2"), "{text}");
    assert!(text.contains("retention.ms=3600000"), "{text}");
    let _ = child.kill();
    let _ = child.wait();
}
