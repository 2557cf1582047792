//! `strom connect standalone` with the file connectors: a file-source
//! across a log rotation, a truncation and a restart, into a topic and out
//! through a file-sink that rotates by size; no line lost, none doubled
//! after clean stops. And bad file-connector files.
mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::connect::{control, state, wait_state};
use common::{send_signal, wait_exit, Broker};

fn broker() -> Broker {
    Broker::start_with(&[
        "--group-initial-rebalance-delay-ms",
        "0",
        "--group-min-session-timeout-ms",
        "500",
    ])
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write file");
    p
}

fn append(path: &Path, lines: std::ops::Range<usize>) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open for append");
    for i in lines {
        writeln!(f, "line-{i}").expect("append");
    }
}

fn start_connect(b: &Broker, dir: &Path, files: &[&Path]) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("connect.log"))
        .expect("log file");
    common::strom()
        .current_dir(dir)
        .args(["connect", "standalone", "-b", &b.addr])
        .args(files)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn strom connect")
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("connect.log")).unwrap_or_default()
}

fn stop_connect(mut child: Child, dir: &Path) {
    send_signal(child.id(), "-TERM");
    let status = wait_exit(&mut child, Instant::now() + Duration::from_secs(30));
    let status = status.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("strom connect did not stop on SIGTERM")
    });
    assert!(status.success(), "exit {status:?}:\n{}", log(dir));
}

/// Every line of `out.log` and its rotated `out.log.N`, oldest first.
fn sink_lines(dir: &Path) -> Vec<String> {
    let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n = match name.strip_prefix("out.log") {
                Some("") => u64::MAX,
                Some(rest) => rest.strip_prefix('.')?.parse().ok()?,
                None => return None,
            };
            Some((n, e.path()))
        })
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|(_, p)| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn expected(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("line-{i}")).collect()
}

/// Waits until the sink wrote `n` lines, then checks they are lines
/// 0..n, each once, in order.
fn wait_sink(dir: &Path, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = sink_lines(dir);
        if got.len() >= n {
            assert_eq!(got, expected(n), "sink files\nconnect log:\n{}", log(dir));
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the sink wrote {} of {n} lines: {got:?}\nconnect log:\n{}",
            got.len(),
            log(dir)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_log(dir: &Path, needle: &str) {
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

#[test]
fn file_source_across_rotation_truncation_and_restart_to_file_sink() {
    let b = broker();
    b.create_topic("lines", 1);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let app = dir.join("app.log");
    append(&app, 0..100);
    let source = write(
        dir,
        "source.toml",
        "name = \"app-log\"\ntype = \"file-source\"\ntopic = \"lines\"\n[config]\npath = \"app.log\"\nformat = \"lines\"\npoll_interval_ms = 50\n",
    );
    let sink = write(
        dir,
        "sink.toml",
        "name = \"lines-out\"\ntype = \"file-sink\"\ntopics = [\"lines\"]\n[consumer]\n\"session.timeout.ms\" = 1000\n[config]\npath = \"out.log\"\nrotate_bytes = 400\n",
    );
    let child = start_connect(&b, dir, &[&source, &sink]);
    wait_sink(dir, 100);

    // Rotation: lines written before the rename, the rest into a new file.
    append(&app, 100..150);
    std::fs::rename(&app, dir.join("app.log.1")).unwrap();
    append(&app, 150..200);
    wait_sink(dir, 200);

    // Truncation (as copytruncate does), then new lines.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&app)
        .unwrap()
        .set_len(0)
        .unwrap();
    wait_log(dir, "truncated: reading from the start");
    append(&app, 200..250);
    wait_sink(dir, 250);

    // Stopped, written to and rotated meanwhile: resumes where it was,
    // finishing the rotated file first.
    stop_connect(child, dir);
    append(&app, 250..280);
    std::fs::rename(&app, dir.join("app.log.2")).unwrap();
    append(&app, 280..300);
    let child = start_connect(&b, dir, &[&source, &sink]);
    wait_sink(dir, 300);
    stop_connect(child, dir);

    // Every line in the topic exactly once (clean stops store offsets).
    let out = b.ok(&["consume", "-t", "lines", "--from-beginning", "-e"], None);
    let topic: Vec<String> = String::from_utf8_lossy(&out)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(topic, expected(300));
    // The sink rotated by size: 2590 bytes in files of at most 400 (51
    // lines, 49, then 44 of 9 bytes each), out.log.1 the oldest.
    assert!(dir.join("out.log.6").exists() && !dir.join("out.log.7").exists());
    for (n, p) in (1..=6).map(|n| (n, dir.join(format!("out.log.{n}")))) {
        let len = std::fs::metadata(&p).unwrap().len();
        assert!(len <= 400, "out.log.{n} has {len} bytes");
    }
    assert_eq!(sink_lines(dir).len(), 300);
}

#[test]
fn json_lines_out_and_in() {
    let b = broker();
    b.create_topic("events", 1);
    b.create_topic("copy", 1);
    b.ok(
        &["produce", "-t", "events", "-K", "\t"],
        Some(b"k1\t{\"a\":1}\nk2\tmulti\\nline\n"),
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sink = write(
        dir,
        "sink.toml",
        "name = \"events-out\"\ntype = \"file-sink\"\ntopic = \"events\"\n[consumer]\n\"session.timeout.ms\" = 1000\n[config]\npath = \"events.jsonl\"\nformat = \"json\"\n",
    );
    // Reads the sink's envelopes back as JSON values.
    let source = write(
        dir,
        "source.toml",
        "name = \"events-in\"\ntype = \"file-source\"\ntopic = \"copy\"\n[config]\npath = \"events.jsonl\"\nformat = \"json\"\npoll_interval_ms = 50\n",
    );
    let child = start_connect(&b, dir, &[&sink, &source]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let copied = loop {
        let out = b.ok(&["consume", "-t", "copy", "--from-beginning", "-e"], None);
        let text = String::from_utf8_lossy(&out).into_owned();
        if text.lines().count() >= 2 {
            break text;
        }
        assert!(Instant::now() < deadline, "copy: {text}\n{}", log(dir));
        std::thread::sleep(Duration::from_millis(50));
    };
    stop_connect(child, dir);
    let envelopes: Vec<serde_json::Value> = copied
        .lines()
        .map(|l| serde_json::from_str(l).expect("each value is JSON"))
        .collect();
    assert_eq!(envelopes.len(), 2, "{copied}");
    assert_eq!(envelopes[0]["key"], "k1");
    assert_eq!(envelopes[0]["value"], "{\"a\":1}");
    assert_eq!(envelopes[0]["offset"], 0);
    assert_eq!(envelopes[1]["key"], "k2");
}

#[test]
fn bad_file_connector_files_name_file_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cases: &[(&str, &str, &str)] = &[
        (
            "src-no-path.toml",
            "name = \"a\"\ntype = \"file-source\"\ntopic = \"t\"\n[config]\nformat = \"lines\"\n",
            "src-no-path.toml: key 'config.path': missing",
        ),
        (
            "sink-no-path.toml",
            "name = \"b\"\ntype = \"file-sink\"\ntopic = \"t\"\n",
            "sink-no-path.toml: key 'config.path': missing",
        ),
        (
            "bad-format.toml",
            "name = \"c\"\ntype = \"file-sink\"\ntopic = \"t\"\n[config]\npath = \"o\"\nformat = \"csv\"\n",
            "bad-format.toml: key 'config.format': \"csv\" is not one of \"lines\", \"json\"",
        ),
        (
            "bad-rotate.toml",
            "name = \"d\"\ntype = \"file-sink\"\ntopic = \"t\"\n[config]\npath = \"o\"\nrotate_bytes = 0\n",
            "bad-rotate.toml: key 'config.rotate_bytes': 0 is out of range",
        ),
        (
            "src-dlq.toml",
            "name = \"e\"\ntype = \"file-source\"\ntopic = \"t\"\n[config]\npath = \"in\"\n[errors]\ntolerance = \"all\"\ndlq = \"d\"\n",
            "src-dlq.toml: key 'errors.dlq': a source dead-letters only the records its transform or route fails on",
        ),
    ];
    for (file, text, want) in cases {
        let bad = write(dir, file, text);
        let out = common::run_with_timeout(
            {
                let mut c = common::strom();
                c.current_dir(dir)
                    .args(["connect", "standalone", "-b", "127.0.0.1:1"])
                    .arg(&bad);
                c
            },
            None,
            Duration::from_secs(30),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(stderr.contains(want), "{file}: want {want:?} in:\n{stderr}");
    }
}

#[test]
fn control_socket_pause_resume_restart_and_status() {
    let b = broker();
    b.create_topic("lines", 1);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let app = dir.join("app.log");
    append(&app, 0..10);
    let source = write(
        dir,
        "source.toml",
        "name = \"app-log\"\ntype = \"file-source\"\ntopic = \"lines\"\n[config]\npath = \"app.log\"\npoll_interval_ms = 50\n",
    );
    let sink = write(
        dir,
        "sink.toml",
        "name = \"lines-out\"\ntype = \"file-sink\"\ntopics = [\"lines\"]\n[consumer]\n\"session.timeout.ms\" = 1000\n[config]\npath = \"out.log\"\n",
    );
    // Its directory does not exist: fails, restarts, shows the error.
    let broken = write(
        dir,
        "broken.toml",
        "name = \"broken\"\ntype = \"file-sink\"\ntopics = [\"lines\"]\n[config]\npath = \"no/such/dir/out.log\"\n",
    );
    let log_file = std::fs::File::create(dir.join("connect.log")).unwrap();
    let mut child = common::strom()
        .current_dir(dir)
        .args([
            "connect",
            "standalone",
            "-b",
            &b.addr,
            "--control",
            "ctl.sock",
        ])
        .args([&source, &sink, &broken])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .unwrap();
    wait_log(dir, "control socket ctl.sock");
    wait_sink(dir, 10);
    let all = control(dir, &["list"]);
    let names: Vec<&str> = all["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app-log", "broken", "lines-out"]);
    assert_eq!(state(dir, "app-log")["state"], "RUNNING");
    let deadline = Instant::now() + Duration::from_secs(30);
    let failed = loop {
        let s = state(dir, "broken");
        if s["last_error"].is_string() {
            break s;
        }
        assert!(Instant::now() < deadline, "{s}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let err = failed["last_error"].as_str().unwrap();
    assert!(err.contains("broken.toml: key 'config.path'"), "{err}");

    // Paused: lines written meanwhile do not move; resumed: they do.
    control(dir, &["pause", "app-log"]);
    wait_state(dir, "app-log", "PAUSED");
    append(&app, 10..20);
    // Watched over 40 status round trips (the source polls every 50 ms,
    // so a source that kept running would have moved).
    for _ in 0..40 {
        assert_eq!(state(dir, "app-log")["state"], "PAUSED");
        assert_eq!(sink_lines(dir).len(), 10, "lines moved while paused");
    }
    control(dir, &["resume", "app-log"]);
    wait_sink(dir, 20);
    assert_eq!(state(dir, "app-log")["state"], "RUNNING");

    // Restart: the task starts again and goes on.
    let since = state(dir, "lines-out")["since_ms"].as_u64().unwrap();
    control(dir, &["restart", "lines-out"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = state(dir, "lines-out");
        if s["state"] == "RUNNING" && s["since_ms"].as_u64().unwrap() > since {
            break;
        }
        assert!(Instant::now() < deadline, "{s}\n{}", log(dir));
        std::thread::sleep(Duration::from_millis(50));
    }
    append(&app, 20..30);
    wait_sink(dir, 30);
    // Unknown names are errors.
    let out = common::run_with_timeout(
        {
            let mut c = common::strom();
            c.args(["connect", "pause", "nope", "--control"])
                .arg(dir.join("ctl.sock"));
            c
        },
        None,
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no connector \"nope\""));
    send_signal(child.id(), "-TERM");
    let status = wait_exit(&mut child, Instant::now() + Duration::from_secs(30));
    assert!(status.is_some_and(|s| s.success()), "{}", log(dir));
    assert!(
        !dir.join("ctl.sock").exists(),
        "the socket is removed on stop"
    );
}
