//! The one error type of the client library.
//!
//! Every variant carries enough context to print a single useful line, and
//! [`ClientError::hint`] says what the user can do about it, so the CLI never
//! has to guess from a message string.
use std::sync::Arc;
use std::time::Duration;

use crate::proto::{ErrorCode, ProtoError};
use crate::record::RecordError;

#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Connecting failed: refused, timed out, or the name did not resolve.
    #[error("cannot reach broker at {addr} ({cause})")]
    Unreachable { addr: String, cause: String },

    /// The connection broke after it was established.
    #[error("connection to {addr} lost ({cause})")]
    Disconnected { addr: String, cause: String },

    /// The peer sent bytes that are not a valid response.
    #[error("protocol error from {addr}: {source}")]
    Protocol {
        addr: String,
        // Shared so the error stays cheap to clone to every waiting batch.
        #[source]
        source: Arc<ProtoError>,
    },

    /// Something listens at the address, but it is not a broker.
    #[error("{addr} is not a strom or Kafka broker: it answered like {what}")]
    NotABroker { addr: String, what: &'static str },

    /// A response arrived for a request we did not send next.
    #[error("response out of order from {addr}: expected correlation id {expected}, got {got}")]
    CorrelationMismatch {
        addr: String,
        expected: i32,
        got: i32,
    },

    /// Record batch bytes could not be built or decoded.
    #[error("bad record data: {0}")]
    Record(#[from] RecordError),

    /// A record bigger than one Produce request may be; refused before it
    /// is queued (Kafka's RecordTooLargeException).
    #[error("a record of {size} bytes is larger than max.request.size ({max} bytes)")]
    RecordTooLarge { size: usize, max: usize },

    /// The broker answered with an error code.
    #[error("{message} ({code})")]
    Broker { code: ErrorCode, message: String },

    #[error("unknown topic {0}")]
    UnknownTopic(String),

    #[error("topic {topic} has no partition {partition}")]
    UnknownPartition { topic: String, partition: i32 },

    #[error("{what} timed out after {} ms", .after.as_millis())]
    Timeout { what: String, after: Duration },

    /// The bootstrap list was empty or unparseable.
    #[error("invalid bootstrap server list {0}")]
    BadBootstrap(String),

    /// The producer or consumer was closed while the operation waited.
    #[error("client closed")]
    Closed,
}

impl ClientError {
    /// A broker error from a response status.
    pub fn broker(code: ErrorCode, message: Option<&str>) -> ClientError {
        ClientError::Broker {
            code,
            message: message
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .unwrap_or_else(|| code.name().to_string()),
        }
    }

    /// A newer producer with the same transactional id took over (or the
    /// broker aborted this one's transaction past its timeout, bumping the
    /// epoch): this producer instance can never write again.
    pub fn is_fenced(&self) -> bool {
        matches!(
            self.code(),
            Some(ErrorCode::ProducerFenced | ErrorCode::InvalidProducerEpoch)
        )
    }

    /// Whether retrying (after a metadata refresh) can help.
    pub fn is_retriable(&self) -> bool {
        match self {
            ClientError::Broker { code, .. } => code.is_retriable(),
            ClientError::Disconnected { .. } | ClientError::Timeout { .. } => true,
            _ => false,
        }
    }

    /// The broker error code, when this is a broker error.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Broker { code, .. } => Some(*code),
            ClientError::UnknownTopic(_) => Some(ErrorCode::UnknownTopicOrPartition),
            _ => None,
        }
    }

    /// A short, actionable suggestion for a human, if there is one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ClientError::Unreachable { .. } => Some("Is strom serve running?"),
            ClientError::Disconnected { .. } => Some("Check the broker's log"),
            ClientError::UnknownTopic(_) => {
                Some("Create it with strom topics create, or list topics with strom topics list")
            }
            ClientError::UnknownPartition { .. } => {
                Some("See the partitions with strom topics describe")
            }
            ClientError::Broker { code, message } => match code {
                ErrorCode::UnknownTopicOrPartition => Some(
                    "Create it with strom topics create, or list topics with strom topics list",
                ),
                ErrorCode::TopicAlreadyExists => Some("Use --if-not-exists to ignore this"),
                ErrorCode::ProducerFenced | ErrorCode::InvalidProducerEpoch => Some(
                    "Another producer with the same transactional id started (or the \
                     transaction outlived its timeout); only the newest one may write",
                ),
                ErrorCode::MessageTooLarge | ErrorCode::RecordListTooLarge => {
                    Some("Past 100 MiB a batch also needs a larger --max-frame-bytes on the broker")
                }
                // Only for the broker's frame limit: other invalid
                // requests say what is wrong themselves.
                ErrorCode::InvalidRequest if message.contains("larger than the limit") => Some(
                    "A request larger than the broker's --max-frame-bytes is refused whole: \
                     lower max.request.size (--producer-property) or raise --max-frame-bytes",
                ),
                _ => None,
            },
            ClientError::NotABroker { .. } => {
                Some("Check the -b address and port: strom serve listens on 9092 by default")
            }
            ClientError::RecordTooLarge { .. } => Some(
                "Raise it with --producer-property max.request.size=BYTES (and the topic's \
                 max.message.bytes), or send smaller records",
            ),
            ClientError::Timeout { .. } => Some("Is the broker overloaded or unreachable?"),
            ClientError::BadBootstrap(_) => Some("Use HOST:PORT[,HOST:PORT...]"),
            _ => None,
        }
    }
}

pub type Result<T, E = ClientError> = std::result::Result<T, E>;
