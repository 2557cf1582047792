//! The transactional APIs (KIP-98) onto the transaction coordinator:
//! AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit, and the
//! admin ListTransactions / DescribeTransactions (KIP-664). InitProducerId
//! with a transactional id is in `init_producer_id.rs`.
use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::describe_transactions_response::{
    TopicData, TransactionState as DescribedTxn,
};
use kafka_protocol::messages::list_transactions_response::TransactionState as ListedTxn;
use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::*;

use super::request::{str, Ctx};
use super::Reply;
use crate::broker::state::Broker;
use crate::broker::txn::{PendingOffset, TxnError, TxnState};
use crate::proto::ErrorCode;

/// PRODUCER_FENCED replaces INVALID_PRODUCER_EPOCH from these versions
/// (KIP-588); older clients only know the latter.
const ADD_PARTITIONS_FENCED_FROM: i16 = 2;
const ADD_OFFSETS_FENCED_FROM: i16 = 2;
const END_TXN_FENCED_FROM: i16 = 2;

fn code(ctx: &Ctx, e: &TxnError, fenced_from: i16) -> i16 {
    tracing::debug!(peer = %ctx.peer, api = ?ctx.api, error = %e, "transaction request refused");
    e.code(ctx.version >= fenced_from).code()
}

pub async fn add_partitions(
    broker: &Arc<Broker>,
    ctx: &Ctx,
    req: AddPartitionsToTxnRequest,
) -> Reply {
    let id = req.v3_and_below_transactional_id.0.to_string();
    let mut wanted = Vec::new();
    for t in &req.v3_and_below_topics {
        for &p in &t.partitions {
            wanted.push((t.name.0.to_string(), p));
        }
    }
    let result = broker
        .txns
        .add_partitions(
            &id,
            req.v3_and_below_producer_id.0,
            req.v3_and_below_producer_epoch,
            wanted.clone(),
        )
        .await;
    // One code per partition, a request-level failure on every one.
    let per: Vec<((String, i32), i16)> = match result {
        Ok(list) => list
            .into_iter()
            .map(|(p, r)| {
                let c = r
                    .err()
                    .map_or(0, |e| code(ctx, &e, ADD_PARTITIONS_FENCED_FROM));
                (p, c)
            })
            .collect(),
        Err(e) => {
            let c = code(ctx, &e, ADD_PARTITIONS_FENCED_FROM);
            wanted.into_iter().map(|p| (p, c)).collect()
        }
    };
    let mut by_topic: BTreeMap<String, Vec<(i32, i16)>> = BTreeMap::new();
    for ((t, p), c) in per {
        by_topic.entry(t).or_default().push((p, c));
    }
    let mut resp = AddPartitionsToTxnResponse::default();
    resp.results_by_topic_v3_and_below = by_topic
        .into_iter()
        .map(|(t, parts)| {
            AddPartitionsToTxnTopicResult::default()
                .with_name(TopicName(str(t)))
                .with_results_by_partition(
                    parts
                        .into_iter()
                        .map(|(p, c)| {
                            AddPartitionsToTxnPartitionResult::default()
                                .with_partition_index(p)
                                .with_partition_error_code(c)
                        })
                        .collect(),
                )
        })
        .collect();
    ctx.respond(&resp)
}

pub async fn add_offsets(broker: &Arc<Broker>, ctx: &Ctx, req: AddOffsetsToTxnRequest) -> Reply {
    let r = broker
        .txns
        .add_offsets(
            &req.transactional_id.0,
            req.producer_id.0,
            req.producer_epoch,
            &req.group_id.0,
        )
        .await;
    let mut resp = AddOffsetsToTxnResponse::default();
    resp.error_code = r
        .err()
        .map_or(0, |e| code(ctx, &e, ADD_OFFSETS_FENCED_FROM));
    ctx.respond(&resp)
}

pub async fn end_txn(broker: &Arc<Broker>, ctx: &Ctx, req: EndTxnRequest) -> Reply {
    let r = broker
        .txns
        .end_txn(
            &req.transactional_id.0,
            req.producer_id.0,
            req.producer_epoch,
            req.committed,
        )
        .await;
    let mut resp = EndTxnResponse::default();
    resp.error_code = r.err().map_or(0, |e| code(ctx, &e, END_TXN_FENCED_FROM));
    resp.producer_id = ProducerId(-1);
    resp.producer_epoch = -1;
    ctx.respond(&resp)
}

pub async fn txn_offset_commit(
    broker: &Arc<Broker>,
    ctx: &Ctx,
    req: TxnOffsetCommitRequest,
) -> Reply {
    let group = req.group_id.0.to_string();
    let mut offsets = Vec::new();
    for t in &req.topics {
        for p in &t.partitions {
            offsets.push(PendingOffset {
                group: group.clone(),
                topic: t.name.0.to_string(),
                partition: p.partition_index,
                offset: p.committed_offset,
                leader_epoch: p.committed_leader_epoch,
                metadata: p.committed_metadata.as_ref().map(|m| m.to_string()),
            });
        }
    }
    let r = if group.is_empty() {
        Err(ErrorCode::InvalidGroupId.code())
    } else {
        crate::broker::transactional::txn_offset_commit(
            broker,
            &req.transactional_id.0,
            req.producer_id.0,
            req.producer_epoch,
            &group,
            offsets,
        )
        .await
        // TxnOffsetCommit never had PRODUCER_FENCED in its versions.
        .map_err(|e| code(ctx, &e, i16::MAX))
    };
    let c = r.err().unwrap_or(0);
    let mut resp = TxnOffsetCommitResponse::default();
    resp.topics = req
        .topics
        .into_iter()
        .map(|t| {
            TxnOffsetCommitResponseTopic::default()
                .with_name(t.name)
                .with_partitions(
                    t.partitions
                        .iter()
                        .map(|p| {
                            TxnOffsetCommitResponsePartition::default()
                                .with_partition_index(p.partition_index)
                                .with_error_code(c)
                        })
                        .collect(),
                )
        })
        .collect();
    ctx.respond(&resp)
}

pub async fn list(broker: &Arc<Broker>, ctx: &Ctx, req: ListTransactionsRequest) -> Reply {
    let mut resp = ListTransactionsResponse::default();
    let mut states = Vec::new();
    for s in &req.state_filters {
        match TxnState::from_name(s) {
            Some(st) => states.push(st),
            None => resp.unknown_state_filters.push(s.clone()),
        }
    }
    let pids: Vec<i64> = req.producer_id_filters.iter().map(|p| p.0).collect();
    // Every filter named an unknown state: nothing can match.
    if states.is_empty() && !req.state_filters.is_empty() {
        return ctx.respond(&resp);
    }
    resp.transaction_states = broker
        .txns
        .list(&states, &pids)
        .into_iter()
        .map(|t| {
            ListedTxn::default()
                .with_transactional_id(TransactionalId(str(t.transactional_id)))
                .with_producer_id(ProducerId(t.producer_id))
                .with_transaction_state(str(t.state.name()))
        })
        .collect();
    ctx.respond(&resp)
}

pub async fn describe(broker: &Arc<Broker>, ctx: &Ctx, req: DescribeTransactionsRequest) -> Reply {
    let mut resp = DescribeTransactionsResponse::default();
    for id in req.transactional_ids {
        let mut out = DescribedTxn::default().with_transactional_id(id.clone());
        match broker.txns.describe(&id.0).await {
            Ok(m) => {
                let mut topics: BTreeMap<String, Vec<i32>> = BTreeMap::new();
                for (t, p) in &m.partitions {
                    topics.entry(t.clone()).or_default().push(*p);
                }
                out.transaction_state = str(m.state.name());
                out.transaction_timeout_ms = m.timeout_ms;
                out.transaction_start_time_ms = m.start_ms;
                out.producer_id = ProducerId(m.producer_id);
                out.producer_epoch = m.producer_epoch;
                out.topics = topics
                    .into_iter()
                    .map(|(t, ps)| {
                        TopicData::default()
                            .with_topic(TopicName(str(t)))
                            .with_partitions(ps)
                    })
                    .collect();
            }
            Err(e) => {
                out.error_code = code(ctx, &e, 0);
                out.transaction_state = str("");
                out.producer_id = ProducerId(-1);
                out.producer_epoch = -1;
            }
        }
        resp.transaction_states.push(out);
    }
    ctx.respond(&resp)
}
