//! DescribeBroker: this broker's version, listeners, uptime, disk and the
//! partitions it hosts and leads.
use std::net::SocketAddr;
use std::sync::Arc;

use super::{frame, Reply};
use crate::broker::disk_space::disk_space;
use crate::broker::state::Broker;
use crate::proto::messages::broker_info::{
    DescribeBrokerRequest, DescribeBrokerResponse, DescribeLogDirsRequest, DescribeLogDirsResponse,
    LogDirReplica,
};
use crate::proto::messages::Status;

pub async fn handle(
    broker: &Arc<Broker>,
    cid: i32,
    _req: DescribeBrokerRequest,
    _peer: SocketAddr,
) -> Reply {
    let c = &broker.config;
    let (mut partitions, mut leaders) = (0i32, 0i32);
    for t in broker.topics.list() {
        for p in t.partitions() {
            partitions += 1;
            if p.replica.role().append_epoch().is_some() {
                leaders += 1;
            }
        }
    }
    let (disk_total_bytes, disk_free_bytes) = disk_space(&c.data_dir).unwrap_or((-1, -1));
    Reply::Now(frame(
        cid,
        &DescribeBrokerResponse {
            status: Status::ok(),
            node_id: c.node_id,
            version: env!("CARGO_PKG_VERSION").to_string(),
            listener: c.listen.clone(),
            advertised_host: broker.advertised.0.clone(),
            advertised_port: broker.advertised.1,
            kafka_listener: c.kafka_listen.clone(),
            controller_listener: broker
                .cluster
                .as_ref()
                .map(|h| h.config.controller_listen.clone())
                .filter(|l| !l.is_empty())
                .or_else(|| c.controller_listen.clone()),
            rack: None,
            clustered: broker.cluster.is_some(),
            uptime_ms: i64::try_from(broker.started.elapsed().as_millis()).unwrap_or(i64::MAX),
            data_dir: c.data_dir.display().to_string(),
            disk_total_bytes,
            disk_free_bytes,
            partitions,
            leaders,
        },
    ))
}

/// DescribeLogDirs (api 34): this broker's replicas on disk, as
/// [`Broker::log_dir_usage`] (the Kafka handler's source too).
pub async fn log_dirs(
    broker: &Arc<Broker>,
    cid: i32,
    req: DescribeLogDirsRequest,
    _peer: SocketAddr,
) -> Reply {
    let usage = broker.log_dir_usage(|topic, _| {
        req.topics
            .as_ref()
            .is_none_or(|ts| ts.iter().any(|t| t == topic))
    });
    Reply::Now(frame(
        cid,
        &DescribeLogDirsResponse {
            status: Status::ok(),
            log_dir: usage.dir.display().to_string(),
            total_bytes: usage.total_bytes,
            usable_bytes: usage.usable_bytes,
            replicas: usage
                .replicas
                .into_iter()
                .map(|r| LogDirReplica {
                    topic: r.topic,
                    partition: r.partition,
                    size_bytes: r.size_bytes,
                    log_end_offset: r.log_end_offset,
                    high_watermark: r.high_watermark,
                    leader: r.leader,
                })
                .collect(),
        },
    ))
}
