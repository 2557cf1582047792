//! Flags of `strom brokers`.
use clap::{Args, Subcommand};

use super::args::{ConnectArgs, TableOutput};

#[derive(Debug, Subcommand)]
pub enum BrokersCommand {
    /// One line per broker of the cluster: id, address, version, uptime,
    /// health
    #[command(after_long_help = "Examples:\n  strom brokers list\n  \
        strom brokers list --output json | jq '.[] | select(.health != \"ok\")'\n\n\
        HEALTH is ok, error (it answered, with an error), unreachable (the metadata names \
        the broker but it does not answer), \
        or low-disk (under 5% of its data dir's file system free).")]
    List(BrokersListArgs),
    /// Everything a broker says about itself: listeners, rack, data dir,
    /// disk, partitions hosted and led
    #[command(after_long_help = "Examples:\n  strom brokers describe\n  \
        strom brokers describe --id 2 --output json")]
    Describe(BrokersDescribeArgs),
}

#[derive(Debug, Args)]
pub struct BrokersListArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[arg(long, value_enum, default_value_t)]
    pub output: TableOutput,
}

#[derive(Debug, Args)]
pub struct BrokersDescribeArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Only this broker (repeatable; default every broker)
    #[arg(long, value_name = "NODE_ID")]
    pub id: Vec<i32>,
    #[arg(long, value_enum, default_value_t)]
    pub output: TableOutput,
}
