//! Domain errors of the broker, each mapped to a protocol error code with a
//! message that tells the client what went wrong.
use crate::log::LogError;
use crate::proto::messages::Status;
use crate::proto::ErrorCode;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    #[error("unknown topic or partition: {0}")]
    UnknownTopicOrPartition(String),
    #[error("topic '{0}' already exists")]
    TopicExists(String),
    #[error("invalid topic name '{name}': {reason}")]
    InvalidTopic { name: String, reason: String },
    #[error("invalid partition count {0}: must be between 1 and 100000")]
    InvalidPartitions(i32),
    #[error("{0}")]
    InvalidPartitionChange(String),
    #[error("invalid replication factor {0}: this broker is a single node, so only 1 is possible")]
    InvalidReplicationFactor(i16),
    #[error("invalid config: {0}")]
    InvalidConfig(String),
    #[error("invalid required acks {0}: use 0, 1 or -1 (all)")]
    InvalidAcks(i16),
    #[error(
        "record batch of {size} bytes is larger than topic {topic}'s max.message.bytes ({max}); \
         raise it with: strom topics alter {topic} --config max.message.bytes=BYTES"
    )]
    MessageTooLarge {
        topic: String,
        size: usize,
        max: usize,
    },
    #[error("{0}")]
    Log(#[from] LogError),
    #[error("storage error: {0}")]
    Io(#[from] std::io::Error),
    /// A client tried to write, grow, reconfigure, create or delete one of
    /// the topics only strom itself writes (Kafka answers a produce to one
    /// with INVALID_TOPIC_EXCEPTION too).
    #[error("cannot {action} '{name}': topics whose names start with '__' are internal to strom")]
    InternalTopic { name: String, action: &'static str },
    #[error("the broker is shutting down")]
    ShuttingDown,
    /// The metadata quorum refused or could not commit a change.
    #[error("{0}")]
    Cluster(#[from] crate::cluster::ClusterError),
    /// Replication: this broker does not lead the partition (any more).
    #[error("{0}")]
    NotLeader(String),
    #[error("{0}")]
    NotEnoughReplicas(String),
    #[error("{0}")]
    NotEnoughReplicasAfterAppend(String),
    #[error("{0}")]
    TimedOut(String),
    #[error("{0}")]
    FencedLeaderEpoch(String),
    #[error("{0}")]
    UnknownLeaderEpoch(String),
    #[error("{0}")]
    OutOfOrderSequence(String),
    #[error("{0}")]
    InvalidProducerEpoch(String),
    /// An idempotent retry of batches written long enough ago that their
    /// offsets are forgotten: nothing written, the client counts it as
    /// delivered.
    #[error("{0}")]
    DuplicateSequence(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A request the broker's limits refuse (Kafka's POLICY_VIOLATION), e.g.
    /// more partitions than `--max-partitions-per-topic`.
    #[error("{0}")]
    PolicyViolation(String),
    /// A record timestamp outside the topic's `message.timestamp.*.max.ms`.
    #[error("{0}")]
    InvalidTimestamp(String),
    /// A transactional batch outside an open transaction that added the
    /// partition (INVALID_TXN_STATE).
    #[error("{0}")]
    InvalidTxnState(String),
    /// A batch a client may not send, such as a control batch
    /// (INVALID_RECORD).
    #[error("{0}")]
    InvalidRecord(String),
}

impl BrokerError {
    pub fn code(&self) -> ErrorCode {
        use BrokerError::*;
        match self {
            UnknownTopicOrPartition(_) => ErrorCode::UnknownTopicOrPartition,
            TopicExists(_) => ErrorCode::TopicAlreadyExists,
            InvalidTopic { .. } | InternalTopic { .. } => ErrorCode::InvalidTopicException,
            InvalidPartitions(_) | InvalidPartitionChange(_) => ErrorCode::InvalidPartitions,
            InvalidReplicationFactor(_) => ErrorCode::InvalidReplicationFactor,
            InvalidConfig(_) => ErrorCode::InvalidConfig,
            InvalidAcks(_) => ErrorCode::InvalidRequiredAcks,
            MessageTooLarge { .. } => ErrorCode::MessageTooLarge,
            Log(e) => log_error_code(e),
            Io(_) => ErrorCode::KafkaStorageError,
            Cluster(e) => e.code(),
            ShuttingDown | NotLeader(_) => ErrorCode::NotLeaderOrFollower,
            NotEnoughReplicas(_) => ErrorCode::NotEnoughReplicas,
            NotEnoughReplicasAfterAppend(_) => ErrorCode::NotEnoughReplicasAfterAppend,
            TimedOut(_) => ErrorCode::RequestTimedOut,
            FencedLeaderEpoch(_) => ErrorCode::FencedLeaderEpoch,
            UnknownLeaderEpoch(_) => ErrorCode::UnknownLeaderEpoch,
            OutOfOrderSequence(_) => ErrorCode::OutOfOrderSequenceNumber,
            InvalidProducerEpoch(_) => ErrorCode::InvalidProducerEpoch,
            DuplicateSequence(_) => ErrorCode::DuplicateSequenceNumber,
            InvalidTimestamp(_) => ErrorCode::InvalidTimestamp,
            InvalidRequest(_) => ErrorCode::InvalidRequest,
            PolicyViolation(_) => ErrorCode::PolicyViolation,
            InvalidTxnState(_) => ErrorCode::InvalidTxnState,
            InvalidRecord(_) => ErrorCode::InvalidRecord,
        }
    }

    /// Refuses a client's `action` on `name` when it is an internal topic.
    pub fn refuse_internal(name: &str, action: &'static str) -> Result<(), BrokerError> {
        if crate::proto::is_internal_topic(name) {
            return Err(BrokerError::InternalTopic {
                name: name.to_string(),
                action,
            });
        }
        Ok(())
    }

    /// Produce: internal topics are refused, except those an internal
    /// writer (strom's connect runtime, marked in its native preamble) may
    /// write.
    pub fn refuse_internal_write(name: &str, internal_writer: bool) -> Result<(), BrokerError> {
        if internal_writer && crate::proto::internal_topic::internal_writer_may_write(name) {
            return Ok(());
        }
        BrokerError::refuse_internal(name, "produce to internal topic")
    }

    pub fn status(&self) -> Status {
        Status::error(self.code(), self.to_string())
    }
}

pub fn log_error_code(e: &LogError) -> ErrorCode {
    match e {
        LogError::OffsetOutOfRange { .. } => ErrorCode::OffsetOutOfRange,
        // A batch whose records inflate past the cap is too large, not corrupt.
        LogError::Record(crate::record::RecordError::InflatedTooLarge { .. }) => {
            ErrorCode::MessageTooLarge
        }
        LogError::Record(_) => ErrorCode::CorruptMessage,
        LogError::BatchTooLarge { .. } => ErrorCode::MessageTooLarge,
        _ => ErrorCode::KafkaStorageError,
    }
}
