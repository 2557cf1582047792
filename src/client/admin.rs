//! Topic administration and offset lookups.
//!
//! Admin requests go to the bootstrap broker (every node can answer them
//! on a single-node cluster; a controller-aware route can come later).
//! List-offsets requests go to each partition's leader.
use std::collections::HashMap;
use std::sync::Arc;

use super::connection::Connection;
use super::error::{ClientError, Result};
use super::metadata::{Client, Lane};
use crate::proto::messages::broker_info::{
    DescribeBrokerRequest, DescribeBrokerResponse, DescribeLogDirsRequest, DescribeLogDirsResponse,
};
use crate::proto::messages::delete_records::{
    DeleteRecordsPartition, DeleteRecordsRequest, DeleteRecordsResponse,
};
use crate::proto::messages::list_offsets::{
    ListOffsetsPartition, ListOffsetsRequest, ListOffsetsResponse, ListOffsetsTopic, EARLIEST,
    LATEST,
};
use crate::proto::messages::metadata::MetadataResponse;
use crate::proto::messages::topics::{
    AlterTopicRequest, AlterTopicResponse, ConfigEntry, CreatableTopic, CreateTopicsRequest,
    CreateTopicsResponse, DeleteTopicsRequest, DeleteTopicsResponse, DescribeConfigsRequest,
    DescribeConfigsResponse,
};
use crate::proto::messages::Status;
use crate::proto::{ApiKey, ErrorCode};

/// Which offset of a partition to look up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    Earliest,
    Latest,
    /// First offset whose timestamp is at or after this time (ms).
    Timestamp(i64),
}

impl OffsetSpec {
    fn wire(self) -> i64 {
        match self {
            OffsetSpec::Earliest => EARLIEST,
            OffsetSpec::Latest => LATEST,
            OffsetSpec::Timestamp(t) => t,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTopic {
    pub name: String,
    /// None: the broker's default.
    pub partitions: Option<i32>,
    pub replication_factor: Option<i16>,
    pub configs: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicAlteration {
    pub name: String,
    pub partitions: Option<i32>,
    pub set_configs: Vec<(String, String)>,
    pub delete_configs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartitionDescription {
    pub partition: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TopicDescription {
    pub name: String,
    pub internal: bool,
    pub partitions: Vec<PartitionDescription>,
}

impl TopicDescription {
    pub fn replication_factor(&self) -> usize {
        self.partitions.first().map_or(0, |p| p.replicas.len())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigSetting {
    pub key: String,
    pub value: String,
    pub is_default: bool,
}

/// One partition's answer to a list-offsets lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionOffset {
    pub partition: i32,
    /// -1 when no record is at or after the requested timestamp.
    pub offset: i64,
    pub timestamp: i64,
}

/// [`check`] for an answer about topic `name`: an unknown topic is
/// reported in the one wording every command uses.
fn check_topic(status: &Status, name: &str) -> Result<()> {
    match check(status) {
        Err(ClientError::Broker {
            code: ErrorCode::UnknownTopicOrPartition,
            ..
        }) => Err(ClientError::UnknownTopic(name.to_string())),
        other => other,
    }
}

pub(super) fn check(status: &Status) -> Result<()> {
    if status.is_ok() {
        Ok(())
    } else {
        Err(ClientError::broker(
            status.error_code(),
            status.message.as_deref(),
        ))
    }
}

#[derive(Clone)]
pub struct Admin {
    client: Client,
}

impl Admin {
    pub fn new(client: Client) -> Admin {
        Admin { client }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn conn(&self) -> Result<Arc<Connection>> {
        self.client.bootstrap_connection().await
    }

    pub async fn create_topic(&self, topic: NewTopic, validate_only: bool) -> Result<()> {
        let req = CreateTopicsRequest {
            topics: vec![CreatableTopic {
                name: topic.name.clone(),
                partitions: topic.partitions.unwrap_or(-1),
                replication_factor: topic.replication_factor.unwrap_or(-1),
                configs: topic
                    .configs
                    .into_iter()
                    .map(|(key, value)| ConfigEntry { key, value })
                    .collect(),
            }],
            validate_only,
        };
        let timeout =
            partition_work_timeout(self.client.request_timeout(), req.topics[0].partitions);
        let resp: CreateTopicsResponse = self
            .conn()
            .await?
            .call(ApiKey::CreateTopics, &req, timeout)
            .await?;
        check(&resp.status)?;
        for t in &resp.topics {
            check(&t.status)?;
        }
        self.client.invalidate(&topic.name);
        Ok(())
    }

    pub async fn delete_topic(&self, name: &str) -> Result<()> {
        let req = DeleteTopicsRequest {
            names: vec![name.to_string()],
        };
        let resp: DeleteTopicsResponse = self
            .conn()
            .await?
            .call(ApiKey::DeleteTopics, &req, self.client.request_timeout())
            .await?;
        check(&resp.status)?;
        for t in &resp.topics {
            check_topic(&t.status, name)?;
        }
        self.client.invalidate(name);
        Ok(())
    }

    /// Topic names, sorted.
    pub async fn list_topics(&self, include_internal: bool) -> Result<Vec<String>> {
        let md = self.client.fetch_metadata(None, false).await?;
        let mut names: Vec<String> = md
            .topics
            .into_iter()
            .filter(|t| t.status.is_ok() && (include_internal || !t.internal))
            .map(|t| t.name)
            .collect();
        names.sort();
        Ok(names)
    }

    /// Describes the named topics (None: all). An unknown name is an error.
    pub async fn describe_topics(
        &self,
        names: Option<Vec<String>>,
    ) -> Result<Vec<TopicDescription>> {
        let md: MetadataResponse = self.client.fetch_metadata(names, false).await?;
        let mut out = Vec::with_capacity(md.topics.len());
        for t in md.topics {
            match t.status.error_code() {
                ErrorCode::None => {}
                ErrorCode::UnknownTopicOrPartition => {
                    return Err(ClientError::UnknownTopic(t.name))
                }
                _ => check(&t.status)?,
            }
            let mut partitions: Vec<PartitionDescription> = t
                .partitions
                .into_iter()
                .map(|p| PartitionDescription {
                    partition: p.partition,
                    leader: p.leader,
                    replicas: p.replicas,
                    isr: p.isr,
                })
                .collect();
            partitions.sort_by_key(|p| p.partition);
            out.push(TopicDescription {
                name: t.name,
                internal: t.internal,
                partitions,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Effective configuration of each named topic.
    pub async fn describe_configs(
        &self,
        names: Vec<String>,
    ) -> Result<HashMap<String, Vec<ConfigSetting>>> {
        let req = DescribeConfigsRequest { names };
        let resp: DescribeConfigsResponse = self
            .conn()
            .await?
            .call(ApiKey::DescribeConfigs, &req, self.client.request_timeout())
            .await?;
        check(&resp.status)?;
        let mut out = HashMap::new();
        for t in resp.topics {
            if t.status.error_code() == ErrorCode::UnknownTopicOrPartition {
                return Err(ClientError::UnknownTopic(t.name));
            }
            check(&t.status)?;
            let mut configs: Vec<ConfigSetting> = t
                .configs
                .into_iter()
                .map(|c| ConfigSetting {
                    key: c.key,
                    value: c.value,
                    is_default: c.is_default,
                })
                .collect();
            configs.sort_by(|a, b| a.key.cmp(&b.key));
            out.insert(t.name, configs);
        }
        Ok(out)
    }

    pub async fn alter_topic(&self, change: TopicAlteration, validate_only: bool) -> Result<()> {
        let req = AlterTopicRequest {
            name: change.name.clone(),
            partitions: change.partitions.unwrap_or(-1),
            set_configs: change
                .set_configs
                .into_iter()
                .map(|(key, value)| ConfigEntry { key, value })
                .collect(),
            delete_configs: change.delete_configs,
            validate_only,
        };
        let timeout = partition_work_timeout(self.client.request_timeout(), req.partitions);
        let resp: AlterTopicResponse = self
            .conn()
            .await?
            .call(ApiKey::AlterTopic, &req, timeout)
            .await?;
        check_topic(&resp.status, &change.name)?;
        self.client.invalidate(&change.name);
        Ok(())
    }

    /// What broker `node` says about itself (version, listeners, uptime,
    /// disk, partitions). Asked of that broker, so an error means it is not
    /// answering.
    pub async fn describe_broker(&self, node: i32) -> Result<DescribeBrokerResponse> {
        let conn = self.client.connection(node, Lane::Default).await?;
        let resp: DescribeBrokerResponse = conn
            .call(
                ApiKey::DescribeBroker,
                &DescribeBrokerRequest {},
                self.client.request_timeout(),
            )
            .await?;
        check(&resp.status)?;
        Ok(resp)
    }

    /// The partition replicas broker `node` stores (of `topics`, or all),
    /// with sizes and log ends, and its disk space. Asked of that broker.
    pub async fn describe_log_dirs(
        &self,
        node: i32,
        topics: Option<Vec<String>>,
    ) -> Result<DescribeLogDirsResponse> {
        let conn = self.client.connection(node, Lane::Default).await?;
        let resp: DescribeLogDirsResponse = conn
            .call(
                ApiKey::DescribeLogDirs,
                &DescribeLogDirsRequest { topics },
                self.client.request_timeout(),
            )
            .await?;
        check(&resp.status)?;
        Ok(resp)
    }

    /// Deletes the records of `topic` below each (partition, offset), -1
    /// meaning the high watermark, each asked of the partition's leader.
    /// Per partition: the new log start offset, or why not.
    pub async fn delete_records(
        &self,
        topic: &str,
        targets: &[(i32, i64)],
    ) -> Result<Vec<(i32, Result<i64>)>> {
        let mut by_node: HashMap<i32, Vec<DeleteRecordsPartition>> = HashMap::new();
        for &(partition, offset) in targets {
            by_node
                .entry(self.client.leader(topic, partition).await?)
                .or_default()
                .push(DeleteRecordsPartition { partition, offset });
        }
        let mut out = Vec::with_capacity(targets.len());
        for (node, partitions) in by_node {
            let conn = self.client.connection(node, Lane::Default).await?;
            let req = DeleteRecordsRequest {
                topic: topic.to_string(),
                partitions,
            };
            let resp: DeleteRecordsResponse = conn
                .call(ApiKey::DeleteRecords, &req, self.client.request_timeout())
                .await?;
            check(&resp.status)?;
            for p in resp.partitions {
                let r = check(&p.status).map(|()| p.low_watermark);
                out.push((p.partition, r));
            }
        }
        out.sort_by_key(|(p, _)| *p);
        Ok(out)
    }

    /// Asks for a leader election (`unclean`: Kafka's UNCLEAN type,
    /// otherwise PREFERRED) of `partitions`, `None` for every partition.
    /// Per partition: Ok when a leader was elected, or the broker's error
    /// (ELECTION_NOT_NEEDED when it had that leader already).
    pub async fn elect_leaders(
        &self,
        unclean: bool,
        partitions: Option<&[(String, i32)]>,
    ) -> Result<Vec<(String, i32, Result<()>)>> {
        use crate::proto::messages::elect_leaders::*;
        let req = ElectLeadersRequest {
            election_type: if unclean {
                ELECTION_UNCLEAN
            } else {
                ELECTION_PREFERRED
            },
            partitions: partitions.map(|ps| {
                ps.iter()
                    .map(|(topic, partition)| ElectionPartition {
                        topic: topic.clone(),
                        partition: *partition,
                    })
                    .collect()
            }),
        };
        let resp: ElectLeadersResponse = self
            .conn()
            .await?
            .call(ApiKey::ElectLeaders, &req, self.client.request_timeout())
            .await?;
        check(&resp.status)?;
        Ok(resp
            .partitions
            .into_iter()
            .map(|p| (p.topic, p.partition, check(&p.status)))
            .collect())
    }

    /// Looks up one offset per partition of a topic.
    pub async fn list_offsets(
        &self,
        topic: &str,
        partitions: &[i32],
        spec: OffsetSpec,
    ) -> Result<Vec<PartitionOffset>> {
        list_offsets(&self.client, topic, partitions, spec).await
    }
}

/// List-offsets for some partitions of a topic, each asked of its leader.
pub(crate) async fn list_offsets(
    client: &Client,
    topic: &str,
    partitions: &[i32],
    spec: OffsetSpec,
) -> Result<Vec<PartitionOffset>> {
    let mut by_node: HashMap<i32, Vec<i32>> = HashMap::new();
    for &p in partitions {
        by_node
            .entry(client.leader(topic, p).await?)
            .or_default()
            .push(p);
    }
    let mut out = Vec::with_capacity(partitions.len());
    for (node, parts) in by_node {
        let conn = client.connection(node, Lane::Default).await?;
        let req = ListOffsetsRequest {
            topics: vec![ListOffsetsTopic {
                name: topic.to_string(),
                partitions: parts
                    .iter()
                    .map(|&partition| ListOffsetsPartition {
                        partition,
                        timestamp: spec.wire(),
                    })
                    .collect(),
            }],
        };
        let resp: ListOffsetsResponse = conn
            .call(ApiKey::ListOffsets, &req, client.request_timeout())
            .await?;
        check(&resp.status)?;
        for t in resp.topics {
            for p in t.partitions {
                if p.status.error_code().is_retriable() {
                    client.invalidate(topic);
                }
                if p.status.error_code() == ErrorCode::UnknownTopicOrPartition {
                    return Err(ClientError::UnknownTopic(topic.to_string()));
                }
                check(&p.status)?;
                out.push(PartitionOffset {
                    partition: p.partition,
                    offset: p.offset,
                    timestamp: p.timestamp,
                });
            }
        }
    }
    out.sort_by_key(|p| p.partition);
    Ok(out)
}

/// How long a create or grow of `partitions` may take: the broker creates
/// every partition before it answers, an fsync or so each (a few ms on an
/// SSD, ~10 on a disk), so the request timeout alone would give up on a big
/// create the broker then finishes anyway.
fn partition_work_timeout(
    request_timeout: std::time::Duration,
    partitions: i32,
) -> std::time::Duration {
    const PER_PARTITION: std::time::Duration = std::time::Duration::from_millis(20);
    request_timeout + PER_PARTITION * partitions.max(0).unsigned_abs()
}

#[cfg(test)]
mod partition_work_tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn big_creates_get_time_per_partition() {
        let base = Duration::from_secs(30);
        assert_eq!(partition_work_timeout(base, -1), base);
        assert_eq!(
            partition_work_timeout(base, 1),
            base + Duration::from_millis(20)
        );
        assert_eq!(
            partition_work_timeout(base, 10_000),
            base + Duration::from_secs(200)
        );
    }
}
