//! `strom consume`: prints records of a topic's partitions to stdout.
//!
//! Stops on --max-messages, --exit-at-end, --timeout-ms, Ctrl-C or a
//! closed stdout pipe; always reports the total on stderr like Kafka's
//! console consumer.
use std::io::{self, Write};
use std::time::{Duration, Instant};

use super::format::Layout;
use super::output::{self, stdout};
use super::{envelope, UsageError};
use crate::cli::args::{ConsumeArgs, OffsetArg, RecordOutput};
use crate::client::{ConsumerConfig, StartOffset};

fn start_offset(args: &ConsumeArgs) -> StartOffset {
    if args.from_beginning {
        return StartOffset::Earliest;
    }
    match args.offset {
        OffsetArg::Beginning => StartOffset::Earliest,
        OffsetArg::End => StartOffset::Latest,
        OffsetArg::At(n) => StartOffset::Offset(n),
        OffsetArg::FromEnd(n) => StartOffset::FromEnd(n),
        OffsetArg::Timestamp(t) => StartOffset::Timestamp(t),
    }
}

fn layout(args: &ConsumeArgs) -> anyhow::Result<Option<Layout>> {
    if args.output == RecordOutput::Json {
        if !args.properties.is_empty() {
            return Err(
                UsageError::new("--property applies to plain output, not --output json").into(),
            );
        }
        return Ok(None);
    }
    let l = match &args.format {
        Some(f) => Layout::kcat(f),
        None => Layout::kafka(&args.properties),
    };
    l.map(Some).map_err(|e| UsageError::new(e).into())
}

pub fn run(args: ConsumeArgs) -> anyhow::Result<()> {
    if args.group.is_some() {
        return Err(UsageError::with_hint(
            "consumer groups (--group) are not yet supported",
            "Drop --group to read partitions directly, choosing them with -p",
        )
        .into());
    }
    if args.partition.iter().any(|&p| p < 0) {
        return Err(UsageError::new("--partition must be 0 or more").into());
    }
    let layout = layout(&args)?;
    let client = super::connect(&args.connect)?;
    let mut config = ConsumerConfig::default();
    if let Some(t) = args.timeout_ms {
        // Long polls must not outlast the idle timeout by much.
        config.max_wait = config.max_wait.min(Duration::from_millis(t.max(10)));
    }
    let mut consumer = client.consumer(config);
    let partitions = (!args.partition.is_empty()).then_some(args.partition.as_slice());
    consumer.assign(&args.topic, partitions, start_offset(&args))?;
    let stop = client.runtime().stop_on_ctrl_c();

    let mut out = stdout();
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut total = 0u64;
    let mut last_data = Instant::now();
    let result = (|| -> anyhow::Result<()> {
        loop {
            if args.max_messages.is_some_and(|m| total >= m) {
                return Ok(());
            }
            if args.exit_at_end && consumer.at_end() {
                return Ok(());
            }
            if let Some(t) = args.timeout_ms {
                if last_data.elapsed() >= Duration::from_millis(t) {
                    return Ok(());
                }
            }
            let Some(records) = consumer.poll(Some(&stop))? else {
                return Ok(()); // Ctrl-C
            };
            if records.is_empty() {
                continue;
            }
            last_data = Instant::now();
            buf.clear();
            for r in &records {
                if args.max_messages.is_some_and(|m| total >= m) {
                    break;
                }
                match &layout {
                    Some(l) => l.render(r, &mut buf),
                    None => envelope::write_record(r, &mut buf).map_err(io::Error::from)?,
                }
                total += 1;
            }
            out.write_all(&buf)?;
            // Records appear as they arrive, not when a buffer fills.
            out.flush()?;
        }
    })();
    let result = result.and_then(|()| out.flush().map_err(Into::into));
    // Kafka prints the total however the consumer stops, pipe closed included.
    let _ = writeln!(io::stderr().lock(), "Processed a total of {total} messages");
    match result {
        Err(e) if output::is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}
