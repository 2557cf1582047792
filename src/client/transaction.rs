//! The transaction coordinator's calls for strom's client: AddPartitionsToTxn
//! and EndTxn for the transactional producer (`producer.rs`), and the admin
//! ListTransactions and DescribeTransactions. Calls go to the bootstrap
//! broker: the coordinator runs on single nodes only so far (a cluster
//! answers COORDINATOR_NOT_AVAILABLE). Retriable refusals (the coordinator
//! still completing the previous transaction, a broker restarting) are
//! retried with backoff until a deadline.
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::backoff::jittered;
use super::error::{ClientError, Result};
use super::metadata::Client;
use crate::proto::messages::groups::TopicPartition;
use crate::proto::messages::transactions::*;
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

/// Sends one request, retrying retriable failures, and hands the answer
/// to `done`, whose own retriable errors are retried too.
async fn call<Req: Wire, Resp: Wire, T>(
    client: &Client,
    api: ApiKey,
    req: &Req,
    retry: Retry,
    done: impl Fn(Resp) -> Result<T>,
) -> Result<T> {
    let mut attempt = 0u32;
    loop {
        let result = match client.bootstrap_connection().await {
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
    call(client, ApiKey::EndTxn, &req, retry, |r: EndTxnResponse| {
        check(&r.status)
    })
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
    let conn = client.bootstrap_connection().await?;
    let r: ListTransactionsResponse = conn
        .call(ApiKey::ListTransactions, &req, client.request_timeout())
        .await?;
    check(&r.status)?;
    Ok(r.transactions)
}

/// The coordinator's state of each transactional id (each with its own
/// status: TRANSACTIONAL_ID_NOT_FOUND for an unknown one).
pub async fn describe_transactions(
    client: &Client,
    ids: &[String],
) -> Result<Vec<TransactionDescription>> {
    let req = DescribeTransactionsRequest {
        transactional_ids: ids.to_vec(),
    };
    let conn = client.bootstrap_connection().await?;
    let r: DescribeTransactionsResponse = conn
        .call(ApiKey::DescribeTransactions, &req, client.request_timeout())
        .await?;
    check(&r.status)?;
    Ok(r.transactions)
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
