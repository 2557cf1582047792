//! `-b` mistakes (issue 20): a malformed list is a usage error (exit 2)
//! found before any lookup, and a server that is not a broker is named.
mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use common::{run_with_timeout, strom};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn malformed_bootstrap_lists_are_usage_errors() {
    for (bad, why) in [
        ("127.0.0.1:99999", "not a number from 1 to 65535"),
        ("host:abc", "not a number from 1 to 65535"),
        ("", "no broker address given"),
        (" , ", "no broker address given"),
        (":9092", "has no host"),
    ] {
        let mut cmd = strom();
        cmd.args(["topics", "list", "-b", bad]);
        let out = run_with_timeout(cmd, None, Duration::from_secs(30));
        assert_eq!(
            out.status.code(),
            Some(2),
            "-b {bad:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(why),
            "-b {bad:?}: {}",
            text(&out.stderr)
        );
    }
    // The environment variable goes through the same check.
    let mut cmd = strom();
    cmd.args(["topics", "list"])
        .env("STROM_BOOTSTRAP_SERVER", "localhost:0");
    let out = run_with_timeout(cmd, None, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn an_http_server_is_named_as_such() {
    // Answers like a web server that rejects a request it cannot parse.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut conn = conn;
            let mut buf = [0u8; 256];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let mut cmd = strom();
    cmd.args(["topics", "list", "-b", &addr]);
    let out = run_with_timeout(cmd, None, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("is not a strom or Kafka broker: it answered like an HTTP server"),
        "{err}"
    );
}

#[test]
fn verbose_logs_connection_metadata_and_request_steps_to_stderr() {
    let b = common::Broker::start();
    b.create_topic("loud", 1);
    let out = b.run(&["produce", "-t", "loud", "-v"], Some(b"x\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "logs stay off stdout");
    let err = text(&out.stderr);
    for step in [
        " connected ",
        " request ",
        "api=Metadata",
        " metadata ",
        "loud(1 partitions)",
    ] {
        assert!(err.contains(step), "-v shows {step:?}: {err}");
    }
    // Without -v the same command is quiet.
    let out = b.run(&["produce", "-t", "loud"], Some(b"y\n"));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}
