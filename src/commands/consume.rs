//! `strom consume`: prints records of a topic's partitions to stdout.
//!
//! Without --group it reads the partitions it is told to; with --group it
//! is a group member: it resumes at the group's committed offsets, shares
//! the partitions with the other members and commits what it printed.
//!
//! Stops on --max-messages, --exit-at-end, --timeout-ms, Ctrl-C or a
//! closed stdout pipe; always reports the total on stderr like Kafka's
//! console consumer.
use std::collections::HashMap;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use super::format::Layout;
use super::output;
use super::{envelope, UsageError};
use crate::cli::args::{ConsumeArgs, OffsetArg, RecordOutput};
use crate::client::blocking::{BlockingClient, BlockingConsumer, StopSignal};
use crate::client::jq::{Envelope, Output, Pipeline};
use crate::client::{
    BlockingGroupConsumer, ConsumerConfig, ConsumerRecord, GroupConfig, OffsetReset, OffsetSpec,
    StartOffset,
};

/// Test aid: with this set, a group member prints `#group generation=N
/// member=ID partitions=T:P,...` on stdout whenever its assignment changes,
/// in line with the records, so a test can tell which generation read what.
const DEBUG_GROUP_ENV: &str = "STROM_DEBUG_GROUP";

fn start_offset(start: OffsetArg) -> StartOffset {
    match start {
        OffsetArg::Beginning => StartOffset::Earliest,
        // Without a group `stored` is refused at parse time.
        OffsetArg::End | OffsetArg::Stored | OffsetArg::EndAt(_) => StartOffset::Latest,
        OffsetArg::At(n) => StartOffset::Offset(n),
        OffsetArg::FromEnd(n) => StartOffset::FromEnd(n),
        OffsetArg::Timestamp(t) => StartOffset::Timestamp(t),
    }
}

/// kcat's `-o e@TS`: per partition, the offset of the first record at or
/// after TS (the end, if none); the partition is done there.
struct EndAt {
    stops: HashMap<i32, i64>,
}

impl EndAt {
    fn resolve(
        client: &BlockingClient,
        consumer: &mut BlockingConsumer,
        ts: i64,
    ) -> anyhow::Result<EndAt> {
        let assigned = consumer.inner().assignment();
        let Some(topic) = assigned.first().map(|a| a.0.clone()) else {
            return Ok(EndAt {
                stops: HashMap::new(),
            });
        };
        let parts: Vec<i32> = assigned.iter().map(|a| a.1).collect();
        let admin = client.admin();
        let latest = client.run(admin.list_offsets(&topic, &parts, OffsetSpec::Latest))?;
        let by_time = client.run(admin.list_offsets(&topic, &parts, OffsetSpec::Timestamp(ts)))?;
        let mut stops: HashMap<i32, i64> = latest.iter().map(|p| (p.partition, p.offset)).collect();
        for p in by_time.iter().filter(|p| p.offset >= 0) {
            stops.insert(p.partition, p.offset);
        }
        Ok(EndAt { stops })
    }

    fn keeps(&self, r: &ConsumerRecord) -> bool {
        self.stops.get(&r.partition).is_none_or(|&s| r.offset < s)
    }

    /// Stops reading every partition that reached its end; true when none
    /// is left.
    fn retire_finished(&self, consumer: &mut BlockingConsumer) -> bool {
        let c = consumer.inner();
        for (topic, p, pos) in c.assignment() {
            if self.stops.get(&p).is_some_and(|&s| pos >= s) {
                c.unassign(&topic, p);
            }
        }
        c.assignment().is_empty()
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
    let l = l.map_err(UsageError::new)?;
    Ok(Some(if args.print_null {
        l.with_null(b"NULL")
    } else {
        l
    }))
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

    /// Records handed out but not written: a group member must not commit
    /// them.
    fn unwritten(&mut self, records: &[ConsumerRecord]) {
        if let Source::Group { consumer, .. } = self {
            consumer.inner().unhand(records);
        }
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
    let range = args.offset_range().map_err(UsageError::new)?;
    if range.end_at.is_some() {
        return Err(UsageError::new(
            "-o e@... cannot be used with --group: a group member's partitions change",
        )
        .into());
    }
    if !matches!(
        range.start,
        OffsetArg::End | OffsetArg::Beginning | OffsetArg::Stored
    ) {
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
    if range.start == OffsetArg::Beginning {
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
    let range = args.offset_range().map_err(UsageError::new)?;
    let layout = layout(&args)?;
    let pipeline = Pipeline::new(args.jq.filter.as_deref(), args.jq.jq.as_deref(), None)
        .map_err(UsageError::new)?;
    let client = super::connect(&args.connect)?;
    let mut config = ConsumerConfig {
        isolation: args.isolation_level.into(),
        ..ConsumerConfig::default()
    };
    if let Some(t) = args.timeout_ms {
        // Long polls must not outlast the idle timeout by much.
        config.max_wait = config.max_wait.min(Duration::from_millis(t.max(10)));
    }
    let mut end_at = None;
    let mut source = match group {
        None => {
            let mut consumer = client.consumer(config);
            let partitions = (!args.partition.is_empty()).then_some(args.partition.as_slice());
            consumer.assign(&args.topic, partitions, start_offset(range.start))?;
            if let Some(ts) = range.end_at {
                end_at = Some(EndAt::resolve(&client, &mut consumer, ts)?);
            }
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

    // Unbuffered beyond each polled batch: what `write` accepts is what
    // reached the pipe, so a closed pipe counts only the records written.
    let mut out = io::stdout().lock();
    let mut total = 0u64;
    let mut jq = pipeline.map(|p| Expressions {
        pipeline: p,
        failed: 0,
        outputs: Vec::new(),
    });
    let how = Printing {
        args: &args,
        layout: layout.as_ref(),
        end_at: end_at.as_ref(),
    };
    let result = print_records(&how, jq.as_mut(), &mut source, &stop, &mut out, &mut total);
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
        let env = Envelope::from(r);
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

/// What decides which records are printed, and how.
struct Printing<'a> {
    args: &'a ConsumeArgs,
    layout: Option<&'a Layout>,
    end_at: Option<&'a EndAt>,
}

fn print_records(
    how: &Printing<'_>,
    mut jq: Option<&mut Expressions>,
    source: &mut Source,
    stop: &StopSignal,
    out: &mut impl Write,
    total: &mut u64,
) -> anyhow::Result<()> {
    let Printing {
        args,
        layout,
        end_at,
    } = *how;
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut ends: Vec<(usize, usize)> = Vec::new();
    let mut last_data = Instant::now();
    loop {
        if args.max_messages.is_some_and(|m| *total >= m) {
            return Ok(());
        }
        if args.exit_at_end && source.at_end() {
            return Ok(());
        }
        if let (Some(e), Source::Direct(c)) = (end_at, &mut *source) {
            if e.retire_finished(c) {
                return Ok(());
            }
        }
        if let Some(t) = args.timeout_ms {
            if last_data.elapsed() >= Duration::from_millis(t) {
                return Ok(());
            }
        }
        let max = args.max_messages.map_or(usize::MAX, |m| {
            usize::try_from(m - *total).unwrap_or(usize::MAX)
        });
        if output::stdout_closed() {
            return Ok(()); // `| head` is done: stop now, not at the next record
        }
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
        // Per printed record: where it ends in `buf`, and the index of the
        // polled record it came from (one record may print several, or none).
        ends.clear();
        let mut print = |r: &ConsumerRecord, from: usize| -> io::Result<bool> {
            if args
                .max_messages
                .is_some_and(|m| *total + ends.len() as u64 >= m)
            {
                return Ok(false);
            }
            match layout {
                Some(l) => l.render(r, &mut buf),
                None => envelope::write_record(r, &mut buf).map_err(io::Error::from)?,
            }
            ends.push((buf.len(), from));
            Ok(true)
        };
        'records: for (i, r) in records.iter().enumerate() {
            if end_at.is_some_and(|e| !e.keeps(r)) {
                continue; // past the e@ end of its partition
            }
            match jq.as_deref_mut() {
                None => {
                    if !print(r, i)? {
                        break;
                    }
                }
                Some(jq) => {
                    for o in jq.apply(r) {
                        if !print(&o, i)? {
                            break 'records;
                        }
                    }
                }
            }
        }
        if buf.is_empty() {
            continue;
        }
        // Records appear as they arrive, not when a buffer fills.
        let (written, result) = output::write_counted(out, &buf);
        let done = ends.partition_point(|&(end, _)| end <= written);
        *total += done as u64;
        if let Err(e) = result {
            // The first record not wholly written, and all after it, are
            // read again by the group rather than committed unseen.
            let first_unwritten = ends.get(done).map_or(records.len(), |&(_, from)| from);
            source.unwritten(&records[first_unwritten..]);
            return Err(e.into());
        }
    }
}
