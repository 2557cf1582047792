//! The transaction coordinator's plain types: a transaction's state and
//! metadata (what `__transaction_state` holds per transactional id), and
//! the errors its calls end in. No wire types: the Kafka adapter maps
//! [`TxnError::code`] onto the protocol.
use std::collections::BTreeSet;

use crate::proto::ErrorCode;

/// Kafka's transaction states (`TransactionState`), without `Dead`
/// (strom does not expire transactional ids yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnState {
    /// Has a producer id, no transaction began.
    Empty,
    /// Partitions or offsets were added: a transaction is open.
    Ongoing,
    /// Commit decided (durably): markers and offsets are being written.
    PrepareCommit,
    /// Abort decided: markers are being written.
    PrepareAbort,
    CompleteCommit,
    CompleteAbort,
}

impl TxnState {
    /// The names Kafka's ListTransactions/DescribeTransactions use.
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::PrepareCommit => "PrepareCommit",
            TxnState::PrepareAbort => "PrepareAbort",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
        }
    }

    pub fn from_name(name: &str) -> Option<TxnState> {
        ALL_STATES.iter().copied().find(|s| s.name() == name)
    }

    pub(super) fn id(self) -> i8 {
        match self {
            TxnState::Empty => 0,
            TxnState::Ongoing => 1,
            TxnState::PrepareCommit => 2,
            TxnState::PrepareAbort => 3,
            TxnState::CompleteCommit => 4,
            TxnState::CompleteAbort => 5,
        }
    }

    pub(super) fn from_id(id: i8) -> Option<TxnState> {
        ALL_STATES.iter().copied().find(|s| s.id() == id)
    }

    pub fn is_prepared(self) -> bool {
        matches!(self, TxnState::PrepareCommit | TxnState::PrepareAbort)
    }
}

pub const ALL_STATES: &[TxnState] = &[
    TxnState::Empty,
    TxnState::Ongoing,
    TxnState::PrepareCommit,
    TxnState::PrepareAbort,
    TxnState::CompleteCommit,
    TxnState::CompleteAbort,
];

/// One offset a transaction commits for a consumer group (TxnOffsetCommit):
/// visible to OffsetFetch only once the transaction commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingOffset {
    pub group: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: Option<String>,
}

/// Everything the coordinator knows about one transactional id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnMetadata {
    pub transactional_id: String,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub timeout_ms: i32,
    pub state: TxnState,
    /// Data partitions written in the open transaction.
    pub partitions: BTreeSet<(String, i32)>,
    /// Groups added with AddOffsetsToTxn.
    pub groups: BTreeSet<String>,
    pub offsets: Vec<PendingOffset>,
    /// Wall-clock ms the open transaction began (-1 when none is open).
    pub start_ms: i64,
    pub last_update_ms: i64,
}

/// What ListTransactions shows of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnListing {
    pub transactional_id: String,
    pub producer_id: i64,
    pub state: TxnState,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxnError {
    #[error("transaction timeout {given} ms is not in 1..={max} ms (transaction.max.timeout.ms)")]
    InvalidTimeout { given: i32, max: i32 },
    #[error("the transaction of {0} is being completed; retry")]
    Concurrent(String),
    #[error("producer epoch {given} of {id} is fenced: the current epoch is {current}")]
    Fenced {
        id: String,
        given: i16,
        current: i16,
    },
    #[error("producer id {given} is not the one of transactional id {id}")]
    ProducerIdMapping { id: String, given: i64 },
    #[error("{0}")]
    InvalidState(String),
    #[error("unknown topic or partition {0}-{1}")]
    UnknownPartition(String, i32),
    #[error("not attempted: another partition of the request failed")]
    NotAttempted,
    #[error("transactional id {0} not found")]
    NotFound(String),
    #[error("transaction coordinator unavailable: {0}")]
    Unavailable(String),
    /// This broker does not lead the id's `__transaction_state` partition
    /// (any more): the client finds the coordinator again.
    #[error("this broker is not the transaction coordinator of {id} (it does not lead __transaction_state-{partition}); find the coordinator again")]
    NotCoordinator { id: String, partition: i32 },
    /// It does, but is still replaying that partition.
    #[error("the transaction state of {id} is still being loaded from __transaction_state-{partition}; retry shortly")]
    LoadInProgress { id: String, partition: i32 },
    #[error("{0}")]
    InvalidRequest(String),
}

impl TxnError {
    /// The Kafka error code. `fenced_code_new` selects PRODUCER_FENCED
    /// (KIP-588, newer request versions) over INVALID_PRODUCER_EPOCH.
    pub fn code(&self, fenced_code_new: bool) -> ErrorCode {
        match self {
            TxnError::InvalidTimeout { .. } => ErrorCode::InvalidTransactionTimeout,
            TxnError::Concurrent(_) => ErrorCode::ConcurrentTransactions,
            TxnError::Fenced { .. } if fenced_code_new => ErrorCode::ProducerFenced,
            TxnError::Fenced { .. } => ErrorCode::InvalidProducerEpoch,
            TxnError::ProducerIdMapping { .. } => ErrorCode::InvalidProducerIdMapping,
            TxnError::InvalidState(_) => ErrorCode::InvalidTxnState,
            TxnError::UnknownPartition(..) => ErrorCode::UnknownTopicOrPartition,
            TxnError::NotAttempted => ErrorCode::OperationNotAttempted,
            TxnError::NotFound(_) => ErrorCode::TransactionalIdNotFound,
            TxnError::Unavailable(_) => ErrorCode::CoordinatorNotAvailable,
            TxnError::NotCoordinator { .. } => ErrorCode::NotCoordinator,
            TxnError::LoadInProgress { .. } => ErrorCode::CoordinatorLoadInProgress,
            TxnError::InvalidRequest(_) => ErrorCode::InvalidRequest,
        }
    }
}

impl TxnError {
    /// The error another broker's coordinator answered with (a forwarded
    /// call), so that the client sees the same code.
    pub fn from_status(code: ErrorCode, message: String) -> TxnError {
        match code {
            ErrorCode::ConcurrentTransactions => TxnError::Concurrent(message),
            ErrorCode::ProducerFenced | ErrorCode::InvalidProducerEpoch => TxnError::Fenced {
                id: message,
                given: -1,
                current: -1,
            },
            ErrorCode::InvalidProducerIdMapping => TxnError::ProducerIdMapping {
                id: message,
                given: -1,
            },
            ErrorCode::InvalidTxnState => TxnError::InvalidState(message),
            ErrorCode::NotCoordinator => TxnError::NotCoordinator {
                id: message,
                partition: -1,
            },
            ErrorCode::CoordinatorLoadInProgress => TxnError::LoadInProgress {
                id: message,
                partition: -1,
            },
            ErrorCode::InvalidRequest => TxnError::InvalidRequest(message),
            _ => TxnError::Unavailable(message),
        }
    }
}
