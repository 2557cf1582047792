//! Flags of `strom stream`, beside `args.rs` (which names the command).
use clap::{Args, ValueEnum};

use super::args::{jq_help, key_value, topic_name, ConnectArgs, JqArgs};

/// A macro so `concat!` can add the jq help.
macro_rules! stream_help {
    () => {
"\
Runs CMD (or the built-in --jq, --filter and --key-jq expressions) on every batch of records read from the input topics, as a member \
of consumer group GROUP, and writes what it prints to the output topic. One \
input partition is one task with its own child; start more processes with \
the same --group to spread the partitions over them.

--format lines (default): each record value is one line on CMD's stdin and \
each line CMD prints is one output record (--keep-key: KEY<TAB>VALUE both ways). \
--format json: the envelope of `consume --output json` in and out, so keys, \
headers and timestamps survive (--keep-partition honours \"partition\").

--exec batch: one child per polled batch of a partition (at most --batch-max \
records, gathered for up to --linger-ms); its output is produced only after it \
exits 0, so grep, awk, jq and `sort | uniq -c` all work. --exec line: one \
long-lived child per partition that answers every input line with one output \
line (an empty line drops the record); it must not buffer its output (sed -u, mawk -W interactive, \
jq --unbuffered, or a shell `while read` loop).

A non-zero exit or --timeout-ms is retried --retries times with backoff, then \
--on-error decides: fail (stop; the batch is not committed), skip, or \
dlq:TOPIC (each input record, with its key, value and headers, plus headers \
strom.error, strom.error.exit.code, strom.error.stderr, strom.source.topic, \
strom.source.partition, strom.source.offset). CMD's stderr passes through.

Guarantee: at least once. Outputs are produced with acks=all by the idempotent \
producer, and an input offset is committed only when every output derived from \
it and from every record before it is acknowledged. After a crash records may \
be processed again (duplicates); none is lost. SIGINT and SIGTERM stop cleanly: \
what is acknowledged is committed and the process leaves the group.

Built-in expressions: "
    };
}
pub const STREAM_HELP: &str = concat!(
    stream_help!(),
    jq_help!(),
    " --key-jq EXPR runs on each output envelope; its one output is the record's \
key. In a stream a record whose expression fails is handled by --on-error alone \
(the rest of its batch goes on). With a CMD, the expressions run before it. \
--dry-run reads records from stdin (--format lines or json), runs them \
through the expressions and CMD, and prints the outputs to stdout, with no broker.

Stateful: --count-by EXPR counts records per group key (EXPR on the value \
parsed as JSON), per window with --window tumbling:D [--hop H] [--grace G], \
folding --agg sum|max|min:EXPR too; results are JSON objects \
{\"key\",[\"window_start\",\"window_end\",]\"count\",...}. --emit update writes each \
change, final each window once when stream time (the largest record \
timestamp) passes its end plus the grace (--idle-flush-ms: wall-clock \
fallback). Each task keeps its state, with the input offset it reflects, \
in --state-dir; a replay after a crash never counts a record twice in the \
state. With more than one input partition records go through the topic \
GROUP-count-repartition (group GROUP-count counts it). See docs/streams.md.

Examples:
  strom stream --from logs --to errors --group err -- grep -i error
  strom stream --from words --to counts --group wc -- sh -c 'sort | uniq -c'
  strom stream --from in --to out --group g --format json --on-error dlq:in-dlq -- jq -c '.value |= ascii_upcase'
  strom stream --from in --to out --group g --jq '.value |= ascii_upcase' --on-error dlq:in-dlq
  strom stream --from orders --to big --group g --filter '.value | fromjson | .total > 100'
  strom stream --from in --to out --group g --key-jq '.value | fromjson | .user'
  printf 'a\\nb\\n' | strom stream --dry-run --jq '.value |= ascii_upcase'
  strom stream --from clicks --to per-min --group cpm --count-by .page --window tumbling:1m --grace 5s --emit final --agg sum:.amount"
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum StreamFormat {
    /// One value per line
    #[default]
    Lines,
    /// One JSON envelope per line
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum EmitMode {
    /// Every change of a count
    #[default]
    Update,
    /// Each window once, after its end plus the grace
    Final,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ExecMode {
    /// One child per polled batch of a partition
    #[default]
    Batch,
    /// One long-lived child per partition: one line in, one line out
    Line,
}

#[derive(Debug, Args)]
#[command(after_long_help = STREAM_HELP)]
pub struct StreamArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,

    /// Input topic(s), comma-separated
    #[arg(long, value_name = "TOPIC[,TOPIC...]", value_delimiter = ',', required_unless_present = "dry_run", value_parser = topic_name)]
    pub from: Vec<String>,

    /// Output topic
    #[arg(long, value_name = "TOPIC", required_unless_present = "dry_run", value_parser = topic_name)]
    pub to: Option<String>,

    /// Consumer group of the stream's processes (its committed offsets are the progress)
    #[arg(short, long, value_name = "GROUP", required_unless_present = "dry_run")]
    pub group: Option<String>,

    #[command(flatten)]
    pub jq: JqArgs,

    /// Set each output record's key to the one output of the jq expression
    /// EXPR on its envelope, e.g. '.value | fromjson | .user'
    #[arg(long, value_name = "EXPR")]
    pub key_jq: Option<String>,

    /// Read records from stdin instead of a broker, run the pipeline, print
    /// the outputs to stdout
    #[arg(long)]
    pub dry_run: bool,

    /// Framing of records on the child's stdin and stdout (and of --dry-run's)
    #[arg(long, value_enum, default_value_t)]
    pub format: StreamFormat,

    /// With --format lines: KEY<TAB>VALUE lines instead of values only
    #[arg(long)]
    pub keep_key: bool,

    /// With --format json: send each output to its envelope's "partition"
    #[arg(long)]
    pub keep_partition: bool,

    /// How the child runs
    #[arg(long, value_enum, default_value_t)]
    pub exec: ExecMode,

    /// Most records in one batch (per poll) [default: 1000 with a CMD, 10000
    /// without: a batch is then only the unit of acknowledgement and commit]
    #[arg(long, value_name = "N")]
    pub batch_max: Option<usize>,

    /// How long a batch waits for more records
    #[arg(long, value_name = "MS", default_value_t = 100)]
    pub linger_ms: u64,

    /// Kill a child that runs longer than this, and retry
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    pub timeout_ms: u64,

    /// Extra attempts for a failed batch
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,

    /// After the retries: fail, skip or dlq:TOPIC
    #[arg(long, value_name = "POLICY", default_value = "fail")]
    pub on_error: String,

    /// Count records per group key: the jq expression EXPR on each record's
    /// value parsed as JSON (e.g. '.page'); its output is the result's key.
    /// Without --window: a running count per key
    #[arg(long, value_name = "EXPR", help_heading = "Stateful operations")]
    pub count_by: Option<String>,

    /// Count per key and time window: tumbling:DURATION (e.g. tumbling:1m;
    /// with --hop, hopping windows). Durations: 500ms, 10s, 1m, 2h, 1d
    #[arg(
        long,
        value_name = "SPEC",
        requires = "count_by",
        help_heading = "Stateful operations"
    )]
    pub window: Option<String>,

    /// Advance of hopping windows (at most the window size)
    #[arg(
        long,
        value_name = "DURATION",
        requires = "window",
        help_heading = "Stateful operations"
    )]
    pub hop: Option<String>,

    /// How long after its end a window still takes late records
    #[arg(
        long,
        value_name = "DURATION",
        requires = "window",
        help_heading = "Stateful operations"
    )]
    pub grace: Option<String>,

    /// update: emit every change of a count; final: emit each window once,
    /// when stream time passes its end plus the grace
    #[arg(
        long,
        value_enum,
        default_value_t,
        requires = "count_by",
        help_heading = "Stateful operations"
    )]
    pub emit: EmitMode,

    /// Also fold numbers of each group: KIND:EXPR[,...], KIND sum, max or
    /// min, EXPR jq on the parsed value, e.g. sum:.amount,max:.ms
    #[arg(
        long,
        value_name = "KIND:EXPR,...",
        requires = "count_by",
        help_heading = "Stateful operations"
    )]
    pub agg: Option<String>,

    /// Where each task keeps its state file (<DIR>/<GROUP>/<TOPIC>-<PARTITION>.state)
    /// [default: $TMPDIR/strom-streams]
    #[arg(long, value_name = "DIR", help_heading = "Stateful operations")]
    pub state_dir: Option<std::path::PathBuf>,

    /// With --emit final: a task that saw no record for MS milliseconds
    /// moves its stream time to the wall clock and emits the windows closed
    /// by then
    #[arg(
        long,
        value_name = "MS",
        requires = "count_by",
        help_heading = "Stateful operations"
    )]
    pub idle_flush_ms: Option<u64>,

    /// Processing guarantee: at-least-once (outputs acknowledged before
    /// their input offsets are committed: after a crash duplicates are
    /// possible, loss is not) or exactly-once (each batch's outputs and
    /// input offsets commit in one Kafka transaction and the inputs are
    /// read read_committed: a read_committed reader of the output sees
    /// each result once; stateless pipelines only)
    #[arg(long, value_name = "GUARANTEE", default_value = "at-least-once")]
    pub guarantee: String,

    /// With --guarantee exactly-once: the producer's transactional id
    /// (default: one of its own per process). Give each instance a stable
    /// one of its own so that its restart fences the crashed predecessor
    /// at once instead of after the 10 s transaction timeout
    #[arg(long, value_name = "ID")]
    pub transactional_id: Option<String>,

    /// Kafka consumer property (repeatable), e.g. session.timeout.ms=10000
    #[arg(long = "consumer-property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub consumer_properties: Vec<(String, String)>,

    /// The processor: a program and its arguments, after `--` (optional
    /// with --jq, --filter or --key-jq)
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}
