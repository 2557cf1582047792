//! `strom produce`: one record per input line (or JSON envelope), batched
//! and pipelined by the client producer. Input is streamed: memory use is
//! bounded by the producer's buffer, not by the input size.
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;

use super::envelope::{parse_record, ParsedRecord};
use super::line_reader::{LineReader, Next};
use super::produce_jq::Expressions;
use super::produce_lines::{line_rules, LineRules};
use super::progress::Progress;
use super::UsageError;
use crate::cli::args::{AcksArg, InputFormat, OnBadLine, ProduceArgs};
use crate::client::blocking::BlockingProducer;
use crate::client::{Acks, BatchReport, ClientError, ProducerConfig, ProducerRecord};

/// Delivery outcome counters, updated once per batch.
#[derive(Default)]
struct Tally {
    delivered: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<ClientError>>,
}

impl Tally {
    fn record(&self, r: &BatchReport<'_>) {
        match r.error {
            None => {
                self.delivered
                    .fetch_add(r.records as u64, Ordering::Relaxed);
            }
            Some(e) => {
                self.failed.fetch_add(r.records as u64, Ordering::Relaxed);
                let mut first = self.first_error.lock().unwrap_or_else(|p| p.into_inner());
                if first.is_none() {
                    *first = Some(e.clone());
                }
            }
        }
    }
}

pub fn acks(a: AcksArg) -> Acks {
    match a {
        AcksArg::Zero => Acks::None,
        AcksArg::One => Acks::Leader,
        AcksArg::All => Acks::All,
    }
}

pub fn run(args: ProduceArgs) -> anyhow::Result<()> {
    if args.file.is_none() && super::repl::script_mode() {
        // stdin holds the rest of the script, not records.
        return Err(UsageError::with_hint(
            "produce cannot read records from stdin in a script: stdin is the script",
            "Give the records in a file with -l FILE",
        )
        .into());
    }
    let rules = line_rules(&args)?;
    // Checked before connecting: a bad expression is a usage error.
    let mut jq = Expressions::new(&args.jq)?;
    if args.partition.is_some_and(|p| p < 0) {
        return Err(UsageError::new("--partition must be 0 or more").into());
    }
    if args.transactional_id.is_some() && args.acks != AcksArg::All {
        return Err(UsageError::new("--transactional-id needs --acks all").into());
    }
    let headers: Vec<(String, Vec<u8>)> = args
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
        .collect();
    let header_refs: Vec<(&str, Option<&[u8]>)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), Some(v.as_slice())))
        .collect();

    // Inside the interactive REPL the terminal belongs to the REPL's line
    // editor, which may already hold lines typed ahead: records are read
    // through it, in order, and the lines after Ctrl-D stay REPL commands.
    let mut repl_lines = args
        .file
        .is_none()
        .then(|| super::repl::record_lines(&args.topic))
        .flatten();
    let (input, size): (Box<dyn Read>, Option<u64>) = match &args.file {
        Some(path) => {
            let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            let size = f.metadata().ok().map(|m| m.len());
            (Box::new(f), size)
        }
        None if repl_lines.is_some() => (Box::new(io::empty()), None),
        None => (Box::new(io::stdin().lock()), None),
    };
    let interactive = args.file.is_none() && io::stdin().is_terminal();
    let prompt = super::repl::record_prompt(&args.topic);
    // Only stdin can go quiet for long; a file is read straight through.
    let wait_fd = args.file.is_none().then(|| io::stdin().as_raw_fd());
    let mut reader = LineReader::new(input, wait_fd);

    let client = super::connect(&args.connect)?;
    let tally = Arc::new(Tally::default());
    let t = tally.clone();
    let mut config = ProducerConfig {
        acks: acks(args.acks),
        linger: Duration::from_millis(args.linger_ms),
        compression: args.compression,
        on_delivery: Some(Arc::new(move |r: &BatchReport<'_>| t.record(r))),
        transactional_id: args.transactional_id.clone(),
        transaction_timeout: Duration::from_millis(args.transaction_timeout_ms),
        ..ProducerConfig::default()
    };
    super::producer_props::apply(&mut config, &args.producer_properties)?;
    let producer = client.producer(config);
    // Fail before reading input when the topic cannot be written.
    producer.prepare_topic(&args.topic)?;
    // SIGINT and SIGTERM stop reading; what was read is still delivered.
    let stop = super::interrupt::stop_signal(client.runtime());

    let progress = if interactive {
        // A bar would draw over the `>` prompt and what is being typed.
        Progress::hidden()
    } else {
        Progress::bytes(size)
    };
    let show_progress = progress.is_visible() && !interactive;
    let line_input = LineInput {
        args: &args,
        rules: &rules,
        headers: &header_refs,
    };
    let mut sent = 0u64;
    let mut skipped = 0u64;
    let mut stopped_on: Option<anyhow::Error> = None;
    let mut txn = args.transactional_id.as_deref().map(|id| Transactions {
        id,
        size: args.transaction_size,
        open: 0,
        committed: 0,
    });
    let mut txn_failed: Option<anyhow::Error> = None;
    loop {
        // The REPL's editor shows the same prompt itself.
        if interactive && repl_lines.is_none() && !reader.has_buffered() {
            let mut err = io::stderr().lock();
            let _ = write!(err, "{prompt}");
            let _ = err.flush();
        }
        let next = match &mut repl_lines {
            Some(lines) => lines.next_line(&stop),
            None => reader.next_line(Some(&stop)),
        };
        let (line, line_no) = match next {
            Ok(Next::Line(line, n)) => (line, n),
            Ok(Next::Eof | Next::Stopped) => break,
            Err(e) => {
                stopped_on = Some(anyhow::Error::new(e).context("cannot read input"));
                break;
            }
        };
        match line_input.send(&producer, line, line_no, jq.as_mut()) {
            Ok(true) => sent += 1,
            Ok(false) => {}
            Err(LineError::Bad(why)) => {
                let msg = format!("input line {line_no}: {why}");
                match args.on_bad_line {
                    OnBadLine::Fail => {
                        stopped_on = Some(anyhow::anyhow!(msg));
                        break;
                    }
                    OnBadLine::Skip => {
                        skipped += 1;
                        let _ = writeln!(io::stderr().lock(), "strom: skipped {msg}");
                    }
                }
            }
            // A record no request can carry fails only itself, like a bad line.
            Err(LineError::Send(e @ ClientError::RecordTooLarge { .. })) => {
                let msg = format!("input line {line_no}: {e}");
                match args.on_bad_line {
                    OnBadLine::Fail => {
                        stopped_on =
                            Some(anyhow::Error::new(e).context(format!("input line {line_no}")));
                        break;
                    }
                    OnBadLine::Skip => {
                        skipped += 1;
                        let _ = writeln!(io::stderr().lock(), "strom: skipped {msg}");
                    }
                }
            }
            Err(LineError::Send(e)) => {
                stopped_on = Some(e.into());
                break;
            }
        }
        if let Some(t) = txn.as_mut() {
            if let Err(e) = t.after_line(&producer, sent, reader.has_buffered()) {
                txn_failed = Some(e);
                break;
            }
        }
        if show_progress && sent.is_multiple_of(4096) {
            progress.set_position(reader.bytes_read());
            progress.set_message(format!("{sent} records"));
        }
    }
    // Whatever stopped the input, every record read before it is delivered
    // (or reported as failed) before the command ends; in a transaction,
    // committed (or aborted, and reported).
    if let (Some(t), None) = (txn.as_mut(), &txn_failed) {
        if let Err(e) = t.commit(&producer, sent) {
            txn_failed = Some(e);
        }
    }
    if let Some(e) = txn_failed {
        producer.close();
        progress.finish();
        return Err(match stopped_on {
            Some(s) => e.context(format!("{s:#}")),
            None => e,
        });
    }
    producer.flush();
    producer.close();
    progress.finish();

    let failed = tally.failed.load(Ordering::Relaxed);
    let delivered = tally.delivered.load(Ordering::Relaxed);
    if skipped > 0 {
        let _ = writeln!(
            io::stderr().lock(),
            "strom: {skipped} bad input lines skipped; {delivered} records delivered"
        );
    }
    if failed > 0 {
        let why = tally
            .first_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or(ClientError::Closed);
        // The ClientError stays in the chain, so its hint is printed.
        let failure =
            anyhow::Error::new(why).context(format!("{failed} of {sent} records failed delivery"));
        return Err(match stopped_on {
            Some(e) => failure.context(format!("{e:#}")),
            None => failure,
        });
    }
    if let Some(e) = stopped_on {
        return Err(e.context(format!("{delivered} records delivered, then stopped")));
    }
    match jq {
        Some(jq) if jq.failed > 0 => Err(anyhow::anyhow!(
            "{} records failed the --filter/--jq expression and were not sent (see above)",
            jq.failed
        )),
        _ => Ok(()),
    }
}

/// `--transactional-id`: when to commit, and what was committed.
struct Transactions<'a> {
    id: &'a str,
    /// `--transaction-size`; None commits per read of the input.
    size: Option<u64>,
    /// Records sent in the open transaction.
    open: u64,
    committed: u64,
}

impl Transactions<'_> {
    /// After each input line: `sent` records so far; `buffered` whether
    /// the current read of the input has more lines.
    fn after_line(
        &mut self,
        producer: &BlockingProducer,
        sent: u64,
        buffered: bool,
    ) -> anyhow::Result<()> {
        let open = sent - self.committed;
        let due = match self.size {
            Some(n) => open >= n,
            None => !buffered,
        };
        if due && open > 0 {
            self.commit(producer, sent)?;
        }
        Ok(())
    }

    /// Commits the records sent since the last commit; on failure aborts
    /// them and says what happened.
    fn commit(&mut self, producer: &BlockingProducer, sent: u64) -> anyhow::Result<()> {
        self.open = sent - self.committed;
        if self.open == 0 {
            return Ok(());
        }
        let e = match producer.commit_transaction() {
            Ok(()) => {
                self.committed = sent;
                self.open = 0;
                return Ok(());
            }
            Err(e) => e,
        };
        let id = self.id;
        let (open, committed) = (self.open, self.committed);
        if e.is_fenced() {
            // Another instance owns the id now; it aborted what this one
            // left open. Asking for the id again would fence it in turn.
            return Err(anyhow::Error::new(e).context(format!(
                "producer fenced: another producer with transactional id {id:?} took over; \
                 the open transaction ({open} records) is not committed, \
                 {committed} records were committed before"
            )));
        }
        let aborted = match producer.abort_transaction() {
            Ok(()) => "aborted".to_string(),
            Err(a) => format!("could not be aborted ({a}); the broker aborts it at its timeout"),
        };
        Err(anyhow::Error::new(e).context(format!(
            "transaction of {open} records under transactional id {id:?} failed and {aborted}; \
             {committed} records were committed before"
        )))
    }
}

/// Why one input line was not sent.
enum LineError {
    /// The line itself is malformed: fails only itself (`--on-bad-line`).
    Bad(String),
    /// The producer refused the record: ends the input.
    Send(ClientError),
}

/// Turns input lines into records, per the input flags.
struct LineInput<'a> {
    args: &'a ProduceArgs,
    rules: &'a LineRules,
    headers: &'a [(&'a str, Option<&'a [u8]>)],
}

impl LineInput<'_> {
    /// Sends one line as a record; false for a line that holds none (a
    /// blank line of JSON input).
    fn send(
        &self,
        producer: &BlockingProducer,
        line: &[u8],
        line_no: u64,
        jq: Option<&mut Expressions>,
    ) -> Result<bool, LineError> {
        let args = self.args;
        let deliver = |rec: &ProducerRecord<'_>| match jq {
            None => producer.send(rec),
            Some(jq) => jq.send(producer, rec, args.partition, args.keep_partition, line_no),
        };
        match args.input {
            InputFormat::Plain => {
                let rec = self.rules.parse(line).map_err(LineError::Bad)?;
                let mut hs: Vec<(&str, Option<&[u8]>)> = self.headers.to_vec();
                hs.extend(rec.headers);
                deliver(&ProducerRecord {
                    topic: &args.topic,
                    partition: args.partition,
                    key: rec.key,
                    value: rec.value,
                    headers: &hs,
                    timestamp: None,
                })
                .map_err(LineError::Send)?;
            }
            InputFormat::Json => {
                if line.iter().all(u8::is_ascii_whitespace) {
                    return Ok(false);
                }
                let rec: ParsedRecord = parse_record(line)
                    .map_err(|e| LineError::Bad(format!("not a JSON record envelope: {e}")))?;
                let mut hs: Vec<(&str, Option<&[u8]>)> = self.headers.to_vec();
                hs.extend(rec.headers.iter().map(|(k, v)| (k.as_str(), v.as_deref())));
                let partition = match (args.partition, args.keep_partition) {
                    (Some(p), _) => Some(p),
                    (None, true) => rec.partition,
                    (None, false) => None,
                };
                deliver(&ProducerRecord {
                    topic: &args.topic,
                    partition,
                    key: rec.key.as_deref(),
                    value: rec.value.as_deref(),
                    headers: &hs,
                    timestamp: rec.timestamp,
                })
                .map_err(LineError::Send)?;
            }
        }
        Ok(true)
    }
}
