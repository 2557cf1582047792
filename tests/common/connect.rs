//! Running `strom connect standalone` in tests: connector files, the
//! process with its stderr in `DIR/connect.log`, waits on that log.
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::{send_signal, wait_exit, Broker};

/// A broker whose groups settle fast (connect tasks join and leave often).
pub fn broker() -> Broker {
    Broker::start_with(&[
        "--group-initial-rebalance-delay-ms",
        "0",
        "--group-min-session-timeout-ms",
        "500",
    ])
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write connector file");
    p
}

/// `strom connect standalone` in `dir`, its stderr in `dir/connect.log`.
pub fn start_connect(b: &Broker, dir: &Path, files: &[&Path]) -> Child {
    let log = std::fs::File::create(dir.join("connect.log")).expect("log file");
    super::strom()
        .current_dir(dir)
        .args(["connect", "standalone", "-b", &b.addr])
        .args(files)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn strom connect")
}

/// SIGTERM, then a clean exit within 30 s.
pub fn stop_connect(mut child: Child, dir: &Path) {
    send_signal(child.id(), "-TERM");
    let status = wait_exit(&mut child, Instant::now() + Duration::from_secs(30));
    let status = status.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("strom connect did not stop on SIGTERM")
    });
    assert!(
        status.success(),
        "strom connect exited with {status:?}:\n{}",
        log(dir)
    );
}

pub fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("connect.log")).unwrap_or_default()
}

/// Waits until the log says `needle` (deadline 30 s).
pub fn wait_log(dir: &Path, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !log(dir).contains(needle) {
        assert!(
            Instant::now() < deadline,
            "the log never said {needle:?}:\n{}",
            log(dir)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
