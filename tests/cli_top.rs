//! `strom top` through the real binary: it refuses without a terminal, and
//! in tmux it shows a topic's rate while `strom perf produce` runs, filters
//! on a key and quits on `q`.
mod common;

use std::process::Stdio;

use common::tmux::{sh_quote, tmux_available, Tmux};
use common::{free_port, run_with_timeout, strom, strom_bin, Broker, COMMAND_TIMEOUT};

#[test]
fn without_a_terminal_it_refuses_with_exit_1() {
    let mut c = strom();
    c.args(["top", "--metrics", "127.0.0.1:9"]);
    let out = run_with_timeout(c, None, COMMAND_TIMEOUT);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("strom top needs a terminal"), "{err}");
    assert!(out.stdout.is_empty());
}

/// The topics-table row of `topic`: its cells after the border (a
/// partitions-table row has its ISR, `1/1`, in the fourth cell).
fn topic_row<'a>(screen: &'a str, topic: &str) -> Option<Vec<&'a str>> {
    screen.lines().find_map(|l| {
        let cells: Vec<&str> = l
            .trim_matches(|c| c == '│' || c == ' ')
            .split_whitespace()
            .collect();
        (cells.first() == Some(&topic) && cells.len() >= 7 && !cells[3].contains('/'))
            .then_some(cells)
    })
}

#[test]
fn shows_a_topic_rate_while_perf_produce_runs() {
    if !tmux_available() {
        eprintln!("skipping strom top test: tmux is not installed (scripts/test.sh installs it)");
        return;
    }
    let metrics = format!("127.0.0.1:{}", free_port());
    let broker = Broker::start_with(&["--metrics", &metrics]);
    broker.create_topic("ratetopic", 2);
    let mut perf = broker
        .cmd(&[
            "perf",
            "produce",
            "--topic",
            "ratetopic",
            "--num-records",
            "100000000",
            "--record-size",
            "100",
            "--throughput",
            "5000",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn perf produce");
    let tmux = Tmux::new("top");
    let inner = format!(
        "NO_COLOR=1 {} top --metrics {metrics} --interval 200; echo TOP-EXITED-$?; sleep 60",
        sh_quote(&strom_bin().to_string_lossy()),
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "top",
        "-x",
        "160",
        "-y",
        "45",
        &inner,
    ]);
    let screen = tmux.wait_for("a non-zero rate for ratetopic", |s| {
        topic_row(s, "ratetopic").is_some_and(|cells| cells[2] != "0")
            && s.contains("ratetopic: records in")
    });
    assert!(screen.contains("Brokers (1/1 up"), "{screen}");
    assert!(
        screen.contains("Partitions") && screen.contains("Consumer groups"),
        "{screen}"
    );

    // A filter that matches nothing hides the topic; Esc brings it back.
    tmux.keys(&["/", "zzz", "Enter"]);
    tmux.wait_for("the filter applied", |s| {
        s.contains("filter: zzz") && topic_row(s, "ratetopic").is_none()
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("the filter cleared", |s| {
        topic_row(s, "ratetopic").is_some()
    });

    tmux.keys(&["q"]);
    tmux.wait_for("top to exit 0", |s| s.contains("TOP-EXITED-0"));
    let _ = perf.kill();
    let _ = perf.wait();
}
