//! Flags of `strom brokers`.
use clap::{Args, Subcommand};

use super::args::{key_value, ConnectArgs, TableOutput};

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
    /// The broker-wide defaults of topic configs (Kafka's dynamic broker
    /// configs), each with its value and where it comes from
    #[command(after_long_help = "Examples:\n  strom brokers configs\n  \
        strom brokers configs --id 2\n  \
        strom brokers configs --cluster-default --output json\n\n\
        Names are Kafka's broker config names (log.retention.ms is the default of the topic \
        config retention.ms). SOURCE is broker (set for that broker), cluster-default (set for \
        every broker), static (a strom serve flag) or default (Kafka's default). A topic's own \
        config wins over all of them. Without --id or --cluster-default every broker is shown.")]
    Configs(BrokersConfigsArgs),
    /// Change broker-wide defaults of topic configs at run time, for the
    /// cluster or one broker; every topic that does not override them
    /// follows at once
    #[command(after_long_help = "Examples:\n  \
        strom brokers alter-configs --config log.retention.ms=86400000\n  \
        strom brokers alter-configs --id 2 --config compression.type=zstd\n  \
        strom brokers alter-configs --delete-config log.retention.ms\n\n\
        Without --id the change is the cluster default (kafka-configs --entity-default); \
        --id sets one broker's own value, which wins over the cluster default. Values \
        survive restarts (kept in the metadata quorum in a cluster, in the data dir on a \
        single node). See strom brokers configs for the names.")]
    AlterConfigs(BrokersAlterConfigsArgs),
}

#[derive(Debug, Args)]
pub struct BrokersConfigsArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Only this broker's values (repeatable)
    #[arg(long, value_name = "NODE_ID", conflicts_with = "cluster_default")]
    pub id: Vec<i32>,
    /// The values set for every broker of the cluster
    #[arg(long)]
    pub cluster_default: bool,
    #[arg(long, value_enum, default_value_t)]
    pub output: TableOutput,
}

#[derive(Debug, Args)]
pub struct BrokersAlterConfigsArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Change this broker's own values instead of the cluster default
    #[arg(long, value_name = "NODE_ID")]
    pub id: Option<i32>,
    /// Set a broker config (repeatable), e.g. log.retention.ms=86400000
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = key_value)]
    pub configs: Vec<(String, String)>,
    /// Remove a value, back to the next source (repeatable)
    #[arg(long = "delete-config", value_name = "KEY")]
    pub delete_configs: Vec<String>,
    /// Check the change without making it
    #[arg(long)]
    pub validate_only: bool,
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
