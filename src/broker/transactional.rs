//! The steps of transactional and idempotent producing that both protocol
//! adapters (`kafka/` and `native/`) take, so that neither holds logic the
//! other lacks: handing out a producer id (through the transaction
//! coordinator when the producer has a transactional id), and checking the
//! transactional bits of batches before they are appended.
use crate::broker::error::BrokerError;
use crate::broker::partition::Partition;
use crate::broker::replication::coordinator;
use crate::broker::state::Broker;
use crate::broker::txn::{PendingOffset, TxnError};
use crate::proto::messages::transactions::{TxnOffsetCommitRequest, TxnOffsetCommitResponse};
use crate::proto::messages::txn_markers::TxnOffset;
use crate::proto::ApiKey;

/// Why no producer id was handed out.
#[derive(Debug)]
pub enum InitError {
    /// The transaction coordinator refused (fenced, bad timeout, ...).
    Txn(TxnError),
    /// No id could be allocated (the controller is unreachable).
    NoProducerId(String),
}

impl std::fmt::Display for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InitError::Txn(e) => write!(f, "{e}"),
            InitError::NoProducerId(e) => write!(f, "cannot allocate a producer id: {e}"),
        }
    }
}

/// InitProducerId. With a (non-empty) transactional id the coordinator
/// bumps the id's epoch, fencing older instances; `expected` is the
/// (id, epoch) a producer that already holds one sends to bump its own
/// (KIP-360). Without one, a fresh idempotent producer id at epoch 0.
pub async fn init_producer_id(
    broker: &Broker,
    transactional_id: Option<&str>,
    timeout_ms: i32,
    expected: Option<(i64, i16)>,
) -> Result<(i64, i16), InitError> {
    if let Some(id) = transactional_id.filter(|t| !t.is_empty()) {
        return broker
            .txns
            .init_producer_id(id, timeout_ms, expected)
            .await
            .map_err(InitError::Txn);
    }
    // In a cluster, ids come from the controller so no two brokers hand
    // out the same one (leaders deduplicate batches by producer id).
    let id = match crate::broker::replication::ReplicaManager::for_topics(&broker.topics) {
        Some(mgr) => mgr
            .next_producer_id()
            .await
            .map_err(|e| InitError::NoProducerId(e.to_string()))?,
        None => crate::broker::producer_ids::next(),
    };
    Ok((id, 0))
}

/// Control batches are the coordinator's alone; transactional batches
/// only inside the producer's open transaction here, or once the
/// coordinator let the producer open one (the partition joined its
/// transaction: `Partition::allow_txn_writes`, KIP-890's verification).
/// One header parse per batch; plain and idempotent batches pass at once.
pub fn check_batches(broker: &Broker, part: &Partition, records: &[u8]) -> Result<(), BrokerError> {
    for b in crate::record::batches(records) {
        // Malformed batches are the log's to refuse.
        let Ok(h) = b.and_then(crate::record::BatchHeader::parse) else {
            return Ok(());
        };
        if h.is_control() {
            return Err(BrokerError::InvalidRecord(
                "clients may not write control batches (transaction markers)".into(),
            ));
        }
        if h.is_transactional() && !part.txn_write_allowed(h.producer_id, h.producer_epoch) {
            // A newer instance took over (when its coordinator runs here).
            if let Some(current) = broker
                .txns
                .current_epoch(h.producer_id)
                .filter(|&c| c > h.producer_epoch)
            {
                return Err(BrokerError::InvalidProducerEpoch(format!(
                    "producer {} epoch {} is fenced: the current epoch is {current}",
                    h.producer_id, h.producer_epoch
                )));
            }
            return Err(BrokerError::InvalidTxnState(format!(
                "producer {} (epoch {}) has no open transaction with {}-{} \
                 (AddPartitionsToTxn first)",
                h.producer_id, h.producer_epoch, part.topic, part.index
            )));
        }
    }
    Ok(())
}

/// TxnOffsetCommit as Kafka clients send it: to the *group's*
/// coordinator. strom keeps a transaction's offsets with the transaction
/// coordinator (persisted in `__transaction_state`, committed to the
/// group with the transaction), so in a cluster a broker that does not
/// coordinate the transactional id hands the call to the one that does
/// (native TxnOffsetCommit, which is never forwarded again).
pub async fn txn_offset_commit(
    broker: &Broker,
    transactional_id: &str,
    producer_id: i64,
    epoch: i16,
    group: &str,
    offsets: Vec<PendingOffset>,
) -> Result<(), TxnError> {
    let local = broker
        .txns
        .txn_offset_commit(transactional_id, producer_id, epoch, group, offsets.clone())
        .await;
    if !matches!(local, Err(TxnError::NotCoordinator { .. })) {
        return local;
    }
    let Some(found) = coordinator::find_transaction(broker, transactional_id) else {
        return local;
    };
    let (node, host, port) = found.map_err(|e| TxnError::Unavailable(e.to_string()))?;
    if node == broker.config.node_id {
        // The metadata says here, the coordinator has not loaded it yet.
        return local;
    }
    let req = TxnOffsetCommitRequest {
        transactional_id: transactional_id.to_string(),
        producer_id,
        producer_epoch: epoch,
        group_id: group.to_string(),
        offsets: offsets
            .into_iter()
            .map(|o| TxnOffset {
                topic: o.topic,
                partition: o.partition,
                offset: o.offset,
                leader_epoch: o.leader_epoch,
                metadata: o.metadata,
            })
            .collect(),
    };
    let addr = format!("{host}:{port}");
    let resp: TxnOffsetCommitResponse = broker
        .peers
        .call(&addr, ApiKey::TxnOffsetCommit, &req, FORWARD_TIMEOUT)
        .await
        .map_err(|e| {
            TxnError::Unavailable(format!("forwarding TxnOffsetCommit to broker {node}: {e}"))
        })?;
    if resp.status.is_ok() {
        return Ok(());
    }
    Err(TxnError::from_status(
        resp.status.error_code(),
        resp.status.message.unwrap_or_default(),
    ))
}

/// How long a forwarded TxnOffsetCommit waits for the coordinator.
const FORWARD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
