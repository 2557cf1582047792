//! Flags of `strom connect`, beside `args.rs` (which names the command).
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::args::{topic_name, ConnectArgs};

pub const STANDALONE_HELP: &str = "\
Examples:
  strom connect standalone orders-to-sqlite.toml
  strom connect standalone --control /run/strom/connect.sock source.toml sink.toml

Runs every connector given, each as its own task, until SIGINT or SIGTERM. \
One TOML file per connector:

  name = \"orders-to-sqlite\"
  type = \"sqlite-sink\"        # or sqlite-source, file-source, file-sink
  topics = [\"orders\"]         # a source writes one: topic = \"NAME\"
  transform = 'select(.value | fromjson | .qty > 0)'  # jq on each record
  [config]                    # the type's own keys (docs/connect.md)
  path = \"orders.db\"
  table = \"orders\"
  mode = \"upsert\"
  key_column = \"id\"
  auto_create = true
  [errors]
  tolerance = \"all\"           # none (default): a bad record fails the task
  dlq = \"orders-dlq\"          # with all: bad records go here (else skipped)
  retries = 3

A file-source tailing a log (across rotation and truncation):

  name = \"app-log\"
  type = \"file-source\"
  topic = \"lines\"
  [config]
  path = \"app.log\"
  format = \"lines\"            # or json: each line one JSON value

transform (sources and sinks) and route (sources: the topic of each \
record) are jq on the record envelope of `consume --output json`, as \
`strom stream --jq`; a record they fail on goes through [errors]:

  transform = '.value |= (fromjson | {level, msg})'
  route = 'if (.value | fromjson | .level) == \"ERROR\" then \"errors\" else .topic end'

A file-sink (fsync per batch, then commit; rotated to out.log.1, .2, ...):

  name = \"lines-out\"
  type = \"file-sink\"
  topics = [\"lines\"]
  [config]
  path = \"out.log\"
  format = \"json\"             # or lines: the value as one line
  rotate_bytes = 104857600

Example: strom connect standalone -b 127.0.0.1:9092 app-log.toml lines-out.toml

Control while it runs (same --control on both sides; the path is printed \
on stderr): strom connect list | status [NAME] | pause NAME | resume NAME | \
restart NAME | offsets NAME [--reset], with --output json. A paused \
connector stays paused when the worker restarts (--state-file).

All files are checked first; any mistake (unknown type, missing or \
unknown key, bad value) is reported with the file and key, and nothing \
starts (exit 2). A task that fails restarts on its own with a capped \
backoff; the others keep running.

Guarantees: file-sink is at least once (the group is committed after \
the fsync). sqlite-sink is exactly once (each batch and its offsets are \
one transaction; it resumes at the offsets in its database). Sources are \
at least once (offsets are stored after the records are acknowledged). \
A sink reads as consumer group connect-NAME and commits only after its \
write is durable; SIGINT/SIGTERM commit that and leave the group.";

#[derive(Debug, Subcommand)]
pub enum ConnectCommand {
    /// Run connectors in this process, one TOML file each
    #[command(after_long_help = STANDALONE_HELP)]
    Standalone(StandaloneArgs),
    /// List the connectors of a running worker, with their state
    #[command(after_help = "Examples:\n  strom connect list\n  strom connect list --output json")]
    List(ControlArgs),
    /// State of a running worker's connectors (RUNNING, PAUSED, FAILED with the last error, RESTARTING)
    #[command(
        after_help = "Examples:\n  strom connect status\n  strom connect status orders-to-sqlite --output json"
    )]
    Status(NamedControlArgs),
    /// Pause a connector of a running worker (its task stops; the others go on)
    #[command(after_help = "Examples:\n  strom connect pause orders-to-sqlite")]
    Pause(NamedControlArgs),
    /// Resume a paused connector
    #[command(after_help = "Examples:\n  strom connect resume orders-to-sqlite")]
    Resume(NamedControlArgs),
    /// Restart a connector's task now (also cuts a failed task's backoff short)
    #[command(after_help = "Examples:\n  strom connect restart orders-to-sqlite")]
    Restart(NamedControlArgs),
    /// A connector's positions: a source's stored source offsets, a sink's group commits and own stored offsets
    #[command(after_long_help = OFFSETS_HELP)]
    Offsets(OffsetsArgs),
    /// Plain batched INSERT loop into SQLite (the baseline of scripts/bench-connect.sh)
    #[command(hide = true)]
    BenchSqliteInsert(BenchSqliteInsertArgs),
}

#[derive(Debug, Args)]
pub struct StandaloneArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,

    /// Topic where sources keep their offsets (created if missing)
    #[arg(long, value_name = "TOPIC", default_value = crate::connect::offsets::DEFAULT_OFFSETS_TOPIC, value_parser = topic_name)]
    pub offsets_topic: String,

    /// Control socket to listen on (`strom connect status` etc. take the same) [default: $XDG_RUNTIME_DIR/strom-connect.sock, else strom-connect-UID.sock in the temp dir]
    #[arg(long, value_name = "PATH")]
    pub control: Option<PathBuf>,

    /// File that keeps which connectors are paused across worker restarts [default: the control socket's path + .state.json]
    #[arg(long, value_name = "PATH")]
    pub state_file: Option<PathBuf>,

    /// Connector files
    #[arg(required = true, value_name = "FILE.toml")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ControlOutput {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ControlArgs {
    /// The worker's control socket [default: $XDG_RUNTIME_DIR/strom-connect.sock, else strom-connect-UID.sock in the temp dir]
    #[arg(long, value_name = "PATH")]
    pub control: Option<PathBuf>,

    /// Output format
    #[arg(long, short = 'o', value_enum, default_value_t = ControlOutput::Text)]
    pub output: ControlOutput,
}

#[derive(Debug, Args)]
pub struct NamedControlArgs {
    #[command(flatten)]
    pub control: ControlArgs,

    /// The connector's name (status: all when left out)
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
}

pub const OFFSETS_HELP: &str = "\
A source shows the last offset stored for each source partition (a file, \
a table) in the offsets topic; a sink shows, per partition of its topics, \
what its group connect-NAME committed and what the sink stored itself \
(the SQL sinks' strom_offsets, where they resume; - where none).

--reset forgets a source's stored offsets, so that on resume it reads \
every source partition from the beginning. As in Kafka Connect, only a \
stopped connector is reset: pause it first.

Examples:
  strom connect offsets app-log
  strom connect pause app-log && strom connect offsets app-log --reset && strom connect resume app-log
  strom connect offsets orders-to-sqlite -o json";

#[derive(Debug, Args)]
pub struct OffsetsArgs {
    #[command(flatten)]
    pub control: ControlArgs,

    /// The connector's name
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Forget a paused source's stored offsets (it starts from the beginning on resume)
    #[arg(long)]
    pub reset: bool,
}

#[derive(Debug, Args)]
pub struct BenchSqliteInsertArgs {
    /// Database file (the table `bench` is dropped and made again)
    #[arg(long, value_name = "PATH")]
    pub path: PathBuf,

    /// Rows to insert
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub records: u64,

    /// Rows per transaction
    #[arg(long, value_name = "N", default_value_t = 5_000)]
    pub batch: u64,
}
