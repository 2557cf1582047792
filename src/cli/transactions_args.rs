//! Flags of `strom transactions` (kafka-transactions' list and describe).
use clap::{Args, Subcommand};

use super::args::{ConnectArgs, TableOutput, TopicArg};

#[derive(Debug, Subcommand)]
pub enum TransactionsCommand {
    /// List transactional ids: producer id and state
    #[command(after_long_help = "\
States: Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort.

Examples:
  strom transactions list
  strom transactions list --state Ongoing
  strom transactions list --output json | jq -r '.[].transactional_id'")]
    List(TransactionsListArgs),
    /// Show a transactional id's state, producer id and epoch, timeout,
    /// open transaction's start time and partitions
    #[command(
        after_long_help = "Examples:\n  strom transactions describe orders-loader\n  \
        strom transactions describe orders-loader --output json"
    )]
    Describe(TransactionsDescribeArgs),
    /// The producers a partition's leader remembers: producer id, epoch,
    /// last sequence and timestamp, open transaction's first offset
    /// (kafka-transactions describe-producers)
    #[command(
        after_long_help = "Examples:\n  strom transactions describe-producers orders\n  \
        strom transactions describe-producers orders --partition 0 --output json\n\n\
        TXN-START-OFFSET is where the producer's open transaction begins on that \
        partition (- when none is open): an old one there holds read_committed \
        consumers back (a hanging transaction)."
    )]
    DescribeProducers(TransactionsDescribeProducersArgs),
}

#[derive(Debug, Args)]
pub struct TransactionsDescribeProducersArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub topic: TopicArg,
    /// Only this partition (repeatable; default every partition)
    #[arg(short, long, value_name = "PARTITION")]
    pub partition: Vec<i32>,
    #[arg(long, value_enum, default_value_t)]
    pub output: TableOutput,
}

#[derive(Debug, Args)]
pub struct TransactionsListArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Only transactions in these states (comma-separated or repeated, any case)
    #[arg(long, value_delimiter = ',', value_name = "STATE", value_parser = txn_state)]
    pub state: Vec<&'static str>,
    #[arg(long, value_enum, default_value_t)]
    pub output: TableOutput,
}

#[derive(Debug, Args)]
pub struct TransactionsDescribeArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Transactional id(s) to describe
    #[arg(value_name = "TRANSACTIONAL_ID", required = true)]
    pub transactional_id: Vec<String>,
    #[arg(long, value_enum, default_value_t)]
    pub output: TableOutput,
}

/// Kafka's transaction states, as ListTransactions names them.
pub const TXN_STATES: [&str; 6] = [
    "Empty",
    "Ongoing",
    "PrepareCommit",
    "PrepareAbort",
    "CompleteCommit",
    "CompleteAbort",
];

/// A state name in any case → its canonical spelling.
fn txn_state(s: &str) -> Result<&'static str, String> {
    TXN_STATES
        .into_iter()
        .find(|t| t.eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| {
            format!(
                "unknown transaction state {s:?}; the states are {}",
                TXN_STATES.join(", ")
            )
        })
}
