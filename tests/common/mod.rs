//! Shared harness for tests that run the real `strom` binary: start a
//! broker on a free port in a temporary directory, wait for its ready line
//! (with a deadline, never a fixed sleep), run client commands with a
//! timeout, and kill everything on drop.
//!
//! The broker announces itself on stderr with exactly one line:
//! `strom: listening on 127.0.0.1:PORT (native and kafka)`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Clusters of brokers: `Cluster`, its `Node`s and waits on them.
pub mod cluster;
/// `strom connect standalone` runs and their logs.
pub mod connect;
/// Raw HTTP requests to `--metrics` and `--ui`.
pub mod http;
/// A throwaway PostgreSQL server.
pub mod postgres;
pub mod stream;
/// tmux sessions for interactive tests.
pub mod tmux;

pub const READY_TIMEOUT: Duration = Duration::from_secs(30);
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// The binary under test.
pub fn strom_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_strom"))
}

/// A `strom` command with a clean, colourless environment.
pub fn strom() -> Command {
    clean_env(Command::new(strom_bin()))
}

/// `strom` run with an open-file limit of `n` (soft and hard), through
/// `sh -c 'ulimit -n N; exec strom ...'`; the same clean environment.
pub fn strom_with_open_files(n: u64) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
        .arg(strom_bin());
    clean_env(c)
}

fn clean_env(mut c: Command) -> Command {
    c.env("NO_COLOR", "1")
        .env_remove("STROM_BOOTSTRAP_SERVER")
        .env_remove("RUST_LOG");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("STROM_") {
            c.env_remove(k);
        }
    }
    c
}

/// A running `strom serve`, killed on drop.
pub struct Broker {
    child: Option<Child>,
    /// `HOST:PORT` parsed from the ready line.
    pub addr: String,
    dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    extra_args: Vec<String>,
    /// `--listen`: port 0 (a new port each start) unless fixed.
    listen: String,
    /// An open-file limit for the broker process, kept across restarts.
    open_files: Option<u64>,
}

impl Broker {
    /// A broker on a fresh temporary data directory.
    pub fn start() -> Broker {
        Broker::start_with(&[])
    }

    /// Like `start`, with extra `serve` flags.
    pub fn start_with(extra: &[&str]) -> Broker {
        Broker::start_listening("127.0.0.1:0".to_string(), extra)
    }

    /// A broker that listens on the same port in every life, so clients
    /// started before a restart can reach it again afterwards.
    pub fn start_on_fixed_port(extra: &[&str]) -> Broker {
        Broker::start_listening(format!("127.0.0.1:{}", free_port()), extra)
    }

    /// Like `start_with`, the broker limited to `n` open files.
    pub fn start_with_open_files(n: u64, extra: &[&str]) -> Broker {
        Broker::start_full("127.0.0.1:0".to_string(), extra, Some(n))
    }

    fn start_listening(listen: String, extra: &[&str]) -> Broker {
        Broker::start_full(listen, extra, None)
    }

    fn start_full(listen: String, extra: &[&str], open_files: Option<u64>) -> Broker {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().to_path_buf();
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let (child, addr) = spawn_broker(&dir, &listen, &extra, open_files);
        Broker {
            child: Some(child),
            addr,
            dir,
            _tmp: Some(tmp),
            extra_args: extra,
            listen,
            open_files,
        }
    }

    /// Starts the broker again after `stop` or `kill`, on the same data
    /// directory (and port, if fixed); waits for its ready line.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "the broker still runs");
        let (child, addr) =
            spawn_broker(&self.dir, &self.listen, &self.extra_args, self.open_files);
        self.child = Some(child);
        self.addr = addr;
    }

    /// SIGKILL: nothing flushed beyond what the broker already wrote.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The broker process's id, while it runs (e.g. to count its fds).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    /// Stops the broker (SIGKILL-free when possible) and starts it again on
    /// the same data directory; `addr` is updated (the port may change).
    pub fn restart(&mut self) {
        self.stop();
        self.start_again();
    }

    /// Stops the broker: SIGTERM first so it can flush, then a kill after
    /// a deadline.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) => return,
                    Ok(None) if Instant::now() < deadline => {
                        thread::sleep(Duration::from_millis(20))
                    }
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        return;
                    }
                }
            }
        }
    }

    /// `strom <args> -b <addr>`.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = strom();
        c.args(args).args(["-b", &self.addr]);
        c
    }

    /// Runs a client command against this broker.
    pub fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        run_with_timeout(self.cmd(args), stdin, COMMAND_TIMEOUT)
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "strom {args:?} failed ({:?}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Creates a topic with `partitions` partitions.
    pub fn create_topic(&self, name: &str, partitions: u32) {
        self.ok(
            &[
                "topics",
                "create",
                name,
                "--partitions",
                &partitions.to_string(),
            ],
            None,
        );
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn_broker(
    dir: &Path,
    listen: &str,
    extra: &[String],
    open_files: Option<u64>,
) -> (Child, String) {
    let mut child = open_files
        .map_or_else(strom, strom_with_open_files)
        .args(["serve", "--listen", listen, "--data-dir"])
        .arg(dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn strom serve");
    let stderr = child.stderr.take().expect("broker stderr");
    let (tx, rx) = mpsc::channel();
    // Keeps draining stderr after the ready line so the broker never blocks
    // on a full pipe; lines are echoed for test failure diagnostics.
    thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            eprintln!("[broker] {line}");
            if !sent {
                if let Some(addr) = parse_ready_line(&line) {
                    let _ = tx.send(addr);
                    sent = true;
                }
            }
        }
    });
    match rx.recv_timeout(READY_TIMEOUT) {
        Ok(addr) => (child, addr),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("strom serve did not print its ready line within {READY_TIMEOUT:?}");
        }
    }
}

/// `strom: listening on 127.0.0.1:PORT (native and kafka)` → `127.0.0.1:PORT`.
pub fn parse_ready_line(line: &str) -> Option<String> {
    let rest = line.split("listening on ").nth(1)?;
    let addr = rest.split_whitespace().next()?;
    addr.rsplit_once(':')?.1.parse::<u16>().ok()?;
    Some(addr.to_string())
}

/// Runs a command, feeding `stdin` from a thread, and kills it if it does
/// not finish in time.
pub fn run_with_timeout(mut cmd: Command, stdin: Option<&[u8]>, timeout: Duration) -> Output {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn strom");
    let feeder = stdin.map(|data| {
        let data = data.to_vec();
        let mut pipe = child.stdin.take().expect("stdin");
        thread::spawn(move || {
            let _ = pipe.write_all(&data);
        })
    });
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out_reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let status = wait_with_deadline(&mut child, timeout);
    if let Some(f) = feeder {
        let _ = f.join();
    }
    Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

/// Waits for a child; kills it and panics when the deadline passes.
pub fn wait_with_deadline(child: &mut Child, timeout: Duration) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("command did not finish within {timeout:?}");
            }
        }
    }
}

/// `n` distinct, newline-terminated lines.
pub fn numbered_lines(n: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(n * 16);
    for i in 0..n {
        writeln!(v, "line-{i:06}").expect("write to Vec");
    }
    v
}

/// A port on 127.0.0.1 that was free a moment ago, for a broker to
/// listen on later (and again after a restart).
///
/// Taken below the kernel's ephemeral range: a port from there (what
/// binding port 0 gives) can become the source port of any outgoing
/// connection, a broker's own among them, between the test noting it
/// and the broker binding it ("Address already in use"). Each test
/// binary walks its own stretch of the range (from its pid), and within
/// one a shared cursor never hands a port out twice.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static CURSOR: AtomicU32 = AtomicU32::new(u32::MAX);
    const LOW: u32 = 10_000;
    let high = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u32>().ok())
        .filter(|h| *h > LOW + 1_000)
        .unwrap_or(32_768);
    let span = high - LOW;
    let _ = CURSOR.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7_919) % span,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..span {
        let port = (LOW + CURSOR.fetch_add(1, Ordering::SeqCst) % span) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port on 127.0.0.1 between {LOW} and {high}")
}

/// Sends `signal` (e.g. "-TERM") to a process through `kill(1)`.
pub fn send_signal(pid: u32, signal: &str) {
    let ok = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill {signal} {pid} failed");
}

/// Waits for a child to exit by itself (no kill) until `deadline`;
/// `None` when it is still running then.
pub fn wait_exit(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            _ => return None,
        }
    }
}
