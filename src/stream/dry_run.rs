//! `strom stream --dry-run`: the same processors on records read from a
//! reader (stdin) instead of a broker, outputs written framed to a writer
//! (stdout). Failures are reported on stderr; with `--on-error fail` the
//! first one ends the run.
use std::io::{BufRead, Write};
use std::sync::Arc;

use super::{Failure, Format, OnError, Processor, Record, RunStats, Source};

pub struct DryRun<'a> {
    /// The topic the input records are taken to come from.
    pub input_topic: &'a str,
    /// The topic shown in output envelopes.
    pub output_topic: &'a str,
    pub format: Format,
    pub batch_max: usize,
    pub on_error: &'a OnError,
}

impl DryRun<'_> {
    pub fn run(
        &self,
        processor: &mut dyn Processor,
        input: impl BufRead,
        out: &mut impl Write,
    ) -> anyhow::Result<RunStats> {
        let input_topic: Arc<str> = self.input_topic.into();
        let output_topic: Arc<str> = self.output_topic.into();
        let mut stats = RunStats::default();
        let mut batch = Vec::with_capacity(self.batch_max);
        let mut lines = input.split(b'\n');
        let mut offset = 0i64;
        loop {
            let line = lines.next().transpose()?;
            let at_end = line.is_none();
            if let Some(mut line) = line {
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if !(line.is_empty() && matches!(self.format, Format::Json { .. })) {
                    let mut r = self
                        .format
                        .decode(&line)
                        .map_err(|e| anyhow::anyhow!("input line {}: {e}", offset + 1))?;
                    r.source = Some(Source {
                        topic: input_topic.clone(),
                        partition: r.partition.unwrap_or(0),
                        offset,
                    });
                    r.partition = None;
                    batch.push(r);
                }
                offset += 1;
                if batch.len() < self.batch_max {
                    continue;
                }
            }
            if !batch.is_empty() {
                stats.input += batch.len() as u64;
                self.batch(processor, &batch, &output_topic, out, &mut stats)?;
                batch.clear();
            }
            if at_end {
                out.flush()?;
                return Ok(stats);
            }
        }
    }

    fn batch(
        &self,
        processor: &mut dyn Processor,
        batch: &[Record],
        output_topic: &Arc<str>,
        out: &mut impl Write,
        stats: &mut RunStats,
    ) -> anyhow::Result<()> {
        let mut buf = Vec::new();
        match processor.process(batch) {
            Ok(outputs) => {
                for mut r in outputs {
                    r.source = Some(Source {
                        topic: output_topic.clone(),
                        partition: r.partition.unwrap_or(-1),
                        offset: -1,
                    });
                    self.format
                        .encode(&r, &mut buf)
                        .map_err(|e| anyhow::anyhow!("cannot print an output: {e}"))?;
                    stats.output += 1;
                }
                out.write_all(&buf)?;
                for (i, f) in processor.take_rejected() {
                    if let Some(r) = batch.get(i) {
                        self.failed(std::slice::from_ref(r), &f, stats)?;
                    }
                }
            }
            Err(f) => self.failed(batch, &f, stats)?,
        }
        Ok(())
    }

    fn failed(&self, records: &[Record], f: &Failure, stats: &mut RunStats) -> anyhow::Result<()> {
        let first = records
            .first()
            .and_then(|r| r.source.as_ref())
            .map_or(-1, |s| s.offset);
        let at = if records.len() == 1 {
            format!("input line {}", first + 1)
        } else {
            format!("the batch from input line {}", first + 1)
        };
        match self.on_error {
            OnError::Fail => anyhow::bail!("processing failed at {at}: {f}"),
            OnError::Skip => {
                stats.skipped += records.len() as u64;
                tracing::warn!("{at} failed ({f}); skipped");
            }
            OnError::DeadLetter(topic) => {
                stats.dead_lettered += records.len() as u64;
                tracing::warn!("{at} failed ({f}); it would go to dead-letter topic {topic}");
            }
        }
        Ok(())
    }
}
