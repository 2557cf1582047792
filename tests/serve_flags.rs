//! `strom serve` checks its flags like topic configs (issue 20): a bad
//! value exits 2 at once with the flag named, before anything is opened.
mod common;

use std::time::Duration;

use common::{run_with_timeout, strom};

#[test]
fn bad_serve_flags_exit_2_naming_the_flag() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"not a directory").expect("write");
    let dir = tmp.path().join("data");
    let dir = dir.to_str().expect("utf8 path");
    let file = file.to_str().expect("utf8 path");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--data-dir", dir, "--default-partitions", "0"],
            "--default-partitions",
        ),
        (
            &["--data-dir", dir, "--retention-ms", "-5"],
            "--retention-ms",
        ),
        (
            &["--data-dir", dir, "--retention-bytes", "-7"],
            "--retention-bytes",
        ),
        (
            &["--data-dir", dir, "--segment-bytes", "1"],
            "--segment-bytes",
        ),
        (
            &["--data-dir", dir, "--offsets-partitions", "0"],
            "--offsets-partitions",
        ),
        (
            &["--data-dir", dir, "--max-connections", "0"],
            "--max-connections",
        ),
        (
            &["--data-dir", dir, "--max-partitions", "0"],
            "--max-partitions",
        ),
        (
            &["--data-dir", dir, "--max-partitions-per-topic", "0"],
            "--max-partitions-per-topic",
        ),
        (
            &["--data-dir", dir, "--transaction-max-timeout-ms", "0"],
            "--transaction-max-timeout-ms",
        ),
        (
            &[
                "--data-dir",
                dir,
                "--transaction-max-timeout-ms",
                "2147483648",
            ],
            "--transaction-max-timeout-ms",
        ),
        (
            &[
                "--data-dir",
                dir,
                "--transaction-abort-check-interval-ms",
                "0",
            ],
            "--transaction-abort-check-interval-ms",
        ),
        (&["--data-dir", file], "not a directory"),
        (&["--data-dir", dir, "--listen", "nonsense"], "--listen"),
        (
            &["--data-dir", dir, "--listen", "127.0.0.1:99999"],
            "--listen",
        ),
        (&["--data-dir", dir, "--listen", ":9092"], "--listen"),
        (
            &["--data-dir", dir, "--kafka-listen", "127.0.0.1:x"],
            "--kafka-listen",
        ),
        (
            &["--data-dir", dir, "--advertised-listener", "host"],
            "--advertised-listener",
        ),
    ];
    for (args, named) in cases {
        let mut c = strom();
        c.arg("serve").args(*args);
        let out = run_with_timeout(c, None, Duration::from_secs(30));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(named), "{args:?}: {err}");
        assert!(!err.contains("listening on"), "{args:?}: {err}");
    }
    assert!(
        !std::path::Path::new(dir).exists(),
        "nothing was created for a refused start"
    );
}
