//! The REPL through the real binary: script mode with piped stdin, and the
//! interactive shell in a pseudo-terminal driven by tmux.
mod common;

use std::path::Path;

use common::tmux::{last_line, sh_quote, tmux_available, Tmux};
use common::{run_with_timeout, strom, strom_bin, Broker, COMMAND_TIMEOUT};

/// Runs `strom ARGS` with `script` on stdin and private XDG dirs.
fn script(args: &[&str], script: &str, home: &Path) -> std::process::Output {
    let mut c = strom();
    c.args(args)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"));
    run_with_timeout(c, Some(script.as_bytes()), COMMAND_TIMEOUT)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn script_mode_runs_every_line() {
    let broker = Broker::start();
    let home = tempfile::tempdir().expect("tempdir");
    let records = home.path().join("records.txt");
    std::fs::write(&records, "r1\nr2\nr3\nr4\nr5\nr6\nr7\n").expect("write records");
    let s = format!(
        "# set up a topic\n\
         \n\
         topics create script-t --partitions 1\n\
         topics list\n\
         produce -t script-t -l '{}'\n\
         consume -t script-t -o -5 -e\n",
        records.display()
    );
    let out = script(&["repl", "-b", &broker.addr], &s, home.path());
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "status {:?}: {stderr}", out.status);
    assert!(stdout.contains("Created topic script-t."), "{stdout}");
    assert!(stdout.lines().any(|l| l == "script-t"), "{stdout}");
    let consumed: Vec<&str> = stdout.lines().filter(|l| l.starts_with('r')).collect();
    assert_eq!(consumed, ["r3", "r4", "r5", "r6", "r7"], "{stdout}");
    assert!(
        stderr.contains("Processed a total of 5 messages"),
        "{stderr}"
    );
    assert!(!stderr.contains('\x1b'), "no colour in scripts: {stderr:?}");
    assert!(!stdout.contains("strom>"), "no prompt in scripts: {stdout}");
}

#[test]
fn a_failing_line_is_reported_and_the_script_goes_on_with_exit_1() {
    let broker = Broker::start();
    broker.create_topic("fail-t", 1);
    let home = tempfile::tempdir().expect("tempdir");
    let s = "topics describe no-such-topic\n\
             produce -t fail-t\n\
             topics create 'bad/name'\n\
             nonsense\n\
             topics list\n";
    let out = script(&["repl", "-b", &broker.addr], s, home.path());
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: line 1: "), "{stderr}");
    assert!(
        stderr.contains("error: line 2: ") && stderr.contains("-l FILE"),
        "{stderr}"
    );
    assert!(stderr.contains("error: line 3: "), "{stderr}");
    assert!(stderr.contains("error: line 4: "), "{stderr}");
    assert!(stderr.contains("4 of 5 script lines failed"), "{stderr}");
    assert!(
        stdout.lines().any(|l| l == "fail-t"),
        "line 5 still ran: {stdout}"
    );
}

#[test]
fn plain_strom_with_piped_stdin_is_a_script_and_connect_switches_brokers() {
    let broker = Broker::start();
    let home = tempfile::tempdir().expect("tempdir");
    let s = format!(
        "connect {}\ntopics create via-connect\ntopics list --output json\nexit\ntopics list\n",
        broker.addr
    );
    let out = script(&[], &s, home.path());
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let json_start = stdout.find('[').expect("json list");
    let names: Vec<String> = serde_json::from_str(stdout[json_start..].trim()).expect("json");
    assert_eq!(names, ["via-connect"]);
    assert_eq!(
        stdout.matches("via-connect").count(),
        2,
        "exit stops: {stdout}"
    );

    let bad = script(&[], "connect\nconnect a b\n", home.path());
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stdout).contains("localhost:9092"));
}

#[test]
fn help_builtin_shows_clap_help() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = script(
        &["repl"],
        "help topics create\nhelp\nhelp nope\n",
        home.path(),
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Usage: strom topics create"), "{stdout}");
    assert!(stdout.contains("--if-not-exists"), "{stdout}");
    assert!(stdout.contains("REPL builtins"), "{stdout}");
    assert_eq!(out.status.code(), Some(1), "help nope fails");
}

// ---- interactive, in tmux ------------------------------------------------

/// The REPL's prompt for commands, whatever the broker.
const PROMPT: &str = "strom> ";

/// `strom repl -b ADDR` in a new tmux session of 200x50, with private XDG
/// dirs under `home`; returns once the prompt shows. When the REPL ends,
/// the pane prints `REPL-EXITED-<status>` and stays.
fn repl_in_tmux(session: &'static str, addr: &str, home: &Path) -> Tmux {
    let tmux = Tmux::new(session);
    let inner = format!(
        "env -u STROM_BOOTSTRAP_SERVER -u STROM_PROFILE NO_COLOR=1 XDG_STATE_HOME={} \
         XDG_CONFIG_HOME={} {} repl -b {addr}; echo REPL-EXITED-$?; sleep 60",
        sh_quote(&home.join("state").to_string_lossy()),
        sh_quote(&home.join("config").to_string_lossy()),
        sh_quote(&strom_bin().to_string_lossy()),
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "200",
        "-y",
        "50",
        &inner,
    ]);
    tmux.wait_for("the prompt", |s| s.contains(PROMPT.trim_end()));
    tmux
}

/// Where `needle` starts on the screen, for checking the order of outputs.
fn at(screen: &str, needle: &str) -> usize {
    screen
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not on the screen:\n{screen}"))
}

#[test]
fn interactive_completion_ctrl_c_and_ctrl_d() {
    if !tmux_available() {
        eprintln!(
            "skipping interactive REPL test: tmux is not installed (scripts/test.sh installs it)"
        );
        return;
    }
    let broker = Broker::start();
    broker.create_topic("tabtopic-orders", 1);
    broker.ok(
        &["produce", "-t", "tabtopic-orders"],
        Some(b"first\nsecond\nthird\n"),
    );
    let home = tempfile::tempdir().expect("tempdir");
    let state = home.path().join("state");
    let tmux = repl_in_tmux("repl", &broker.addr, home.path());
    let prompt = PROMPT.trim_end();

    // Ctrl-C at the prompt throws the typed line away.
    tmux.keys(&["bogus-words", "C-c"]);
    tmux.wait_for("a cleared line", |s| last_line(s).trim_end() == prompt);

    // Tab completes a topic name fetched from the broker.
    tmux.keys(&["consume -t tabt", "Tab"]);
    tmux.wait_for("the completed topic", |s| {
        s.contains("consume -t tabtopic-orders")
    });

    // A consume without -e runs until Ctrl-C, prints its total, and the
    // prompt comes back.
    tmux.keys(&["-o beginning", "Enter"]);
    tmux.wait_for("the records", |s| s.contains("third"));
    tmux.keys(&["C-c"]);
    let screen = tmux.wait_for("the total and a new prompt", |s| {
        s.contains("Processed a total of 3 messages") && last_line(s).starts_with(prompt)
    });
    assert!(!screen.contains("bogus-words'"), "{screen}");

    // The shell still works after the interrupted consume.
    tmux.keys(&["topics list", "Enter"]);
    tmux.wait_for("topics list output", |s| {
        s.lines().any(|l| l.trim_end() == "tabtopic-orders")
    });

    // Ctrl-D exits with status 0.
    tmux.keys(&["C-d"]);
    tmux.wait_for("the exit", |s| s.contains("REPL-EXITED-0"));

    let history = std::fs::read_to_string(state.join("strom").join("history")).unwrap_or_default();
    assert!(
        history.contains("consume -t tabtopic-orders -o beginning"),
        "history kept: {history}"
    );
}

/// False (and a note) when tmux is missing: the test is skipped.
fn have_tmux() -> bool {
    let ok = tmux_available();
    if !ok {
        eprintln!(
            "skipping interactive REPL test: tmux is not installed (scripts/test.sh installs it)"
        );
    }
    ok
}

#[test]
fn interactive_paste_of_three_lines_runs_all_three_in_order() {
    if !have_tmux() {
        return;
    }
    let broker = Broker::start();
    let home = tempfile::tempdir().expect("tempdir");
    let tmux = repl_in_tmux("paste", &broker.addr, home.path());

    // Three lines in one write to the terminal, as a terminal without
    // bracketed paste (or a fast typist) delivers them.
    tmux.keys(&[
        "topics create paste-1",
        "Enter",
        "topics create paste-2",
        "Enter",
        "topics list",
        "Enter",
    ]);
    let screen = tmux.wait_for("the third line's output", |s| {
        s.lines().any(|l| l.trim_end() == "paste-2") && last_line(s).trim_end() == "strom>"
    });
    assert!(
        at(&screen, "Created topic paste-1.") < at(&screen, "Created topic paste-2."),
        "{screen}"
    );
    assert!(
        at(&screen, "Created topic paste-2.") < at(&screen, "strom> topics list"),
        "{screen}"
    );

    // A bracketed paste (what terminals send when the editor asks for it)
    // shows as one edit; Enter runs each of its lines.
    let paste = home.path().join("paste.txt");
    std::fs::write(
        &paste,
        "topics create bracket-1\ntopics create bracket-2\ntopics describe bracket-1\n",
    )
    .expect("write paste");
    tmux.run(&["load-buffer", &paste.to_string_lossy()]);
    tmux.run(&["paste-buffer", "-p", "-t", "paste"]);
    tmux.wait_for("the pasted text", |s| {
        s.contains("topics describe bracket-1")
    });
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the last pasted line's output", |s| {
        s.contains("Topic: bracket-1") && last_line(s).trim_end() == "strom>"
    });
    assert!(
        at(&screen, "Created topic bracket-1.") < at(&screen, "Created topic bracket-2."),
        "{screen}"
    );
    assert!(
        at(&screen, "Created topic bracket-2.") < at(&screen, "Topic: bracket-1"),
        "{screen}"
    );
}

#[test]
fn interactive_lines_typed_while_a_command_runs_run_after_it_in_order() {
    if !have_tmux() {
        return;
    }
    let broker = Broker::start();
    broker.create_topic("ahead-in", 1);
    broker.ok(&["produce", "-t", "ahead-in"], Some(b"one\n"));
    let home = tempfile::tempdir().expect("tempdir");
    let tmux = repl_in_tmux("ahead", &broker.addr, home.path());

    // The consume prints the record there is, then waits for a second one.
    tmux.keys(&["consume -t ahead-in -o beginning --max-messages 2", "Enter"]);
    tmux.wait_for("the first record", |s| {
        s.lines().any(|l| l.trim_end() == "one")
    });
    tmux.keys(&[
        "topics create ahead-1",
        "Enter",
        "topics create ahead-2",
        "Enter",
        "topics list",
        "Enter",
    ]);
    // The terminal echoes typed-ahead lines under the running command.
    tmux.wait_for("the typed-ahead echo", |s| s.contains("topics list"));
    broker.ok(&["produce", "-t", "ahead-in"], Some(b"two\n"));
    let screen = tmux.wait_for("the typed-ahead lines' output", |s| {
        s.lines().any(|l| l.trim_end() == "ahead-2") && last_line(s).trim_end() == "strom>"
    });
    let total = at(&screen, "Processed a total of 2 messages");
    let first = at(&screen, "Created topic ahead-1.");
    let second = at(&screen, "Created topic ahead-2.");
    assert!(total < first && first < second, "{screen}");
    assert!(second < at(&screen, "strom> topics list"), "{screen}");
}

#[test]
fn interactive_produce_ends_on_ctrl_d_and_the_lines_after_it_are_commands() {
    if !have_tmux() {
        return;
    }
    let broker = Broker::start();
    broker.create_topic("typed", 1);
    let home = tempfile::tempdir().expect("tempdir");
    let tmux = repl_in_tmux("ctrld", &broker.addr, home.path());

    // Typed in one go: the command, two records, Ctrl-D, the next command.
    tmux.keys(&[
        "produce -t typed",
        "Enter",
        "rec-1",
        "Enter",
        "rec-2",
        "Enter",
        "C-d",
        "consume -t typed -o beginning -e",
        "Enter",
    ]);
    let screen = tmux.wait_for("the records read back", |s| {
        s.contains("Processed a total of 2 messages") && last_line(s).trim_end() == "strom>"
    });
    assert!(screen.contains("strom produce typed> rec-1"), "{screen}");
    let read_back: Vec<&str> = screen[at(&screen, "strom> consume")..]
        .lines()
        .filter(|l| l.starts_with("rec-"))
        .collect();
    assert_eq!(read_back, ["rec-1", "rec-2"], "{screen}");

    // The Ctrl-D ended the produce, not the REPL.
    tmux.keys(&["topics list", "Enter"]);
    tmux.wait_for("topics list output", |s| {
        s.lines().any(|l| l.trim_end() == "typed")
    });
    assert!(!tmux.screen().contains("REPL-EXITED"));
    tmux.keys(&["C-d"]);
    tmux.wait_for("the exit", |s| s.contains("REPL-EXITED-0"));
}

#[test]
fn interactive_ctrl_c_stops_produce_and_returns_to_the_prompt() {
    if !have_tmux() {
        return;
    }
    let broker = Broker::start();
    broker.create_topic("stopped", 1);
    let home = tempfile::tempdir().expect("tempdir");
    let tmux = repl_in_tmux("ctrlc", &broker.addr, home.path());

    tmux.keys(&["produce -t stopped", "Enter"]);
    tmux.wait_for("the record prompt", |s| {
        last_line(s).trim_end() == "strom produce stopped>"
    });
    // A record, a half-typed one given up with Ctrl-C, and a command typed
    // straight after: it is not lost to the Ctrl-C.
    tmux.keys(&[
        "kept",
        "Enter",
        "half-typed",
        "C-c",
        "consume -t stopped -o beginning -e",
        "Enter",
    ]);
    let screen = tmux.wait_for("the consume after the Ctrl-C", |s| {
        s.contains("Processed a total of 1 messages") && last_line(s).trim_end() == "strom>"
    });
    let read_back: Vec<&str> = screen[at(&screen, "strom> consume")..]
        .lines()
        .filter(|l| l.starts_with("kept") || l.starts_with("half"))
        .collect();
    assert_eq!(read_back, ["kept"], "{screen}");
    assert!(!screen.contains("REPL-EXITED"), "{screen}");
}
