//! The dispatch: header checks, then one handler per API.
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;

use super::{
    admin, broker_configs, broker_info, delete_offsets, delete_records, elect_leaders, fetch,
    groups, list_offsets, metadata, produce, status_frame, transactions, txn_markers, Reply,
};
use crate::broker::metrics::{timed, Protocol, Waiting};
use crate::broker::replication::handlers as replication;
use crate::broker::state::Broker;
use crate::proto::codec::{Decoder, ProtoError};
use crate::proto::frame::FrameHeader;
use crate::proto::messages::fetch::{FetchRequest, FetchRequestV1};
use crate::proto::messages::groups::{FindCoordinatorRequest, FindCoordinatorRequestV1};
use crate::proto::messages::replication::InitProducerIdRequest;
use crate::proto::messages::transactions::InitProducerIdRequestV1;
use crate::proto::{ApiKey, ErrorCode, Wire};

/// Decodes a request body, or says precisely why it could not.
pub fn decode<T: Wire>(api: ApiKey, correlation_id: i32, body: BytesMut) -> Result<T, Reply> {
    let mut d = Decoder::new(body);
    let res: Result<T, ProtoError> = T::decode(&mut d).and_then(|m| d.finish().map(|_| m));
    res.map_err(|e| {
        Reply::Now(status_frame(
            correlation_id,
            ErrorCode::InvalidRequest,
            format!("malformed {api} request: {e}"),
        ))
    })
}

/// How the connection introduced itself in its preamble.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionKind {
    /// [`crate::proto::frame::FLAG_INTERNAL_WRITER`]: may write (and
    /// create) the internal topics strom's connect runtime keeps.
    pub internal_writer: bool,
}

/// Handles one request, counting it and its latency when metrics are on.
pub async fn dispatch(
    broker: &Arc<Broker>,
    body: BytesMut,
    peer: SocketAddr,
    kind: ConnectionKind,
) -> Reply {
    let Some(metrics) = &broker.metrics else {
        return handle(broker, body, peer, kind).await;
    };
    let started = std::time::Instant::now();
    let code = match body.get(..2) {
        Some(k) => u16::from_be_bytes([k[0], k[1]]),
        None => u16::MAX,
    };
    let reply = handle(broker, body, peer, kind).await;
    let Some(api) = ApiKey::from_code(code) else {
        return reply;
    };
    let meter = metrics.request(Protocol::Native, code as i16, || api.to_string());
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

async fn handle(
    broker: &Arc<Broker>,
    mut body: BytesMut,
    peer: SocketAddr,
    kind: ConnectionKind,
) -> Reply {
    let header = match FrameHeader::parse(&mut body) {
        Ok(h) => h,
        Err(e) => {
            return Reply::Now(status_frame(-1, ErrorCode::InvalidRequest, e.to_string()));
        }
    };
    let cid = header.correlation_id;
    let Some(api) = ApiKey::from_code(header.api_key) else {
        tracing::debug!(%peer, api_key = header.api_key, "unknown api key");
        return Reply::Now(status_frame(
            cid,
            ErrorCode::InvalidRequest,
            format!("unknown api key {}", header.api_key),
        ));
    };
    if header.api_version > api.max_version() {
        return Reply::Now(status_frame(
            cid,
            ErrorCode::UnsupportedVersion,
            format!(
                "{api} version {} is not supported (max {})",
                header.api_version,
                api.max_version()
            ),
        ));
    }
    macro_rules! run {
        ($handler:path) => {
            match decode(api, cid, body) {
                Ok(req) => $handler(broker, cid, req, peer).await,
                Err(reply) => reply,
            }
        };
    }
    match api {
        ApiKey::Produce => match decode(api, cid, body) {
            Ok(req) => produce::handle(broker, cid, req, peer, kind).await,
            Err(reply) => reply,
        },
        ApiKey::Fetch => {
            let req = if header.api_version == 0 {
                decode::<FetchRequest>(api, cid, body).map(FetchRequestV1::from)
            } else {
                decode(api, cid, body)
            };
            match req {
                Ok(req) => fetch::handle(broker, cid, req, header.api_version).await,
                Err(reply) => reply,
            }
        }
        ApiKey::ListOffsets => run!(list_offsets::handle),
        ApiKey::Metadata => run!(metadata::handle),
        ApiKey::CreateTopics => match decode(api, cid, body) {
            Ok(req) => admin::create_topics(broker, cid, req, peer, kind).await,
            Err(reply) => reply,
        },
        ApiKey::DeleteTopics => run!(admin::delete_topics),
        ApiKey::DescribeConfigs => run!(admin::describe_configs),
        ApiKey::AlterTopic => run!(admin::alter_topic),
        ApiKey::FindCoordinator => {
            let req = if header.api_version == 0 {
                decode::<FindCoordinatorRequest>(api, cid, body).map(FindCoordinatorRequestV1::from)
            } else {
                decode(api, cid, body)
            };
            match req {
                Ok(req) => groups::find_coordinator(broker, cid, req, peer).await,
                Err(reply) => reply,
            }
        }
        ApiKey::JoinGroup => run!(groups::join_group),
        ApiKey::SyncGroup => run!(groups::sync_group),
        ApiKey::Heartbeat => run!(groups::heartbeat),
        ApiKey::LeaveGroup => run!(groups::leave_group),
        ApiKey::OffsetCommit => run!(groups::offset_commit),
        ApiKey::OffsetFetch => run!(groups::offset_fetch),
        ApiKey::ListGroups => run!(groups::list_groups),
        ApiKey::DescribeGroups => run!(groups::describe_groups),
        ApiKey::DeleteGroups => run!(groups::delete_groups),
        ApiKey::ReplicaFetch => run!(replication::replica_fetch),
        ApiKey::OffsetForLeaderEpoch => run!(replication::offset_for_leader_epoch),
        ApiKey::InitProducerId => {
            let req = if header.api_version == 0 {
                decode::<InitProducerIdRequest>(api, cid, body).map(InitProducerIdRequestV1::from)
            } else {
                decode(api, cid, body)
            };
            match req {
                Ok(req) => transactions::init_producer_id(broker, cid, req, peer).await,
                Err(reply) => reply,
            }
        }
        ApiKey::AddPartitionsToTxn => run!(transactions::add_partitions),
        ApiKey::EndTxn => run!(transactions::end_txn),
        ApiKey::ListTransactions => run!(transactions::list),
        ApiKey::DescribeTransactions => run!(transactions::describe),
        ApiKey::DescribeBroker => run!(broker_info::handle),
        ApiKey::DeleteRecords => run!(delete_records::handle),
        ApiKey::DeleteOffsets => run!(delete_offsets::handle),
        ApiKey::ElectLeaders => run!(elect_leaders::handle),
        ApiKey::DescribeBrokerConfigs => run!(broker_configs::describe),
        ApiKey::AlterBrokerConfigs => run!(broker_configs::alter),
        ApiKey::DescribeLogDirs => run!(broker_info::log_dirs),
        ApiKey::DescribeProducers => run!(transactions::describe_producers),
        ApiKey::WriteTxnMarkers => run!(txn_markers::write_markers),
        ApiKey::AllowTxnWrites => run!(txn_markers::allow_writes),
        ApiKey::CommitTxnOffsets => run!(txn_markers::commit_offsets),
        ApiKey::AddOffsetsToTxn => run!(transactions::add_offsets),
        ApiKey::TxnOffsetCommit => run!(transactions::txn_offset_commit),
    }
}
