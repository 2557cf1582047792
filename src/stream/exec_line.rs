//! The long-lived child processor (`--exec line`): one child per task for
//! as long as the task lives; one line in, one line out, in order. An
//! empty output line drops its record. The child must answer each line
//! before its output is flushed by itself, so use unbuffered modes
//! (`sed -u`, `mawk -W interactive`, `jq --unbuffered`, `grep
//! --line-buffered`; mawk buffers its input otherwise).
//!
//! A child that exits, or does not answer a line within `--timeout-ms`, is
//! killed and restarted, and the lines it did not answer are sent again
//! (with backoff, up to `--retries` times for the same line). When a line's
//! retries are spent the batch fails.
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::exec::ExecConfig;
use super::{Failure, Processor, Record};

const STDERR_TAIL: usize = 2048;

struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Vec<u8>>,
    stderr_tail: Arc<Mutex<Vec<u8>>>,
}

pub struct LineProcessor {
    config: ExecConfig,
    running: Option<Running>,
}

impl LineProcessor {
    pub fn new(config: ExecConfig) -> LineProcessor {
        LineProcessor {
            config,
            running: None,
        }
    }

    fn spawn(&self) -> Result<Running, Failure> {
        let mut child = Command::new(&self.config.program)
            .args(&self.config.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Failure {
                error: format!("cannot start {}: {e}", self.config.program),
                ..Failure::default()
            })?;
        let stdin = child.stdin.take();
        let (tx, lines) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            thread::spawn(move || {
                let mut r = BufReader::new(out);
                loop {
                    let mut line = Vec::new();
                    match r.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            if line.last() == Some(&b'\n') {
                                line.pop();
                            }
                            if tx.send(line).is_err() {
                                break;
                            }
                        }
                    }
                }
            });
        }
        let stderr_tail = Arc::new(Mutex::new(Vec::new()));
        if let Some(mut err) = child.stderr.take() {
            let tail = stderr_tail.clone();
            thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let _ = std::io::stderr().write_all(&buf[..n]);
                    let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
                    t.extend_from_slice(&buf[..n]);
                    if t.len() > STDERR_TAIL {
                        let cut = t.len() - STDERR_TAIL;
                        t.drain(..cut);
                    }
                }
            });
        }
        Ok(Running {
            child,
            stdin,
            lines,
            stderr_tail,
        })
    }

    /// Kills the running child and describes why it is gone.
    fn kill(&mut self, error: String) -> Failure {
        let Some(mut r) = self.running.take() else {
            return Failure {
                error,
                ..Failure::default()
            };
        };
        drop(r.stdin.take());
        let _ = r.child.kill();
        let code = r.child.wait().ok().and_then(|s| s.code());
        let stderr_tail = r.stderr_tail.lock().map(|t| t.clone()).unwrap_or_default();
        Failure {
            error,
            exit_code: code,
            stderr_tail,
        }
    }
}

impl Drop for LineProcessor {
    fn drop(&mut self) {
        if let Some(mut r) = self.running.take() {
            drop(r.stdin.take());
            let _ = r.child.kill();
            let _ = r.child.wait();
        }
    }
}

impl Processor for LineProcessor {
    fn process(&mut self, batch: &[Record]) -> Result<Vec<Record>, Failure> {
        let format = self.config.format;
        let mut framed = Vec::with_capacity(batch.len());
        for r in batch {
            let mut line = Vec::new();
            format.encode(r, &mut line).map_err(|error| Failure {
                error,
                ..Failure::default()
            })?;
            framed.push(line);
        }
        let mut out = Vec::new();
        let mut next = 0;
        let mut attempts = 0;
        let mut backoff = self.config.backoff;
        while next < framed.len() {
            if self.running.is_none() {
                self.running = Some(self.spawn()?);
            }
            let Some(run) = self.running.as_mut() else {
                continue;
            };
            // Written from a thread while we read, so neither pipe fills.
            let Some(mut stdin) = run.stdin.take() else {
                return Err(self.kill("child stdin closed".into()));
            };
            let todo: Vec<u8> = framed[next..].concat();
            let writer = thread::spawn(move || {
                let ok = stdin.write_all(&todo).and_then(|()| stdin.flush()).is_ok();
                (stdin, ok)
            });
            let mut failed = None;
            while next < framed.len() {
                match run.lines.recv_timeout(self.config.timeout) {
                    Ok(line) => {
                        if !line.is_empty() {
                            out.push(format.decode(&line).map_err(|e| Failure {
                                error: format!("bad output line: {e}"),
                                ..Failure::default()
                            })?);
                        }
                        next += 1;
                        attempts = 0;
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        failed = Some(format!(
                            "no answer within {} ms",
                            self.config.timeout.as_millis()
                        ));
                        break;
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        failed = Some(format!("{} exited", self.config.program));
                        break;
                    }
                }
            }
            let Some(error) = failed else {
                if let Ok((stdin, _)) = writer.join() {
                    if let Some(r) = self.running.as_mut() {
                        r.stdin = Some(stdin);
                    }
                }
                continue;
            };
            let failure = self.kill(error);
            let _ = writer.join();
            let stopping = self.config.stop.as_ref().is_some_and(|s| s.is_set());
            if attempts >= self.config.retries || stopping {
                return Err(failure);
            }
            tracing::warn!(error = %failure, attempt = attempts, "line child failed, restarting");
            attempts += 1;
            thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
        Ok(out)
    }
}
