//! `strom topics create|list|describe|alter|delete`, printing what
//! kafka-topics prints.
use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use super::output::{print_json, print_table, stdout};
use super::progress::Progress;
use super::UsageError;
use crate::cli::args::{
    TableOutput, TopicsAlterArgs, TopicsCreateArgs, TopicsDeleteArgs, TopicsDescribeArgs,
    TopicsListArgs,
};
use crate::client::admin::{ConfigSetting, PartitionDescription};
use crate::client::{ClientError, NewTopic, TopicAlteration, TopicDescription};
use crate::proto::{is_internal_topic, ErrorCode};

fn is_code(e: &ClientError, code: ErrorCode) -> bool {
    e.code() == Some(code)
}

pub fn create(args: TopicsCreateArgs) -> anyhow::Result<()> {
    let name = args.topic.get().to_string();
    if args.partitions.is_some_and(|p| p < 1) {
        return Err(UsageError::new("--partitions must be at least 1").into());
    }
    if args.replication_factor.is_some_and(|r| r < 1) {
        return Err(UsageError::new("--replication-factor must be at least 1").into());
    }
    let client = super::connect(&args.connect)?;
    let admin = client.admin();
    let what = match args.partitions {
        Some(n) => format!("creating topic {name} with {n} partitions"),
        None => format!("creating topic {name}"),
    };
    let request = admin.create_topic(
        NewTopic {
            name: name.clone(),
            partitions: args.partitions,
            replication_factor: args.replication_factor,
            configs: args.configs,
        },
        false,
    );
    let result = client.run(with_spinner(request, what));
    let mut out = stdout();
    match result {
        Ok(()) => writeln!(out, "Created topic {name}.")?,
        Err(e) if args.if_not_exists && is_code(&e, ErrorCode::TopicAlreadyExists) => {}
        Err(e) => return Err(e.into()),
    }
    out.flush()?;
    Ok(())
}

/// How long a request may take before a spinner says it is still running:
/// long enough that an ordinary create never flashes one.
const SPINNER_AFTER: Duration = Duration::from_millis(250);

/// Awaits `request`; once it has taken [`SPINNER_AFTER`], shows a spinner
/// with the elapsed time on a terminal's stderr until it answers. The
/// broker creates all partitions in one step and reports nothing until
/// then, so time spent is the one honest thing to show.
async fn with_spinner<T>(request: impl Future<Output = T>, what: String) -> T {
    let mut request = std::pin::pin!(request);
    tokio::select! {
        done = &mut request => return done,
        () = tokio::time::sleep(SPINNER_AFTER) => {}
    }
    let spinner = Progress::waiting(what);
    let done = request.await;
    spinner.finish();
    done
}

pub fn list(args: TopicsListArgs) -> anyhow::Result<()> {
    let client = super::connect(&args.connect)?;
    let admin = client.admin();
    let mut names = client.run(admin.list_topics(args.internal))?;
    // By name too: a `__` topic is strom's own even where the metadata
    // does not flag it (created before such names were refused).
    if !args.internal {
        names.retain(|n| !is_internal_topic(n));
    }
    if let Some(re) = args.topic.as_ref().or(args.pattern.as_ref()) {
        names.retain(|n| re.is_match(n));
    }
    let mut out = stdout();
    match args.output {
        TableOutput::Plain => {
            for n in &names {
                writeln!(out, "{n}")?;
            }
        }
        TableOutput::Table => print_table(
            &mut out,
            &["TOPIC"],
            names.into_iter().map(|n| vec![n]).collect(),
        )?,
        TableOutput::Json => print_json(&mut out, &names)?,
    }
    out.flush()?;
    Ok(())
}

fn join(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

/// Topic overrides only, like kafka-topics' `Configs:` column; with
/// `all`, every config with its effective value (kafka-configs `--all`).
fn overrides(configs: Option<&Vec<ConfigSetting>>, all: bool) -> Vec<&ConfigSetting> {
    configs
        .map(|c| c.iter().filter(|c| all || !c.is_default).collect())
        .unwrap_or_default()
}

/// `topics describe`'s partition filters (kafka-topics' spelling); at most
/// one is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartitionFilter {
    UnderReplicated,
    Unavailable,
    UnderMinIsr,
    AtMinIsr,
}

impl PartitionFilter {
    fn from_args(args: &TopicsDescribeArgs) -> Option<PartitionFilter> {
        [
            (
                args.under_replicated_partitions,
                PartitionFilter::UnderReplicated,
            ),
            (args.unavailable_partitions, PartitionFilter::Unavailable),
            (args.under_min_isr_partitions, PartitionFilter::UnderMinIsr),
            (args.at_min_isr_partitions, PartitionFilter::AtMinIsr),
        ]
        .into_iter()
        .find(|(on, _)| *on)
        .map(|(_, f)| f)
    }

    fn keeps(self, p: &PartitionDescription, min_isr: usize) -> bool {
        match self {
            PartitionFilter::UnderReplicated => p.isr.len() < p.replicas.len(),
            PartitionFilter::Unavailable => p.leader < 0,
            // As kafka-topics: a partition without a leader takes no writes.
            PartitionFilter::UnderMinIsr => p.leader < 0 || p.isr.len() < min_isr,
            PartitionFilter::AtMinIsr => p.isr.len() == min_isr,
        }
    }
}

/// The topic's effective `min.insync.replicas` (its override or the
/// broker default the config listing carries); 1 when not listed.
fn min_insync_replicas(configs: Option<&Vec<ConfigSetting>>) -> usize {
    configs
        .and_then(|c| c.iter().find(|c| c.key == "min.insync.replicas"))
        .and_then(|c| c.value.parse().ok())
        .unwrap_or(1)
}

#[derive(Serialize)]
struct DescribedTopic<'a> {
    #[serde(flatten)]
    topic: &'a TopicDescription,
    replication_factor: usize,
    configs: HashMap<&'a str, &'a str>,
}

pub fn describe(args: TopicsDescribeArgs) -> anyhow::Result<()> {
    if args.log_dirs {
        return super::topics_log_dirs::describe(args);
    }
    let name = args.name.clone().or(args.topic.clone());
    let client = super::connect(&args.connect)?;
    let admin = client.admin();
    let mut topics = client.run(admin.describe_topics(name.map(|n| vec![n])))?;
    let names: Vec<String> = topics.iter().map(|t| t.name.clone()).collect();
    let configs = if names.is_empty() {
        HashMap::new()
    } else {
        client.run(admin.describe_configs(names))?
    };
    // kafka-topics' partition filters: only the matching partitions, and
    // only their lines (no topic header).
    let filter = PartitionFilter::from_args(&args);
    if let Some(filter) = filter {
        for t in &mut topics {
            let min_isr = min_insync_replicas(configs.get(&t.name));
            t.partitions.retain(|p| filter.keeps(p, min_isr));
        }
        topics.retain(|t| !t.partitions.is_empty());
    }
    let under = filter.is_some();
    let mut out = stdout();
    match args.output {
        TableOutput::Plain => {
            for t in &topics {
                let cfg = overrides(configs.get(&t.name), args.all_configs)
                    .iter()
                    .map(|c| format!("{}={}", c.key, c.value))
                    .collect::<Vec<_>>()
                    .join(",");
                if !under {
                    writeln!(
                        out,
                        "Topic: {}\tPartitionCount: {}\tReplicationFactor: {}\tConfigs: {}",
                        t.name,
                        t.partitions.len(),
                        t.replication_factor(),
                        cfg
                    )?;
                }
                for p in &t.partitions {
                    writeln!(
                        out,
                        "\tTopic: {}\tPartition: {}\tLeader: {}\tReplicas: {}\tIsr: {}",
                        t.name,
                        p.partition,
                        p.leader,
                        join(&p.replicas),
                        join(&p.isr)
                    )?;
                }
            }
        }
        TableOutput::Table => {
            let rows = topics
                .iter()
                .flat_map(|t| {
                    t.partitions.iter().map(move |p| {
                        vec![
                            t.name.clone(),
                            p.partition.to_string(),
                            p.leader.to_string(),
                            join(&p.replicas),
                            join(&p.isr),
                        ]
                    })
                })
                .collect();
            print_table(
                &mut out,
                &["TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR"],
                rows,
            )?;
        }
        TableOutput::Json => {
            let described: Vec<DescribedTopic<'_>> = topics
                .iter()
                .map(|t| DescribedTopic {
                    topic: t,
                    replication_factor: t.replication_factor(),
                    configs: overrides(configs.get(&t.name), args.all_configs)
                        .into_iter()
                        .map(|c| (c.key.as_str(), c.value.as_str()))
                        .collect(),
                })
                .collect();
            print_json(&mut out, &described)?;
        }
    }
    out.flush()?;
    Ok(())
}

pub fn alter(args: TopicsAlterArgs) -> anyhow::Result<()> {
    if args.partitions.is_none() && args.configs.is_empty() && args.delete_configs.is_empty() {
        return Err(UsageError::with_hint(
            "nothing to change",
            "Give --partitions, --config or --delete-config",
        )
        .into());
    }
    let name = args.topic.get().to_string();
    let client = super::connect(&args.connect)?;
    let admin = client.admin();
    let result = client.run(admin.alter_topic(
        TopicAlteration {
            name: name.clone(),
            partitions: args.partitions,
            set_configs: args.configs,
            delete_configs: args.delete_configs,
        },
        false,
    ));
    match result {
        Ok(()) => {}
        Err(e) if args.if_exists && is_code(&e, ErrorCode::UnknownTopicOrPartition) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

pub fn delete(args: TopicsDeleteArgs) -> anyhow::Result<()> {
    let name = args.topic.get().to_string();
    let client = super::connect(&args.connect)?;
    let admin = client.admin();
    match client.run(admin.delete_topic(&name)) {
        Ok(()) => Ok(()),
        Err(e) if args.if_exists && is_code(&e, ErrorCode::UnknownTopicOrPartition) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(leader: i32, replicas: &[i32], isr: &[i32]) -> PartitionDescription {
        PartitionDescription {
            partition: 0,
            leader,
            replicas: replicas.to_vec(),
            isr: isr.to_vec(),
        }
    }

    #[test]
    fn partition_filters_match_kafka_topics() {
        use PartitionFilter::*;
        let healthy = part(1, &[1, 2, 3], &[1, 2, 3]);
        let at_min = part(1, &[1, 2, 3], &[1, 2]);
        let under_min = part(1, &[1, 2, 3], &[1]);
        let leaderless = part(-1, &[1, 2, 3], &[1]);
        let keeps = |f: PartitionFilter| {
            [&healthy, &at_min, &under_min, &leaderless].map(|p| f.keeps(p, 2))
        };
        assert_eq!(keeps(UnderReplicated), [false, true, true, true]);
        assert_eq!(keeps(Unavailable), [false, false, false, true]);
        assert_eq!(keeps(UnderMinIsr), [false, false, true, true]);
        assert_eq!(keeps(AtMinIsr), [false, true, false, false]);
    }

    #[test]
    fn min_isr_comes_from_the_config_listing() {
        let setting = |v: &str| ConfigSetting {
            key: "min.insync.replicas".into(),
            value: v.into(),
            is_default: false,
        };
        assert_eq!(min_insync_replicas(Some(&vec![setting("2")])), 2);
        assert_eq!(min_insync_replicas(Some(&vec![setting("x")])), 1);
        assert_eq!(min_insync_replicas(Some(&vec![])), 1);
        assert_eq!(min_insync_replicas(None), 1);
    }
}
