//! Header checks, then one handler per API.
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::Decodable;

use super::request::Ctx;
use super::{
    api_versions, configs, describe_cluster, elect_leaders, fetch, group_admin, groups, guard,
    init_producer_id, list_offsets, log_dirs, metadata, offset_for_leader_epoch, produce,
    producers, records, topics, transactions, unsupported, versions, Reply,
};
use crate::broker::metrics::{timed, Protocol, Waiting};
use crate::broker::state::Broker;

/// Handles one request, counting it and its latency when metrics are on.
pub async fn dispatch(broker: &Arc<Broker>, body: Bytes, peer: SocketAddr) -> Reply {
    let Some(metrics) = &broker.metrics else {
        return handle(broker, body, peer).await;
    };
    let started = std::time::Instant::now();
    let key = match body.get(..2) {
        Some(k) => i16::from_be_bytes([k[0], k[1]]),
        None => -1,
    };
    let reply = handle(broker, body, peer).await;
    let Ok(api) = ApiKey::try_from(key) else {
        // Unknown keys close the connection; they have no API to count under.
        return reply;
    };
    let meter = metrics.request(Protocol::Kafka, key, || format!("{api:?}"));
    match reply {
        Reply::Later(wait) => {
            let waiting = match api {
                ApiKey::Produce => Some(metrics.waiting(Waiting::Produce)),
                ApiKey::Fetch => Some(metrics.waiting(Waiting::Fetch)),
                _ => None,
            };
            Reply::Later(timed(wait, meter, started, waiting))
        }
        now => {
            meter.done(started);
            now
        }
    }
}

async fn handle(broker: &Arc<Broker>, mut body: Bytes, peer: SocketAddr) -> Reply {
    // api key, api version, correlation id: the part of every request
    // header that does not depend on the header version.
    if body.len() < 8 {
        tracing::info!(%peer, len = body.len(), "closing Kafka connection: request shorter than its header");
        return Reply::Close;
    }
    let key = i16::from_be_bytes([body[0], body[1]]);
    let version = i16::from_be_bytes([body[2], body[3]]);
    let Ok(api) = ApiKey::try_from(key) else {
        tracing::info!(%peer, api_key = key, "closing Kafka connection: unknown API key");
        return Reply::Close;
    };
    let header = match RequestHeader::decode(&mut body, api.request_header_version(version)) {
        Ok(h) => h,
        Err(e) => {
            tracing::info!(%peer, api = ?api, version, error = %e, "closing Kafka connection: malformed request header");
            return Reply::Close;
        }
    };
    tracing::trace!(%peer, api = ?api, version, "Kafka request");
    let ctx = Ctx {
        api,
        version,
        correlation_id: header.correlation_id,
        client_id: header.client_id.map(|s| s.to_string()).unwrap_or_default(),
        peer,
    };
    let Some((min, max)) = versions::range(api) else {
        // Clients only send what ApiVersions listed; Kafka closes too.
        tracing::info!(%peer, api = ?api, version, "closing Kafka connection: API not supported");
        return Reply::Close;
    };
    if version < min || version > max {
        tracing::debug!(%peer, api = ?api, version, "unsupported API version");
        return unsupported::respond(broker, &ctx, body);
    }

    macro_rules! run {
        ($req:ty, $handler:path) => {
            match decode::<$req>(api, version, &mut body) {
                Ok(req) => $handler(broker, &ctx, req).await,
                Err(e) => malformed(&ctx, e),
            }
        };
    }
    match api {
        ApiKey::ApiVersions => run!(ApiVersionsRequest, api_versions::handle),
        ApiKey::Produce if version < versions::PRODUCE_MIN_DECODABLE => {
            produce::refuse_legacy(&ctx, body)
        }
        ApiKey::Produce => run!(ProduceRequest, produce::handle),
        ApiKey::Fetch => run!(FetchRequest, fetch::handle),
        ApiKey::ListOffsets => run!(ListOffsetsRequest, list_offsets::handle),
        ApiKey::Metadata => run!(MetadataRequest, metadata::handle),
        ApiKey::CreateTopics => run!(CreateTopicsRequest, topics::create),
        ApiKey::DeleteTopics => run!(DeleteTopicsRequest, topics::delete),
        ApiKey::DescribeConfigs => run!(DescribeConfigsRequest, configs::describe),
        ApiKey::AlterConfigs => run!(AlterConfigsRequest, configs::alter),
        ApiKey::IncrementalAlterConfigs => {
            run!(IncrementalAlterConfigsRequest, configs::incremental_alter)
        }
        ApiKey::CreatePartitions => run!(CreatePartitionsRequest, topics::create_partitions),
        ApiKey::DeleteRecords => run!(DeleteRecordsRequest, records::delete_records),
        ApiKey::FindCoordinator => run!(FindCoordinatorRequest, groups::find_coordinator),
        ApiKey::JoinGroup => run!(JoinGroupRequest, groups::join),
        ApiKey::SyncGroup => run!(SyncGroupRequest, groups::sync),
        ApiKey::Heartbeat => run!(HeartbeatRequest, groups::heartbeat),
        ApiKey::LeaveGroup => run!(LeaveGroupRequest, groups::leave),
        ApiKey::OffsetCommit => run!(OffsetCommitRequest, groups::offset_commit),
        ApiKey::OffsetFetch => run!(OffsetFetchRequest, groups::offset_fetch),
        ApiKey::DescribeGroups => run!(DescribeGroupsRequest, groups::describe),
        ApiKey::ListGroups => run!(ListGroupsRequest, groups::list),
        ApiKey::InitProducerId => run!(InitProducerIdRequest, init_producer_id::handle),
        ApiKey::DeleteGroups => run!(DeleteGroupsRequest, group_admin::delete_groups),
        ApiKey::OffsetDelete => run!(OffsetDeleteRequest, group_admin::offset_delete),
        ApiKey::DescribeCluster => run!(DescribeClusterRequest, describe_cluster::handle),
        ApiKey::DescribeLogDirs => run!(DescribeLogDirsRequest, log_dirs::handle),
        ApiKey::DescribeProducers => run!(DescribeProducersRequest, producers::handle),
        ApiKey::ElectLeaders => run!(ElectLeadersRequest, elect_leaders::handle),
        ApiKey::OffsetForLeaderEpoch => {
            run!(OffsetForLeaderEpochRequest, offset_for_leader_epoch::handle)
        }
        ApiKey::AddPartitionsToTxn => run!(AddPartitionsToTxnRequest, transactions::add_partitions),
        ApiKey::AddOffsetsToTxn => run!(AddOffsetsToTxnRequest, transactions::add_offsets),
        ApiKey::EndTxn => run!(EndTxnRequest, transactions::end_txn),
        ApiKey::TxnOffsetCommit => run!(TxnOffsetCommitRequest, transactions::txn_offset_commit),
        ApiKey::ListTransactions => run!(ListTransactionsRequest, transactions::list),
        ApiKey::DescribeTransactions => run!(DescribeTransactionsRequest, transactions::describe),
        _ => Reply::Close,
    }
}

/// Decodes a request body, after [`guard::check`] made sure decoding
/// cannot be made to allocate more than the body holds.
pub fn decode<R: Decodable>(api: ApiKey, version: i16, body: &mut Bytes) -> anyhow::Result<R> {
    guard::check(api, version, body).map_err(anyhow::Error::msg)?;
    R::decode(body, version)
}

/// A body the header promised but the bytes do not hold. Without a decoded
/// request there is nothing to shape a response from, so (like Kafka) the
/// connection is closed.
fn malformed(ctx: &Ctx, e: anyhow::Error) -> Reply {
    tracing::info!(
        peer = %ctx.peer,
        api = ?ctx.api,
        version = ctx.version,
        error = %e,
        "closing Kafka connection: malformed request"
    );
    Reply::Close
}
