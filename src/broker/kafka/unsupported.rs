//! A request at a version strom does not advertise. Kafka's rule is an
//! error response in the client's own version, so the client learns why
//! instead of seeing a dropped connection: a top-level UNSUPPORTED_VERSION
//! where the response has one, else the error on every topic or partition
//! the request named. Versions the `kafka-protocol` crate cannot encode
//! either leave nothing readable to send, so those connections are closed.
use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Encodable, HeaderVersion, Message};

use super::dispatch::decode;
use super::request::Ctx;
use super::{api_versions, Reply};
use crate::broker::state::Broker;
use crate::proto::ErrorCode;

const CODE: i16 = 35; // UNSUPPORTED_VERSION

pub fn respond(_broker: &Arc<Broker>, ctx: &Ctx, mut body: Bytes) -> Reply {
    debug_assert_eq!(CODE, ErrorCode::UnsupportedVersion.code());
    let v = ctx.version;
    macro_rules! top_level {
        ($resp:ty) => {{
            let mut r = <$resp>::default();
            r.error_code = CODE;
            send(ctx, &r)
        }};
    }
    macro_rules! decoded {
        ($req:ty, |$r:ident| $build:expr) => {{
            match decode::<$req>(ctx.api, v, &mut body) {
                Ok($r) => send(ctx, &$build),
                Err(_) => close(ctx),
            }
        }};
    }
    match ctx.api {
        ApiKey::ApiVersions => api_versions::unsupported(ctx),
        ApiKey::JoinGroup => top_level!(JoinGroupResponse),
        ApiKey::SyncGroup => top_level!(SyncGroupResponse),
        ApiKey::Heartbeat => top_level!(HeartbeatResponse),
        ApiKey::LeaveGroup => top_level!(LeaveGroupResponse),
        ApiKey::ListGroups => top_level!(ListGroupsResponse),
        ApiKey::InitProducerId => top_level!(InitProducerIdResponse),
        ApiKey::Fetch if v >= 7 => top_level!(FetchResponse),
        ApiKey::Metadata if v >= 13 => top_level!(MetadataResponse),
        ApiKey::OffsetFetch if (2..8).contains(&v) => top_level!(OffsetFetchResponse),
        ApiKey::OffsetFetch if v >= 8 => decoded!(OffsetFetchRequest, |r| {
            let mut resp = OffsetFetchResponse::default();
            resp.groups = r
                .groups
                .into_iter()
                .map(|g| {
                    offset_fetch_response::OffsetFetchResponseGroup::default()
                        .with_group_id(g.group_id)
                        .with_error_code(CODE)
                })
                .collect();
            resp
        }),
        ApiKey::FindCoordinator if v >= 4 => decoded!(FindCoordinatorRequest, |r| {
            let mut resp = FindCoordinatorResponse::default();
            resp.coordinators = r
                .coordinator_keys
                .into_iter()
                .map(|key| {
                    find_coordinator_response::Coordinator::default()
                        .with_key(key)
                        .with_error_code(CODE)
                })
                .collect();
            resp
        }),
        ApiKey::DescribeGroups => decoded!(DescribeGroupsRequest, |r| {
            let mut resp = DescribeGroupsResponse::default();
            resp.groups = r
                .groups
                .into_iter()
                .map(|g| {
                    describe_groups_response::DescribedGroup::default()
                        .with_group_id(g)
                        .with_error_code(CODE)
                })
                .collect();
            resp
        }),
        ApiKey::CreateTopics => decoded!(CreateTopicsRequest, |r| {
            let mut resp = CreateTopicsResponse::default();
            resp.topics = r
                .topics
                .into_iter()
                .map(|t| {
                    create_topics_response::CreatableTopicResult::default()
                        .with_name(t.name)
                        .with_error_code(CODE)
                })
                .collect();
            resp
        }),
        ApiKey::DeleteTopics => decoded!(DeleteTopicsRequest, |r| {
            let mut resp = DeleteTopicsResponse::default();
            let names = r.topic_names.into_iter().map(Some);
            let named = r.topics.into_iter().map(|t| t.name);
            resp.responses = names
                .chain(named)
                .map(|name| {
                    delete_topics_response::DeletableTopicResult::default()
                        .with_name(name)
                        .with_error_code(CODE)
                })
                .collect();
            resp
        }),
        ApiKey::DescribeConfigs => decoded!(DescribeConfigsRequest, |r| {
            let mut resp = DescribeConfigsResponse::default();
            resp.results = r
                .resources
                .into_iter()
                .map(|res| {
                    describe_configs_response::DescribeConfigsResult::default()
                        .with_resource_type(res.resource_type)
                        .with_resource_name(res.resource_name)
                        .with_error_code(CODE)
                })
                .collect();
            resp
        }),
        ApiKey::Produce => decoded!(ProduceRequest, |r| {
            let mut resp = ProduceResponse::default();
            resp.responses = r
                .topic_data
                .into_iter()
                .map(|t| {
                    produce_response::TopicProduceResponse::default()
                        .with_name(t.name)
                        .with_topic_id(t.topic_id)
                        .with_partition_responses(
                            t.partition_data
                                .iter()
                                .map(|p| {
                                    produce_response::PartitionProduceResponse::default()
                                        .with_index(p.index)
                                        .with_error_code(CODE)
                                        .with_base_offset(-1)
                                })
                                .collect(),
                        )
                })
                .collect();
            resp
        }),
        ApiKey::ListOffsets => decoded!(ListOffsetsRequest, |r| {
            let mut resp = ListOffsetsResponse::default();
            resp.topics = r
                .topics
                .into_iter()
                .map(|t| {
                    list_offsets_response::ListOffsetsTopicResponse::default()
                        .with_name(t.name)
                        .with_partitions(
                            t.partitions
                                .iter()
                                .map(|p| {
                                    list_offsets_response::ListOffsetsPartitionResponse::default()
                                        .with_partition_index(p.partition_index)
                                        .with_error_code(CODE)
                                })
                                .collect(),
                        )
                })
                .collect();
            resp
        }),
        ApiKey::OffsetCommit => decoded!(OffsetCommitRequest, |r| {
            let mut resp = OffsetCommitResponse::default();
            resp.topics = r
                .topics
                .into_iter()
                .map(|t| {
                    offset_commit_response::OffsetCommitResponseTopic::default()
                        .with_name(t.name)
                        .with_topic_id(t.topic_id)
                        .with_partitions(
                            t.partitions
                                .iter()
                                .map(|p| {
                                    offset_commit_response::OffsetCommitResponsePartition::default()
                                        .with_partition_index(p.partition_index)
                                        .with_error_code(CODE)
                                })
                                .collect(),
                        )
                })
                .collect();
            resp
        }),
        _ => close(ctx),
    }
}

/// Encodes `r` if the crate knows this version of it; otherwise closes.
fn send<R: Encodable + HeaderVersion + Message>(ctx: &Ctx, r: &R) -> Reply {
    let v = ctx.version;
    if v < R::VERSIONS.min || v > R::VERSIONS.max {
        return close(ctx);
    }
    ctx.respond(r)
}

fn close(ctx: &Ctx) -> Reply {
    tracing::info!(
        peer = %ctx.peer,
        api = ?ctx.api,
        version = ctx.version,
        "closing Kafka connection: unsupported API version"
    );
    Reply::Close
}
