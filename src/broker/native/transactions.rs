//! Transactions over the native protocol: InitProducerId (idempotent and,
//! from version 1, transactional), AddPartitionsToTxn, EndTxn and the
//! admin ListTransactions / DescribeTransactions. Thin: the transaction
//! coordinator (`broker::txn`) and the steps shared with the Kafka adapter
//! (`broker::transactional`) do the work; this maps values and errors.
use std::net::SocketAddr;
use std::sync::Arc;

use super::{frame, Reply};
use crate::broker::state::Broker;
use crate::broker::transactional::{init_producer_id as init, InitError};
use crate::broker::txn::{TxnError, TxnState};
use crate::proto::messages::groups::{PartitionStatus, TopicPartition};
use crate::proto::messages::replication::InitProducerIdResponse;
use crate::proto::messages::transactions::*;
use crate::proto::messages::Status;
use crate::proto::ErrorCode;

/// The native protocol is new enough for PRODUCER_FENCED (KIP-588).
fn status(e: &TxnError) -> Status {
    Status::error(e.code(true), e.to_string())
}

pub async fn init_producer_id(
    broker: &Arc<Broker>,
    cid: i32,
    req: InitProducerIdRequestV1,
    peer: SocketAddr,
) -> Reply {
    let expected = (req.producer_id >= 0).then_some((req.producer_id, req.producer_epoch));
    let resp = match init(
        broker,
        req.transactional_id.as_deref(),
        req.transaction_timeout_ms,
        expected,
    )
    .await
    {
        Ok((producer_id, producer_epoch)) => InitProducerIdResponse {
            status: Status::ok(),
            producer_id,
            producer_epoch,
        },
        Err(e) => {
            tracing::debug!(%peer, error = %e, "InitProducerId refused");
            InitProducerIdResponse {
                status: match &e {
                    InitError::Txn(t) => status(t),
                    InitError::NoProducerId(_) => {
                        Status::error(ErrorCode::CoordinatorNotAvailable, e.to_string())
                    }
                },
                producer_id: -1,
                producer_epoch: -1,
            }
        }
    };
    Reply::Now(frame(cid, &resp))
}

pub async fn add_partitions(
    broker: &Arc<Broker>,
    cid: i32,
    req: AddPartitionsToTxnRequest,
    peer: SocketAddr,
) -> Reply {
    let wanted: Vec<(String, i32)> = req
        .partitions
        .iter()
        .map(|p| (p.topic.clone(), p.partition))
        .collect();
    let result = broker
        .txns
        .add_partitions(
            &req.transactional_id,
            req.producer_id,
            req.producer_epoch,
            wanted,
        )
        .await;
    let resp = match result {
        Ok(list) => AddPartitionsToTxnResponse {
            status: Status::ok(),
            partitions: list
                .into_iter()
                .map(|((topic, partition), r)| PartitionStatus {
                    topic,
                    partition,
                    status: r.err().map_or_else(Status::ok, |e| status(&e)),
                })
                .collect(),
        },
        Err(e) => {
            tracing::debug!(%peer, error = %e, "AddPartitionsToTxn refused");
            AddPartitionsToTxnResponse {
                status: status(&e),
                partitions: Vec::new(),
            }
        }
    };
    Reply::Now(frame(cid, &resp))
}

pub async fn end_txn(
    broker: &Arc<Broker>,
    cid: i32,
    req: EndTxnRequest,
    peer: SocketAddr,
) -> Reply {
    let r = broker
        .txns
        .end_txn(
            &req.transactional_id,
            req.producer_id,
            req.producer_epoch,
            req.commit,
        )
        .await;
    let status = match r {
        Ok(()) => Status::ok(),
        Err(e) => {
            tracing::debug!(%peer, error = %e, "EndTxn refused");
            status(&e)
        }
    };
    Reply::Now(frame(cid, &EndTxnResponse { status }))
}

pub async fn add_offsets(
    broker: &Arc<Broker>,
    cid: i32,
    req: AddOffsetsToTxnRequest,
    peer: SocketAddr,
) -> Reply {
    let r = broker
        .txns
        .add_offsets(
            &req.transactional_id,
            req.producer_id,
            req.producer_epoch,
            &req.group_id,
        )
        .await;
    let status = match r {
        Ok(()) => Status::ok(),
        Err(e) => {
            tracing::debug!(%peer, error = %e, "AddOffsetsToTxn refused");
            status(&e)
        }
    };
    Reply::Now(frame(cid, &AddOffsetsToTxnResponse { status }))
}

/// Served by the transaction coordinator itself: never forwarded again
/// (a Kafka TxnOffsetCommit that reached another broker comes here).
pub async fn txn_offset_commit(
    broker: &Arc<Broker>,
    cid: i32,
    req: TxnOffsetCommitRequest,
    peer: SocketAddr,
) -> Reply {
    let offsets = pending_offsets(&req.group_id, req.offsets);
    let r = broker
        .txns
        .txn_offset_commit(
            &req.transactional_id,
            req.producer_id,
            req.producer_epoch,
            &req.group_id,
            offsets,
        )
        .await;
    let status = match r {
        Ok(()) => Status::ok(),
        Err(e) => {
            tracing::debug!(%peer, error = %e, "TxnOffsetCommit refused");
            status(&e)
        }
    };
    Reply::Now(frame(cid, &TxnOffsetCommitResponse { status }))
}

fn pending_offsets(
    group: &str,
    offsets: Vec<crate::proto::messages::txn_markers::TxnOffset>,
) -> Vec<crate::broker::txn::PendingOffset> {
    offsets
        .into_iter()
        .map(|o| crate::broker::txn::PendingOffset {
            group: group.to_string(),
            topic: o.topic,
            partition: o.partition,
            offset: o.offset,
            leader_epoch: o.leader_epoch,
            metadata: o.metadata,
        })
        .collect()
}

pub async fn list(
    broker: &Arc<Broker>,
    cid: i32,
    req: ListTransactionsRequest,
    _peer: SocketAddr,
) -> Reply {
    let mut states = Vec::new();
    for s in &req.state_filters {
        match TxnState::from_name(s) {
            Some(st) => states.push(st),
            None => {
                let names: Vec<&str> = crate::broker::txn::ALL_STATES
                    .iter()
                    .map(|s| s.name())
                    .collect();
                return Reply::Now(frame(
                    cid,
                    &ListTransactionsResponse {
                        status: Status::error(
                            ErrorCode::InvalidRequest,
                            format!(
                                "unknown transaction state {s:?} (one of {})",
                                names.join(", ")
                            ),
                        ),
                        transactions: Vec::new(),
                    },
                ));
            }
        }
    }
    let transactions = broker
        .txns
        .list(&states, &req.producer_id_filters)
        .into_iter()
        .map(|t| TransactionListing {
            transactional_id: t.transactional_id,
            producer_id: t.producer_id,
            state: t.state.name().to_string(),
        })
        .collect();
    Reply::Now(frame(
        cid,
        &ListTransactionsResponse {
            status: Status::ok(),
            transactions,
        },
    ))
}

pub async fn describe(
    broker: &Arc<Broker>,
    cid: i32,
    req: DescribeTransactionsRequest,
    _peer: SocketAddr,
) -> Reply {
    let mut transactions = Vec::with_capacity(req.transactional_ids.len());
    for id in req.transactional_ids {
        transactions.push(match broker.txns.describe(&id).await {
            Ok(m) => TransactionDescription {
                status: Status::ok(),
                transactional_id: id,
                state: m.state.name().to_string(),
                producer_id: m.producer_id,
                producer_epoch: m.producer_epoch,
                timeout_ms: m.timeout_ms,
                start_time_ms: m.start_ms,
                partitions: m
                    .partitions
                    .into_iter()
                    .map(|(topic, partition)| TopicPartition { topic, partition })
                    .collect(),
            },
            Err(e) => TransactionDescription {
                status: status(&e),
                transactional_id: id,
                producer_id: -1,
                producer_epoch: -1,
                timeout_ms: -1,
                start_time_ms: -1,
                ..TransactionDescription::default()
            },
        });
    }
    Reply::Now(frame(
        cid,
        &DescribeTransactionsResponse {
            status: Status::ok(),
            transactions,
        },
    ))
}

/// DescribeProducers (api 35): the producers the partition's leader
/// remembers, as [`Broker::partition_producers`] (the Kafka handler's too).
pub async fn describe_producers(
    broker: &Arc<Broker>,
    cid: i32,
    req: DescribeProducersRequest,
    _peer: SocketAddr,
) -> Reply {
    let resp = match broker.partition_producers(&req.topic, req.partition) {
        Err(e) => DescribeProducersResponse {
            status: e.status(),
            producers: Vec::new(),
        },
        Ok(ps) => DescribeProducersResponse {
            status: Status::ok(),
            producers: ps
                .into_iter()
                .map(|p| ActiveProducerState {
                    producer_id: p.producer_id,
                    producer_epoch: p.epoch,
                    last_sequence: p.last_sequence,
                    last_timestamp: p.last_timestamp,
                    current_txn_start_offset: p.current_txn_start_offset,
                })
                .collect(),
        },
    };
    Reply::Now(frame(cid, &resp))
}
