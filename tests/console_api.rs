//! `strom serve --ui`: the web console's JSON API against a real broker,
//! end to end (issue 19): topics created and deleted through it, records
//! produced by the CLI browsed by offset, time and jq filter, a group's lag
//! and reset-offsets in two steps, live rates over server-sent events, and
//! malformed requests answered 4xx while the broker keeps serving.
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::http::http;
use common::{free_port, Broker};
use serde_json::Value;

/// (status code, JSON body).
fn call(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = http(addr, req.as_bytes());
    let code = answer
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:.200}"));
    let json = answer
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (code, json)
}

fn ok(addr: &str, method: &str, path: &str, body: Option<&str>) -> Value {
    let (code, v) = call(addr, method, path, body);
    assert!((200..300).contains(&code), "{method} {path}: {code} {v}");
    v
}

fn start() -> (Broker, String) {
    let port = free_port();
    let ui = format!("127.0.0.1:{port}");
    let b = Broker::start_with(&["--ui", &ui, "--group-min-session-timeout-ms", "500"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(&ui).is_err() {
        assert!(Instant::now() < deadline, "the console never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    (b, ui)
}

#[test]
fn topics_messages_and_configs_through_the_api() {
    let (b, ui) = start();
    let page = http(&ui, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(page.starts_with("HTTP/1.1 200"), "{page:.200}");
    assert!(
        page.contains("<script src=\"/app.js\">"),
        "the embedded page"
    );
    assert!(http(&ui, b"GET /app.js HTTP/1.1\r\n\r\n").contains("EventSource"));

    let created = ok(
        &ui,
        "POST",
        "/api/topics",
        Some(r#"{"name":"orders","partitions":1,"configs":{"retention.ms":86400000}}"#),
    );
    assert_eq!(created["partitions"], 1);
    let (code, dup) = call(&ui, "POST", "/api/topics", Some(r#"{"name":"orders"}"#));
    assert_eq!(code, 409, "{dup}");
    // The CLI sees it.
    let listed = String::from_utf8_lossy(&b.ok(&["topics", "list"], None)).into_owned();
    assert!(listed.lines().any(|l| l == "orders"), "{listed}");

    let lines = "a:{\"total\":5}\nb:{\"total\":500}\nc:{\"total\":50}\nd:{\"total\":900}\n";
    b.ok(
        &["produce", "-t", "orders", "-K", ":"],
        Some(lines.as_bytes()),
    );
    let topics = ok(&ui, "GET", "/api/topics", None);
    let orders = topics
        .as_array()
        .and_then(|a| a.iter().find(|t| t["name"] == "orders"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(orders["records"], 4, "{topics}");

    let all = ok(
        &ui,
        "GET",
        "/api/topics/orders/partitions/0/messages?offset=0",
        None,
    );
    let values: Vec<&str> = all["records"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["value"]["text"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(values.len(), 4, "{all}");
    assert_eq!(all["records"][1]["key"]["text"], "b");
    // The CLI's jq: only the big orders.
    let big = ok(
        &ui,
        "GET",
        "/api/topics/orders/partitions/0/messages?offset=0&filter=.value%20%7C%20fromjson%20%7C%20.total%20%3E%20100",
        None,
    );
    let keys: Vec<&str> = big["records"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["key"]["text"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(keys, ["b", "d"], "{big}");
    // From a timestamp: all were written after this one.
    let by_time = ok(
        &ui,
        "GET",
        "/api/topics/orders/partitions/0/messages?timestamp=0&limit=2",
        None,
    );
    assert_eq!(by_time["records"].as_array().map(Vec::len), Some(2));
    assert_eq!(by_time["next_offset"], 2);
    let (code, bad) = call(
        &ui,
        "GET",
        "/api/topics/orders/partitions/0/messages?filter=.value%20%7C",
        None,
    );
    assert_eq!(code, 400, "{bad}");

    // Config edits, then the topic shows them.
    let t = ok(
        &ui,
        "PUT",
        "/api/topics/orders/configs",
        Some(r#"{"set":{"retention.ms":"3600000"}}"#),
    );
    let retention = t["configs"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["key"] == "retention.ms"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(retention["value"], "3600000", "{t}");
    assert_eq!(retention["default"], false);
    let (code, e) = call(
        &ui,
        "PUT",
        "/api/topics/orders/configs",
        Some(r#"{"set":{"no.such":"1"}}"#),
    );
    assert_eq!(code, 400, "{e}");
    let (code, _) = call(
        &ui,
        "PUT",
        "/api/topics/__consumer_offsets/configs",
        Some(r#"{"set":{"retention.ms":"1"}}"#),
    );
    assert_eq!(code, 400, "internal topics are refused");

    // Deleting needs the name again.
    let (code, _) = call(&ui, "DELETE", "/api/topics/orders", None);
    assert_eq!(code, 400);
    ok(&ui, "DELETE", "/api/topics/orders?confirm=orders", None);
    let (code, _) = call(&ui, "GET", "/api/topics/orders", None);
    assert_eq!(code, 404);
}

#[test]
fn a_groups_lag_and_reset_offsets_in_two_steps() {
    let (b, ui) = start();
    b.create_topic("events", 1);
    b.ok(&["produce", "-t", "events"], Some(b"1\n2\n3\n4\n5\n"));
    // A group that read everything, then stopped.
    b.ok(
        &[
            "consume",
            "-t",
            "events",
            "-g",
            "readers",
            "--from-beginning",
            "-e",
        ],
        None,
    );
    let g = ok(&ui, "GET", "/api/groups/readers", None);
    assert_eq!(g["offsets"][0]["committed"], 5, "{g}");
    assert_eq!(g["offsets"][0]["lag"], 0, "{g}");
    let groups = ok(&ui, "GET", "/api/groups", None);
    assert!(groups.to_string().contains("readers"), "{groups}");

    // A dry run changes nothing.
    let plan = ok(
        &ui,
        "POST",
        "/api/groups/readers/reset-offsets",
        Some(r#"{"topic":"events","to":"earliest"}"#),
    );
    assert_eq!(plan["executed"], false);
    assert_eq!(plan["plan"][0]["new"], 0, "{plan}");
    assert_eq!(
        ok(&ui, "GET", "/api/groups/readers", None)["offsets"][0]["lag"],
        0
    );
    // Execute: the lag is back to the whole topic.
    ok(
        &ui,
        "POST",
        "/api/groups/readers/reset-offsets",
        Some(r#"{"topic":"events","to":"earliest","execute":true}"#),
    );
    let g = ok(&ui, "GET", "/api/groups/readers", None);
    assert_eq!(g["offsets"][0]["lag"], 5, "{g}");
    let described =
        String::from_utf8_lossy(&b.ok(&["groups", "describe", "--group", "readers"], None))
            .into_owned();
    assert!(described.contains("events"), "{described}");
    let (code, _) = call(&ui, "GET", "/api/groups/nobody", None);
    assert_eq!(code, 404);
}

#[test]
fn live_rates_arrive_as_server_sent_events() {
    let (b, ui) = start();
    b.create_topic("fast", 1);
    let mut s = TcpStream::connect(&ui).expect("connect");
    s.write_all(b"GET /api/events HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let producer = {
        let lines: String = (0..20_000).map(|i| format!("{i}\n")).collect();
        let mut c = b.cmd(&["produce", "-t", "fast"]);
        c.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut child = c.spawn().expect("produce");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(lines.as_bytes())
            .expect("write");
        child
    };
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut records_in = 0.0;
    while Instant::now() < deadline && records_in == 0.0 {
        let n = s.read(&mut buf).unwrap_or(0);
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        for event in seen.split("\n\n") {
            if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                if let Ok(v) = serde_json::from_str::<Value>(data) {
                    records_in += v["topics"]["fast"]["records_in"].as_f64().unwrap_or(0.0);
                }
            }
        }
    }
    assert!(
        seen.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream"),
        "{seen:.300}"
    );
    assert!(records_in > 0.0, "no rate for the produce in {seen:.2000}");
    let mut producer = producer;
    let _ = producer.wait();
    let totals = ok(&ui, "GET", "/api/rates", None);
    assert_eq!(totals["topics"]["fast"]["records_in"], 20_000, "{totals}");
}

#[test]
fn malformed_requests_get_4xx_and_the_broker_keeps_serving() {
    let (b, ui) = start();
    let cases: [(&[u8], &str); 6] = [
        (b"GARBAGE\r\n\r\n", "400"),
        (b"GET /api/topics HTTP/9\r\n\r\n", "400"),
        (
            b"POST /api/topics HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
            "413",
        ),
        (
            b"POST /api/topics HTTP/1.1\r\nContent-Length: 5\r\n\r\nnope!",
            "400",
        ),
        (b"PATCH /api/topics HTTP/1.1\r\n\r\n", "405"),
        (b"GET /nothing HTTP/1.1\r\n\r\n", "404"),
    ];
    for (req, code) in cases {
        let answer = http(&ui, req);
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {code}")),
            "{req:?}: {answer:.200}"
        );
    }
    let huge = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(40_000));
    assert!(http(&ui, huge.as_bytes()).starts_with("HTTP/1.1 431"));
    let (code, v) = call(&ui, "POST", "/api/topics", Some(r#"{"name":"bad name!"}"#));
    assert_eq!(code, 400, "{v}");
    assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()));
    // Still serving both the console and clients.
    ok(&ui, "GET", "/api/cluster", None);
    b.create_topic("after", 1);
}
