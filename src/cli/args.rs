//! The one clap definition of every command and flag. Help, man pages,
//! completions and the REPL are all generated from these types, so a flag
//! is documented exactly once, here.
use std::path::PathBuf;

use clap::builder::TypedValueParser as _;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::client::DEFAULT_BOOTSTRAP;
use crate::record::Compression;

#[derive(Debug, Parser)]
#[command(
    name = "strom",
    version,
    about = "A Kafka-class streaming platform in one binary",
    long_about = "A Kafka-class streaming platform in one binary.\n\n\
        Run a broker with `strom serve`, then produce, consume and manage \
        topics against it. Client commands take -b/--bootstrap-server \
        (env STROM_BOOTSTRAP_SERVER, default localhost:9092).",
    after_help = "Exit status: 0 success, 1 runtime failure, 2 usage error.",
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Settings profile from $XDG_CONFIG_HOME/strom/config.toml [env: STROM_PROFILE]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// No command: the REPL on a terminal, a script read from stdin otherwise.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Every top-level command. Adding one is one variant here and one arm in
/// `cli::dispatch`.
// Parsed once per process: boxing `serve`'s many flags would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a broker
    Serve(ServeArgs),
    /// Write records from stdin or a file to a topic
    Produce(ProduceArgs),
    /// Print records of a topic to stdout
    Consume(ConsumeArgs),
    /// Create, list, describe, alter and delete topics
    #[command(subcommand)]
    Topics(TopicsCommand),
    /// Measure produce and consume throughput
    #[command(subcommand)]
    Perf(PerfCommand),
    /// Interactive shell (or script runner) for the commands above
    Repl(ReplArgs),
    /// Show the effective client settings and where they came from
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Write man pages or shell completions (for packagers)
    #[command(subcommand, hide = true)]
    Generate(GenerateCommand),
    /// List, describe, reset and delete consumer groups
    #[command(subcommand)]
    Groups(super::groups_args::GroupsCommand),
    /// List and describe the cluster's brokers: version, listeners, health
    #[command(subcommand)]
    Brokers(super::brokers_args::BrokersCommand),
    /// Process records from topics to a topic with any program (at least once)
    Stream(super::stream_args::StreamArgs),
    /// Run source and sink connectors between topics and databases
    #[command(subcommand)]
    Connect(super::connect_args::ConnectCommand),
    /// Live terminal view of brokers' metrics: topic rates, partitions, groups' lag
    Top(super::top_args::TopArgs),
    /// List and describe transactions (transactional producers' state)
    #[command(subcommand)]
    Transactions(super::transactions_args::TransactionsCommand),
}

/// How to reach the cluster; flattened into every client command.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Broker(s) to bootstrap from (precedence: flag, env, profile, default)
    #[arg(
        short = 'b',
        long = "bootstrap-server",
        env = "STROM_BOOTSTRAP_SERVER",
        default_value = DEFAULT_BOOTSTRAP,
        value_name = "HOST:PORT[,HOST:PORT...]",
        value_parser = bootstrap_list
    )]
    pub bootstrap_server: String,
}

/// A `-b` list checked when the flags are parsed (a bad port is a usage
/// error, exit 2, not a failed lookup).
fn bootstrap_list(s: &str) -> Result<String, String> {
    crate::client::metadata::parse_bootstrap(s)
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

/// Kafka's topic name rule, checked before anything is sent.
pub fn topic_name(s: &str) -> Result<String, String> {
    crate::proto::topic_name::check_topic_name(s)?;
    Ok(s.to_string())
}

/// `KEY=VALUE`, split at the first `=`.
pub fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AcksArg {
    #[value(name = "0")]
    Zero,
    #[value(name = "1")]
    One,
    #[value(name = "all", alias = "-1")]
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum InputFormat {
    /// One record per line
    #[default]
    Plain,
    /// One JSON envelope per line (see --help)
    Json,
}

/// What `produce` does with an input line it cannot turn into a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OnBadLine {
    /// Stop reading; deliver every record before the line, then exit 1
    #[default]
    Fail,
    /// Report the line (with its number) on stderr and go on
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum RecordOutput {
    /// The value (or --format / --property layout) per line
    #[default]
    Plain,
    /// One JSON envelope per line
    Json,
}

/// `consume --isolation-level`, Kafka's `isolation.level` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum IsolationArg {
    #[default]
    #[value(name = "read_uncommitted")]
    ReadUncommitted,
    #[value(name = "read_committed")]
    ReadCommitted,
}

impl From<IsolationArg> for crate::client::IsolationLevel {
    fn from(a: IsolationArg) -> crate::client::IsolationLevel {
        match a {
            IsolationArg::ReadUncommitted => crate::client::IsolationLevel::ReadUncommitted,
            IsolationArg::ReadCommitted => crate::client::IsolationLevel::ReadCommitted,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum TableOutput {
    /// Kafka's text layout
    #[default]
    Plain,
    /// An aligned table
    Table,
    /// JSON
    Json,
}

/// The envelope's description; a macro so `concat!` can use it.
macro_rules! json_envelope_help {
    () => {
        "JSON envelope (produce --input json, consume --output json), one object per line:\n  \
{\"topic\":\"t\",\"partition\":0,\"offset\":7,\"timestamp\":1700000000000,\n   \
\"key\":\"k\",\"value\":\"v\",\"headers\":[{\"key\":\"h\",\"value\":\"x\"}]}\n\
key, value and header values are a JSON string when the bytes are valid UTF-8, \
{\"base64\":\"...\"} otherwise, and null for null. So binary data round-trips \
exactly through `consume --output json | produce --input json`. On input only \
key and value are needed; timestamp and headers are kept; topic, partition and \
offset are ignored (use -t and -p), except that --keep-partition honours \"partition\"."
    };
}

/// What `--filter`/`--jq` see and make; a macro so `concat!` can add it
/// to the commands' help.
macro_rules! jq_help {
    () => {
        "--filter EXPR and --jq EXPR run jq expressions (jaq, in process) on each \
record as its JSON envelope (the one of consume --output json): .value and .key \
are strings ({\"base64\":..} when not UTF-8), so `.value | fromjson` reads a \
JSON value. --filter runs first. Each --jq output must be an envelope object \
(`.value |= f` keeps the rest; topic and offset are ignored); a non-string \
value is written as compact JSON."
    };
}
pub(crate) use jq_help;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  seq 1 1000 | strom produce -t numbers\n  strom produce -t orders -K : -l orders.txt\n  strom consume -t a --from-beginning -e --output json | strom produce -t b --input json\n  tail -F app.log | strom produce -t logs -z zstd --on-bad-line skip\n  strom produce -t orders -l orders.txt --transactional-id loader --transaction-size 1000"
)]
#[command(after_long_help = concat!("Examples:\n  seq 1 1000 | strom produce -t numbers\n  strom produce -t orders -K : -l orders.txt\n  strom consume -t a --from-beginning -e --output json | strom produce -t b --input json\n  tail -F app.log | strom produce -t logs -z zstd --on-bad-line skip\n  strom produce -t orders -l orders.txt --transactional-id loader --transaction-size 1000\n\n", concat!(
    json_envelope_help!(),
    "\n\n",
    jq_help!(),
    " A record whose expression fails is reported on stderr and not sent; the exit status is then 1.",
    "\n\nExamples:\n  \
strom produce -t t --jq '.key = (.value | split(\",\")[0])' < lines.csv\n  \
strom produce -t t --input json --filter '.value != \"\"' < records.jsonl"
)))]
pub struct ProduceArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,

    /// Topic to write to
    #[arg(short, long, value_parser = topic_name)]
    pub topic: String,

    /// Read records from FILE instead of stdin
    #[arg(short = 'l', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Split each line into key and value at the first SEP
    #[arg(short = 'K', long = "key-separator", value_name = "SEP")]
    pub key_separator: Option<String>,

    /// Kafka console-producer property: parse.key=true, key.separator=SEP,
    /// null.marker=STR
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,

    /// Kafka producer setting (repeatable): max.request.size, batch.size,
    /// linger.ms, acks, retries, delivery.timeout.ms, compression.type, ...
    #[arg(long = "producer-property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub producer_properties: Vec<(String, String)>,

    /// Add a header to every record (repeatable)
    #[arg(short = 'H', long = "header", value_name = "KEY=VALUE", value_parser = key_value)]
    pub headers: Vec<(String, String)>,

    /// Write every record to this partition
    #[arg(short, long)]
    pub partition: Option<i32>,

    /// Acknowledgements to wait for (-1 is Kafka's spelling of all)
    #[arg(long, value_enum, default_value = "all", allow_hyphen_values = true)]
    pub acks: AcksArg,

    /// A value equal to STR is sent as null (a tombstone)
    #[arg(long, value_name = "STR")]
    pub null_marker: Option<String>,

    /// Input layout
    #[arg(long, value_enum, default_value_t)]
    pub input: InputFormat,

    /// With --input json, send each record to its envelope's "partition"
    #[arg(long)]
    pub keep_partition: bool,

    /// A malformed input line (bad JSON, no key separator): fail stops
    /// there after delivering every earlier line; skip reports it and goes on
    #[arg(long, value_enum, value_name = "POLICY", default_value_t)]
    pub on_bad_line: OnBadLine,

    /// How long a batch waits for more records
    #[arg(long, value_name = "MS", default_value_t = 5)]
    pub linger_ms: u64,

    /// Compress every batch with this codec (Kafka's compression.type)
    #[arg(
        short = 'z',
        long = "compression-type",
        value_name = "CODEC",
        default_value = "none",
        value_parser = compression_type()
    )]
    pub compression: Compression,

    /// Write in transactions under this id (Kafka's transactional.id): one
    /// per read of the input, or per --transaction-size records.
    /// read_committed consumers see each whole or not at all. A newer
    /// producer with the same id fences this one (exit 1); a failed
    /// transaction is aborted and reported (exit 1)
    #[arg(long, value_name = "ID", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub transactional_id: Option<String>,

    /// With --transactional-id: commit every N records (and at the end of
    /// the input) instead of per read
    #[arg(long, value_name = "N", requires = "transactional_id",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub transaction_size: Option<u64>,

    /// With --transactional-id: the broker aborts a transaction open longer
    /// (Kafka's transaction.timeout.ms)
    #[arg(long, value_name = "MS", default_value_t = 60_000,
          value_parser = clap::value_parser!(u64).range(1..=i32::MAX as u64))]
    pub transaction_timeout_ms: u64,

    #[command(flatten)]
    pub jq: JqArgs,
}

/// `--filter` and `--jq`, shared by `consume`, `produce` and `stream`.
#[derive(Debug, Clone, Default, Args)]
pub struct JqArgs {
    /// Keep only records for which the jq expression EXPR is true: select(EXPR)
    /// on the record envelope, e.g. '.key == "a"'
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,

    /// Map each record envelope to zero or more envelopes with the jq
    /// expression EXPR, e.g. '.value |= ascii_upcase'
    #[arg(long, value_name = "EXPR")]
    pub jq: Option<String>,
}

/// Kafka's producer codecs, listed for help and completions.
fn compression_type() -> impl clap::builder::TypedValueParser<Value = Compression> {
    clap::builder::PossibleValuesParser::new(Compression::ALL.map(Compression::name))
        // Only the names above get here, and each of them parses.
        .map(|s| s.parse::<Compression>().unwrap_or(Compression::None))
}

/// Where `consume` starts, as given by `-o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetArg {
    Beginning,
    End,
    /// An absolute offset.
    At(i64),
    /// N records before the end.
    FromEnd(i64),
    /// First record at or after this time (ms since the epoch).
    Timestamp(i64),
    /// The group's committed offsets (kcat's `stored`).
    Stored,
    /// Not a start: stop before the first record at or after this time.
    EndAt(i64),
}

/// Where `consume` starts and, with `e@`, where it stops: `-o` given up to
/// twice, resolved once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetRange {
    pub start: OffsetArg,
    pub end_at: Option<i64>,
}

impl ConsumeArgs {
    pub fn offset_range(&self) -> Result<OffsetRange, String> {
        let mut start = None;
        let mut end_at = None;
        for o in &self.offset {
            match *o {
                OffsetArg::EndAt(t) if end_at.is_none() => end_at = Some(t),
                OffsetArg::EndAt(_) => return Err("-o e@... is given twice".into()),
                s if start.is_none() => start = Some(s),
                _ => return Err("-o gives two start offsets; use one (and e@ for the end)".into()),
            }
        }
        if self.from_beginning && start.is_some() {
            return Err("--from-beginning and a start -o cannot be combined".into());
        }
        let start = match (start, self.from_beginning) {
            (Some(s), _) => s,
            (None, true) => OffsetArg::Beginning,
            (None, false) => OffsetArg::End,
        };
        if start == OffsetArg::Stored && self.group.is_none() {
            return Err("-o stored reads the group's committed offsets: give --group".into());
        }
        Ok(OffsetRange { start, end_at })
    }
}

pub fn offset_arg(s: &str) -> Result<OffsetArg, String> {
    let bad = || {
        format!(
            "expected beginning, end, stored, N, -N, s@TIMESTAMP_MS, e@TIMESTAMP_MS or \
             YYYY-MM-DDTHH:mm:SS[.sss] (UTC), got {s:?}"
        )
    };
    // A time in ms since the epoch, or a UTC datetime.
    let time = |t: &str| {
        t.parse::<i64>()
            .ok()
            .filter(|ms| *ms >= 0)
            .or_else(|| super::groups_args::datetime_ms(t).ok())
            .ok_or_else(bad)
    };
    match s {
        "beginning" | "earliest" => Ok(OffsetArg::Beginning),
        "end" | "latest" => Ok(OffsetArg::End),
        "stored" => Ok(OffsetArg::Stored),
        _ => {
            if let Some(t) = s.strip_prefix("e@") {
                return time(t).map(OffsetArg::EndAt);
            }
            if let Some(t) = s.strip_prefix("s@").or_else(|| s.strip_prefix('@')) {
                return time(t).map(OffsetArg::Timestamp);
            }
            if s.contains('T') {
                return time(s).map(OffsetArg::Timestamp);
            }
            let n: i64 = s.parse().map_err(|_| bad())?;
            Ok(if n < 0 {
                OffsetArg::FromEnd(-n)
            } else {
                OffsetArg::At(n)
            })
        }
    }
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  strom consume -t orders --from-beginning -e\n  strom consume -t orders -g billing\n  strom consume -t orders --from-beginning --isolation-level read_committed\n  strom consume -t orders -o s@1733212800000 -o e@1733216400000 -f '%p:%o %k=%s\\n'\n  strom consume -t orders --from-beginning --filter '.value | fromjson | .total > 100' | head"
)]
#[command(
    after_long_help = concat!("Examples:\n  strom consume -t orders --from-beginning -e\n  strom consume -t orders -g billing\n  strom consume -t orders --from-beginning --isolation-level read_committed\n  strom consume -t orders -o s@1733212800000 -o e@1733216400000 -f '%p:%o %k=%s\\n'\n  strom consume -t orders --from-beginning --filter '.value | fromjson | .total > 100' | head\n\n", concat!("Format tokens (-f): %t topic, %p partition, %o offset, %k key, %s value, \
    %T timestamp, %h headers (k=v,...), %K key length, %S value length, \\n newline, \\t tab, %% percent.\n\n\
    Kafka properties (--property): print.key, print.value, print.timestamp, print.partition, \
    print.offset, print.headers (true|false), key.separator, headers.separator, line.separator, \
    null.literal.\n\n",
    jq_help!(),
    " A record whose expression fails is reported on stderr and not printed; the exit status is then 1. \
-e and --max-messages count what is printed.",
    "\n\nExamples:\n  \
strom consume -t orders -e --filter '.value | fromjson | .total > 100'\n  \
strom consume -t logs --jq '.value |= ascii_downcase' --output json"
)))]
pub struct ConsumeArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,

    /// Topic to read
    #[arg(short, long, value_parser = topic_name)]
    pub topic: String,

    /// Start at the oldest record (same as -o beginning)
    #[arg(long)]
    pub from_beginning: bool,

    /// Start at: beginning, end, N, -N (N before the end), s@TIMESTAMP_MS
    /// (or @TIMESTAMP_MS), a UTC datetime YYYY-MM-DDTHH:mm:SS[.sss], or
    /// stored (the group's committed offsets, with --group). Given again as
    /// e@TIMESTAMP_MS (or e@DATETIME): stop each partition before the first
    /// record at or after that time, then exit, as kcat does
    #[arg(short, long, value_parser = offset_arg, allow_hyphen_values = true)]
    pub offset: Vec<OffsetArg>,

    /// Read only this partition (repeatable; default all)
    #[arg(short, long)]
    pub partition: Vec<i32>,

    /// Exit once the end of every partition is reached
    #[arg(short, long)]
    pub exit_at_end: bool,

    /// Exit after N records
    #[arg(long, value_name = "N")]
    pub max_messages: Option<u64>,

    /// Exit when no record arrives for MS milliseconds
    #[arg(long, value_name = "MS")]
    pub timeout_ms: Option<u64>,

    /// kcat-style output format, e.g. '%k\t%s\n'
    #[arg(short, long, value_name = "FMT", conflicts_with = "output")]
    pub format: Option<String>,

    /// Print a null key or value as NULL (kcat's -Z); otherwise -f prints
    /// nothing and the default layout prints null
    #[arg(short = 'Z', long = "print-null", conflicts_with = "output")]
    pub print_null: bool,

    /// Kafka console-consumer property, e.g. print.key=true
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,

    /// Output layout
    #[arg(long, value_enum, default_value_t)]
    pub output: RecordOutput,

    /// Consume as part of a consumer group: resume at its committed offsets
    /// and share the partitions with its other members
    #[arg(short, long, value_name = "GROUP")]
    pub group: Option<String>,

    /// Kafka consumer property for --group (repeatable), e.g.
    /// session.timeout.ms=10000, partition.assignment.strategy=roundrobin,
    /// auto.offset.reset=earliest, auto.commit.interval.ms=5000
    #[arg(long = "consumer-property", value_name = "KEY=VALUE", value_parser = key_value, requires = "group")]
    pub consumer_properties: Vec<(String, String)>,

    /// read_committed: only records of committed transactions (and those
    /// written outside transactions), up to the last stable offset;
    /// read_uncommitted: everything, as Kafka's consumer by default
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t)]
    pub isolation_level: IsolationArg,

    #[command(flatten)]
    pub jq: JqArgs,
}

/// A topic given as a positional NAME or, as kafka-topics spells it, --topic.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct TopicArg {
    /// Topic name
    #[arg(value_parser = topic_name, value_name = "NAME")]
    pub name: Option<String>,
    /// Topic name (kafka-topics spelling)
    #[arg(long = "topic", value_parser = topic_name, value_name = "NAME")]
    pub topic: Option<String>,
}

impl TopicArg {
    pub fn get(&self) -> &str {
        self.name
            .as_deref()
            .or(self.topic.as_deref())
            .unwrap_or_default()
    }
}

#[derive(Debug, Subcommand)]
pub enum TopicsCommand {
    /// Create a topic
    Create(TopicsCreateArgs),
    /// List topic names
    List(TopicsListArgs),
    /// Describe partitions, leaders and configs
    Describe(TopicsDescribeArgs),
    /// Add partitions or change configs
    Alter(TopicsAlterArgs),
    /// Delete a topic
    Delete(TopicsDeleteArgs),
    /// Earliest, latest or by-time offsets per partition (kafka-get-offsets)
    #[command(after_help = "Examples:\n  strom topics offsets orders\n  \
        strom topics offsets orders --time earliest\n  \
        strom topics offsets orders --time 1733212800000 --partitions 0,2")]
    Offsets(TopicsOffsetsArgs),
    /// Delete the records below an offset (kafka-delete-records)
    #[command(
        after_help = "Examples:\n  strom topics delete-records orders --offset 1000\n  \
        strom topics delete-records orders --partition 0 --offset -1   # all of partition 0\n  \
        strom topics delete-records --offset-json-file plan.json\n\n\
        The file is kafka-delete-records' format: \
        {\"partitions\": [{\"topic\": \"orders\", \"partition\": 0, \"offset\": 1000}], \"version\": 1}"
    )]
    DeleteRecords(TopicsDeleteRecordsArgs),
    /// Move partitions' leadership to their preferred replica, or elect an
    /// unclean leader (kafka-leader-election)
    ElectLeaders(super::elect_leaders_args::ElectLeadersArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["offset", "offset_json_file"])))]
pub struct TopicsDeleteRecordsArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Topic whose records to delete (with --offset)
    #[arg(value_parser = topic_name, value_name = "TOPIC", required_unless_present = "offset_json_file")]
    pub topic: Option<String>,
    /// Only these partitions (repeatable; default every partition)
    #[arg(short, long, requires = "offset")]
    pub partition: Vec<i32>,
    /// Delete every record below this offset; -1 is the high watermark
    /// (everything written so far)
    #[arg(long, allow_hyphen_values = true, conflicts_with = "offset_json_file")]
    pub offset: Option<i64>,
    /// kafka-delete-records' JSON file of topic/partition/offset entries
    #[arg(long, value_name = "FILE")]
    pub offset_json_file: Option<std::path::PathBuf>,
}

/// Which offset `topics offsets` looks up: kafka-get-offsets' `--time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetTime {
    Earliest,
    Latest,
    /// The first record at or after this time (ms since the epoch).
    At(i64),
}

fn offset_time(s: &str) -> Result<OffsetTime, String> {
    match s {
        "latest" | "-1" => Ok(OffsetTime::Latest),
        "earliest" | "-2" => Ok(OffsetTime::Earliest),
        _ => match s.parse::<i64>() {
            Ok(ms) if ms >= 0 => Ok(OffsetTime::At(ms)),
            _ => Err(format!(
                "expected latest (-1), earliest (-2) or a timestamp in ms, got {s:?}"
            )),
        },
    }
}

#[derive(Debug, Args)]
pub struct TopicsOffsetsArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub topic: TopicArg,
    /// latest (-1), earliest (-2), or a timestamp in ms: the first offset at
    /// or after it (-1 when there is none)
    #[arg(long, value_name = "TIME", default_value = "latest", allow_hyphen_values = true,
          value_parser = offset_time)]
    pub time: OffsetTime,
    /// Only these partitions (comma-separated)
    #[arg(long, value_name = "P,...", value_delimiter = ',')]
    pub partitions: Vec<i32>,
    /// Output layout (plain is kafka-get-offsets' topic:partition:offset)
    #[arg(long, value_enum, default_value_t)]
    pub output: TableOutput,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  strom topics create orders --partitions 6\n  strom topics create events --config retention.ms=86400000 --config compression.type=zstd\n  strom topics create orders --if-not-exists"
)]
pub struct TopicsCreateArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub topic: TopicArg,
    /// Number of partitions (default: the broker's). While a big create
    /// runs, a spinner with the elapsed time shows on stderr if it is a
    /// terminal
    #[arg(long)]
    pub partitions: Option<i32>,
    /// Copies of each partition (default: the broker's)
    #[arg(long)]
    pub replication_factor: Option<i16>,
    /// Topic config override (repeatable), e.g. retention.ms=3600000
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = key_value)]
    pub configs: Vec<(String, String)>,
    /// Succeed if the topic already exists
    #[arg(long)]
    pub if_not_exists: bool,
}

#[derive(Debug, Args)]
#[command(after_long_help = "\
The pattern is a regular expression that must match the whole topic name, as \
kafka-topics --list --topic takes it; as there, a comma separates alternatives (a,b is a|b). \
It may be given as --topic REGEX or as the argument. Internal topics (names starting with \
__, such as __consumer_offsets) are hidden unless --internal is given; --exclude-internal \
(kafka-topics' flag) hides them explicitly.

Examples:
  strom topics list
  strom topics list 'orders.*'
  strom topics list --topic 'orders\\..*,audit'
  strom topics list --internal --topic '__.*'")]
pub struct TopicsListArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Only topics whose whole name matches this regex (same as --topic)
    #[arg(value_name = "REGEX", value_parser = topic_regex)]
    pub pattern: Option<regex::Regex>,
    /// Only topics whose whole name matches this regex (kafka-topics spelling)
    #[arg(long = "topic", value_name = "REGEX", value_parser = topic_regex, conflicts_with = "pattern")]
    pub topic: Option<regex::Regex>,
    /// Include internal topics (names starting with __)
    #[arg(long)]
    pub internal: bool,
    /// Hide internal topics (names starting with __): the default, kafka-topics' flag
    #[arg(long, conflicts_with = "internal")]
    pub exclude_internal: bool,
    #[arg(long, value_enum, default_value_t)]
    pub output: TableOutput,
}

/// A `topics list` pattern as kafka-topics reads `--list --topic`: commas
/// separate alternatives and the regex must match the whole name.
pub fn topic_regex(s: &str) -> Result<regex::Regex, String> {
    let alternatives = s.trim().replace(',', "|");
    regex::Regex::new(&format!("^(?:{alternatives})$")).map_err(|e| {
        // The regex crate's message spans lines and shows the anchored
        // form; its last line says what is wrong.
        let text = e.to_string();
        let why = text
            .lines()
            .last()
            .unwrap_or("")
            .trim_start_matches("error: ");
        format!("{s:?} is not a valid regular expression: {why}")
    })
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  strom topics describe orders\n  strom topics describe orders --all-configs --output json\n  strom topics describe --log-dirs\n  strom topics describe --under-replicated-partitions"
)]
pub struct TopicsDescribeArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Topic to describe (default: all)
    #[arg(value_parser = topic_name, value_name = "NAME")]
    pub name: Option<String>,
    /// Topic to describe (kafka-topics spelling)
    #[arg(long = "topic", value_parser = topic_name, value_name = "NAME", conflicts_with = "name")]
    pub topic: Option<String>,
    /// Every config with its effective value, defaults included (broker
    /// defaults from strom brokers alter-configs show here); without it,
    /// the topic's overrides only
    #[arg(long)]
    pub all_configs: bool,
    /// Where each partition replica is stored and how big it is: the
    /// broker, its log directory, size on disk, log end and lag behind the
    /// leader (kafka-log-dirs), asked of every broker
    #[arg(long, conflicts_with_all = ["all_configs", "under_replicated_partitions", "unavailable_partitions", "under_min_isr_partitions", "at_min_isr_partitions"])]
    pub log_dirs: bool,
    /// Only partitions whose ISR is smaller than their replica set
    #[arg(long, group = "partition_filter")]
    pub under_replicated_partitions: bool,
    /// Only partitions without a leader
    #[arg(long, group = "partition_filter")]
    pub unavailable_partitions: bool,
    /// Only partitions whose ISR is smaller than min.insync.replicas (acks=all is refused)
    #[arg(long, group = "partition_filter")]
    pub under_min_isr_partitions: bool,
    /// Only partitions whose ISR is exactly min.insync.replicas (one more loss refuses acks=all)
    #[arg(long, group = "partition_filter")]
    pub at_min_isr_partitions: bool,
    #[arg(long, value_enum, default_value_t)]
    pub output: TableOutput,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  strom topics alter orders --partitions 12\n  strom topics alter orders --config retention.ms=3600000 --delete-config cleanup.policy"
)]
pub struct TopicsAlterArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub topic: TopicArg,
    /// New, larger partition count
    #[arg(long)]
    pub partitions: Option<i32>,
    /// Set a topic config (repeatable)
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = key_value)]
    pub configs: Vec<(String, String)>,
    /// Remove a topic config override, back to the default (repeatable; an unknown key is an error)
    #[arg(long = "delete-config", value_name = "KEY")]
    pub delete_configs: Vec<String>,
    /// Succeed if the topic does not exist
    #[arg(long)]
    pub if_exists: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  strom topics delete orders")]
pub struct TopicsDeleteArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub topic: TopicArg,
    /// Succeed if the topic does not exist
    #[arg(long)]
    pub if_exists: bool,
}

#[derive(Debug, Subcommand)]
pub enum PerfCommand {
    /// Produce synthetic records as fast as allowed (kafka-producer-perf-test)
    Produce(PerfProduceArgs),
    /// Read records as fast as possible (kafka-consumer-perf-test)
    Consume(PerfConsumeArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  strom perf produce -t bench --num-records 1000000 --record-size 100 --throughput -1\n  strom perf produce -t bench --num-records 1000000 --record-size 1024 --throughput -1 --producer-props compression.type=lz4"
)]
pub struct PerfProduceArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[arg(long, value_parser = topic_name)]
    pub topic: String,
    /// Records to send
    #[arg(long, value_name = "N")]
    pub num_records: u64,
    /// Value size in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 100)]
    pub record_size: usize,
    /// Records per second cap; -1 for no limit
    #[arg(long, value_name = "N", default_value_t = -1.0, allow_hyphen_values = true)]
    pub throughput: f64,
    /// Producer settings: acks=, linger.ms=, batch.size=, max.in.flight.requests.per.connection=,
    /// buffer.memory=, retries=, request.timeout.ms=, delivery.timeout.ms=, max.request.size=,
    /// compression.type=none|gzip|snappy|lz4|zstd
    #[arg(long, value_name = "KEY=VALUE", num_args = 1.., value_parser = key_value)]
    pub producer_props: Vec<(String, String)>,
    /// Acknowledgements (overrides producer-props acks; -1 is all)
    #[arg(long, value_enum, allow_hyphen_values = true)]
    pub acks: Option<AcksArg>,
    /// Milliseconds between progress lines
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub reporting_interval: u64,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  strom perf consume -t bench --messages 1000000\n  strom perf consume -t bench --messages 1000000 --decode"
)]
pub struct PerfConsumeArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[arg(long, value_parser = topic_name)]
    pub topic: String,
    /// Records to read
    #[arg(long, value_name = "N")]
    pub messages: u64,
    /// Print a line per reporting interval
    #[arg(long)]
    pub show_detailed_stats: bool,
    /// Milliseconds between detailed lines
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub reporting_interval: u64,
    /// Give up after MS milliseconds without data
    #[arg(long, value_name = "MS", default_value_t = 10000)]
    pub timeout: u64,
    /// Start at the end instead of the beginning
    #[arg(long)]
    pub from_latest: bool,
    /// Hide the header line
    #[arg(long)]
    pub hide_header: bool,
    /// Bytes to fetch per partition per request (16 MiB measured fastest
    /// on loopback: fewer round trips per byte)
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024)]
    pub fetch_size: u64,
    /// Consume as a member of this consumer group (commits as it goes)
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Decode every record (inflating compressed batches) as an application
    /// would, instead of counting records from batch headers
    #[arg(long)]
    pub decode: bool,
}

/// `strom serve` flags. Every flag can also come from the environment
/// (`STROM_<FLAG>`) and from `--config FILE` (TOML, keys are the long flag
/// names). Precedence: flag > env > file > default, so nothing here has a
/// clap default: `None` means "not given", and `commands::serve` resolves
/// the rest.
#[derive(Debug, Clone, Default, Args)]
#[command(
    after_help = "Examples:\n  strom serve\n  strom serve --data-dir /var/lib/strom --listen 0.0.0.0:9092 --advertised-listener host1:9092\n  strom serve --config /etc/strom/broker.toml"
)]
#[command(
    after_long_help = concat!("Examples:\n  strom serve\n  strom serve --data-dir /var/lib/strom --listen 0.0.0.0:9092 --advertised-listener host1:9092\n  strom serve --config /etc/strom/broker.toml\n\n", "Each flag also reads STROM_<NAME> (e.g. STROM_DATA_DIR) and the \
    --config TOML file (e.g. data-dir = \"/var/lib/strom\"). Precedence: flag, env, file, default."
))]
pub struct ServeArgs {
    /// TOML file of settings, keys named like the long flags
    #[arg(long, env = "STROM_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Where logs and metadata live [default: $XDG_DATA_HOME/strom or ~/.local/share/strom]
    #[arg(long, env = "STROM_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Address to listen on, native and Kafka protocol [default: 127.0.0.1:9092]
    #[arg(long, env = "STROM_LISTEN", value_name = "HOST:PORT")]
    pub listen: Option<String>,

    /// Address clients are told to use [default: the bound address]
    #[arg(long, env = "STROM_ADVERTISED_LISTENER", value_name = "HOST:PORT")]
    pub advertised_listener: Option<String>,

    /// An extra listener, e.g. a separate port for Kafka clients
    #[arg(long, env = "STROM_KAFKA_LISTEN", value_name = "HOST:PORT")]
    pub kafka_listen: Option<String>,

    /// Serve Prometheus metrics (OpenMetrics text) at http://HOST:PORT/metrics
    /// [default: off; a bare port binds 127.0.0.1]
    #[arg(long, env = "STROM_METRICS", value_name = "HOST:PORT")]
    pub metrics: Option<String>,

    /// Serve the web console (brokers, topics, messages, groups and lag,
    /// live rates) at http://HOST:PORT/ [default: off; a bare port binds
    /// 127.0.0.1]. See docs/console.md
    #[arg(long, env = "STROM_UI", value_name = "HOST:PORT")]
    pub ui: Option<String>,

    /// This broker's id [default: 1]
    #[arg(long, env = "STROM_NODE_ID", value_name = "ID")]
    pub node_id: Option<i32>,

    /// Partitions of a topic created without a count [default: 1]
    #[arg(long, env = "STROM_DEFAULT_PARTITIONS", value_name = "N")]
    pub default_partitions: Option<i32>,

    /// Replication factor of a topic created without one [default: 1]
    #[arg(long, env = "STROM_DEFAULT_REPLICATION_FACTOR", value_name = "N")]
    pub default_replication_factor: Option<i16>,

    /// Default retention.ms; -1 keeps records forever [default: 604800000]
    #[arg(
        long,
        env = "STROM_RETENTION_MS",
        value_name = "MS",
        allow_hyphen_values = true
    )]
    pub retention_ms: Option<i64>,

    /// Default retention.bytes per partition; -1 for no limit [default: -1]
    #[arg(
        long,
        env = "STROM_RETENTION_BYTES",
        value_name = "BYTES",
        allow_hyphen_values = true
    )]
    pub retention_bytes: Option<i64>,

    /// Default segment.bytes [default: 1073741824]
    #[arg(long, env = "STROM_SEGMENT_BYTES", value_name = "BYTES")]
    pub segment_bytes: Option<u64>,

    /// When appends reach the disk: every-append, interval:MS or os [default: every-append]
    #[arg(long, env = "STROM_FLUSH_POLICY", value_name = "POLICY", value_parser = flush_policy)]
    pub flush_policy: Option<String>,

    /// Create topics on first use [default: true]
    #[arg(
        long,
        env = "STROM_AUTO_CREATE_TOPICS",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = ArgAction::Set
    )]
    pub auto_create_topics: Option<bool>,

    /// Do not create topics on first use
    #[arg(long, conflicts_with = "auto_create_topics")]
    pub no_auto_create_topics: bool,

    /// Largest request frame accepted [default: 104857600]
    #[arg(long, env = "STROM_MAX_FRAME_BYTES", value_name = "BYTES")]
    pub max_frame_bytes: Option<usize>,

    /// Open connections allowed at once [default: 10000]
    #[arg(long, env = "STROM_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,

    /// Partitions of the consumer-offsets topic [default: 8]
    #[arg(long, env = "STROM_OFFSETS_PARTITIONS", value_name = "N")]
    pub offsets_partitions: Option<i32>,

    /// Wait for more members before a new group's first rebalance [default: 3000]
    #[arg(
        long,
        env = "STROM_GROUP_INITIAL_REBALANCE_DELAY_MS",
        value_name = "MS"
    )]
    pub group_initial_rebalance_delay_ms: Option<u64>,

    /// Shortest session timeout a group member may ask for [default: 6000]
    #[arg(long, env = "STROM_GROUP_MIN_SESSION_TIMEOUT_MS", value_name = "MS")]
    pub group_min_session_timeout_ms: Option<i32>,

    /// Where this node's controller listens [default: its --voters entry; required when --node-id is not a voter]
    #[arg(long, env = "STROM_CONTROLLER_LISTEN", value_name = "HOST:PORT")]
    pub controller_listen: Option<String>,

    /// The metadata quorum (controller voters); a --node-id not among them joins as a non-voting broker. Without it the broker runs alone
    #[arg(long, env = "STROM_VOTERS", value_name = "ID@HOST:PORT[,...]")]
    pub voters: Option<String>,

    /// A broker silent this long is fenced by the controller [default: 3000]
    #[arg(long, env = "STROM_BROKER_SESSION_TIMEOUT_MS", value_name = "MS")]
    pub broker_session_timeout_ms: Option<u64>,

    /// A follower not caught up this long leaves the ISR (replica.lag.time.max.ms) [default: 10000]
    #[arg(long, env = "STROM_REPLICA_LAG_TIME_MAX_MS", value_name = "MS")]
    pub replica_lag_time_max_ms: Option<u64>,

    /// Forget an idempotent producer idle this long (producer.id.expiration.ms) [default: 86400000]
    #[arg(long, env = "STROM_PRODUCER_ID_EXPIRATION_MS", value_name = "MS")]
    pub producer_id_expiration_ms: Option<u64>,

    /// How often retention deletes old segments (log.retention.check.interval.ms) [default: 60000]
    #[arg(long, env = "STROM_LOG_RETENTION_CHECK_INTERVAL_MS", value_name = "MS")]
    pub log_retention_check_interval_ms: Option<u64>,

    /// Cap on the log cleaner's disk I/O, bytes read plus written per second, shared by every compacted partition (log.cleaner.io.max.bytes.per.second); 0 is no cap [default: 0]
    #[arg(
        long,
        env = "STROM_LOG_CLEANER_IO_MAX_BYTES_PER_SECOND",
        value_name = "BYTES"
    )]
    pub log_cleaner_io_max_bytes_per_second: Option<u64>,

    /// How long the log cleaner waits between passes over the compacted partitions (log.cleaner.backoff.ms) [default: 15000]
    #[arg(long, env = "STROM_LOG_CLEANER_BACKOFF_MS", value_name = "MS")]
    pub log_cleaner_backoff_ms: Option<u64>,
    /// Longest transaction timeout a transactional producer may ask for; longer is refused with INVALID_TRANSACTION_TIMEOUT (transaction.max.timeout.ms) [default: 900000]
    #[arg(long, env = "STROM_TRANSACTION_MAX_TIMEOUT_MS", value_name = "MS")]
    pub transaction_max_timeout_ms: Option<u64>,

    /// How often transactions open past their timeout are aborted (transaction.abort.timed.out.transaction.cleanup.interval.ms) [default: 10000]
    #[arg(
        long,
        env = "STROM_TRANSACTION_ABORT_CHECK_INTERVAL_MS",
        value_name = "MS"
    )]
    pub transaction_abort_check_interval_ms: Option<u64>,

    /// How often the controller moves leadership back to preferred replicas when a broker leads under 90% of the partitions it prefers (leader.imbalance.check.interval.seconds); 0 turns automatic leader rebalancing off [default: 300000]
    #[arg(
        long,
        env = "STROM_LEADER_IMBALANCE_CHECK_INTERVAL_MS",
        value_name = "MS"
    )]
    pub leader_imbalance_check_interval_ms: Option<u64>,

    /// Most partitions one topic may have; a create or grow beyond it is refused (POLICY_VIOLATION) before anything is made [default: 10000, Kafka's per-request limit]
    #[arg(long, env = "STROM_MAX_PARTITIONS_PER_TOPIC", value_name = "N")]
    pub max_partitions_per_topic: Option<i32>,

    /// Most partitions this broker holds; each keeps 2 files open and 2 memory maps [default: what three quarters of the open-file limit (ulimit -n, raised to its hard limit at start) and of vm.max_map_count hold]
    #[arg(long, env = "STROM_MAX_PARTITIONS", value_name = "N")]
    pub max_partitions: Option<usize>,
}

pub const REPL_HELP: &str =
    "Examples:\n  strom repl\n  strom repl -b broker1:9092\n  strom < script.strom\n\n\
Each line is one strom command without the leading `strom`, \
split like a shell splits words ('single' and \"double\" quotes, \\ escapes): \
`topics list`, `consume -t orders -o -5 -e`. Builtins: help [COMMAND], \
connect HOST:PORT (the default -b for the following lines), exit, quit.\n\n\
On a terminal: the prompt is always `strom> ` (`connect` alone names the broker \
in use); while `produce` without -l reads records from the terminal it is \
`strom produce TOPIC> `, one record per line, until Ctrl-D on an empty line \
(Ctrl-C stops it too; what was entered is still sent) and then the prompt is \
`strom> ` again. Tab completes commands, flags, topic and group names; history \
is kept in $XDG_STATE_HOME/strom/history (~/.local/state/strom/history). Ctrl-C \
stops a running consume (it prints its total) or produce, or clears the line; \
Ctrl-D at `strom> ` exits. Lines pasted or typed while a command runs are kept \
and run in order, each after the one before it has finished (a bracketed paste \
runs on Enter); when one of them starts `produce`, the lines after it are its \
records up to a Ctrl-D.\n\n\
Script mode (stdin is not a terminal, e.g. `strom < script.txt`): one command \
per line, no prompt, no colour; blank lines and lines starting with # are \
skipped. A failing line prints `error: line N: ...` and the script goes on \
with the next line; the exit status is 1 if any line failed, else 0. \
`produce` needs -l FILE, since stdin is the script. Ctrl-C stops the script \
(exit status 130).";

/// `strom repl`: what it connects to first.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  strom repl\n  strom repl -b broker1:9092\n  strom < script.strom"
)]
#[command(after_long_help = REPL_HELP)]
pub struct ReplArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective bootstrap server, output and profile, and where
    /// each came from
    Show(ConfigShowArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  strom config show\n  strom --profile prod config show --output json"
)]
#[command(
    after_long_help = concat!("Examples:\n  strom config show\n  strom --profile prod config show --output json\n\n", "Settings come from, highest first: the flag, the environment \
    (STROM_BOOTSTRAP_SERVER, STROM_OUTPUT, STROM_PROFILE), the profile, the built-in default.\n\n\
    The profile file is $XDG_CONFIG_HOME/strom/config.toml (~/.config/strom/config.toml):\n\n  \
    default-profile = \"local\"\n\n  \
    [profiles.local]\n  \
    bootstrap-server = \"localhost:9092\"\n  \
    output = \"json\"   # plain, table or json; used where the command accepts it"
))]
pub struct ConfigShowArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[arg(long, value_enum, default_value_t)]
    pub output: TableOutput,
}

#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Man pages for strom and every subcommand (strom-topics-create.1, ...)
    #[command(
        after_help = "Examples:\n  strom generate man man\n  strom generate man /usr/local/share/man/man1"
    )]
    Man {
        /// Directory to write into (created if missing)
        dir: PathBuf,
    },
    /// Bash, zsh and fish completion scripts
    #[command(
        after_help = "Examples:\n  strom generate completions completions\n  strom generate completions ~/.local/share/strom-completions"
    )]
    Completions {
        /// Directory to write into (created if missing)
        dir: PathBuf,
    },
}

/// Checks a flush policy's syntax; the broker parses it again.
pub fn flush_policy(s: &str) -> Result<String, String> {
    match s {
        "every-append" | "os" => Ok(s.to_string()),
        _ => match s.strip_prefix("interval:").map(str::parse::<u64>) {
            Some(Ok(_)) => Ok(s.to_string()),
            _ => Err("expected every-append, interval:MS or os".into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn topic_patterns_match_whole_names() {
        let re = topic_regex("orders.*").expect("regex");
        assert!(re.is_match("orders") && re.is_match("orders.v2"));
        assert!(!re.is_match("old-orders"));
        let alt = topic_regex("a,b").expect("regex");
        assert!(alt.is_match("a") && alt.is_match("b") && !alt.is_match("a,b"));
        assert!(topic_regex("(").is_err());
    }

    #[test]
    fn topic_names() {
        assert!(topic_name("orders.v1_x-2").is_ok());
        for bad in ["", ".", "..", "a/b", "a b", "ü", &"x".repeat(250)] {
            assert!(topic_name(bad).is_err(), "{bad:?}");
        }
        assert!(topic_name(&"x".repeat(249)).is_ok());
    }

    #[test]
    fn offsets() {
        assert_eq!(offset_arg("beginning"), Ok(OffsetArg::Beginning));
        assert_eq!(offset_arg("-5"), Ok(OffsetArg::FromEnd(5)));
        assert_eq!(offset_arg("42"), Ok(OffsetArg::At(42)));
        assert_eq!(offset_arg("@1700"), Ok(OffsetArg::Timestamp(1700)));
        assert!(offset_arg("soon").is_err());
    }

    #[test]
    fn serve_flags_parse() {
        let cli = Cli::try_parse_from([
            "strom",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--auto-create-topics=false",
            "--retention-ms",
            "-1",
            "--flush-policy",
            "interval:100",
        ])
        .unwrap();
        let Some(Command::Serve(s)) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(s.listen.as_deref(), Some("127.0.0.1:0"));
        let cli = Cli::try_parse_from(["strom"]).unwrap();
        assert!(cli.command.is_none(), "no command means the REPL");
        assert_eq!(s.auto_create_topics, Some(false));
        assert_eq!(s.retention_ms, Some(-1));
        assert!(Cli::try_parse_from(["strom", "serve", "--flush-policy", "sometimes"]).is_err());
    }
}
