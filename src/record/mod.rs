//! Kafka RecordBatch v2 (magic 2) codec.
//!
//! Pure byte manipulation: no I/O, no async. The log stores batches exactly
//! as produced (after [`stamp`]ing the base offset and leader epoch), and the
//! broker serves them back verbatim, so this module is the only place that
//! knows the wire layout.
//!
//! - [`varint`]: zigzag varint/varlong.
//! - [`batch`]: the 61-byte batch header, validation, splitting a buffer of
//!   concatenated batches.
//! - [`record`]: decoding the records of a batch (compressed ones are
//!   inflated first, within a cap).
//! - [`compression`]: gzip, snappy, lz4 and zstd as Kafka frames them;
//!   inflating and recompressing whole batches.
//! - [`builder`]: encoding a batch from records.
//! - [`compact`]: dropping records from a batch in place of offsets (the
//!   log cleaner).

pub mod batch;
pub mod builder;
pub mod compact;
pub mod compression;
pub mod control;
mod error;
// `record::record` reads oddly, but the file names mirror Kafka's terms.
#[allow(clippy::module_inception)]
pub mod record;
pub mod timestamps;
pub mod varint;

pub use batch::{
    batches, compression, is_control, is_transactional, stamp, timestamp_type, validate_batch,
    validate_batch_inflated, BatchHeader, Batches, Compression, TimestampType, BATCH_HEADER_LEN,
    MAGIC_V2,
};
pub use builder::BatchBuilder;
pub use compression::{inflate, inflate_limit_for, recompress, DEFAULT_INFLATE_LIMIT};
pub use control::{marker_batch, parse_marker, Marker};
pub use error::RecordError;
pub use record::{decode_records, Header, Record, RecordIter};

#[cfg(test)]
mod compression_tests;
#[cfg(test)]
mod tests;
