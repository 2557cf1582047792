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

/// A SQLite database a sink writes, opened to look at it.
pub fn sqlite(path: &Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(path).expect("open database");
    c.busy_timeout(Duration::from_secs(5))
        .expect("busy timeout");
    c
}

/// Rows of `sql` on a SQLite database as `a|b|c` text, or None while the
/// table does not exist yet.
pub fn sqlite_rows(path: &Path, sql: &str) -> Option<Vec<String>> {
    use rusqlite::types::Value;
    let c = sqlite(path);
    let mut stmt = c.prepare(sql).ok()?;
    let n = stmt.column_count();
    let out = stmt
        .query_map([], |r| {
            let mut cols = Vec::with_capacity(n);
            for i in 0..n {
                let v: Value = r.get(i)?;
                cols.push(match v {
                    Value::Null => "NULL".to_string(),
                    Value::Integer(i) => i.to_string(),
                    Value::Real(f) => f.to_string(),
                    Value::Text(t) => t,
                    Value::Blob(b) => format!("{b:?}"),
                });
            }
            Ok(cols.join("|"))
        })
        .ok()?
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    Some(out)
}

/// Polls `sql` until it returns `want` (deadline 30 s); the failure shows
/// the connect log of `dir`.
pub fn wait_sqlite_rows(path: &Path, sql: &str, want: &[&str], dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = sqlite_rows(path, sql);
        if got.as_deref().is_some_and(|g| g == want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{sql}: got {got:?}, want {want:?}\nconnect log:\n{}",
            log(dir)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every record of `topic` from the start, as `consume --output json`
/// envelopes.
pub fn topic_envelopes(b: &Broker, topic: &str) -> Vec<serde_json::Value> {
    let out = b.ok(
        &[
            "consume",
            "-t",
            topic,
            "--from-beginning",
            "-e",
            "--output",
            "json",
        ],
        None,
    );
    String::from_utf8_lossy(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a json envelope"))
        .collect()
}

/// Waits until `topic` holds `n` records (deadline 30 s), then returns them.
pub fn wait_topic(b: &Broker, topic: &str, n: usize, dir: &Path) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = topic_envelopes(b, topic);
        if got.len() >= n {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{topic} holds {} of {n} records: {got:?}\nconnect log:\n{}",
            got.len(),
            log(dir)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The value of header `key` of a `consume --output json` envelope.
pub fn header(envelope: &serde_json::Value, key: &str) -> Option<String> {
    envelope["headers"]
        .as_array()?
        .iter()
        .find(|h| h["key"] == key)
        .and_then(|h| h["value"].as_str().map(String::from))
}

/// `strom connect ARGS --control DIR/ctl.sock --output json`, which must
/// succeed; its answer.
pub fn control(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = try_control(dir, args);
    assert!(
        out.status.success(),
        "connect {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON answer")
}

/// `strom connect ARGS --control DIR/ctl.sock --output json`, as it ends.
pub fn try_control(dir: &Path, args: &[&str]) -> std::process::Output {
    let sock = dir.join("ctl.sock");
    let mut c = super::strom();
    c.args(["connect"])
        .args(args)
        .arg("--control")
        .arg(&sock)
        .args(["--output", "json"]);
    super::run_with_timeout(c, None, Duration::from_secs(30))
}

/// A connector's status from the worker's control socket.
pub fn state(dir: &Path, name: &str) -> serde_json::Value {
    let v = control(dir, &["status", name]);
    v["connectors"][0].clone()
}

/// Waits until connector `name` is in state `want` (deadline 30 s).
pub fn wait_state(dir: &Path, name: &str, want: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = state(dir, name);
        if s["state"] == want {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "{name}: {s}, want {want}\n{}",
            log(dir)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `strom connect standalone --control ctl.sock` in `dir`, its stderr in
/// `dir/connect.log`; returns once the control socket is up.
pub fn start_connect_with_control(b: &Broker, dir: &Path, files: &[&Path]) -> Child {
    let log_file = std::fs::File::create(dir.join("connect.log")).expect("log file");
    let child = super::strom()
        .current_dir(dir)
        .args([
            "connect",
            "standalone",
            "-b",
            &b.addr,
            "--control",
            "ctl.sock",
        ])
        .args(files)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("spawn strom connect");
    wait_log(dir, "control socket ctl.sock");
    child
}
