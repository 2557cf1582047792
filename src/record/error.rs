//! Errors raised while parsing or building record batches.

/// Why a batch (or a buffer of batches) was rejected.
///
/// Every variant is a property of the bytes, never of the environment, so
/// callers can map them straight to Kafka's `CORRUPT_MESSAGE` /
/// `INVALID_RECORD` style error codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The buffer ends before the structure it announces.
    #[error("record batch truncated")]
    Truncated,
    /// Only magic 2 (RecordBatch v2) is supported.
    #[error("unsupported record batch magic {0} (only 2 is supported)")]
    BadMagic(i8),
    /// `batchLength` disagrees with the bytes given.
    #[error("batch length field says {declared} bytes but buffer holds {actual}")]
    LengthMismatch { declared: usize, actual: usize },
    /// CRC-32C over attributes..end does not match the header.
    #[error("batch CRC mismatch: header {expected:#010x}, computed {actual:#010x}")]
    CrcMismatch { expected: u32, actual: u32 },
    /// `recordsCount` disagrees with `lastOffsetDelta` or the records present.
    #[error("batch declares {declared} records but {actual} found")]
    RecordCountMismatch { declared: i64, actual: i64 },
    /// Structurally invalid content.
    #[error("corrupt record batch: {0}")]
    Corrupt(&'static str),
    /// Attribute bits 5..=7 name no Kafka codec.
    #[error("unsupported compression codec {0}")]
    UnsupportedCompression(u8),
    /// The compressed records do not decode.
    #[error("bad compressed records: {0}")]
    Codec(String),
    /// The records inflate past the reader's cap (a decompression bomb, or
    /// a batch far larger than any limit of the broker's).
    #[error("compressed records inflate past {limit} bytes")]
    InflatedTooLarge { limit: usize },
    /// A field does not fit the wire format (e.g. a key over 2 GiB).
    #[error("{0} too large for the record format")]
    TooLarge(&'static str),
}
