//! The child-process processor (`--exec batch`): one child per task batch.
//! The batch is written framed to its stdin, which is then closed; once it
//! exits 0 each stdout line is one output record. So any filter works,
//! including ones that read all input first (`sort | uniq -c`).
//!
//! A non-zero exit, a death by signal or `--timeout-ms` is retried with
//! exponential backoff; when the retries are spent the batch fails with
//! the last [`Failure`]. The child's stderr passes through to ours, and its
//! tail is kept for the dead letter.
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::{Failure, Format, Processor, Record};
use crate::client::blocking::StopSignal;

/// How much of the child's stderr a dead letter keeps.
const STDERR_TAIL: usize = 2048;

#[derive(Clone)]
pub struct ExecConfig {
    pub program: String,
    pub args: Vec<String>,
    pub format: Format,
    /// Extra attempts after the first failure.
    pub retries: u32,
    pub timeout: Duration,
    pub backoff: Duration,
    /// Stops retrying once set (the stream is shutting down).
    pub stop: Option<Arc<StopSignal>>,
}

pub struct ExecProcessor {
    config: ExecConfig,
}

impl ExecProcessor {
    pub fn new(config: ExecConfig) -> ExecProcessor {
        ExecProcessor { config }
    }

    fn stopping(&self) -> bool {
        self.config.stop.as_ref().is_some_and(|s| s.is_set())
    }

    fn run_once(&self, input: &[u8]) -> Result<Vec<u8>, Failure> {
        let fail = |error: String| Failure {
            error,
            ..Failure::default()
        };
        let mut child = Command::new(&self.config.program)
            .args(&self.config.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| fail(format!("cannot start {}: {e}", self.config.program)))?;
        let (Some(mut stdin), Some(mut stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(fail("child pipes missing".into()));
        };
        let input = input.to_vec();
        // A child that exits without reading everything closes the pipe;
        // its exit status decides, not the write error.
        let writer = thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let reader = thread::spawn(move || {
            let mut out = Vec::new();
            let _ = stdout.read_to_end(&mut out);
            out
        });
        let err_reader = thread::spawn(move || {
            let mut tail: Vec<u8> = Vec::new();
            let mut buf = [0u8; 8192];
            loop {
                match stderr.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let _ = std::io::stderr().write_all(&buf[..n]);
                        tail.extend_from_slice(&buf[..n]);
                        if tail.len() > STDERR_TAIL {
                            tail.drain(..tail.len() - STDERR_TAIL);
                        }
                    }
                }
            }
            tail
        });
        let deadline = Instant::now() + self.config.timeout;
        let mut timed_out = false;
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break Ok(s),
                Ok(None) if Instant::now() >= deadline => {
                    timed_out = true;
                    let _ = child.kill();
                    break child.wait();
                }
                Ok(None) => thread::sleep(Duration::from_millis(2)),
                Err(e) => break Err(e),
            }
        };
        let _ = writer.join();
        let out = reader.join().unwrap_or_default();
        let stderr_tail = err_reader.join().unwrap_or_default();
        let status = status.map_err(|e| fail(format!("waiting for the child: {e}")))?;
        if timed_out {
            return Err(Failure {
                error: format!("timed out after {} ms", self.config.timeout.as_millis()),
                exit_code: None,
                stderr_tail,
            });
        }
        if !status.success() {
            return Err(Failure {
                error: format!("{} failed: {status}", self.config.program),
                exit_code: status.code(),
                stderr_tail,
            });
        }
        Ok(out)
    }
}

impl Processor for ExecProcessor {
    fn process(&mut self, batch: &[Record]) -> Result<Vec<Record>, Failure> {
        let mut input = Vec::new();
        for r in batch {
            self.config
                .format
                .encode(r, &mut input)
                .map_err(|error| Failure {
                    error,
                    ..Failure::default()
                })?;
        }
        let mut backoff = self.config.backoff;
        let mut attempt = 0;
        let out = loop {
            match self.run_once(&input) {
                Ok(out) => break out,
                Err(f) if attempt >= self.config.retries || self.stopping() => return Err(f),
                Err(f) => {
                    tracing::warn!(error = %f, attempt, "child failed, retrying");
                    attempt += 1;
                    thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        };
        let mut records = Vec::new();
        for line in out.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() && matches!(self.config.format, Format::Json { .. }) {
                continue;
            }
            records.push(self.config.format.decode(line).map_err(|e| Failure {
                error: format!("bad output line: {e}"),
                ..Failure::default()
            })?);
        }
        // The text after the last newline is empty when output ends in one.
        if (out.last() == Some(&b'\n') || out.is_empty())
            && matches!(self.config.format, Format::Lines { .. })
        {
            records.pop();
        }
        Ok(records)
    }
}
