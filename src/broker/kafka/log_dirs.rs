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
use crate::broker::state::Broker;

pub async fn handle(broker: &Arc<Broker>, ctx: &Ctx, req: DescribeLogDirsRequest) -> Reply {
    // None: every partition; otherwise only those asked (unknown ones are
    // left out, as Kafka does).
    let wanted = req.topics.map(|ts| {
        ts.into_iter()
            .map(|t| (t.topic.0.to_string(), t.partitions))
            .collect::<Vec<_>>()
    });
    let usage = broker.log_dir_usage(|topic, partition| match &wanted {
        None => true,
        Some(w) => w
            .iter()
            .any(|(name, ps)| name == topic && ps.contains(&partition)),
    });
    let mut topics: Vec<DescribeLogDirsTopic> = Vec::new();
    for r in usage.replicas {
        let part = DescribeLogDirsPartition::default()
            .with_partition_index(r.partition)
            .with_partition_size(r.size_bytes);
        match topics.last_mut() {
            Some(t) if *t.name.0 == *r.topic => t.partitions.push(part),
            _ => topics.push(
                DescribeLogDirsTopic::default()
                    .with_name(TopicName(str(r.topic)))
                    .with_partitions(vec![part]),
            ),
        }
    }
    let result = DescribeLogDirsResult::default()
        .with_log_dir(str(usage.dir.display().to_string()))
        .with_topics(topics)
        .with_total_bytes(usage.total_bytes)
        .with_usable_bytes(usage.usable_bytes);
    ctx.respond(&DescribeLogDirsResponse::default().with_results(vec![result]))
}
