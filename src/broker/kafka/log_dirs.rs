//! DescribeLogDirs: the partitions this broker stores, with their size on
//! disk, in its one log directory (`--data-dir`), and that file system's
//! total and usable bytes (v4). kafka-log-dirs and admin clients'
//! `describeLogDirs` ask for it to see disk use per partition.
use std::sync::Arc;

use kafka_protocol::messages::describe_log_dirs_response::{
    DescribeLogDirsPartition, DescribeLogDirsResult, DescribeLogDirsTopic,
};
use kafka_protocol::messages::{DescribeLogDirsRequest, DescribeLogDirsResponse, TopicName};

use super::request::{str, Ctx};
use super::Reply;
use crate::broker::disk_space::disk_space;
use crate::broker::state::Broker;

pub async fn handle(broker: &Arc<Broker>, ctx: &Ctx, req: DescribeLogDirsRequest) -> Reply {
    // None: every partition; otherwise only those asked (unknown ones are
    // left out, as Kafka does).
    let wanted = req.topics.map(|ts| {
        ts.into_iter()
            .map(|t| (t.topic.0.to_string(), t.partitions))
            .collect::<Vec<_>>()
    });
    let mut topics = Vec::new();
    for t in broker.topics.list() {
        let asked: Option<&Vec<i32>> = match &wanted {
            None => None,
            Some(w) => match w.iter().find(|(name, _)| **name == *t.name) {
                Some((_, ps)) => Some(ps),
                None => continue,
            },
        };
        let partitions: Vec<DescribeLogDirsPartition> = t
            .partitions()
            .iter()
            .filter(|p| asked.is_none_or(|a| a.contains(&p.index)))
            .map(|p| {
                let size = p.log().size_bytes();
                DescribeLogDirsPartition::default()
                    .with_partition_index(p.index)
                    .with_partition_size(i64::try_from(size).unwrap_or(i64::MAX))
            })
            .collect();
        if !partitions.is_empty() {
            topics.push(
                DescribeLogDirsTopic::default()
                    .with_name(TopicName(str(t.name.to_string())))
                    .with_partitions(partitions),
            );
        }
    }
    let dir = &broker.config.data_dir;
    let (total, usable) = disk_space(dir).unwrap_or((-1, -1));
    let result = DescribeLogDirsResult::default()
        .with_log_dir(str(dir.display().to_string()))
        .with_topics(topics)
        .with_total_bytes(total)
        .with_usable_bytes(usable);
    ctx.respond(&DescribeLogDirsResponse::default().with_results(vec![result]))
}
