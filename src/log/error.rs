//! Errors of the partition log.

use std::path::PathBuf;

use crate::record::RecordError;

/// Everything `PartitionLog` can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// Requested offset is outside `[start, end]` (end = log end offset).
    #[error("offset {requested} out of range [{start}, {end}]")]
    OffsetOutOfRange {
        requested: i64,
        start: i64,
        end: i64,
    },
    /// A batch in an append failed validation; nothing was written.
    #[error("invalid record batch: {0}")]
    Record(#[from] RecordError),
    /// A batch exceeds `LogConfig::max_batch_bytes`; nothing was written.
    #[error("record batch of {size} bytes exceeds the maximum of {max}")]
    BatchTooLarge { size: usize, max: usize },
    /// The append buffer held no batch.
    #[error("append with no record batches")]
    EmptyAppend,
    /// A follower append does not continue the log.
    #[error("follower append starts at offset {actual}, log end offset is {expected}")]
    NonContiguous { expected: i64, actual: i64 },
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Another handle (this or another process) holds the directory lock.
    #[error("log directory {0} is locked by another process or handle")]
    Locked(PathBuf),
    /// On-disk state that recovery cannot repair by truncation.
    #[error("corrupt log data in {path}: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}
