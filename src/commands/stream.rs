//! `strom stream`: turns the flags into a `stream::StreamConfig` with the
//! built-in expression processor and/or a child-process processor, and runs
//! it until SIGINT/SIGTERM or a failure (or over stdin with --dry-run).
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::stream_stateful::Stateful;
use super::UsageError;
use crate::cli::stream_args::{ExecMode, StreamArgs, StreamFormat};
use crate::client::blocking::StopSignal;
use crate::client::jq::Pipeline;
use crate::client::{GroupConfig, OffsetReset};
use crate::stream::runner::ProcessorFactory;
use crate::stream::{
    DryRun, ExecConfig, ExecProcessor, Format, JqProcessor, LineProcessor, OnError, Processor,
    RunStats, StreamConfig,
};

/// What every task runs: the expressions, then the child, either optional.
struct Plan {
    on_error: OnError,
    batch_max: usize,
    format: Format,
    processor: ProcessorFactory,
    /// With --count-by: the parts, for a two-stage (repartitioned) run.
    stateful: Option<Stateful>,
}

fn plan(
    args: &StreamArgs,
    stop: Option<&Arc<StopSignal>>,
    state_dir: Option<PathBuf>,
) -> Result<Plan, UsageError> {
    let on_error: OnError = args.on_error.parse().map_err(UsageError::new)?;
    match args.guarantee.as_str() {
        "at-least-once" => {
            if args.transactional_id.is_some() {
                return Err(UsageError::new(
                    "--transactional-id needs --guarantee exactly-once",
                ));
            }
        }
        "exactly-once" => {
            if args.count_by.is_some() {
                // Its state lives in a local store, not in a changelog
                // written in the same transaction: an aborted batch would
                // leave the store ahead of the committed output.
                return Err(UsageError::new(
                    "--guarantee exactly-once works for stateless pipelines (--jq, --filter, \
                     a command) only so far; --count-by is at-least-once (its state never \
                     counts a record twice)",
                ));
            }
            if args.transactional_id.as_deref() == Some("") {
                return Err(UsageError::new("--transactional-id must not be empty"));
            }
        }
        g => {
            return Err(UsageError::new(format!(
                "--guarantee: expected at-least-once or exactly-once, got {g:?}"
            )))
        }
    }
    if args.timeout_ms == 0 {
        return Err(UsageError::new("--timeout-ms must be at least 1"));
    }
    let pipeline = Pipeline::new(
        args.jq.filter.as_deref(),
        args.jq.jq.as_deref(),
        args.key_jq.as_deref(),
    )
    .map_err(UsageError::new)?;
    let child = !args.command.is_empty();
    if args.count_by.is_some() {
        let stateful = super::stream_stateful::plan(args, pipeline)?;
        return Ok(Plan {
            processor: stateful.single(state_dir),
            stateful: Some(stateful),
            on_error,
            batch_max: args.batch_max.unwrap_or(10_000).max(1),
            format: match args.format {
                StreamFormat::Lines => Format::Lines {
                    keep_key: args.keep_key,
                },
                StreamFormat::Json => Format::Json {
                    keep_partition: false,
                },
            },
        });
    }
    if !child && pipeline.is_none() {
        return Err(UsageError::new(
            "give a processor: --jq, --filter or --key-jq, or a command after --",
        ));
    }
    // In process, a batch costs no child: only an acknowledgement wait and a
    // commit, so bigger batches go faster.
    let batch_max = args.batch_max.unwrap_or(if child { 1000 } else { 10_000 });
    if batch_max == 0 {
        return Err(UsageError::new("--batch-max must be at least 1"));
    }
    let format = match args.format {
        // Without a child, --keep-partition applies to the --jq outputs.
        StreamFormat::Lines if args.keep_partition && child => {
            return Err(UsageError::new("--keep-partition needs --format json"))
        }
        StreamFormat::Json if args.keep_key => {
            return Err(UsageError::new(
                "--keep-key applies to --format lines; json keeps keys",
            ))
        }
        StreamFormat::Lines => Format::Lines {
            keep_key: args.keep_key,
        },
        StreamFormat::Json => Format::Json {
            keep_partition: args.keep_partition,
        },
    };
    let exec = args
        .command
        .split_first()
        .map(|(program, rest)| ExecConfig {
            program: program.clone(),
            args: rest.to_vec(),
            format,
            retries: args.retries,
            timeout: Duration::from_millis(args.timeout_ms),
            backoff: Duration::from_millis(100),
            stop: stop.cloned(),
        });
    let mode = args.exec;
    let keep_partition = args.keep_partition && !child;
    let processor: ProcessorFactory = Arc::new(move || {
        let child = exec.as_ref().map(|exec| match mode {
            ExecMode::Batch => Box::new(ExecProcessor::new(exec.clone())) as Box<dyn Processor>,
            ExecMode::Line => Box::new(LineProcessor::new(exec.clone())) as Box<dyn Processor>,
        });
        match (&pipeline, child) {
            (Some(p), child) => Box::new(JqProcessor::new(p.clone(), keep_partition, child)),
            (None, Some(child)) => child,
            // plan() refuses a stream with neither.
            (None, None) => Box::new(JqProcessor::new(Pipeline::default(), false, None)),
        }
    });
    Ok(Plan {
        on_error,
        batch_max,
        format,
        processor,
        stateful: None,
    })
}

fn config(
    args: &StreamArgs,
    stop: Option<&Arc<StopSignal>>,
) -> Result<(StreamConfig, Option<Stateful>), UsageError> {
    let (Some(to), Some(group_id)) = (&args.to, &args.group) else {
        return Err(UsageError::new("give --to and --group (or --dry-run)"));
    };
    let plan = plan(
        args,
        stop,
        Some(super::stream_stateful::state_dir(args, group_id)),
    )?;
    if args.from.contains(to) {
        return Err(UsageError::new("--to must not be one of the --from topics"));
    }
    let mut group = GroupConfig::new(group_id);
    group.client_id = "strom-stream".into();
    // A new stream processes what is already in its input, as Kafka Streams does.
    group.auto_offset_reset = OffsetReset::Earliest;
    for (k, v) in &args.consumer_properties {
        group.set(k, v).map_err(UsageError::new)?;
    }
    group.validate().map_err(UsageError::new)?;
    let config = StreamConfig {
        inputs: args.from.clone(),
        output: to.clone(),
        group,
        batch_max: plan.batch_max,
        linger: Duration::from_millis(args.linger_ms),
        on_error: plan.on_error,
        idle_flush: args.idle_flush_ms.map(Duration::from_millis),
        processor: plan.processor,
        transactional_id: (args.guarantee == "exactly-once").then(|| {
            args.transactional_id.clone().unwrap_or_else(|| {
                // One of its own per process: two instances in one group
                // must not fence each other.
                format!(
                    "strom-stream-{group_id}-{}-{:08x}",
                    std::process::id(),
                    fastrand::u32(..)
                )
            })
        }),
    };
    Ok((config, plan.stateful))
}

fn report(stats: RunStats) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "Processed {} records: {} outputs, {} skipped, {} dead-lettered",
        stats.input,
        stats.output,
        stats.skipped,
        stats.dead_lettered
    );
}

/// `--dry-run`: stdin through the pipeline to stdout, no broker.
fn dry_run(args: &StreamArgs) -> anyhow::Result<()> {
    let plan = plan(args, None, None)?;
    let mut processor = (plan.processor)();
    let dry = DryRun {
        input_topic: args.from.first().map_or("", String::as_str),
        output_topic: args.to.as_deref().unwrap_or(""),
        format: plan.format,
        batch_max: plan.batch_max,
        on_error: &plan.on_error,
    };
    let mut out = super::output::stdout();
    let stats = dry.run(processor.as_mut(), std::io::stdin().lock(), &mut out)?;
    report(stats);
    Ok(())
}

pub fn run(args: StreamArgs) -> anyhow::Result<()> {
    if args.dry_run {
        return dry_run(&args);
    }
    // Bad flags are usage errors whether or not a broker is reachable.
    config(&args, None)?;
    let client = super::connect(&args.connect)?;
    let stop = super::interrupt::stop_signal(client.runtime());
    let (config, stateful) = config(&args, Some(&stop))?;
    let mut partitions = 0;
    for t in &config.inputs {
        partitions += client
            .run(client.client().topic(t, false))?
            .partition_count();
    }
    // SIGTERM stops as cleanly as Ctrl-C.
    let s = stop.clone();
    client.runtime().handle().spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            if term.recv().await.is_some() {
                s.trigger();
            }
        }
    });
    let stats = match stateful {
        // A group key spread over partitions: through a repartition topic.
        Some(st) if partitions > 1 => {
            super::stream_stateful::run_two_stages(&client, config, &st, &args, &stop)?
        }
        _ => crate::stream::run(&client, config, &stop)?,
    };
    report(stats);
    Ok(())
}
