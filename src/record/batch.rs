//! The RecordBatch v2 header, whole-batch validation and splitting.
//!
//! Layout (big endian), byte offsets in brackets:
//! baseOffset i64 [0], batchLength i32 [8], partitionLeaderEpoch i32 [12],
//! magic i8 [16], crc u32 [17], attributes i16 [21], lastOffsetDelta i32
//! [23], baseTimestamp i64 [27], maxTimestamp i64 [35], producerId i64 [43],
//! producerEpoch i16 [51], baseSequence i32 [53], recordsCount i32 [57],
//! records [61..]. `batchLength` counts the bytes after itself, and the CRC
//! covers attributes..end, which is why the broker may rewrite baseOffset
//! and partitionLeaderEpoch without recomputing it.

use super::record::RecordIter;
use super::RecordError;

/// Size of the fixed batch header.
pub const BATCH_HEADER_LEN: usize = 61;
/// The only supported magic value.
pub const MAGIC_V2: i8 = 2;
/// Bytes before (and including) the batchLength field; not counted by it.
pub const LOG_OVERHEAD: usize = 12;

pub(crate) const OFF_BASE_OFFSET: usize = 0;
pub(crate) const OFF_LENGTH: usize = 8;
pub(crate) const OFF_LEADER_EPOCH: usize = 12;
pub(crate) const OFF_MAGIC: usize = 16;
pub(crate) const OFF_CRC: usize = 17;
pub(crate) const OFF_ATTRIBUTES: usize = 21;
pub(crate) const OFF_LAST_OFFSET_DELTA: usize = 23;
pub(crate) const OFF_BASE_TIMESTAMP: usize = 27;
pub(crate) const OFF_MAX_TIMESTAMP: usize = 35;
pub(crate) const OFF_PRODUCER_ID: usize = 43;
pub(crate) const OFF_PRODUCER_EPOCH: usize = 51;
pub(crate) const OFF_BASE_SEQUENCE: usize = 53;
pub(crate) const OFF_RECORDS_COUNT: usize = 57;

const ATTR_COMPRESSION_MASK: i16 = 0x07;
const ATTR_TIMESTAMP_TYPE: i16 = 0x08;
pub(crate) const ATTR_TRANSACTIONAL: i16 = 0x10;
pub(crate) const ATTR_CONTROL: i16 = 0x20;

/// Compression codec from the low three attribute bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl Compression {
    /// The attribute bits that hold the codec.
    pub const MASK: i16 = ATTR_COMPRESSION_MASK;
    /// Every codec, in Kafka's numbering.
    pub const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    /// The codec's attribute bits (Kafka's `compression.type` id).
    pub fn attribute_bits(self) -> i16 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    /// Kafka's name of the codec, as `compression.type` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Compression {
    type Err = String;

    /// Kafka's codec names (`none`, `gzip`, `snappy`, `lz4`, `zstd`);
    /// `uncompressed` is the topic-config spelling of `none`.
    fn from_str(s: &str) -> Result<Compression, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "uncompressed" => Ok(Compression::None),
            "gzip" => Ok(Compression::Gzip),
            "snappy" => Ok(Compression::Snappy),
            "lz4" => Ok(Compression::Lz4),
            "zstd" => Ok(Compression::Zstd),
            _ => Err(format!(
                "unknown compression type '{s}' (expected none, gzip, snappy, lz4 or zstd)"
            )),
        }
    }
}

/// Whether timestamps were set by the producer or by the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampType {
    CreateTime,
    LogAppendTime,
}

/// Compression codec of a batch; codes 5..=7 are not defined by Kafka.
pub fn compression(attributes: i16) -> Result<Compression, RecordError> {
    match attributes & ATTR_COMPRESSION_MASK {
        0 => Ok(Compression::None),
        1 => Ok(Compression::Gzip),
        2 => Ok(Compression::Snappy),
        3 => Ok(Compression::Lz4),
        4 => Ok(Compression::Zstd),
        other => Err(RecordError::UnsupportedCompression(other as u8)),
    }
}

/// True for control batches (transaction markers).
pub fn is_control(attributes: i16) -> bool {
    attributes & ATTR_CONTROL != 0
}

/// True for batches written inside a transaction.
pub fn is_transactional(attributes: i16) -> bool {
    attributes & ATTR_TRANSACTIONAL != 0
}

/// Timestamp type bit of the attributes.
pub fn timestamp_type(attributes: i16) -> TimestampType {
    if attributes & ATTR_TIMESTAMP_TYPE != 0 {
        TimestampType::LogAppendTime
    } else {
        TimestampType::CreateTime
    }
}

/// The decoded fixed header of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    pub base_offset: i64,
    pub batch_length: i32,
    pub partition_leader_epoch: i32,
    pub magic: i8,
    pub crc: u32,
    pub attributes: i16,
    pub last_offset_delta: i32,
    pub base_timestamp: i64,
    pub max_timestamp: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub records_count: i32,
}

#[inline]
fn be_i16(b: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([b[at], b[at + 1]])
}

#[inline]
fn be_i32(b: &[u8], at: usize) -> i32 {
    i32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[inline]
fn be_i64(b: &[u8], at: usize) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    i64::from_be_bytes(a)
}

impl BatchHeader {
    /// Parses the 61-byte header at the front of `buf`. Does not check the
    /// magic, length or CRC; see [`validate_batch`] for that.
    pub fn parse(buf: &[u8]) -> Result<BatchHeader, RecordError> {
        if buf.len() < BATCH_HEADER_LEN {
            return Err(RecordError::Truncated);
        }
        // Indexing below is in bounds: every field ends at or before 61.
        Ok(BatchHeader {
            base_offset: be_i64(buf, OFF_BASE_OFFSET),
            batch_length: be_i32(buf, OFF_LENGTH),
            partition_leader_epoch: be_i32(buf, OFF_LEADER_EPOCH),
            magic: buf[OFF_MAGIC] as i8,
            crc: be_i32(buf, OFF_CRC) as u32,
            attributes: be_i16(buf, OFF_ATTRIBUTES),
            last_offset_delta: be_i32(buf, OFF_LAST_OFFSET_DELTA),
            base_timestamp: be_i64(buf, OFF_BASE_TIMESTAMP),
            max_timestamp: be_i64(buf, OFF_MAX_TIMESTAMP),
            producer_id: be_i64(buf, OFF_PRODUCER_ID),
            producer_epoch: be_i16(buf, OFF_PRODUCER_EPOCH),
            base_sequence: be_i32(buf, OFF_BASE_SEQUENCE),
            records_count: be_i32(buf, OFF_RECORDS_COUNT),
        })
    }

    /// Offset of the last record in the batch.
    pub fn last_offset(&self) -> i64 {
        self.base_offset + i64::from(self.last_offset_delta)
    }

    /// Offset the batch after this one starts at.
    pub fn next_offset(&self) -> i64 {
        self.last_offset() + 1
    }

    /// Total size of the batch on the wire, header included.
    pub fn total_len(&self) -> usize {
        LOG_OVERHEAD + self.batch_length.max(0) as usize
    }

    pub fn compression(&self) -> Result<Compression, RecordError> {
        compression(self.attributes)
    }

    pub fn is_control(&self) -> bool {
        is_control(self.attributes)
    }

    pub fn is_transactional(&self) -> bool {
        is_transactional(self.attributes)
    }

    pub fn timestamp_type(&self) -> TimestampType {
        timestamp_type(self.attributes)
    }
}

/// CRC-32C of a batch as Kafka defines it (attributes..end).
pub fn compute_crc(batch: &[u8]) -> Result<u32, RecordError> {
    batch
        .get(OFF_ATTRIBUTES..)
        .map(crc32c::crc32c)
        .ok_or(RecordError::Truncated)
}

/// Validates one complete batch that fills `buf` exactly: length, magic,
/// CRC, record count against `lastOffsetDelta`, and for uncompressed
/// batches the structure of every record.
pub fn validate_batch(buf: &[u8]) -> Result<BatchHeader, RecordError> {
    let header = BatchHeader::parse(buf)?;
    let declared = i64::from(header.batch_length) + LOG_OVERHEAD as i64;
    if declared != buf.len() as i64 {
        return Err(RecordError::LengthMismatch {
            declared: declared.max(0) as usize,
            actual: buf.len(),
        });
    }
    if header.magic != MAGIC_V2 {
        return Err(RecordError::BadMagic(header.magic));
    }
    let actual = compute_crc(buf)?;
    if actual != header.crc {
        return Err(RecordError::CrcMismatch {
            expected: header.crc,
            actual,
        });
    }
    if header.last_offset_delta < 0 {
        return Err(RecordError::Corrupt("negative lastOffsetDelta"));
    }
    // At most one record per offset of the batch's range: compaction
    // leaves fewer (down to none), keeping the range (as Kafka's does).
    let range = i64::from(header.last_offset_delta) + 1;
    if header.records_count < 0 || i64::from(header.records_count) > range {
        return Err(RecordError::RecordCountMismatch {
            declared: i64::from(header.records_count),
            actual: range,
        });
    }
    if header.compression()? == Compression::None {
        check_records(buf, &header)?;
    }
    Ok(header)
}

/// [`validate_batch`], and for a compressed batch also the structure of
/// every record after inflating them within `inflate_limit` bytes (what a
/// leader checks before it accepts a producer's batch).
pub fn validate_batch_inflated(
    buf: &[u8],
    inflate_limit: usize,
) -> Result<BatchHeader, RecordError> {
    let header = validate_batch(buf)?;
    // A producer's batch has a record at every offset of its range; only
    // the cleaner leaves gaps.
    let range = i64::from(header.last_offset_delta) + 1;
    if i64::from(header.records_count) != range {
        return Err(RecordError::RecordCountMismatch {
            declared: i64::from(header.records_count),
            actual: range,
        });
    }
    if header.compression()? != Compression::None {
        let plain = super::compression::inflate(buf, inflate_limit)?;
        check_records(&plain, &header)?;
    }
    Ok(header)
}

/// Walks the records of an uncompressed batch: each well formed, offset
/// deltas rising within `lastOffsetDelta`, as many as declared.
fn check_records(buf: &[u8], header: &BatchHeader) -> Result<(), RecordError> {
    let mut walked: i64 = 0;
    let mut last_delta: i64 = -1;
    for rec in RecordIter::raw(buf, header.records_count)? {
        let rec = rec?;
        let delta = i64::from(rec.offset_delta);
        if delta <= last_delta || delta > i64::from(header.last_offset_delta) {
            return Err(RecordError::Corrupt("record offset delta out of order"));
        }
        last_delta = delta;
        walked += 1;
    }
    if walked != i64::from(header.records_count) {
        return Err(RecordError::RecordCountMismatch {
            declared: i64::from(header.records_count),
            actual: walked,
        });
    }
    Ok(())
}

/// Writes the broker-assigned base offset and leader epoch into a batch.
/// Neither field is covered by the CRC, so the batch stays valid.
/// Buffers shorter than a header are left untouched (callers validate first).
pub fn stamp(buf: &mut [u8], base_offset: i64, leader_epoch: i32) {
    if buf.len() < BATCH_HEADER_LEN {
        return;
    }
    buf[OFF_BASE_OFFSET..OFF_BASE_OFFSET + 8].copy_from_slice(&base_offset.to_be_bytes());
    buf[OFF_LEADER_EPOCH..OFF_LEADER_EPOCH + 4].copy_from_slice(&leader_epoch.to_be_bytes());
}

/// Splits a concatenation of batches using only the length fields.
/// Yields `Err(Truncated)` (then stops) on a torn tail, and
/// `Err(Corrupt)` on a length that cannot hold a header.
pub fn batches(buf: &[u8]) -> Batches<'_> {
    Batches {
        rest: buf,
        done: false,
    }
}

/// Iterator returned by [`batches`].
#[derive(Debug, Clone)]
pub struct Batches<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> Batches<'a> {
    /// Bytes not yet yielded (after an error: the unparseable tail).
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }
}

/// Length of the batch starting at the front of `buf`, from its length
/// field alone.
pub fn batch_len(buf: &[u8]) -> Result<usize, RecordError> {
    if buf.len() < LOG_OVERHEAD {
        return Err(RecordError::Truncated);
    }
    let len = be_i32(buf, OFF_LENGTH);
    if len < (BATCH_HEADER_LEN - LOG_OVERHEAD) as i32 {
        return Err(RecordError::Corrupt("batch length smaller than header"));
    }
    Ok(LOG_OVERHEAD + len as usize)
}

impl<'a> Iterator for Batches<'a> {
    type Item = Result<&'a [u8], RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        let total = match batch_len(self.rest) {
            Ok(n) => n,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        if total > self.rest.len() {
            self.done = true;
            return Some(Err(RecordError::Truncated));
        }
        let (batch, rest) = self.rest.split_at(total);
        self.rest = rest;
        Some(Ok(batch))
    }
}

impl std::iter::FusedIterator for Batches<'_> {}
