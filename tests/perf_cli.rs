//! `strom perf produce` and `strom perf consume` against a real broker:
//! they print what Kafka's kafka-producer-perf-test and
//! kafka-consumer-perf-test print, the records really land on the topic,
//! a throughput cap still sends every record, and bad flags are usage
//! errors (exit 2, stderr only). No assertion here depends on timing.
mod common;

use std::process::Output;

use common::{run_with_timeout, strom, Broker, COMMAND_TIMEOUT};

/// Kafka's consumer perf-test header, printed before the summary line.
const CONSUME_HEADER: &str = "start.time, end.time, data.consumed.in.MB, MB.sec, \
    data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, \
    fetch.nMsg.sec";

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `strom <args> -b <broker>`, away from any user profile, bounded in time.
fn run(broker: &Broker, args: &[&str]) -> Output {
    let mut c = broker.cmd(args);
    c.env("XDG_CONFIG_HOME", "/nonexistent-strom-test");
    run_with_timeout(c, None, COMMAND_TIMEOUT)
}

/// Like `run`, but the command must exit 0; returns stdout as text.
fn ok(broker: &Broker, args: &[&str]) -> String {
    let out = run(broker, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "strom {args:?}\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// One line of `perf produce` output. Progress lines stop after the max
/// latency; the final line adds the four percentiles.
#[derive(Debug)]
struct ProduceLine {
    records: u64,
    records_per_sec: f64,
    mb_per_sec: f64,
    avg_ms: f64,
    max_ms: f64,
    /// 50th, 95th, 99th and 99.9th, only on the final line.
    percentiles: Option<[u64; 4]>,
}

fn field<'a>(part: &'a str, suffix: &str, line: &str) -> &'a str {
    part.strip_suffix(suffix)
        .unwrap_or_else(|| panic!("{part:?} should end with {suffix:?} in {line:?}"))
}

fn num<T: std::str::FromStr>(s: &str, line: &str) -> T {
    s.parse()
        .unwrap_or_else(|_| panic!("{s:?} is not a number in {line:?}"))
}

/// Parses, strictly, `N records sent, R records/sec (M MB/sec), A ms avg
/// latency, X ms max latency[, P ms 50th, P ms 95th, P ms 99th, P ms 99.9th].`
fn parse_produce_line(line: &str) -> ProduceLine {
    let body = line
        .strip_suffix('.')
        .unwrap_or_else(|| panic!("line should end with '.': {line:?}"));
    let parts: Vec<&str> = body.split(", ").collect();
    assert!(
        parts.len() == 4 || parts.len() == 8,
        "expected 4 (progress) or 8 (final) comma-separated parts: {line:?}"
    );
    let records = num(field(parts[0], " records sent", line), line);
    let (rate, mb) = field(parts[1], " MB/sec)", line)
        .split_once(" records/sec (")
        .unwrap_or_else(|| panic!("no 'records/sec (' in {line:?}"));
    let percentiles = (parts.len() == 8).then(|| {
        [
            num(field(parts[4], " ms 50th", line), line),
            num(field(parts[5], " ms 95th", line), line),
            num(field(parts[6], " ms 99th", line), line),
            num(field(parts[7], " ms 99.9th", line), line),
        ]
    });
    ProduceLine {
        records,
        records_per_sec: num(rate, line),
        mb_per_sec: num(mb, line),
        avg_ms: num(field(parts[2], " ms avg latency", line), line),
        max_ms: num(field(parts[3], " ms max latency", line), line),
        percentiles,
    }
}

/// Checks a whole `perf produce` stdout: any progress lines, then exactly
/// one final summary line, last. Returns the summary.
fn check_produce_output(stdout: &str, expected: u64) -> ProduceLine {
    assert!(
        stdout.ends_with('\n'),
        "stdout ends with a newline: {stdout:?}"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let (last, progress) = lines
        .split_last()
        .unwrap_or_else(|| panic!("perf produce printed nothing on stdout"));
    let mut progress_records = 0;
    for line in progress {
        let p = parse_produce_line(line);
        assert!(
            p.percentiles.is_none(),
            "only the last line has percentiles: {stdout}"
        );
        assert!(p.avg_ms <= p.max_ms + 0.1, "avg <= max in {line:?}");
        progress_records += p.records;
    }
    assert!(
        progress_records <= expected,
        "progress lines count {progress_records} records, more than {expected} sent: {stdout}"
    );

    let s = parse_produce_line(last);
    assert_eq!(s.records, expected, "records sent in {last:?}");
    let [p50, p95, p99, p999] = s
        .percentiles
        .unwrap_or_else(|| panic!("last line has no percentiles: {last:?}"));
    assert!(
        p50 <= p95 && p95 <= p99 && p99 <= p999,
        "percentiles out of order in {last:?}"
    );
    assert!(
        p999 as f64 <= s.max_ms,
        "99.9th ({p999} ms) above the max latency ({} ms): {last:?}",
        s.max_ms
    );
    assert!(
        s.avg_ms <= s.max_ms + 0.01,
        "avg latency above max latency: {last:?}"
    );
    assert!(
        s.records_per_sec.is_finite() && s.records_per_sec > 0.0,
        "records/sec in {last:?}"
    );
    assert!(
        s.mb_per_sec.is_finite() && s.mb_per_sec >= 0.0,
        "MB/sec in {last:?}"
    );
    s
}

/// All values of `topic` from the beginning, one per line (`-e` exits at
/// the end of the log). Each value is printed as is.
fn topic_values(broker: &Broker, topic: &str) -> Vec<String> {
    ok(broker, &["consume", "-t", topic, "--from-beginning", "-e"])
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Each value is `size` random upper-case letters, as Kafka's perf test
/// sends.
fn assert_values(values: &[String], count: usize, size: usize) {
    assert_eq!(values.len(), count, "records on the topic");
    for (i, v) in values.iter().enumerate() {
        assert_eq!(v.len(), size, "record {i} has a {size}-byte value: {v:?}");
        assert!(
            v.bytes().all(|b| b.is_ascii_uppercase()),
            "record {i} is upper-case letters: {v:?}"
        );
    }
}

/// The `data.consumed.in.nMsg` column of a `perf consume` summary, after
/// checking the header and the column count.
fn consumed_messages(stdout: &str) -> u64 {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "header and one summary line: {stdout}");
    assert_eq!(lines[0], CONSUME_HEADER);
    let cols: Vec<&str> = lines[1].split(", ").collect();
    assert_eq!(cols.len(), 10, "ten columns: {stdout}");
    num(cols[4], lines[1])
}

#[test]
fn produce_sends_every_record_and_prints_kafka_summary() {
    let broker = Broker::start();
    // No `topics create`: perf produce creates the topic, as Kafka's
    // auto-create does for the perf tool.
    let out = run(
        &broker,
        &[
            "perf",
            "produce",
            "--topic",
            "perf-t",
            "--num-records",
            "5000",
            "--record-size",
            "100",
            "--throughput",
            "-1",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let summary = check_produce_output(&text(&out.stdout), 5000);
    assert!(summary.mb_per_sec > 0.0, "500 kB sent: {summary:?}");

    // The topic really holds 5000 records of 100-byte values.
    assert_values(&topic_values(&broker, "perf-t"), 5000, 100);

    // perf consume reads exactly those 5000.
    let stdout = ok(
        &broker,
        &["perf", "consume", "--topic", "perf-t", "--messages", "5000"],
    );
    assert_eq!(consumed_messages(&stdout), 5000, "{stdout}");
}

#[test]
fn produce_with_a_throughput_cap_still_sends_every_record() {
    let broker = Broker::start();
    broker.create_topic("capped", 1);
    // --reporting-interval 100 may add progress lines (how many depends on
    // speed); check_produce_output checks whatever it gets.
    let out = run(
        &broker,
        &[
            "perf",
            "produce",
            "--topic",
            "capped",
            "--num-records",
            "3000",
            "--throughput",
            "1500",
            "--reporting-interval",
            "100",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    check_produce_output(&text(&out.stdout), 3000);
    // The default record size is 100 bytes.
    assert_values(&topic_values(&broker, "capped"), 3000, 100);
}

#[test]
fn perf_consume_stops_at_messages_and_warns_when_the_topic_runs_dry() {
    let broker = Broker::start();
    ok(
        &broker,
        &[
            "perf",
            "produce",
            "--topic",
            "dry",
            "--num-records",
            "50",
            "--record-size",
            "10",
        ],
    );

    // Fewer than there are: exactly that many.
    let stdout = ok(
        &broker,
        &["perf", "consume", "--topic", "dry", "--messages", "20"],
    );
    assert_eq!(consumed_messages(&stdout), 20, "{stdout}");

    // More than there are: all 50, then a warning on stderr once no data
    // came for --timeout ms, and still exit 0 (as Kafka's tool).
    let out = run(
        &broker,
        &[
            "perf",
            "consume",
            "--topic",
            "dry",
            "--messages",
            "60",
            "--timeout",
            "500",
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(consumed_messages(&text(&out.stdout)), 50);
    assert!(
        stderr.contains("read 50 of 60 records"),
        "the shortfall is reported on stderr: {stderr}"
    );

    // --hide-header leaves just the summary line.
    let stdout = ok(
        &broker,
        &[
            "perf",
            "consume",
            "--topic",
            "dry",
            "--messages",
            "50",
            "--hide-header",
        ],
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert_eq!(lines[0].split(", ").nth(4), Some("50"), "{stdout}");
}

/// A usage error: exit 2, nothing on stdout, stderr naming the problem.
fn assert_usage_error(out: &Output, mentions: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "usage error exits 2: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "errors never go to stdout: {}",
        text(&out.stdout)
    );
    assert!(
        stderr.starts_with("error: "),
        "stderr starts with 'error: ': {stderr}"
    );
    assert!(
        stderr.contains(mentions),
        "stderr names {mentions:?}: {stderr}"
    );
}

#[test]
fn bad_flags_are_usage_errors_and_send_nothing() {
    let broker = Broker::start();
    // (extra arguments after `perf produce --topic bad`, what stderr names)
    let produce: [(&[&str], &str); 5] = [
        (&["--num-records", "abc"], "--num-records"),
        (
            &["--num-records", "10", "--throughput", "fast"],
            "--throughput",
        ),
        (&["--num-records", "-5"], "-5"),
        // Checked before anything is sent, though clap cannot judge it.
        (
            &[
                "--num-records",
                "10",
                "--producer-props",
                "no.such.setting=1",
            ],
            "no.such.setting",
        ),
        (
            &[
                "--num-records",
                "10",
                "--producer-props",
                "compression.type=brotli",
            ],
            "brotli",
        ),
    ];
    for (extra, mentions) in produce {
        let mut args = vec!["perf", "produce", "--topic", "bad"];
        args.extend_from_slice(extra);
        let out = run(&broker, &args);
        assert_usage_error(&out, mentions);
        if mentions == "no.such.setting" {
            // Ours, not clap's: one line, no usage block.
            assert_eq!(
                text(&out.stderr).lines().count(),
                1,
                "{}",
                text(&out.stderr)
            );
        }
    }
    let out = run(
        &broker,
        &["perf", "consume", "--topic", "bad", "--messages", "abc"],
    );
    assert_usage_error(&out, "--messages");

    // None of these reached the broker: the topic was never created.
    let topics = ok(&broker, &["topics", "list"]);
    assert!(
        !topics.lines().any(|t| t == "bad"),
        "a rejected command created its topic: {topics}"
    );
}

#[test]
fn unreachable_broker_is_a_runtime_error() {
    // Bound, then released: nothing listens there.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .to_string();
    let mut c = strom();
    c.args([
        "perf",
        "produce",
        "--topic",
        "t",
        "--num-records",
        "10",
        "-b",
        &addr,
    ])
    .env("XDG_CONFIG_HOME", "/nonexistent-strom-test");
    let out = run_with_timeout(c, None, COMMAND_TIMEOUT);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "runtime error exits 1: {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "no summary on failure: {}",
        text(&out.stdout)
    );
    assert!(
        stderr.starts_with("error: cannot reach broker"),
        "clear message: {stderr}"
    );
}
