//! The CLI's clients survive broker restarts (issue 20, item 2): `strom
//! produce` fed slowly through a pipe, and `strom consume` with and without
//! `--group`, keep working while their broker is stopped (SIGTERM) or killed
//! (SIGKILL) and started again on the same port, and while a three-broker
//! cluster is restarted one broker at a time.
//!
//! The producer must deliver every line, idempotently (none written twice),
//! and never fall back to sending without idempotence; the consumers must
//! keep printing records produced after the restart.
//!
//! Waits are deadlines on what the processes print and what the metadata
//! shows; the feeder's pace is load, not waiting.
mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::cluster::{self, connect, runtime, Cluster, Deadline};
use common::Broker;

/// How long any one wait of these tests may take.
const WAIT: Duration = Duration::from_secs(60);
/// The feeder's pace: one line per this.
const PACE: Duration = Duration::from_millis(20);
/// What the producer must never print.
const FALLBACK: &str = "without idempotence";

/// Lines a child printed on one of its pipes, collected by a thread.
#[derive(Clone, Default)]
struct Printed(Arc<Mutex<Vec<String>>>);

impl Printed {
    fn collect(pipe: impl Read + Send + 'static) -> Printed {
        let p = Printed::default();
        let lines = p.0.clone();
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                lines.lock().unwrap().push(line);
            }
        });
        p
    }

    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    fn text(&self) -> String {
        self.lines().join("\n")
    }

    fn has_all(&self, want: &[String]) -> bool {
        let have = self.lines();
        want.iter().all(|w| have.contains(w))
    }
}

/// A running client command with its stdout and stderr collected.
struct Running {
    child: Child,
    out: Printed,
    err: Printed,
    what: String,
}

impl Running {
    fn spawn(
        mut cmd: std::process::Command,
        what: &str,
        stdin: bool,
    ) -> (Running, Option<ChildStdin>) {
        let mut child = cmd
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn strom");
        let input = child.stdin.take();
        let out = Printed::collect(child.stdout.take().expect("stdout"));
        let err = Printed::collect(child.stderr.take().expect("stderr"));
        let r = Running {
            child,
            out,
            err,
            what: what.to_string(),
        };
        (r, input)
    }

    /// Waits until `f` holds; panics at the deadline or when the command
    /// exits first.
    fn wait_until(&mut self, what: &str, f: impl Fn(&Printed) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            if f(&self.out) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Its last lines may still be in the pipe.
                thread::sleep(Duration::from_millis(200));
                if f(&self.out) {
                    return;
                }
                panic!(
                    "{} exited ({status}) before {what}; stderr:\n{}\nstdout:\n{}",
                    self.what,
                    self.err.text(),
                    self.out.text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{}: no {what} within {WAIT:?}; stderr:\n{}",
                self.what,
                self.err.text()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Like `wait_until`, on what the command printed to stderr.
    fn wait_until_stderr(&mut self, what: &str, f: impl Fn(&Printed) -> bool) {
        let err = self.err.clone();
        self.wait_until(what, move |_| f(&err));
    }

    /// Waits for the command to exit by itself.
    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + WAIT;
        match common::wait_exit(&mut self.child, deadline) {
            Some(s) => {
                // Let the collectors drain the pipes.
                thread::sleep(Duration::from_millis(100));
                s
            }
            None => panic!(
                "{} did not exit within {WAIT:?}; stderr:\n{}",
                self.what,
                self.err.text()
            ),
        }
    }

    /// Ctrl-C, then waits for the exit.
    fn interrupt(&mut self) {
        common::send_signal(self.child.id(), "-INT");
        self.wait_exit();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `line-N` lines into a producer's stdin at `PACE`, until `stop`
/// (or `limit` lines); then closes stdin. Returns how many it wrote.
struct Feeder {
    fed: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    handle: JoinHandle<usize>,
}

fn line(i: usize) -> String {
    format!("line-{i:06}")
}

impl Feeder {
    fn start(mut stdin: ChildStdin, limit: usize) -> Feeder {
        let fed = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (f, s) = (fed.clone(), stop.clone());
        let handle = thread::spawn(move || {
            let mut n = 0;
            while n < limit && !s.load(Ordering::SeqCst) {
                if writeln!(stdin, "{}", line(n))
                    .and_then(|()| stdin.flush())
                    .is_err()
                {
                    break; // the producer exited: the test reports why
                }
                n += 1;
                f.store(n, Ordering::SeqCst);
                thread::sleep(PACE);
            }
            n
        });
        Feeder { fed, stop, handle }
    }

    fn fed(&self) -> usize {
        self.fed.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` lines were written.
    fn wait_fed(&self, n: usize) {
        let deadline = Instant::now() + WAIT;
        while self.fed() < n {
            assert!(
                !self.handle.is_finished(),
                "the producer stopped reading after {} lines",
                self.fed()
            );
            assert!(
                Instant::now() < deadline,
                "feeding stalled at {}",
                self.fed()
            );
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops feeding, closes stdin; returns the number of lines written.
    fn finish(self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().expect("feeder")
    }
}

/// Every line 0..n once: returns (missing, duplicated).
fn check_lines(read: &[String], n: usize) -> (Vec<String>, Vec<String>) {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for l in read {
        *count.entry(l.as_str()).or_default() += 1;
    }
    let missing = (0..n)
        .map(line)
        .filter(|l| !count.contains_key(l.as_str()))
        .collect();
    let dup = count
        .iter()
        .filter(|(_, c)| **c > 1)
        .map(|(l, c)| format!("{l} x{c}"))
        .collect();
    (missing, dup)
}

/// How a broker goes away.
#[derive(Clone, Copy, Debug)]
enum Stop {
    Term,
    Kill,
}

fn stop_broker(b: &mut Broker, how: Stop) {
    match how {
        Stop::Term => b.stop(),
        Stop::Kill => b.kill(),
    }
}

/// `strom produce` fed slowly; the broker goes away after 40 lines, more
/// lines are fed while it is down, then it comes back on the same port.
fn produce_across_a_restart(how: Stop) {
    let mut b = Broker::start_on_fixed_port(&[]);
    b.create_topic("t", 2);
    let (mut producer, stdin) = Running::spawn(b.cmd(&["produce", "-t", "t"]), "produce", true);
    let feeder = Feeder::start(stdin.expect("stdin"), usize::MAX);
    feeder.wait_fed(40);
    stop_broker(&mut b, how);
    // Lines keep coming while the broker is down (a second's worth).
    let down_at = feeder.fed();
    feeder.wait_fed(down_at + 50);
    b.start_again();
    let up_at = feeder.fed();
    feeder.wait_fed(up_at + 40);
    let n = feeder.finish();
    let status = producer.wait_exit();
    let stderr = producer.err.text();
    assert!(
        status.success(),
        "produce failed ({status}) after the restart ({how:?}):\n{stderr}"
    );
    assert!(
        !stderr.contains(FALLBACK),
        "the producer gave up idempotence:\n{stderr}"
    );

    let out = b.ok(&["consume", "-t", "t", "--from-beginning", "-e"], None);
    let read: Vec<String> = String::from_utf8_lossy(&out)
        .lines()
        .map(str::to_string)
        .collect();
    let (missing, dup) = check_lines(&read, n);
    println!(
        "produce across a restart ({how:?}): {n} lines fed, {down_at}..{up_at} while the broker was down; read {}, missing {}, duplicated {}",
        read.len(),
        missing.len(),
        dup.len()
    );
    assert!(
        missing.is_empty(),
        "lines lost: {:?}",
        &missing[..missing.len().min(5)]
    );
    assert!(
        dup.is_empty(),
        "lines written twice: {:?}",
        &dup[..dup.len().min(5)]
    );
}

#[test]
fn produce_survives_a_broker_sigterm_and_restart() {
    produce_across_a_restart(Stop::Term);
}

#[test]
fn produce_survives_a_broker_sigkill_and_restart() {
    produce_across_a_restart(Stop::Kill);
}

fn produce_lines(b: &Broker, prefix: &str, n: usize) -> Vec<String> {
    let lines: Vec<String> = (0..n).map(|i| format!("{prefix}-{i}")).collect();
    let input = lines.join("\n") + "\n";
    b.ok(&["produce", "-t", "t"], Some(input.as_bytes()));
    lines
}

/// `strom consume` (with `group`: as a group member) prints what was
/// produced before the restart, keeps running while the broker is down and
/// prints what is produced after it came back.
fn consume_across_a_restart(how: Stop, group: Option<&str>) {
    let mut b = Broker::start_on_fixed_port(&[]);
    b.create_topic("t", 2);
    let mut args = vec!["consume", "-t", "t", "--from-beginning"];
    if let Some(g) = group {
        args.extend(["--group", g]);
    }
    let (mut consumer, _) = Running::spawn(b.cmd(&args), "consume", false);
    let before = produce_lines(&b, "before", 20);
    consumer.wait_until("the records produced before the restart", |p| {
        p.has_all(&before)
    });
    stop_broker(&mut b, how);
    // Down long enough for the consumer to notice, and then for a second,
    // as in the reproduction.
    consumer.wait_until_stderr("the consumer noticing the broker is gone", |p| {
        p.text().contains("reconnecting")
    });
    thread::sleep(Duration::from_secs(1));
    b.start_again();
    let after = produce_lines(&b, "after", 20);
    consumer.wait_until("the records produced after the restart", |p| {
        p.has_all(&after)
    });
    consumer.interrupt();
    let lines = consumer.out.lines();
    println!(
        "consume across a restart ({how:?}, group {group:?}): printed {} lines for 40 records",
        lines.len()
    );
    for l in before.iter().chain(&after) {
        assert!(lines.contains(l), "{l} was not printed");
    }
}

#[test]
fn consume_survives_a_broker_sigterm_and_restart() {
    consume_across_a_restart(Stop::Term, None);
}

#[test]
fn consume_survives_a_broker_sigkill_and_restart() {
    consume_across_a_restart(Stop::Kill, None);
}

#[test]
fn group_consume_survives_a_broker_sigterm_and_restart() {
    consume_across_a_restart(Stop::Term, Some("g1"));
}

#[test]
fn group_consume_survives_a_broker_sigkill_and_restart() {
    consume_across_a_restart(Stop::Kill, Some("g1"));
}

fn full_isr(t: &strom::client::TopicInfo) -> bool {
    t.partitions.len() == 3
        && t.partitions
            .iter()
            .all(|p| p.leader >= 0 && p.isr.len() == 3)
}

/// A producer fed slowly, a consumer and a group member run while each of
/// three brokers in turn is stopped (SIGTERM) and started again. The
/// consumer bootstraps from the first broker only, so while that one is
/// down it must find the cluster through the brokers the metadata named.
#[test]
fn clients_survive_a_rolling_restart_of_three_brokers() {
    let deadline = Instant::now() + Duration::from_secs(150);
    let rt = runtime();
    let mut c = Cluster::new(3, Deadline::At(deadline))
        .flags(&[
            "--broker-session-timeout-ms",
            "6000",
            "--replica-lag-time-max-ms",
            "5000",
        ])
        .start();
    rt.block_on(cluster::create_topic(&c, "t", 3, &[]));
    let admin = rt.block_on(connect(&c.bootstrap()));
    // Every broker knows the topic before a client asks any of them.
    for n in &c.nodes {
        let one = rt.block_on(connect(&n.addr()));
        rt.block_on(cluster::until_metadata(
            &one,
            "t",
            "a full ISR",
            deadline,
            Duration::from_millis(50),
            full_isr,
        ));
    }
    let cmd = |args: &[&str], bootstrap: &str| {
        let mut cmd = common::strom();
        cmd.args(args).args(["-b", bootstrap]);
        cmd
    };
    let all = c.bootstrap();
    let first = c.nodes[0].addr();
    // And every leader has opened its partition (ListOffsets answers).
    loop {
        let (ok, _, err) = cluster::run_client(&["consume", "-t", "t", "-e"], &first, None, WAIT);
        if ok {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the topic never became readable: {err}"
        );
        thread::sleep(Duration::from_millis(100));
    }
    let (mut direct, _) = Running::spawn(
        cmd(&["consume", "-t", "t", "--from-beginning"], &first),
        "consume",
        false,
    );
    let (mut member, _) = Running::spawn(
        cmd(
            &["consume", "-t", "t", "--from-beginning", "--group", "roll"],
            &all,
        ),
        "consume --group",
        false,
    );
    let (mut producer, stdin) = Running::spawn(cmd(&["produce", "-t", "t"], &all), "produce", true);
    let feeder = Feeder::start(stdin.expect("stdin"), usize::MAX);
    feeder.wait_fed(30);
    for i in 0..3 {
        let id = c.nodes[i].id;
        c.signal(i, "-TERM");
        assert!(c.wait_exit(i).is_some(), "broker {id} did not stop");
        let down_at = feeder.fed();
        feeder.wait_fed(down_at + 25);
        c.restart(i);
        rt.block_on(cluster::until_metadata(
            &admin,
            "t",
            "the restarted broker back in every ISR",
            deadline,
            Duration::from_millis(50),
            full_isr,
        ));
        println!("rolling restart: broker {id} back at line {}", feeder.fed());
    }
    let last = feeder.fed();
    feeder.wait_fed(last + 20);
    let n = feeder.finish();
    let status = producer.wait_exit();
    let stderr = producer.err.text();
    assert!(
        status.success(),
        "produce failed ({status}) in the rolling restart:\n{stderr}"
    );
    assert!(
        !stderr.contains(FALLBACK),
        "the producer gave up idempotence:\n{stderr}"
    );

    let want: Vec<String> = (0..n).map(line).collect();
    direct.wait_until("every line after the rolling restart", |p| p.has_all(&want));
    member.wait_until("every line after the rolling restart", |p| p.has_all(&want));
    direct.interrupt();
    member.interrupt();

    let (ok, out, err) = cluster::run_client(
        &["consume", "-t", "t", "--from-beginning", "-e"],
        &all,
        None,
        WAIT,
    );
    assert!(ok, "reading back failed: {err}");
    let read: Vec<String> = out.lines().map(str::to_string).collect();
    let (missing, dup) = check_lines(&read, n);
    println!(
        "rolling restart: {n} lines fed; read back {}, missing {}, duplicated {}; consumer printed {}, group member {}",
        read.len(),
        missing.len(),
        dup.len(),
        direct.out.lines().len(),
        member.out.lines().len()
    );
    assert!(
        missing.is_empty(),
        "lines lost: {:?}",
        &missing[..missing.len().min(5)]
    );
    assert!(
        dup.is_empty(),
        "lines written twice: {:?}",
        &dup[..dup.len().min(5)]
    );
    c.keep_if_asked();
}
