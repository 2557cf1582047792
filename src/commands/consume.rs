//! `strom consume`: prints records of a topic's partitions to stdout.
//!
//! Without --group it reads the partitions it is told to; with --group it
//! is a group member: it resumes at the group's committed offsets, shares
//! the partitions with the other members and commits what it printed.
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
use crate::client::blocking::{BlockingConsumer, StopSignal};
use crate::client::jq::{Envelope, Output, Pipeline};
use crate::client::{
    BlockingGroupConsumer, ConsumerConfig, ConsumerRecord, GroupConfig, OffsetReset, StartOffset,
};

/// Test aid: with this set, a group member prints `#group generation=N
/// member=ID partitions=T:P,...` on stdout whenever its assignment changes,
/// in line with the records, so a test can tell which generation read what.
const DEBUG_GROUP_ENV: &str = "STROM_DEBUG_GROUP";

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

/// Where records come from: assigned partitions or a group membership.
enum Source {
    Direct(BlockingConsumer),
    Group {
        // Boxed: a group member carries much more state than a consumer.
        consumer: Box<BlockingGroupConsumer>,
        debug: bool,
        shown_generation: Option<i32>,
    },
}

impl Source {
    fn poll(
        &mut self,
        stop: &StopSignal,
        max: usize,
    ) -> anyhow::Result<Option<Vec<ConsumerRecord>>> {
        Ok(match self {
            // The direct consumer hands out whole responses; --max-messages
            // is enforced while printing.
            Source::Direct(c) => c.poll(Some(stop))?,
            // A group member must hand out only what gets printed, since
            // what it hands out is what it commits.
            Source::Group { consumer, .. } => consumer.poll(Some(stop), max)?,
        })
    }

    fn at_end(&self) -> bool {
        match self {
            Source::Direct(c) => c.at_end(),
            Source::Group { consumer, .. } => consumer.at_end(),
        }
    }

    /// The `#group ...` line, once per new generation, in debug mode.
    fn debug_line(&mut self) -> Option<String> {
        let Source::Group {
            consumer,
            debug: true,
            shown_generation,
        } = self
        else {
            return None;
        };
        let g = consumer.inner();
        let generation = g.generation()?;
        if *shown_generation == Some(generation) {
            return None;
        }
        *shown_generation = Some(generation);
        let parts: Vec<String> = g
            .assignment()
            .iter()
            .map(|(t, p)| format!("{t}:{p}"))
            .collect();
        Some(format!(
            "#group generation={generation} member={} partitions={}\n",
            g.member_id(),
            parts.join(",")
        ))
    }

    /// Commits and leaves the group; nothing to do for a direct consumer.
    fn close(&mut self) -> anyhow::Result<()> {
        if let Source::Group { consumer, .. } = self {
            consumer.close()?;
        }
        Ok(())
    }
}

fn group_config(args: &ConsumeArgs, group: &str) -> anyhow::Result<GroupConfig> {
    if !args.partition.is_empty() {
        return Err(UsageError::new("--partition cannot be used with --group").into());
    }
    if !matches!(args.offset, OffsetArg::End | OffsetArg::Beginning) {
        return Err(UsageError::with_hint(
            "--offset cannot be used with --group",
            "A group starts at its committed offsets; use --from-beginning for a group without any, or strom groups reset-offsets",
        )
        .into());
    }
    let mut config = GroupConfig::new(group);
    for (k, v) in &args.consumer_properties {
        config.set(k, v).map_err(UsageError::new)?;
    }
    // As in Kafka, --from-beginning only matters where nothing is committed.
    if args.from_beginning || args.offset == OffsetArg::Beginning {
        config.auto_offset_reset = OffsetReset::Earliest;
    }
    config.validate().map_err(UsageError::new)?;
    Ok(config)
}

pub fn run(args: ConsumeArgs) -> anyhow::Result<()> {
    if args.partition.iter().any(|&p| p < 0) {
        return Err(UsageError::new("--partition must be 0 or more").into());
    }
    let group = match &args.group {
        Some(g) => Some(group_config(&args, g)?),
        None => None,
    };
    let layout = layout(&args)?;
    let pipeline = Pipeline::new(args.jq.filter.as_deref(), args.jq.jq.as_deref(), None)
        .map_err(UsageError::new)?;
    let client = super::connect(&args.connect)?;
    let mut config = ConsumerConfig::default();
    if let Some(t) = args.timeout_ms {
        // Long polls must not outlast the idle timeout by much.
        config.max_wait = config.max_wait.min(Duration::from_millis(t.max(10)));
    }
    let mut source = match group {
        None => {
            let mut consumer = client.consumer(config);
            let partitions = (!args.partition.is_empty()).then_some(args.partition.as_slice());
            consumer.assign(&args.topic, partitions, start_offset(&args))?;
            Source::Direct(consumer)
        }
        Some(group) => {
            // Same error as without --group for a topic that does not exist.
            client.run(client.client().topic(&args.topic, false))?;
            Source::Group {
                consumer: Box::new(BlockingGroupConsumer::new(
                    &client,
                    group,
                    config,
                    vec![args.topic.clone()],
                )),
                debug: std::env::var_os(DEBUG_GROUP_ENV).is_some_and(|v| !v.is_empty()),
                shown_generation: None,
            }
        }
    };
    let stop = super::interrupt::stop_signal(client.runtime());

    let mut out = stdout();
    let mut total = 0u64;
    let mut jq = pipeline.map(|p| Expressions {
        pipeline: p,
        failed: 0,
        outputs: Vec::new(),
    });
    let result = print_records(
        &args,
        layout.as_ref(),
        jq.as_mut(),
        &mut source,
        &stop,
        &mut out,
        &mut total,
    );
    let result = result.and_then(|()| out.flush().map_err(Into::into));
    // Commit what was printed (Ctrl-C and a closed pipe included), then
    // leave the group so the others take over at once.
    let closed = source.close();
    // Kafka prints the total however the consumer stops, pipe closed included.
    let _ = writeln!(io::stderr().lock(), "Processed a total of {total} messages");
    let result = match (result, jq) {
        (Ok(()), Some(jq)) if jq.failed > 0 => Err(anyhow::anyhow!(
            "{} records failed the --filter/--jq expression (see above)",
            jq.failed
        )),
        (r, _) => r,
    };
    match result {
        Err(e) if output::is_broken_pipe(&e) => closed,
        Ok(()) => closed,
        Err(e) => Err(e),
    }
}

/// `--filter`/`--jq`: what each record becomes before it is printed.
struct Expressions {
    pipeline: Pipeline,
    /// Records whose expression failed (reported, not printed).
    failed: u64,
    outputs: Vec<Output>,
}

impl Expressions {
    /// The records to print for `r`, after reporting a failure on stderr.
    fn apply(&mut self, r: &ConsumerRecord) -> impl Iterator<Item = ConsumerRecord> + '_ {
        self.outputs.clear();
        let env = Envelope {
            topic: &r.topic,
            partition: Some(r.partition),
            offset: Some(r.offset),
            timestamp: Some(r.timestamp),
            key: r.key.as_ref(),
            value: r.value.as_ref(),
            headers: &r.headers,
        };
        if let Err(e) = self.pipeline.apply(&env, &mut self.outputs) {
            self.failed += 1;
            let _ = writeln!(
                io::stderr().lock(),
                "warning: {}:{} offset {} not printed: {e}",
                r.topic,
                r.partition,
                r.offset
            );
        }
        let (topic, partition, offset, ts) = (r.topic.clone(), r.partition, r.offset, r.timestamp);
        self.outputs.drain(..).map(move |o| ConsumerRecord {
            topic: topic.clone(),
            partition,
            offset,
            timestamp: o.timestamp.unwrap_or(ts),
            key: o.key,
            value: o.value,
            headers: o.headers,
        })
    }
}

fn print_records(
    args: &ConsumeArgs,
    layout: Option<&Layout>,
    mut jq: Option<&mut Expressions>,
    source: &mut Source,
    stop: &StopSignal,
    out: &mut impl Write,
    total: &mut u64,
) -> anyhow::Result<()> {
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut last_data = Instant::now();
    loop {
        if args.max_messages.is_some_and(|m| *total >= m) {
            return Ok(());
        }
        if args.exit_at_end && source.at_end() {
            return Ok(());
        }
        if let Some(t) = args.timeout_ms {
            if last_data.elapsed() >= Duration::from_millis(t) {
                return Ok(());
            }
        }
        let max = args.max_messages.map_or(usize::MAX, |m| {
            usize::try_from(m - *total).unwrap_or(usize::MAX)
        });
        let Some(records) = source.poll(stop, max)? else {
            return Ok(()); // Ctrl-C
        };
        buf.clear();
        if let Some(line) = source.debug_line() {
            buf.extend_from_slice(line.as_bytes());
        }
        if !records.is_empty() {
            last_data = Instant::now();
        }
        let mut print = |r: &ConsumerRecord| -> io::Result<bool> {
            if args.max_messages.is_some_and(|m| *total >= m) {
                return Ok(false);
            }
            match layout {
                Some(l) => l.render(r, &mut buf),
                None => envelope::write_record(r, &mut buf).map_err(io::Error::from)?,
            }
            *total += 1;
            Ok(true)
        };
        'records: for r in &records {
            match jq.as_deref_mut() {
                None => {
                    if !print(r)? {
                        break;
                    }
                }
                Some(jq) => {
                    for o in jq.apply(r) {
                        if !print(&o)? {
                            break 'records;
                        }
                    }
                }
            }
        }
        if !buf.is_empty() {
            out.write_all(&buf)?;
            // Records appear as they arrive, not when a buffer fills.
            out.flush()?;
        }
    }
}
