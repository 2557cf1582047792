//! Flags of `strom topics elect-leaders`, named as kafka-leader-election's.
use std::path::PathBuf;

use clap::{ArgGroup, Args, ValueEnum};

use super::args::{topic_name, ConnectArgs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ElectionKind {
    /// Hand leadership back to each partition's first replica, if it is
    /// live and in the ISR (never loses data)
    #[value(alias = "PREFERRED")]
    Preferred,
    /// For partitions without a live leader: elect any live replica, even
    /// one outside the ISR (records only the lost replicas had are gone)
    #[value(alias = "UNCLEAN")]
    Unclean,
}

#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("which").required(true).args(["topic", "all_topic_partitions", "path_to_json_file"])),
    after_help = "\
One line per outcome, as kafka-leader-election prints them; the exit status is 1 if any partition \
could not get the leader asked for. A single broker leads every partition already: there is \
nothing to elect.

Examples:
  strom topics elect-leaders --election-type preferred --all-topic-partitions
  strom topics elect-leaders --election-type preferred --topic orders --partition 0
  strom topics elect-leaders --election-type unclean --topic orders
  strom topics elect-leaders --election-type preferred --path-to-json-file plan.json

The file is kafka-leader-election's format: {\"partitions\": [{\"topic\": \"orders\", \"partition\": 0}]}"
)]
pub struct ElectLeadersArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// preferred or unclean
    #[arg(long, value_enum, value_name = "TYPE")]
    pub election_type: ElectionKind,
    /// Elect for this topic's partitions (all, or those of --partition)
    #[arg(long, value_parser = topic_name, conflicts_with_all = ["all_topic_partitions", "path_to_json_file"])]
    pub topic: Option<String>,
    /// Only this partition of --topic (repeatable)
    #[arg(long, requires = "topic", conflicts_with_all = ["all_topic_partitions", "path_to_json_file"])]
    pub partition: Vec<i32>,
    /// Elect for every partition of every topic
    #[arg(long, conflicts_with = "path_to_json_file")]
    pub all_topic_partitions: bool,
    /// kafka-leader-election's JSON file of topic/partition entries
    #[arg(long, value_name = "FILE")]
    pub path_to_json_file: Option<PathBuf>,
}
