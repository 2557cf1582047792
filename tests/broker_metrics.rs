//! `strom serve --metrics`: a real broker under a produce load, scraped
//! over HTTP; the counters must match what was produced and consumed, and
//! malformed HTTP must get 4xx answers without disturbing the broker.
mod common;

use std::net::TcpStream;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use common::http::http;
use common::{free_port, wait_with_deadline, Broker, COMMAND_TIMEOUT};

const DEADLINE: Duration = Duration::from_secs(60);

fn scrape(addr: &str) -> String {
    let answer = http(addr, b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n");
    assert!(
        answer.starts_with("HTTP/1.1 200 "),
        "scrape failed: {answer:.200}"
    );
    assert!(
        answer.trim_end().ends_with("# EOF"),
        "not OpenMetrics: {answer:.200}"
    );
    answer
}

/// The value of one sample, e.g. `kafka_log_log_size{topic="t",partition="0"}`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

fn value(text: &str, series: &str) -> f64 {
    sample(text, series).unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
}

/// Sum of a per-partition gauge over a topic's partitions.
fn topic_sum(text: &str, name: &str, topic: &str) -> f64 {
    let prefix = format!("{name}{{topic=\"{topic}\",partition=");
    text.lines()
        .filter(|l| l.starts_with(&prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Waits until the metrics port answers.
fn wait_metrics(addr: &str) {
    let deadline = Instant::now() + DEADLINE;
    while TcpStream::connect(addr).is_err() {
        assert!(
            Instant::now() < deadline,
            "metrics never listened on {addr}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn counters_match_what_was_produced_and_consumed_and_bad_http_is_refused() {
    let maddr = format!("127.0.0.1:{}", free_port());
    let b = Broker::start_with(&["--metrics", &maddr]);
    wait_metrics(&maddr);
    b.create_topic("load", 2);
    const N: u64 = 30_000;

    // A produce load running while we scrape.
    let mut perf = b
        .cmd(&[
            "perf",
            "produce",
            "--topic",
            "load",
            "--num-records",
            &N.to_string(),
            "--record-size",
            "100",
            "--throughput",
            "20000",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn perf produce");
    let mut last = 0.0;
    let mut scrapes = 0;
    while perf.try_wait().expect("perf status").is_none() {
        let text = scrape(&maddr);
        let now = sample(
            &text,
            "kafka_server_brokertopicmetrics_messagesin_total{topic=\"load\"}",
        )
        .unwrap_or(0.0);
        assert!(now >= last, "records in went backwards: {last} then {now}");
        assert!(now <= N as f64, "more records in than produced: {now}");
        last = now;
        scrapes += 1;
        thread::sleep(Duration::from_millis(50));
    }
    let status = wait_with_deadline(&mut perf, COMMAND_TIMEOUT);
    assert!(status.success(), "perf produce failed: {status:?}");
    assert!(scrapes > 0, "no scrape during the load");

    let text = scrape(&maddr);
    assert_eq!(
        value(
            &text,
            "kafka_server_brokertopicmetrics_messagesin_total{topic=\"load\"}"
        ),
        N as f64
    );
    let bytes_in = value(
        &text,
        "kafka_server_brokertopicmetrics_bytesin_total{topic=\"load\"}",
    );
    // Every appended byte is in the log (nothing was deleted), and the
    // values alone make N * 100 bytes.
    assert_eq!(bytes_in, topic_sum(&text, "kafka_log_log_size", "load"));
    assert!(bytes_in > (N * 100) as f64, "bytes in {bytes_in}");
    assert_eq!(
        topic_sum(&text, "kafka_log_log_logendoffset", "load"),
        N as f64
    );
    assert!(
        value(
            &text,
            "kafka_network_requestmetrics_requests_total{request=\"Produce\",protocol=\"native\"}"
        ) >= 1.0
    );
    assert!(value(&text, "kafka_network_requestmetrics_totaltime_seconds_count{request=\"Produce\",protocol=\"native\"}") >= 1.0);
    assert!(value(&text, "kafka_log_logflushstats_logflush_seconds_count") >= 1.0);
    assert_eq!(
        value(
            &text,
            "kafka_server_replicamanager_underreplicatedpartitions"
        ),
        0.0
    );
    assert_eq!(
        value(
            &text,
            "kafka_controller_kafkacontroller_activecontrollercount"
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "kafka_server_brokertopicmetrics_bytesout_total{topic=\"load\"}"
        ),
        Some(0.0)
    );

    // Consume everything in a group: out counters match, lag drops to 0.
    let out = b.ok(
        &[
            "consume",
            "-t",
            "load",
            "--from-beginning",
            "--max-messages",
            &N.to_string(),
            "-g",
            "readers",
        ],
        None,
    );
    assert_eq!(out.iter().filter(|&&c| c == b'\n').count() as u64, N);
    let text = scrape(&maddr);
    assert_eq!(
        value(&text, "strom_topic_records_out_total{topic=\"load\"}"),
        N as f64
    );
    assert_eq!(
        value(
            &text,
            "kafka_server_brokertopicmetrics_bytesout_total{topic=\"load\"}"
        ),
        bytes_in
    );
    assert_eq!(
        value(&text, "kafka_consumergroup_lag_sum{group=\"readers\"}"),
        0.0
    );
    assert_eq!(
        value(
            &text,
            "kafka_consumergroup_current_offset{group=\"readers\",topic=\"load\",partition=\"0\"}"
        ) + value(
            &text,
            "kafka_consumergroup_current_offset{group=\"readers\",topic=\"load\",partition=\"1\"}"
        ),
        N as f64
    );
    assert!(
        value(
            &text,
            "kafka_network_requestmetrics_requests_total{request=\"Fetch\",protocol=\"native\"}"
        ) >= 1.0
    );

    // Bad HTTP: answered with 4xx, never a hang or a broker failure.
    let bad = http(&maddr, b"NOT HTTP AT ALL\r\n\r\n");
    assert!(bad.starts_with("HTTP/1.1 400 "), "{bad}");
    let bad = http(&maddr, b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n");
    assert!(bad.starts_with("HTTP/1.1 400 "), "{bad}");
    let bad = http(&maddr, &[0xff, 0xfe, 0x00, b'\r', b'\n', b'\r', b'\n']);
    assert!(bad.starts_with("HTTP/1.1 400 "), "{bad}");
    let huge = format!("GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
    assert!(http(&maddr, huge.as_bytes()).starts_with("HTTP/1.1 431 "));
    assert!(http(&maddr, b"GET /other HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
    assert!(http(&maddr, b"POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405 "));
    // A client that connects and hangs up at once.
    drop(TcpStream::connect(&maddr).expect("connect"));

    // The broker and the endpoint keep serving.
    b.ok(&["produce", "--topic", "load"], Some(b"one more\n"));
    let text = scrape(&maddr);
    assert_eq!(
        value(
            &text,
            "kafka_server_brokertopicmetrics_messagesin_total{topic=\"load\"}"
        ),
        (N + 1) as f64
    );
}

#[test]
fn a_bare_metrics_port_binds_loopback() {
    let port = free_port();
    let _b = Broker::start_with(&["--metrics", &port.to_string()]);
    let addr = format!("127.0.0.1:{port}");
    wait_metrics(&addr);
    assert!(scrape(&addr).contains("kafka_server_replicamanager_partitioncount"));
}

#[test]
fn the_config_file_turns_metrics_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let addr = format!("127.0.0.1:{}", free_port());
    let file = dir.path().join("serve.toml");
    std::fs::write(&file, format!("metrics = \"{addr}\"\n")).expect("write config");
    let _b = Broker::start_with(&["--config", &file.to_string_lossy()]);
    wait_metrics(&addr);
    assert!(scrape(&addr).contains("kafka_controller_kafkacontroller_activecontrollercount 1"));
}
