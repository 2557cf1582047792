//! The transaction coordinator's calls for strom's client: AddPartitionsToTxn
//! and EndTxn for the transactional producer (`producer.rs`), and the admin
//! ListTransactions and DescribeTransactions. Calls go to the transactional
//! id's coordinator (FindCoordinator with the transaction key type: in a
//! cluster the leader of its `__transaction_state` partition), looked up
//! again on every attempt so a coordinator that moved is followed.
//! Retriable refusals (the coordinator moving or still loading, the
//! previous transaction still completing, a broker restarting) are
//! retried with backoff until a deadline.
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::backoff::jittered;
use super::error::{ClientError, Result};
use super::group_admin::find_coordinator_of;
use super::metadata::{Client, Lane};
use crate::proto::messages::groups::TopicPartition;
use crate::proto::messages::groups::KEY_TYPE_TRANSACTION;
use crate::proto::messages::transactions::*;
use crate::proto::messages::txn_markers::TxnOffset;
use crate::proto::messages::Status;
use crate::proto::{ApiKey, Wire};

/// Who speaks to the coordinator: a transactional id and the producer id
/// and epoch InitProducerId gave it.
#[derive(Debug, Clone)]
pub struct TxnProducer {
    pub transactional_id: String,
    pub producer_id: i64,
    pub epoch: i16,
}

/// How long and how often to retry.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub deadline: Instant,
    pub backoff: Duration,
    pub backoff_max: Duration,
}

fn check(s: &Status) -> Result<()> {
    if s.is_ok() {
        Ok(())
    } else {
        Err(ClientError::broker(s.error_code(), s.message.as_deref()))
    }
}

/// A connection to the coordinator of `transactional_id`.
pub async fn coordinator_connection(
    client: &Client,
    transactional_id: &str,
) -> Result<Arc<super::connection::Connection>> {
    let coord = find_coordinator_of(client, transactional_id, KEY_TYPE_TRANSACTION).await?;
    if !client.brokers().contains_key(&coord.node_id) {
        // Brokers only: the coordinator must be among the known ones.
        client.fetch_metadata(Some(Vec::new()), false).await?;
    }
    client.connection(coord.node_id, Lane::Default).await
}

/// Sends one request to `transactional_id`'s coordinator, retrying
/// retriable failures, and hands the answer to `done`, whose own
/// retriable errors are retried too.
async fn call<Req: Wire, Resp: Wire, T>(
    client: &Client,
    transactional_id: &str,
    api: ApiKey,
    req: &Req,
    retry: Retry,
    done: impl Fn(Resp) -> Result<T>,
) -> Result<T> {
    let mut attempt = 0u32;
    loop {
        let result = match coordinator_connection(client, transactional_id).await {
            Ok(conn) => conn
                .call::<Req, Resp>(api, req, client.request_timeout())
                .await
                .and_then(&done),
            Err(e) => Err(e),
        };
        let err = match result {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let retriable = err.is_retriable() || matches!(err, ClientError::Unreachable { .. });
        let wait = jittered(retry.backoff, retry.backoff_max, attempt);
        if !retriable || Instant::now() + wait >= retry.deadline {
            return Err(err);
        }
        tracing::debug!(%api, error = %err, "transaction request refused; retrying");
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

/// Adds partitions to the producer's transaction (opening it if none is).
pub async fn add_partitions(
    client: &Client,
    who: &TxnProducer,
    partitions: &[(Arc<str>, i32)],
    retry: Retry,
) -> Result<()> {
    let req = AddPartitionsToTxnRequest {
        transactional_id: who.transactional_id.clone(),
        producer_id: who.producer_id,
        producer_epoch: who.epoch,
        partitions: partitions
            .iter()
            .map(|(t, p)| TopicPartition {
                topic: t.to_string(),
                partition: *p,
            })
            .collect(),
    };
    call(
        client,
        &who.transactional_id,
        ApiKey::AddPartitionsToTxn,
        &req,
        retry,
        |r: AddPartitionsToTxnResponse| {
            check(&r.status)?;
            // OPERATION_NOT_ATTEMPTED stands beside the partition that
            // failed; report that one.
            let failed = r
                .partitions
                .iter()
                .filter(|p| !p.status.is_ok())
                .min_by_key(|p| {
                    p.status.error_code() == crate::proto::ErrorCode::OperationNotAttempted
                });
            match failed {
                Some(p) => Err(ClientError::broker(
                    p.status.error_code(),
                    Some(&format!(
                        "cannot add {}-{} to the transaction: {}",
                        p.topic, p.partition, p.status
                    )),
                )),
                None => Ok(()),
            }
        },
    )
    .await
}

/// Commits (`commit`) or aborts the producer's open transaction.
pub async fn end_txn(client: &Client, who: &TxnProducer, commit: bool, retry: Retry) -> Result<()> {
    let req = EndTxnRequest {
        transactional_id: who.transactional_id.clone(),
        producer_id: who.producer_id,
        producer_epoch: who.epoch,
        commit,
    };
    call(
        client,
        &who.transactional_id,
        ApiKey::EndTxn,
        &req,
        retry,
        |r: EndTxnResponse| check(&r.status),
    )
    .await
}

/// The group's offsets will be committed with the producer's open
/// transaction (consume-transform-produce).
pub async fn add_offsets(
    client: &Client,
    who: &TxnProducer,
    group: &str,
    retry: Retry,
) -> Result<()> {
    let req = AddOffsetsToTxnRequest {
        transactional_id: who.transactional_id.clone(),
        producer_id: who.producer_id,
        producer_epoch: who.epoch,
        group_id: group.to_string(),
    };
    call(
        client,
        &who.transactional_id,
        ApiKey::AddOffsetsToTxn,
        &req,
        retry,
        |r: AddOffsetsToTxnResponse| check(&r.status),
    )
    .await
}

/// Offsets (topic, partition, next offset to read) the group sees once
/// the transaction commits, never if it aborts. [`add_offsets`] first.
pub async fn commit_offsets(
    client: &Client,
    who: &TxnProducer,
    group: &str,
    offsets: &[(String, i32, i64)],
    retry: Retry,
) -> Result<()> {
    let req = TxnOffsetCommitRequest {
        transactional_id: who.transactional_id.clone(),
        producer_id: who.producer_id,
        producer_epoch: who.epoch,
        group_id: group.to_string(),
        offsets: offsets
            .iter()
            .map(|(topic, partition, offset)| TxnOffset {
                topic: topic.clone(),
                partition: *partition,
                offset: *offset,
                leader_epoch: -1,
                metadata: None,
            })
            .collect(),
    };
    call(
        client,
        &who.transactional_id,
        ApiKey::TxnOffsetCommit,
        &req,
        retry,
        |r: TxnOffsetCommitResponse| check(&r.status),
    )
    .await
}

/// Every transactional id the coordinator knows, filtered by state names
/// (Kafka's: Empty, Ongoing, PrepareCommit, ...) when `states` is not empty.
pub async fn list_transactions(
    client: &Client,
    states: &[String],
) -> Result<Vec<TransactionListing>> {
    let req = ListTransactionsRequest {
        state_filters: states.to_vec(),
        producer_id_filters: Vec::new(),
    };
    // Each broker coordinates the ids of the partitions it leads: ask all.
    let md = client.fetch_metadata(Some(Vec::new()), false).await?;
    let mut out = Vec::new();
    for b in &md.brokers {
        let conn = client.connection(b.node_id, Lane::Default).await?;
        let r: ListTransactionsResponse = conn
            .call(ApiKey::ListTransactions, &req, client.request_timeout())
            .await?;
        check(&r.status)?;
        out.extend(r.transactions);
    }
    out.sort_by(|a, b| a.transactional_id.cmp(&b.transactional_id));
    out.dedup_by(|a, b| a.transactional_id == b.transactional_id);
    Ok(out)
}

/// The coordinator's state of each transactional id (each with its own
/// status: TRANSACTIONAL_ID_NOT_FOUND for an unknown one).
pub async fn describe_transactions(
    client: &Client,
    ids: &[String],
) -> Result<Vec<TransactionDescription>> {
    // One id at a time, each of its own coordinator.
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let req = DescribeTransactionsRequest {
            transactional_ids: vec![id.clone()],
        };
        let conn = coordinator_connection(client, id).await?;
        let r: DescribeTransactionsResponse = conn
            .call(ApiKey::DescribeTransactions, &req, client.request_timeout())
            .await?;
        check(&r.status)?;
        out.extend(r.transactions);
    }
    Ok(out)
}

/// The producers `topic`-`partition`'s leader remembers (asked of the
/// leader): ids, epochs, last sequences and open transactions' starts.
pub async fn describe_producers(
    client: &Client,
    topic: &str,
    partition: i32,
) -> Result<Vec<ActiveProducerState>> {
    let leader = client.leader(topic, partition).await?;
    let conn = client
        .connection(leader, super::metadata::Lane::Default)
        .await?;
    let req = DescribeProducersRequest {
        topic: topic.to_string(),
        partition,
    };
    let r: DescribeProducersResponse = conn
        .call(ApiKey::DescribeProducers, &req, client.request_timeout())
        .await?;
    check(&r.status)?;
    Ok(r.producers)
}
