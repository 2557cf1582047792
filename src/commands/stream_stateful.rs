//! `strom stream --count-by EXPR [--window ..] [--agg ..]`: compiles the
//! stateful flags to a `stream::topology::Topology`, run per task by a
//! `TopologyProcessor` behind the `--filter`/`--jq` expressions, which also
//! set each record's key to the `--count-by` group.
use std::path::PathBuf;
use std::sync::Arc;

use super::UsageError;
use crate::cli::stream_args::{EmitMode, StreamArgs};
use crate::client::blocking::{BlockingClient, StopSignal};
use crate::client::jq::{Envelope, Expr, Pipeline};
use crate::client::ClientError;
use crate::client::{Admin, NewTopic};
use crate::proto::ErrorCode;
use crate::stream::runner::ProcessorFactory;
use crate::stream::stateful::{OriginTagger, TopologyProcessor};
use crate::stream::topology::window::{parse_duration_ms, parse_window};
use crate::stream::topology::{Agg, AggKind, Emit, Topology};
use crate::stream::{JqProcessor, Record, RunStats, StreamConfig};

/// The name of the store of `--count-by` (and of its changelog).
pub const COUNT_STORE: &str = "count";

/// Compiles EXPR to run on a record's value parsed as JSON.
fn value_expr(flag: &str, expr: &str) -> Result<Expr, UsageError> {
    Expr::compile(flag, &format!(".value | fromjson | ({expr})")).map_err(UsageError::new)
}

/// The first output of `e` on `r`'s value, as a number.
fn number_of(e: &Expr, r: &Record) -> Option<f64> {
    let env = Envelope {
        topic: "",
        partition: None,
        offset: None,
        timestamp: None,
        key: None,
        value: r.value.as_ref(),
        headers: &[],
    };
    let mut n = None;
    e.run(env.to_val(), |v| {
        n = v.ok().and_then(|v| v.to_string().parse::<f64>().ok());
        false
    });
    n
}

/// `sum:.amount,max:.ms` → the folded numbers.
fn parse_aggs(spec: &str) -> Result<Vec<Agg>, UsageError> {
    let mut aggs = Vec::new();
    for part in spec.split(',').filter(|p| !p.is_empty()) {
        let Some((kind, expr)) = part.split_once(':') else {
            return Err(UsageError::new(format!(
                "--agg: expected KIND:EXPR (sum:.amount), got {part:?}"
            )));
        };
        let k = match kind {
            "sum" => AggKind::Sum,
            "max" => AggKind::Max,
            "min" => AggKind::Min,
            _ => {
                return Err(UsageError::new(format!(
                    "--agg: unknown kind {kind:?} (sum, max or min)"
                )))
            }
        };
        let e = value_expr("--agg", expr)?;
        aggs.push(Agg::new(&format!("{kind}({expr})"), k, move |r| {
            number_of(&e, r)
        }));
    }
    Ok(aggs)
}

/// The topology of the stateful flags, from `inputs` to `output`.
pub fn topology(
    args: &StreamArgs,
    inputs: &[String],
    output: &str,
) -> Result<Topology, UsageError> {
    let mut b = Topology::from(inputs.first().map_or("", String::as_str));
    for t in inputs.iter().skip(1) {
        b = b.also_from(t);
    }
    if let Some(w) = &args.window {
        let mut w = parse_window(w).map_err(|e| UsageError::new(format!("--window: {e}")))?;
        if let Some(h) = &args.hop {
            w = w.hop(parse_duration_ms(h).map_err(|e| UsageError::new(format!("--hop: {e}")))?);
        }
        if let Some(g) = &args.grace {
            w = w
                .grace(parse_duration_ms(g).map_err(|e| UsageError::new(format!("--grace: {e}")))?);
        }
        w.validate().map_err(UsageError::new)?;
        b = b.window(w);
    } else if args.emit == EmitMode::Final {
        return Err(UsageError::new("--emit final needs --window"));
    }
    let aggs = parse_aggs(args.agg.as_deref().unwrap_or(""))?;
    let emit = match args.emit {
        EmitMode::Update => Emit::Update,
        EmitMode::Final => Emit::Final,
    };
    Ok(b.store(COUNT_STORE).emit(emit).aggregate(aggs).to(output))
}

/// A `--count-by` stream: what sets each record's group key (after the
/// expressions), and the topology that counts.
#[derive(Clone)]
pub struct Stateful {
    pub keyer: Pipeline,
    pub topology: Topology,
}

pub fn plan(args: &StreamArgs, pipeline: Option<Pipeline>) -> Result<Stateful, UsageError> {
    let Some(count_by) = &args.count_by else {
        return Err(UsageError::new("--count-by is missing"));
    };
    if !args.command.is_empty() {
        return Err(UsageError::new(
            "--count-by runs in process: give no CMD (run the CMD in a stream of its own before it)",
        ));
    }
    if args.key_jq.is_some() {
        return Err(UsageError::new("--count-by sets the key; drop --key-jq"));
    }
    if args.idle_flush_ms == Some(0) {
        return Err(UsageError::new("--idle-flush-ms must be at least 1"));
    }
    let mut keyer = pipeline.unwrap_or_default();
    keyer.set_key(value_expr("--count-by", count_by)?);
    let output = args.to.clone().unwrap_or_default();
    let topology = topology(args, &args.from, &output)?;
    Ok(Stateful { keyer, topology })
}

impl Stateful {
    /// One stage: key and count in the same task (one input partition, or
    /// --dry-run).
    pub fn single(&self, dir: Option<PathBuf>) -> ProcessorFactory {
        let s = self.clone();
        Arc::new(move || {
            let before = JqProcessor::new(s.keyer.clone(), false, None);
            Box::new(TopologyProcessor::new(
                s.topology.clone(),
                dir.clone(),
                Some(Box::new(before)),
            ))
        })
    }

    /// The first of two stages: key only (its output is the repartition
    /// topic, so every key lands in one partition).
    pub fn keying(&self) -> ProcessorFactory {
        let keyer = self.keyer.clone();
        Arc::new(move || {
            Box::new(OriginTagger {
                inner: Box::new(JqProcessor::new(keyer.clone(), false, None)),
            })
        })
    }

    /// The second stage: count what the repartition topic holds.
    pub fn counting(&self, repartition: &str, dir: PathBuf) -> ProcessorFactory {
        let topology = self.topology.with_inputs(vec![repartition.to_string()]);
        Arc::new(move || {
            Box::new(TopologyProcessor::new(topology.clone(), Some(dir.clone()), None).by_origin())
        })
    }
}

/// The topic records go through when the group key is not the record
/// key, as Kafka Streams names it.
pub fn repartition_topic(group: &str) -> String {
    format!("{group}-{COUNT_STORE}-repartition")
}

/// `<state-dir>/<group>`.
pub fn state_dir(args: &StreamArgs, group: &str) -> PathBuf {
    args.state_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("strom-streams"))
        .join(group)
}
/// Creates the repartition topic with as many partitions as the inputs
/// have together, unless it exists.
fn ensure_repartition_topic(
    client: &BlockingClient,
    name: &str,
    partitions: i32,
) -> anyhow::Result<()> {
    match client.run(client.client().topic(name, false)) {
        Ok(_) => return Ok(()),
        Err(ClientError::UnknownTopic(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let created = client.run(Admin::new(client.client().clone()).create_topic(
        NewTopic {
            name: name.to_string(),
            partitions: Some(partitions),
            replication_factor: None,
            configs: Vec::new(),
        },
        false,
    ));
    match created {
        Err(e) if e.code() != Some(ErrorCode::TopicAlreadyExists) => {
            Err(anyhow::Error::new(e).context(format!("creating the repartition topic {name}")))
        }
        _ => {
            client.run(client.client().topic(name, false))?;
            Ok(())
        }
    }
}

/// Stage one keys every record and writes it to the repartition topic (as
/// group GROUP); stage two counts that topic (as group GROUP-count), so all
/// records of one key meet in one task. Both run here until `stop`; either
/// failing stops the other.
pub fn run_two_stages(
    client: &BlockingClient,
    config: StreamConfig,
    stateful: &Stateful,
    args: &StreamArgs,
    stop: &Arc<StopSignal>,
) -> anyhow::Result<RunStats> {
    let group = config.group.group_id.clone();
    let repartition = repartition_topic(&group);
    let mut partitions = 0;
    for t in &config.inputs {
        partitions += client
            .run(client.client().topic(t, false))?
            .partition_count();
    }
    ensure_repartition_topic(client, &repartition, partitions.max(1))?;
    let mut count_group = config.group.clone();
    count_group.group_id = format!("{group}-{COUNT_STORE}");
    let counting = StreamConfig {
        inputs: vec![repartition.clone()],
        output: config.output.clone(),
        group: count_group,
        batch_max: config.batch_max,
        linger: config.linger,
        on_error: config.on_error.clone(),
        idle_flush: config.idle_flush,
        processor: stateful.counting(&repartition, state_dir(args, &group)),
        transactional_id: None,
    };
    let keying = StreamConfig {
        output: repartition,
        idle_flush: None,
        processor: stateful.keying(),
        ..config
    };
    let (first, second) = std::thread::scope(|s| {
        let one = s.spawn(|| {
            let r = crate::stream::run(client, keying, stop);
            stop.trigger();
            r
        });
        let two = s.spawn(|| {
            let r = crate::stream::run(client, counting, stop);
            stop.trigger();
            r
        });
        let joined = |h: std::thread::ScopedJoinHandle<'_, anyhow::Result<RunStats>>| {
            h.join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("a stream stage panicked")))
        };
        (joined(one), joined(two))
    });
    let (first, second) = (first?, second?);
    Ok(RunStats {
        input: first.input,
        output: second.output,
        skipped: first.skipped + second.skipped,
        dead_lettered: first.dead_lettered + second.dead_lettered,
    })
}
