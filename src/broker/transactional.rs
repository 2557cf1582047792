//! The steps of transactional and idempotent producing that both protocol
//! adapters (`kafka/` and `native/`) take, so that neither holds logic the
//! other lacks: handing out a producer id (through the transaction
//! coordinator when the producer has a transactional id), and checking the
//! transactional bits of batches before they are appended.
use crate::broker::error::BrokerError;
use crate::broker::state::Broker;
use crate::broker::txn::TxnError;

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
        if broker.cluster.is_some() {
            // The coordinator runs on single nodes only so far
            // (docs/transactions.md).
            return Err(InitError::Txn(TxnError::Unavailable(
                "transactions are not available in a cluster yet".into(),
            )));
        }
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
/// only inside the producer's open transaction, with this partition added
/// (see `TransactionCoordinator::verify_write`). One header parse per
/// batch; plain and idempotent batches pass at once.
pub fn check_batches(
    broker: &Broker,
    topic: &str,
    partition: i32,
    records: &[u8],
) -> Result<(), BrokerError> {
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
        if h.is_transactional() {
            broker
                .txns
                .verify_write(h.producer_id, h.producer_epoch, topic, partition)
                .map_err(|e| match e {
                    TxnError::Fenced { .. } => BrokerError::InvalidProducerEpoch(e.to_string()),
                    other => BrokerError::InvalidTxnState(other.to_string()),
                })?;
        }
    }
    Ok(())
}
