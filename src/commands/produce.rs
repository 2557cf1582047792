//! `strom produce`: one record per input line (or JSON envelope), batched
//! and pipelined by the client producer. Input is streamed: memory use is
//! bounded by the producer's buffer, not by the input size.
use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;

use super::envelope::{parse_record, ParsedRecord};
use super::progress::Progress;
use super::UsageError;
use crate::cli::args::{AcksArg, InputFormat, ProduceArgs};
use crate::client::blocking::BlockingProducer;
use crate::client::jq::{Envelope, Output, Pipeline};
use crate::client::{Acks, BatchReport, ProducerConfig, ProducerRecord};
use crate::record::Header;
use bytes::Bytes;

/// Delivery outcome counters, updated once per batch.
#[derive(Default)]
struct Tally {
    delivered: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
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
                    *first = Some(e.to_string());
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

/// What the plain-line parser needs, resolved once from flags/properties.
struct LineRules {
    key_separator: Option<Vec<u8>>,
    null_marker: Option<Vec<u8>>,
}

fn line_rules(args: &ProduceArgs) -> anyhow::Result<LineRules> {
    let mut parse_key = false;
    let mut sep: Option<String> = None;
    let mut null_marker = args.null_marker.clone();
    for (k, v) in &args.properties {
        match k.as_str() {
            "parse.key" => {
                parse_key = v.parse().map_err(|_| {
                    UsageError::new(format!("parse.key must be true or false, got {v:?}"))
                })?
            }
            "key.separator" => sep = Some(v.clone()),
            "null.marker" => null_marker = Some(v.clone()),
            // Accepted for compatibility; they change nothing here.
            "ignore.error" | "parse.headers" => {}
            other => {
                return Err(UsageError::new(format!("unknown producer property {other}")).into())
            }
        }
    }
    let key_separator = match (&args.key_separator, parse_key) {
        (Some(s), _) => Some(s.clone()),
        (None, true) => Some(sep.unwrap_or_else(|| "\t".into())),
        (None, false) => None,
    };
    if key_separator.as_deref() == Some("") {
        return Err(UsageError::new("the key separator cannot be empty").into());
    }
    Ok(LineRules {
        key_separator: key_separator.map(String::into_bytes),
        null_marker: null_marker.map(String::into_bytes),
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
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
    let mut jq = Pipeline::new(args.jq.filter.as_deref(), args.jq.jq.as_deref(), None)
        .map_err(UsageError::new)?
        .map(|pipeline| Expressions {
            pipeline,
            failed: 0,
            outputs: Vec::new(),
        });
    if args.partition.is_some_and(|p| p < 0) {
        return Err(UsageError::new("--partition must be 0 or more").into());
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

    let (input, size): (Box<dyn Read>, Option<u64>) = match &args.file {
        Some(path) => {
            let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            let size = f.metadata().ok().map(|m| m.len());
            (Box::new(f), size)
        }
        None => (Box::new(io::stdin().lock()), None),
    };
    let interactive = args.file.is_none() && io::stdin().is_terminal();
    let mut reader = BufReader::with_capacity(256 * 1024, input);

    let client = super::connect(&args.connect)?;
    let tally = Arc::new(Tally::default());
    let t = tally.clone();
    let producer = client.producer(ProducerConfig {
        acks: acks(args.acks),
        linger: Duration::from_millis(args.linger_ms),
        compression: args.compression,
        on_delivery: Some(Arc::new(move |r: &BatchReport<'_>| t.record(r))),
        ..ProducerConfig::default()
    });
    // Fail before reading input when the topic cannot be written.
    producer.prepare_topic(&args.topic)?;

    let progress = if interactive {
        // A bar would draw over the `>` prompt and what is being typed.
        Progress::hidden()
    } else {
        Progress::bytes(size)
    };
    let show_progress = progress.is_visible() && !interactive;
    let mut line = Vec::with_capacity(4096);
    let mut read_bytes = 0u64;
    let mut sent = 0u64;
    loop {
        if interactive {
            let mut err = io::stderr().lock();
            let _ = write!(err, ">");
            let _ = err.flush();
        }
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .context("cannot read input")?;
        if n == 0 {
            break;
        }
        read_bytes += n as u64;
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        let parsed: ParsedRecord;
        let mut json_headers: Vec<(&str, Option<&[u8]>)>;
        let (key, value, hs, partition, timestamp) = match args.input {
            InputFormat::Plain => {
                let (key, value) = match &rules.key_separator {
                    Some(sep) => match find(&line, sep) {
                        Some(i) => (Some(&line[..i]), &line[i + sep.len()..]),
                        None => {
                            return Err(UsageError::new(format!(
                                "line {} has no key separator {:?}",
                                sent + 1,
                                String::from_utf8_lossy(sep)
                            ))
                            .into())
                        }
                    },
                    None => (None, &line[..]),
                };
                let is_null = |b: &[u8]| rules.null_marker.as_deref() == Some(b);
                let key = key.filter(|k| !is_null(k));
                let value = (!is_null(value)).then_some(value);
                (key, value, &header_refs, args.partition, None)
            }
            InputFormat::Json => {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                parsed = parse_record(&line).map_err(|e| {
                    anyhow::anyhow!("line {} is not a valid record envelope: {e}", sent + 1)
                })?;
                json_headers = header_refs.clone();
                json_headers.extend(
                    parsed
                        .headers
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_deref())),
                );
                let partition = match (args.partition, args.keep_partition) {
                    (Some(p), _) => Some(p),
                    (None, true) => parsed.partition,
                    (None, false) => None,
                };
                (
                    parsed.key.as_deref(),
                    parsed.value.as_deref(),
                    &json_headers,
                    partition,
                    parsed.timestamp,
                )
            }
        };
        let rec = ProducerRecord {
            topic: &args.topic,
            partition,
            key,
            value,
            headers: hs,
            timestamp,
        };
        match &mut jq {
            None => {
                producer.send(&rec)?;
            }
            Some(jq) => jq.send(&producer, &rec, args.partition, args.keep_partition, sent)?,
        }
        sent += 1;
        if show_progress && sent.is_multiple_of(4096) {
            progress.set_position(read_bytes);
            progress.set_message(format!("{sent} records"));
        }
    }
    producer.flush();
    producer.close();
    progress.finish();
    if let Some(jq) = &jq {
        if jq.failed > 0 {
            anyhow::bail!(
                "{} records failed the --filter/--jq expression and were not sent (see above)",
                jq.failed
            );
        }
    }

    let failed = tally.failed.load(Ordering::Relaxed);
    if failed > 0 {
        let why = tally
            .first_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_default();
        anyhow::bail!("{failed} of {sent} records failed delivery ({why})");
    }
    Ok(())
}

/// `--filter`/`--jq`: what each input record becomes before it is sent.
struct Expressions {
    pipeline: Pipeline,
    /// Records whose expression failed (reported, not sent).
    failed: u64,
    outputs: Vec<Output>,
}

impl Expressions {
    /// Sends what `rec` becomes. `-p` wins over an output's "partition",
    /// which counts only with --keep-partition, as for --input json.
    fn send(
        &mut self,
        producer: &BlockingProducer,
        rec: &ProducerRecord<'_>,
        fixed_partition: Option<i32>,
        keep_partition: bool,
        line: u64,
    ) -> anyhow::Result<()> {
        let key = rec.key.map(Bytes::copy_from_slice);
        let value = rec.value.map(Bytes::copy_from_slice);
        let headers: Vec<Header> = rec
            .headers
            .iter()
            .map(|(k, v)| Header {
                key: k.to_string(),
                value: v.map(Bytes::copy_from_slice),
            })
            .collect();
        let env = Envelope {
            topic: rec.topic,
            partition: rec.partition,
            offset: None,
            timestamp: rec.timestamp,
            key: key.as_ref(),
            value: value.as_ref(),
            headers: &headers,
        };
        self.outputs.clear();
        if let Err(e) = self.pipeline.apply(&env, &mut self.outputs) {
            self.failed += 1;
            let _ = writeln!(
                io::stderr().lock(),
                "warning: input record {} not sent: {e}",
                line + 1
            );
            return Ok(());
        }
        for o in &self.outputs {
            let hs: Vec<(&str, Option<&[u8]>)> = o
                .headers
                .iter()
                .map(|h| (h.key.as_str(), h.value.as_deref()))
                .collect();
            producer.send(&ProducerRecord {
                topic: rec.topic,
                partition: fixed_partition.or(o.partition.filter(|_| keep_partition)),
                key: o.key.as_deref(),
                value: o.value.as_deref(),
                headers: &hs,
                timestamp: o.timestamp,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separator_search() {
        assert_eq!(find(b"k::v", b"::"), Some(1));
        assert_eq!(find(b"kv", b":"), None);
    }
}
