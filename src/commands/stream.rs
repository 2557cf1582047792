//! `strom stream`: turns the flags into a `stream::StreamConfig` with a
//! child-process processor and runs it until SIGINT/SIGTERM or a failure.
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use super::UsageError;
use crate::cli::stream_args::{ExecMode, StreamArgs, StreamFormat};
use crate::client::blocking::StopSignal;
use crate::client::{GroupConfig, OffsetReset};
use crate::stream::{
    ExecConfig, ExecProcessor, Format, LineProcessor, OnError, Processor, StreamConfig,
};

fn config(args: &StreamArgs, stop: &Arc<StopSignal>) -> Result<StreamConfig, UsageError> {
    let on_error: OnError = args.on_error.parse().map_err(UsageError::new)?;
    if args.batch_max == 0 {
        return Err(UsageError::new("--batch-max must be at least 1"));
    }
    if args.timeout_ms == 0 {
        return Err(UsageError::new("--timeout-ms must be at least 1"));
    }
    let format = match args.format {
        StreamFormat::Lines if args.keep_partition => {
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
    if args.from.contains(&args.to) {
        return Err(UsageError::new("--to must not be one of the --from topics"));
    }
    let mut group = GroupConfig::new(&args.group);
    group.client_id = "strom-stream".into();
    // A new stream processes what is already in its input, as Kafka Streams does.
    group.auto_offset_reset = OffsetReset::Earliest;
    for (k, v) in &args.consumer_properties {
        group.set(k, v).map_err(UsageError::new)?;
    }
    group.validate().map_err(UsageError::new)?;
    let Some((program, rest)) = args.command.split_first() else {
        return Err(UsageError::new("give the command after --"));
    };
    let exec = ExecConfig {
        program: program.clone(),
        args: rest.to_vec(),
        format,
        retries: args.retries,
        timeout: Duration::from_millis(args.timeout_ms),
        backoff: Duration::from_millis(100),
        stop: Some(stop.clone()),
    };
    Ok(StreamConfig {
        inputs: args.from.clone(),
        output: args.to.clone(),
        group,
        batch_max: args.batch_max,
        linger: Duration::from_millis(args.linger_ms),
        on_error,
        processor: match args.exec {
            ExecMode::Batch => {
                Arc::new(move || Box::new(ExecProcessor::new(exec.clone())) as Box<dyn Processor>)
            }
            ExecMode::Line => {
                Arc::new(move || Box::new(LineProcessor::new(exec.clone())) as Box<dyn Processor>)
            }
        },
    })
}

pub fn run(args: StreamArgs) -> anyhow::Result<()> {
    // Bad flags are usage errors whether or not a broker is reachable.
    config(&args, &Arc::default())?;
    let client = super::connect(&args.connect)?;
    let stop = super::interrupt::stop_signal(client.runtime());
    let config = config(&args, &stop)?;
    for t in &config.inputs {
        client.run(client.client().topic(t, false))?;
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
    let stats = crate::stream::run(&client, config, &stop)?;
    let _ = writeln!(
        std::io::stderr().lock(),
        "Processed {} records: {} outputs, {} skipped, {} dead-lettered",
        stats.input,
        stats.output,
        stats.skipped,
        stats.dead_lettered
    );
    Ok(())
}
