//! Conventions every command keeps: exit codes (0 ok, 1 runtime, 2 usage),
//! one-line errors with a fix, quiet exit on a closed pipe, no colour when
//! NO_COLOR is set, and the precedence of settings (flag > env > profile >
//! default) as `strom config show` reports it.
mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

use common::{run_with_timeout, strom, strom_bin, Broker, COMMAND_TIMEOUT};

/// A port nothing listens on (bound, then released).
fn dead_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr").to_string();
    drop(l);
    addr
}

fn run(mut c: Command) -> Output {
    c.env("XDG_CONFIG_HOME", "/nonexistent-strom-test");
    run_with_timeout(c, None, COMMAND_TIMEOUT)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn usage_errors_exit_2_runtime_errors_exit_1_each_one_line() {
    let mut c = strom();
    c.args(["topics", "create", "bad/name"]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));

    let mut c = strom();
    c.arg("no-such-command");
    assert_eq!(run(c).status.code(), Some(2));

    let mut c = strom();
    c.args([
        "consume",
        "-t",
        "t",
        "--partition",
        "-1",
        "-b",
        &dead_addr(),
    ]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    let mut c = strom();
    c.args(["topics", "list", "-b", &dead_addr()]);
    let out = run(c);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: cannot reach broker"), "{stderr}");
    assert!(
        stderr.contains("Is strom serve running?"),
        "has a fix: {stderr}"
    );
    assert!(out.stdout.is_empty(), "errors never go to stdout");

    let mut c = strom();
    c.arg("--help");
    let out = run(c);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("Usage:"), "help is data: stdout");
}

#[test]
fn closed_pipe_exits_quietly_and_consume_still_counts() {
    let broker = Broker::start();
    broker.create_topic("pipe-t", 1);
    broker.ok(
        &["produce", "-t", "pipe-t"],
        Some(&common::numbered_lines(20_000)),
    );
    let script = "\"$0\" consume -t pipe-t -o beginning -e -b \"$1\" | head -n 1; \
                  exit ${PIPESTATUS[0]}";
    let mut c = Command::new("bash");
    c.args(["-c", script])
        .arg(strom_bin())
        .arg(&broker.addr)
        .env("NO_COLOR", "1");
    let out = run_with_timeout(c, None, COMMAND_TIMEOUT);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "strom's own status: {stderr}");
    assert_eq!(text(&out.stdout), "line-000000\n");
    assert!(!stderr.contains("error"), "quiet: {stderr}");
    assert!(stderr.contains("Processed a total of"), "{stderr}");

    let script = "\"$0\" topics describe -b \"$1\" | head -c 1 >/dev/null; exit ${PIPESTATUS[0]}";
    let mut c = Command::new("bash");
    c.args(["-c", script]).arg(strom_bin()).arg(&broker.addr);
    let out = run_with_timeout(c, None, COMMAND_TIMEOUT);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn sigint_stops_consume_cleanly_with_its_total() {
    let broker = Broker::start();
    broker.create_topic("int-t", 1);
    broker.ok(&["produce", "-t", "int-t"], Some(b"a\nb\n"));
    let mut child = broker
        .cmd(&["consume", "-t", "int-t", "-o", "beginning"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn consume");
    // Wait for the records, then interrupt.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !text(&got).contains("b\n") && Instant::now() < deadline {
        let mut buf = [0u8; 64];
        match std::io::Read::read(&mut stdout, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = common::wait_with_deadline(&mut child, Duration::from_secs(30));
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.contains("Processed a total of 2 messages"), "{err}");
}

// ---- colour ----------------------------------------------------------------

/// Runs `cmd` in a tmux pseudo-terminal and returns the screen with its
/// colour escapes (capture-pane -e).
fn on_terminal(socket: &str, cmd: &str) -> String {
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", socket])
            .args(args)
            .output()
            .expect("tmux")
    };
    let full = format!("{cmd}; echo DONE-MARK; sleep 30");
    tmux(&[
        "new-session",
        "-d",
        "-s",
        "c",
        "-x",
        "150",
        "-y",
        "20",
        &full,
    ]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let screen = loop {
        let s = text(&tmux(&["capture-pane", "-e", "-p", "-t", "c"]).stdout);
        if s.contains("DONE-MARK") || Instant::now() > deadline {
            break s;
        }
        thread::sleep(Duration::from_millis(50));
    };
    tmux(&["kill-server"]);
    screen
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    if !Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipping colour test: tmux is not installed (scripts/test.sh installs it)");
        return;
    }
    let bin = strom_bin();
    let cmd = format!(
        "env -u NO_COLOR TERM=xterm-256color {} topics list -b {}",
        bin.display(),
        dead_addr()
    );
    let socket = format!("strom-colour-{}", std::process::id());
    let coloured = on_terminal(&socket, &cmd);
    assert!(coloured.contains("error:"), "{coloured}");
    assert!(
        coloured.contains('\x1b'),
        "colour on a terminal: {coloured:?}"
    );

    let cmd = format!(
        "env NO_COLOR=1 TERM=xterm-256color {} topics list -b {}",
        bin.display(),
        dead_addr()
    );
    // A server of its own: the first one may still be shutting down.
    let plain = on_terminal(&format!("{socket}-nc"), &cmd);
    assert!(plain.contains("error:"), "{plain}");
    assert!(!plain.contains('\x1b'), "NO_COLOR: {plain:?}");

    // Piped: never colour, whatever the environment says.
    let mut c = strom();
    c.env_remove("NO_COLOR")
        .args(["topics", "list", "-b", &dead_addr()]);
    let out = run(c);
    assert!(!text(&out.stderr).contains('\x1b'));
}

// ---- settings precedence -----------------------------------------------------

fn config_home(body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let strom_dir = dir.path().join("strom");
    std::fs::create_dir_all(&strom_dir).expect("mkdir");
    std::fs::write(strom_dir.join("config.toml"), body).expect("write config");
    dir
}

fn show(home: &Path, env: &[(&str, &str)], args: &[&str]) -> serde_json::Value {
    let mut c = strom();
    c.env("XDG_CONFIG_HOME", home)
        .args(["config", "show", "--output", "json"])
        .args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = run_with_timeout(c, None, COMMAND_TIMEOUT);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("config show json")
}

fn setting(v: &serde_json::Value, name: &str) -> (String, String) {
    (
        v[name]["value"].as_str().unwrap_or("-").to_string(),
        v[name]["source"].as_str().unwrap_or("?").to_string(),
    )
}

const PROFILES: &str = "default-profile = \"local\"\n\n\
    [profiles.local]\nbootstrap-server = \"profhost:1\"\noutput = \"table\"\n\n\
    [profiles.other]\nbootstrap-server = \"otherhost:2\"\n";

#[test]
fn config_show_reports_flag_over_env_over_profile_over_default() {
    let home = config_home(PROFILES);
    let h = home.path();

    let v = show(h, &[], &[]);
    assert_eq!(
        setting(&v, "bootstrap_server"),
        ("profhost:1".into(), "profile local".into())
    );
    assert_eq!(
        setting(&v, "profile"),
        ("local".into(), "config default-profile".into())
    );

    let v = show(h, &[("STROM_PROFILE", "other")], &[]);
    assert_eq!(
        setting(&v, "bootstrap_server"),
        ("otherhost:2".into(), "profile other".into())
    );
    assert_eq!(
        setting(&v, "profile"),
        ("other".into(), "env STROM_PROFILE".into())
    );

    let v = show(h, &[("STROM_PROFILE", "local")], &["--profile", "other"]);
    assert_eq!(setting(&v, "profile"), ("other".into(), "flag".into()));

    let v = show(h, &[("STROM_BOOTSTRAP_SERVER", "envhost:3")], &[]);
    assert_eq!(
        setting(&v, "bootstrap_server"),
        ("envhost:3".into(), "env STROM_BOOTSTRAP_SERVER".into())
    );

    let v = show(
        h,
        &[("STROM_BOOTSTRAP_SERVER", "envhost:3")],
        &["-b", "flaghost:4"],
    );
    assert_eq!(
        setting(&v, "bootstrap_server"),
        ("flaghost:4".into(), "flag".into())
    );
    assert_eq!(setting(&v, "output"), ("json".into(), "flag".into()));

    let empty = tempfile::tempdir().expect("tempdir");
    let v = show(empty.path(), &[], &[]);
    assert_eq!(
        setting(&v, "bootstrap_server"),
        ("localhost:9092".into(), "default".into())
    );
    assert_eq!(v["config_found"], false);

    // Without --output, the profile's output applies to `config show` too.
    let mut c = strom();
    c.env("XDG_CONFIG_HOME", h).args(["config", "show"]);
    let out = run_with_timeout(c, None, COMMAND_TIMEOUT);
    let table = text(&out.stdout);
    assert!(
        table.contains("SETTING") && table.contains("profile local"),
        "{table}"
    );
    let mut c = strom();
    c.env("XDG_CONFIG_HOME", h)
        .env("STROM_OUTPUT", "plain")
        .args(["config", "show"]);
    let plain = text(&run_with_timeout(c, None, COMMAND_TIMEOUT).stdout);
    assert!(plain.contains("output=plain (env STROM_OUTPUT)"), "{plain}");
}

#[test]
fn bad_profiles_are_usage_errors() {
    let home = config_home(PROFILES);
    let mut c = strom();
    c.env("XDG_CONFIG_HOME", home.path())
        .args(["config", "show", "--profile", "nope"]);
    let out = run_with_timeout(c, None, COMMAND_TIMEOUT);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("profile \"nope\" is not defined"),
        "{stderr}"
    );

    let broken = config_home("[profiles.x]\nbootstrap = \"typo\"\n");
    let mut c = strom();
    c.env("XDG_CONFIG_HOME", broken.path())
        .args(["topics", "list"]);
    let out = run_with_timeout(c, None, COMMAND_TIMEOUT);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("invalid config file"));
}

#[test]
fn a_profile_really_picks_the_broker_and_output() {
    let broker = Broker::start();
    broker.create_topic("prof-t", 1);
    let home = config_home(&format!(
        "default-profile = \"here\"\n[profiles.here]\nbootstrap-server = \"{}\"\noutput = \"json\"\n",
        broker.addr
    ));
    let mut c = strom();
    c.env("XDG_CONFIG_HOME", home.path())
        .args(["topics", "list"]);
    let out = run_with_timeout(c, None, COMMAND_TIMEOUT);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let names: Vec<String> = serde_json::from_slice(&out.stdout).expect("json from the profile");
    assert_eq!(names, ["prof-t"]);

    // An explicit layout (-f) beats the profile's output.
    broker.ok(&["produce", "-t", "prof-t"], Some(b"v1\n"));
    let mut c = strom();
    c.env("XDG_CONFIG_HOME", home.path()).args([
        "consume",
        "-t",
        "prof-t",
        "-o",
        "beginning",
        "-e",
        "-f",
        "%s\\n",
    ]);
    let out = run_with_timeout(c, None, COMMAND_TIMEOUT);
    assert_eq!(text(&out.stdout), "v1\n", "{}", text(&out.stderr));
}
