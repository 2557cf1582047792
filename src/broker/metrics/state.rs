//! Metrics computed at scrape time from the broker's state: per-topic
//! traffic (summed from the partitions' atomics), logs, replication,
//! consumer-group lag, the metadata quorum and the brokers.
use std::collections::BTreeMap;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;

use super::counters::PartitionCounters;
use crate::broker::partition::Partition;
use crate::broker::replication::Role;
use crate::broker::state::Broker;

pub struct StateCollector {
    pub broker: Arc<Broker>,
}

impl std::fmt::Debug for StateCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateCollector")
    }
}

/// One partition's numbers, read under its locks once per scrape.
struct PartitionView {
    topic: String,
    partition: String,
    log_start: i64,
    log_end: i64,
    high_watermark: i64,
    size: u64,
    segments: usize,
    /// (leader, replicas, isr) where this broker leads; `None` otherwise.
    leading: Option<(i32, usize, usize)>,
}

fn view(node_id: i32, part: &Partition) -> PartitionView {
    let (log_start, log_end, high_watermark, size, segments) = {
        let log = part.log();
        (
            log.log_start_offset(),
            log.log_end_offset(),
            log.high_watermark(),
            log.size_bytes(),
            log.segment_count(),
        )
    };
    let leading = match &*part.replica.role() {
        Role::Standalone => Some((node_id, 1, 1)),
        Role::Leader(l) => Some((l.node_id, l.replicas.len(), l.isr.len())),
        _ => None,
    };
    PartitionView {
        topic: part.topic.to_string(),
        partition: part.index.to_string(),
        log_start,
        log_end,
        high_watermark,
        size,
        segments,
        leading,
    }
}

type Labels<'a> = Vec<(&'static str, &'a str)>;

fn gauges(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(Labels<'_>, i64)],
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, v) in rows {
        ConstGauge::new(*v).encode(family.encode_family(labels)?)?;
    }
    Ok(())
}

fn counters(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(Labels<'_>, u64)],
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, v) in rows {
        ConstCounter::new(*v).encode(family.encode_family(labels)?)?;
    }
    Ok(())
}

impl Collector for StateCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let broker = &self.broker;
        let node_id = broker.config.node_id;
        let mut views = Vec::new();
        // topic → [bytes in, records in, bytes out, records out]
        let mut traffic: BTreeMap<String, [u64; 4]> = BTreeMap::new();
        let (mut shrinks, mut expands, mut elections) = (0u64, 0u64, 0u64);
        for topic in broker.topics.list() {
            let t = traffic.entry(topic.name.to_string()).or_default();
            for part in topic.partitions() {
                let c = &part.counters;
                t[0] += PartitionCounters::get(&c.bytes_in);
                t[1] += PartitionCounters::get(&c.records_in);
                t[2] += PartitionCounters::get(&c.bytes_out);
                t[3] += PartitionCounters::get(&c.records_out);
                shrinks += PartitionCounters::get(&c.isr_shrinks);
                expands += PartitionCounters::get(&c.isr_expands);
                elections += PartitionCounters::get(&c.leader_elections);
                views.push(view(node_id, &part));
            }
        }
        let topic_rows = |i: usize| -> Vec<(Labels<'_>, u64)> {
            traffic
                .iter()
                .map(|(t, v)| (vec![("topic", t.as_str())], v[i]))
                .collect()
        };
        counters(
            &mut encoder,
            "kafka_server_brokertopicmetrics_bytesin",
            "Record bytes produced to the topic (leader appends)",
            &topic_rows(0),
        )?;
        counters(
            &mut encoder,
            "kafka_server_brokertopicmetrics_messagesin",
            "Records produced to the topic",
            &topic_rows(1),
        )?;
        counters(
            &mut encoder,
            "kafka_server_brokertopicmetrics_bytesout",
            "Record bytes sent to consumers of the topic",
            &topic_rows(2),
        )?;
        counters(
            &mut encoder,
            "strom_topic_records_out",
            "Offsets delivered to consumers of the topic",
            &topic_rows(3),
        )?;

        let part_rows = |f: &dyn Fn(&PartitionView) -> Option<i64>| -> Vec<(Labels<'_>, i64)> {
            views
                .iter()
                .filter_map(|v| {
                    f(v).map(|x| {
                        (
                            vec![
                                ("topic", v.topic.as_str()),
                                ("partition", v.partition.as_str()),
                            ],
                            x,
                        )
                    })
                })
                .collect()
        };
        gauges(
            &mut encoder,
            "kafka_log_log_size",
            "Bytes of the partition's log on disk",
            &part_rows(&|v| Some(v.size as i64)),
        )?;
        gauges(
            &mut encoder,
            "kafka_log_log_numlogsegments",
            "Segments of the partition's log",
            &part_rows(&|v| Some(v.segments as i64)),
        )?;
        gauges(
            &mut encoder,
            "kafka_log_log_logstartoffset",
            "First offset of the partition's log",
            &part_rows(&|v| Some(v.log_start)),
        )?;
        gauges(
            &mut encoder,
            "kafka_log_log_logendoffset",
            "Offset the next record appended gets",
            &part_rows(&|v| Some(v.log_end)),
        )?;
        gauges(
            &mut encoder,
            "strom_partition_high_watermark",
            "Offset below which records are committed (visible to consumers)",
            &part_rows(&|v| Some(v.high_watermark)),
        )?;
        gauges(
            &mut encoder,
            "strom_partition_leader",
            "Broker id of the partition's leader (partitions this broker leads)",
            &part_rows(&|v| v.leading.map(|l| l.0 as i64)),
        )?;
        gauges(
            &mut encoder,
            "kafka_cluster_partition_replicascount",
            "Replicas of the partition (partitions this broker leads)",
            &part_rows(&|v| v.leading.map(|l| l.1 as i64)),
        )?;
        gauges(
            &mut encoder,
            "kafka_cluster_partition_insyncreplicascount",
            "In-sync replicas of the partition (partitions this broker leads)",
            &part_rows(&|v| v.leading.map(|l| l.2 as i64)),
        )?;
        gauges(
            &mut encoder,
            "kafka_cluster_partition_underreplicated",
            "1 when the partition has fewer in-sync replicas than replicas",
            &part_rows(&|v| v.leading.map(|l| i64::from(l.2 < l.1))),
        )?;

        let led: Vec<_> = views.iter().filter_map(|v| v.leading).collect();
        let under = led.iter().filter(|l| l.2 < l.1).count() as i64;
        let none: Labels<'_> = Vec::new();
        gauges(
            &mut encoder,
            "kafka_server_replicamanager_underreplicatedpartitions",
            "Partitions this broker leads with fewer in-sync replicas than replicas",
            &[(none.clone(), under)],
        )?;
        gauges(
            &mut encoder,
            "kafka_server_replicamanager_leadercount",
            "Partitions this broker leads",
            &[(none.clone(), led.len() as i64)],
        )?;
        gauges(
            &mut encoder,
            "kafka_server_replicamanager_partitioncount",
            "Partitions with a replica on this broker",
            &[(none.clone(), views.len() as i64)],
        )?;
        counters(
            &mut encoder,
            "kafka_server_replicamanager_isrshrinks",
            "ISR changes that removed a replica, on partitions this broker leads",
            &[(none.clone(), shrinks)],
        )?;
        counters(
            &mut encoder,
            "kafka_server_replicamanager_isrexpands",
            "ISR changes that added a replica, on partitions this broker leads",
            &[(none.clone(), expands)],
        )?;
        counters(
            &mut encoder,
            "kafka_controller_controllerstats_leaderelections",
            "Times this broker became leader of a partition",
            &[(none.clone(), elections)],
        )?;

        self.encode_groups(&mut encoder, &views)?;
        self.encode_cluster(&mut encoder)
    }
}

impl StateCollector {
    /// Lag = high watermark − committed offset, as kafka_exporter reports it.
    fn encode_groups(
        &self,
        encoder: &mut DescriptorEncoder,
        views: &[PartitionView],
    ) -> Result<(), std::fmt::Error> {
        let hw: BTreeMap<(&str, &str), i64> = views
            .iter()
            .filter(|v| v.leading.is_some())
            .map(|v| ((v.topic.as_str(), v.partition.as_str()), v.high_watermark))
            .collect();
        let committed = self.broker.groups.committed_offsets();
        let partitions: Vec<String> = committed.iter().map(|c| c.2.to_string()).collect();
        let mut lag_rows = Vec::new();
        let mut offset_rows = Vec::new();
        let mut sums: BTreeMap<&str, i64> = BTreeMap::new();
        for ((group, topic, _, offset), partition) in committed.iter().zip(&partitions) {
            let labels = vec![
                ("group", group.as_str()),
                ("topic", topic.as_str()),
                ("partition", partition.as_str()),
            ];
            offset_rows.push((labels.clone(), *offset));
            if let Some(hw) = hw.get(&(topic.as_str(), partition.as_str())) {
                let lag = (hw - offset).max(0);
                *sums.entry(group.as_str()).or_default() += lag;
                lag_rows.push((labels, lag));
            }
        }
        let sum_rows: Vec<_> = sums
            .iter()
            .map(|(g, l)| (vec![("group", *g)], *l))
            .collect();
        gauges(
            encoder,
            "kafka_consumergroup_current_offset",
            "Offset the group committed for the partition",
            &offset_rows,
        )?;
        gauges(
            encoder,
            "kafka_consumergroup_lag",
            "High watermark minus the group's committed offset (partitions this broker leads)",
            &lag_rows,
        )?;
        gauges(
            encoder,
            "kafka_consumergroup_lag_sum",
            "The group's lag over the partitions this broker leads",
            &sum_rows,
        )
    }

    fn encode_cluster(&self, encoder: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let node_id = self.broker.config.node_id;
        let none: Labels<'_> = Vec::new();
        let Some(cluster) = &self.broker.cluster else {
            // A single node is its own controller and the whole cluster.
            let me = node_id.to_string();
            gauges(
                encoder,
                "kafka_controller_kafkacontroller_activecontrollercount",
                "1 on the broker that is the controller",
                &[(none.clone(), 1)],
            )?;
            return gauges(
                encoder,
                "strom_broker_up",
                "1 for a broker that is registered and not fenced",
                &[(vec![("broker", me.as_str())], 1)],
            );
        };
        let raft = cluster.raft_status();
        let active = i64::from(raft.controller == Some(node_id));
        gauges(
            encoder,
            "kafka_controller_kafkacontroller_activecontrollercount",
            "1 on the broker that is the controller",
            &[(none.clone(), active)],
        )?;
        gauges(
            encoder,
            "strom_controller_id",
            "Broker id of the controller (-1: none known)",
            &[(none.clone(), raft.controller.map(i64::from).unwrap_or(-1))],
        )?;
        let states = ["leader", "follower", "candidate", "learner", "shutdown"];
        let state_rows: Vec<_> = states
            .iter()
            .map(|s| (vec![("state", *s)], i64::from(raft.state == *s)))
            .collect();
        gauges(
            encoder,
            "strom_raft_state",
            "1 for this node's Raft role in the metadata quorum",
            &state_rows,
        )?;
        gauges(
            encoder,
            "strom_raft_term",
            "Current Raft term",
            &[(none.clone(), raft.term as i64)],
        )?;
        gauges(
            encoder,
            "strom_raft_last_log_index",
            "Index of the last metadata log entry",
            &[(none.clone(), raft.last_log_index as i64)],
        )?;
        gauges(
            encoder,
            "strom_raft_applied_index",
            "Index of the last metadata entry applied here",
            &[(none.clone(), raft.last_applied_index as i64)],
        )?;
        let meta = cluster.metadata();
        let ids: Vec<String> = meta.brokers.keys().map(|id| id.to_string()).collect();
        let up: Vec<_> = meta
            .brokers
            .values()
            .zip(&ids)
            .map(|(b, id)| (vec![("broker", id.as_str())], i64::from(!b.fenced)))
            .collect();
        gauges(
            encoder,
            "strom_broker_up",
            "1 for a broker that is registered and not fenced",
            &up,
        )
    }
}
