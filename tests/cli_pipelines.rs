//! Pipelines that used to drop data (issue 20, items 3, 4 and 8): a bad
//! input line must fail only itself, SIGTERM stops a command as cleanly as
//! Ctrl-C, and a closed stdout is noticed at once and counted honestly.
mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::process::{Child, ChildStdin, Stdio};
use std::time::{Duration, Instant};

use common::{send_signal, wait_exit, Broker};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Every value of `topic`, from the beginning.
fn values(b: &Broker, topic: &str) -> Vec<String> {
    let out = b.ok(&["consume", "-t", topic, "--from-beginning", "-e"], None);
    text(&out).lines().map(str::to_string).collect()
}

/// Bytes written to a pipe that its reader has not read yet.
fn unread(pipe: &ChildStdin) -> i32 {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int; the fd is open for the call.
    let rc = unsafe { libc::ioctl(pipe.as_raw_fd(), libc::FIONREAD, &mut n) };
    assert_eq!(rc, 0, "FIONREAD on the producer's stdin");
    n
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn(b: &Broker, args: &[&str]) -> Child {
    b.cmd(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn strom")
}

#[test]
fn a_bad_json_line_fails_alone_and_earlier_lines_are_delivered() {
    let b = Broker::start();
    b.create_topic("bad-json", 1);
    // A long linger keeps good1 and good2 buffered when the bad line comes.
    let out = b.run(
        &[
            "produce",
            "-t",
            "bad-json",
            "--input",
            "json",
            "--linger-ms",
            "2000",
        ],
        Some(b"{\"value\":\"good1\"}\n\n{\"value\":\"good2\"}\nbad\n{\"value\":\"after\"}\n"),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("input line 4"), "names the line: {err}");
    assert!(err.contains("invalid JSON at column 1"), "{err}");
    assert!(!err.contains("line 1 column"), "no serde internals: {err}");
    assert!(err.contains("2 records delivered, then stopped"), "{err}");
    assert_eq!(values(&b, "bad-json"), ["good1", "good2"]);
}

#[test]
fn a_line_without_the_key_separator_fails_the_same_way() {
    let b = Broker::start();
    b.create_topic("bad-key", 1);
    let out = b.run(
        &["produce", "-t", "bad-key", "-K", ":", "--linger-ms", "2000"],
        Some(b"k1:v1\nk2:v2\nnosep\nk3:v3\n"),
    );
    // Same exit code as a bad JSON line.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("input line 3: no key separator"), "{err}");
    assert_eq!(values(&b, "bad-key"), ["v1", "v2"]);
}

#[test]
fn on_bad_line_skip_reports_each_bad_line_and_goes_on() {
    let b = Broker::start();
    b.create_topic("skip", 1);
    let out = b.run(
        &["produce", "-t", "skip", "--input", "json", "--on-bad-line", "skip"],
        Some(b"{\"value\":\"a\"}\n{\"value\": 5}\n{\"value\":\"b\"}\n{\"value\"\n{\"value\":\"c\"}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("skipped input line 2"), "{err}");
    assert!(err.contains("skipped input line 4"), "{err}");
    assert!(err.contains("2 bad input lines skipped"), "{err}");
    assert_eq!(values(&b, "skip"), ["a", "b", "c"]);
}

#[test]
fn sigterm_to_produce_delivers_every_line_it_read() {
    let b = Broker::start();
    b.create_topic("term-produce", 1);
    // The lines sit in the linger buffer when SIGTERM comes.
    let mut child = spawn(
        &b,
        &["produce", "-t", "term-produce", "--linger-ms", "60000"],
    );
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"one\ntwo\n").expect("write lines");
    stdin.flush().expect("flush");
    wait_until("produce to read its input", Duration::from_secs(20), || {
        unread(&stdin) == 0
    });
    send_signal(child.id(), "-TERM");
    let status = wait_exit(&mut child, Instant::now() + Duration::from_secs(20))
        .expect("produce exits after SIGTERM");
    assert!(
        status.success(),
        "clean exit, not death by signal: {status:?}"
    );
    drop(stdin);
    assert_eq!(values(&b, "term-produce"), ["one", "two"]);
}

#[test]
fn sigterm_to_a_group_consumer_commits_and_leaves() {
    let b = Broker::start();
    b.create_topic("term-group", 1);
    b.ok(&["produce", "-t", "term-group"], Some(b"r1\nr2\nr3\n"));
    let mut child = spawn(
        &b,
        &[
            "consume",
            "-t",
            "term-group",
            "--group",
            "tg",
            "--from-beginning",
        ],
    );
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    for want in ["r1", "r2", "r3"] {
        let got = lines.next().expect("a line").expect("read line");
        assert_eq!(got, want);
    }
    send_signal(child.id(), "-TERM");
    let status = wait_exit(&mut child, Instant::now() + Duration::from_secs(30))
        .expect("consume exits after SIGTERM");
    assert!(status.success(), "clean exit: {status:?}");
    let describe = text(&b.ok(
        &["groups", "describe", "--group", "tg", "--output", "json"],
        None,
    ));
    let v: serde_json::Value = serde_json::from_str(&describe).expect("json");
    let row = &v[0]["partitions"][0];
    assert_eq!(row["current_offset"].as_i64(), Some(3), "{describe}");
    // It left: nobody still holds the partition until a session timeout.
    assert!(row["consumer_id"].is_null(), "{describe}");
}

/// Reads one line of a consumer's stdout, then closes the pipe.
fn read_one_line_and_close(child: &mut Child) -> String {
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("read a line");
    line
}

/// "Processed a total of N messages" from a consumer's stderr.
fn processed(child: &mut Child) -> u64 {
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
        .expect("stderr");
    err.lines()
        .find_map(|l| l.strip_prefix("Processed a total of "))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no total in {err}"))
}

#[test]
fn a_closed_stdout_stops_an_idle_consumer_at_once() {
    let b = Broker::start();
    b.create_topic("idle", 1);
    b.ok(&["produce", "-t", "idle"], Some(b"x1\nx2\nx3\n"));
    let mut child = spawn(&b, &["consume", "-t", "idle", "--from-beginning"]);
    assert_eq!(read_one_line_and_close(&mut child), "x1\n");
    // No new record will come: only the closed pipe can end it.
    let status = wait_exit(&mut child, Instant::now() + Duration::from_secs(15))
        .expect("consume notices the closed pipe without a new record");
    assert!(status.success(), "{status:?}");
    assert_eq!(processed(&mut child), 3, "all three reached the pipe");
}

#[test]
fn a_closed_stdout_counts_and_commits_only_what_was_written() {
    let b = Broker::start();
    b.create_topic("head", 1);
    let n = 100_000usize;
    b.ok(&["produce", "-t", "head"], Some(&common::numbered_lines(n)));
    let mut child = spawn(
        &b,
        &[
            "consume",
            "-t",
            "head",
            "--group",
            "hg",
            "--from-beginning",
            "-e",
        ],
    );
    assert_eq!(read_one_line_and_close(&mut child), "line-000000\n");
    let status = wait_exit(&mut child, Instant::now() + Duration::from_secs(30))
        .expect("consume stops on the closed pipe");
    assert!(status.success(), "{status:?}");
    let total = processed(&mut child);
    // A pipe holds far fewer than 100,000 lines: most were never written.
    assert!(total >= 1 && (total as usize) < n, "counted {total}");
    // The group resumes right after the last record that was written.
    let describe = text(&b.ok(
        &["groups", "describe", "--group", "hg", "--output", "json"],
        None,
    ));
    let v: serde_json::Value = serde_json::from_str(&describe).expect("json");
    assert_eq!(
        v[0]["partitions"][0]["current_offset"].as_i64(),
        Some(total as i64),
        "{describe}"
    );
}

/// A line of `n` bytes, newline-terminated.
fn long_line(n: usize) -> Vec<u8> {
    let mut v = vec![b'a'; n];
    v.push(b'\n');
    v
}

#[test]
fn too_large_records_name_the_setting_to_change() {
    let b = Broker::start_with(&["--max-frame-bytes", "1000000"]);
    b.ok(
        &[
            "topics",
            "create",
            "small",
            "--config",
            "max.message.bytes=10000",
        ],
        None,
    );
    // Over the topic's max.message.bytes: the broker says which config.
    let out = b.run(&["produce", "-t", "small"], Some(&long_line(50_000)));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("max.message.bytes (10000)"), "{err}");
    assert!(
        err.contains("strom topics alter small --config max.message.bytes="),
        "{err}"
    );
    // Over the producer's max.request.size: refused before sending.
    let out = b.run(
        &[
            "produce",
            "-t",
            "small",
            "--producer-property",
            "max.request.size=1000",
        ],
        Some(&long_line(5_000)),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("larger than max.request.size (1000 bytes)"),
        "{err}"
    );
    assert!(
        err.contains("--producer-property max.request.size="),
        "{err}"
    );
    // Over the broker's frame limit: its reason, not a correlation id.
    let out = b.run(
        &[
            "produce",
            "-t",
            "small",
            "--producer-property",
            "max.request.size=4000000",
            "--producer-property",
            "delivery.timeout.ms=5000",
        ],
        Some(&long_line(2_000_000)),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(!err.contains("out of order"), "{err}");
    assert!(
        err.contains("larger than the limit of 1000000 bytes"),
        "{err}"
    );
    assert!(err.contains("--max-frame-bytes"), "{err}");
}
