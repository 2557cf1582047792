//! `topics create` of thousands of partitions shows a spinner with the
//! elapsed time while the broker works, and a long `produce` from a file a
//! progress bar, on a terminal's stderr only (issue 20: a progress line
//! for long produces and big creates on a TTY).
mod common;

use std::path::Path;

use common::tmux::{sh_quote, tmux_available, Tmux};
use common::{strom_bin, Broker};

const PARTITIONS: &str = "3000";

/// Every byte written to the pane so far (tmux pipe-pane), as text.
fn pane_log(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}

/// An SGR (colour) sequence: ESC [ digits/semicolons m.
fn has_colour(s: &str) -> bool {
    s.match_indices("\x1b[").any(|(i, _)| {
        let rest = &s[i + 2..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(rest.len());
        rest[end..].starts_with('m')
    })
}

#[test]
fn a_big_create_shows_a_spinner_on_a_terminal() {
    if !tmux_available() {
        eprintln!("skipping: tmux is not installed (scripts/test.sh installs it)");
        return;
    }
    let broker = Broker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let go = dir.path().join("go");
    let log = dir.path().join("pane.log");
    // The command waits for `go`, so the pane is recorded from its start.
    let inner = format!(
        "while [ ! -e {go} ]; do sleep 0.05; done; \
         env NO_COLOR=1 {bin} topics create big --partitions {PARTITIONS} -b {addr}; \
         echo CREATE-EXITED-$?; sleep 60",
        go = sh_quote(&go.to_string_lossy()),
        bin = sh_quote(&strom_bin().to_string_lossy()),
        addr = broker.addr,
    );
    let tmux = Tmux::new("create");
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "create",
        "-x",
        "200",
        "-y",
        "20",
        &inner,
    ]);
    tmux.run(&[
        "pipe-pane",
        "-o",
        "-t",
        "create",
        &format!("cat >> {}", sh_quote(&log.to_string_lossy())),
    ]);
    std::fs::write(&go, b"").expect("write go");
    let screen = tmux.wait_for("the create to end", |s| s.contains("CREATE-EXITED-"));
    assert!(screen.contains("CREATE-EXITED-0"), "{screen}");
    assert!(screen.contains("Created topic big."), "{screen}");
    // The spinner was drawn while the broker worked, then cleared.
    let written = pane_log(&log);
    assert!(
        written.contains(&format!(
            "creating topic big with {PARTITIONS} partitions ("
        )),
        "no spinner in what the pane received: {written:?}"
    );
    assert!(
        !screen.contains("creating topic big"),
        "the spinner is cleared: {screen}"
    );
    assert!(!has_colour(&written), "NO_COLOR: {written:?}");
}

#[test]
fn without_a_terminal_a_big_create_writes_nothing_to_stderr() {
    let broker = Broker::start();
    let out = broker.run(
        &["topics", "create", "big-piped", "--partitions", PARTITIONS],
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr, "", "stderr is clean without a terminal");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Created topic big-piped.\n"
    );
}

#[test]
fn a_long_produce_from_a_file_shows_a_progress_bar_on_a_terminal() {
    if !tmux_available() {
        eprintln!("skipping: tmux is not installed (scripts/test.sh installs it)");
        return;
    }
    let broker = Broker::start();
    broker.create_topic("bulk", 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("input.txt");
    const LINES: usize = 400_000;
    let line = "x".repeat(99);
    let body: String = (0..LINES).map(|_| format!("{line}\n")).collect();
    std::fs::write(&input, body).expect("write input");
    let go = dir.path().join("go");
    let log = dir.path().join("pane.log");
    let inner = format!(
        "while [ ! -e {go} ]; do sleep 0.05; done; \
         env NO_COLOR=1 {bin} produce -t bulk -l {input} -b {addr}; \
         echo PRODUCE-EXITED-$?; sleep 60",
        go = sh_quote(&go.to_string_lossy()),
        bin = sh_quote(&strom_bin().to_string_lossy()),
        input = sh_quote(&input.to_string_lossy()),
        addr = broker.addr,
    );
    let tmux = Tmux::new("produce");
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "produce",
        "-x",
        "200",
        "-y",
        "20",
        &inner,
    ]);
    tmux.run(&[
        "pipe-pane",
        "-o",
        "-t",
        "produce",
        &format!("cat >> {}", sh_quote(&log.to_string_lossy())),
    ]);
    std::fs::write(&go, b"").expect("write go");
    let screen = tmux.wait_for("the produce to end", |s| s.contains("PRODUCE-EXITED-"));
    assert!(screen.contains("PRODUCE-EXITED-0"), "{screen}");
    // The bar (bytes read of the file's size, rate, ETA) was drawn.
    let written = pane_log(&log);
    assert!(
        written.contains("ETA") && written.contains("/s"),
        "no progress bar in what the pane received: {written:?}"
    );
    assert!(!has_colour(&written), "NO_COLOR: {written:?}");
    // Every line arrived.
    let out = broker.ok(&["topics", "offsets", "bulk", "--output", "json"], None);
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains(&LINES.to_string()), "{text}");
}

#[test]
fn without_a_terminal_a_produce_from_a_file_writes_nothing_to_stderr() {
    let broker = Broker::start();
    broker.create_topic("quiet", 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("input.txt");
    let body: String = (0..50_000).map(|i| format!("{i}\n")).collect();
    std::fs::write(&input, body).expect("write input");
    let out = broker.run(
        &["produce", "-t", "quiet", "-l", &input.to_string_lossy()],
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr, "", "stderr is clean without a terminal");
}
