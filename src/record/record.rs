//! Records inside a v2 batch; a compressed batch is inflated first.
//!
//! Record layout: length varint, attributes i8, timestampDelta varlong,
//! offsetDelta varint, keyLength varint (-1 = null), key, valueLength
//! varint (-1 = null), value, headerCount varint, then per header:
//! keyLength varint, key (UTF-8), valueLength varint (-1 = null), value.

use std::ops::Range;

use bytes::Bytes;

use super::batch::{BatchHeader, Compression, TimestampType, BATCH_HEADER_LEN};
use super::compression::{inflate, DEFAULT_INFLATE_LIMIT};
use super::varint::{decode_varint, decode_varlong};
use super::RecordError;

/// One decoded record with absolute offset and timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub offset: i64,
    pub timestamp: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<Header>,
}

/// A record header. Kafka requires keys to be UTF-8; values are opaque.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub key: String,
    pub value: Option<Bytes>,
}

/// Bounds-checked reader over a record body.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn varint(&mut self) -> Result<i32, RecordError> {
        let (v, n) = decode_varint(self.buf.get(self.pos..).unwrap_or_default())?;
        self.pos += n;
        Ok(v)
    }

    fn varlong(&mut self) -> Result<i64, RecordError> {
        let (v, n) = decode_varlong(self.buf.get(self.pos..).unwrap_or_default())?;
        self.pos += n;
        Ok(v)
    }

    fn byte(&mut self) -> Result<u8, RecordError> {
        let b = *self.buf.get(self.pos).ok_or(RecordError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    /// A length-prefixed field; `None` for the null marker -1.
    fn nullable(&mut self) -> Result<Option<Range<usize>>, RecordError> {
        let len = self.varint()?;
        if len == -1 {
            return Ok(None);
        }
        if len < 0 {
            return Err(RecordError::Corrupt("negative field length"));
        }
        let end = self
            .pos
            .checked_add(len as usize)
            .filter(|&e| e <= self.buf.len())
            .ok_or(RecordError::Corrupt("field overruns record"))?;
        let r = self.pos..end;
        self.pos = end;
        Ok(Some(r))
    }
}

/// A record located inside a batch buffer; ranges index that buffer, so
/// a caller holding `Bytes` can slice without copying.
#[derive(Debug, Clone)]
pub(crate) struct RawRecord {
    pub timestamp_delta: i64,
    pub offset_delta: i32,
    pub key: Option<Range<usize>>,
    pub value: Option<Range<usize>>,
    /// Header key/value ranges, walked and checked at parse time.
    pub headers: Range<usize>,
    pub header_count: i32,
}

/// Walks the records of an uncompressed batch without allocating.
pub(crate) struct RawRecords<'a> {
    buf: &'a [u8],
    pos: usize,
    left: i32,
}

impl<'a> Iterator for RawRecords<'a> {
    type Item = Result<RawRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left <= 0 {
            // Bytes after the declared records mean the count is wrong.
            if self.pos < self.buf.len() {
                self.pos = self.buf.len();
                return Some(Err(RecordError::Corrupt("trailing bytes after records")));
            }
            return None;
        }
        self.left -= 1;
        let r = parse_one(self.buf, self.pos);
        match r {
            Ok((rec, next)) => {
                self.pos = next;
                Some(Ok(rec))
            }
            Err(e) => {
                self.left = 0;
                self.pos = self.buf.len();
                Some(Err(e))
            }
        }
    }
}

impl RawRecords<'_> {
    /// Where the next record starts in the buffer (after the last one
    /// returned): the compactor copies records whole by these bounds.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }
}

fn parse_one(buf: &[u8], start: usize) -> Result<(RawRecord, usize), RecordError> {
    let mut c = Cursor { buf, pos: start };
    let len = c.varint()?;
    if len < 0 {
        return Err(RecordError::Corrupt("negative record length"));
    }
    let end = c
        .pos
        .checked_add(len as usize)
        .filter(|&e| e <= buf.len())
        .ok_or(RecordError::Truncated)?;
    // Confine the body cursor to this record so a bad inner length cannot
    // read into the next record.
    let mut c = Cursor {
        buf: &buf[..end],
        pos: c.pos,
    };
    let _attributes = c.byte()?;
    let timestamp_delta = c.varlong()?;
    let offset_delta = c.varint()?;
    let key = c.nullable()?;
    let value = c.nullable()?;
    let header_count = c.varint()?;
    if header_count < 0 {
        return Err(RecordError::Corrupt("negative header count"));
    }
    let headers_start = c.pos;
    for _ in 0..header_count {
        let k = c
            .nullable()?
            .ok_or(RecordError::Corrupt("null header key"))?;
        if std::str::from_utf8(&buf[k]).is_err() {
            return Err(RecordError::Corrupt("header key is not UTF-8"));
        }
        c.nullable()?;
    }
    if c.pos != end {
        return Err(RecordError::Corrupt("record length mismatch"));
    }
    Ok((
        RawRecord {
            timestamp_delta,
            offset_delta,
            key,
            value,
            headers: headers_start..end,
            header_count,
        },
        end,
    ))
}

/// Decodes the headers of a raw record (already checked by `parse_one`).
fn decode_headers(batch: &Bytes, raw: &RawRecord) -> Result<Vec<Header>, RecordError> {
    let mut out = Vec::with_capacity(raw.header_count as usize);
    let mut c = Cursor {
        buf: &batch[..raw.headers.end],
        pos: raw.headers.start,
    };
    for _ in 0..raw.header_count {
        let k = c
            .nullable()?
            .ok_or(RecordError::Corrupt("null header key"))?;
        let key = std::str::from_utf8(&batch[k])
            .map_err(|_| RecordError::Corrupt("header key is not UTF-8"))?
            .to_owned();
        let value = c.nullable()?.map(|r| batch.slice(r));
        out.push(Header { key, value });
    }
    Ok(out)
}

/// Iterator over the records of one batch, yielding [`Record`]s whose
/// key/value share the batch's `Bytes` allocation (for a compressed batch,
/// the one buffer it was inflated into).
pub struct RecordIter {
    batch: Bytes,
    header: BatchHeader,
    pos: usize,
    left: i32,
    failed: bool,
}

impl RecordIter {
    /// Starts iterating a single batch (which should have been validated;
    /// structural errors are still reported, never panicked on).
    pub fn new(batch: Bytes) -> Result<RecordIter, RecordError> {
        RecordIter::with_inflate_limit(batch, DEFAULT_INFLATE_LIMIT)
    }

    /// Like [`new`](Self::new), refusing a compressed batch whose records
    /// inflate past `limit` bytes.
    pub fn with_inflate_limit(batch: Bytes, limit: usize) -> Result<RecordIter, RecordError> {
        let mut header = BatchHeader::parse(&batch)?;
        if header.total_len() > batch.len() {
            return Err(RecordError::Truncated);
        }
        let batch = if header.compression()? == Compression::None {
            batch.slice(..header.total_len())
        } else {
            let plain = Bytes::from(inflate(&batch, limit)?);
            // The inflated copy's own header: same fields, no codec bits.
            header = BatchHeader::parse(&plain)?;
            plain
        };
        Ok(RecordIter {
            batch,
            header,
            pos: BATCH_HEADER_LEN,
            left: header.records_count,
            failed: false,
        })
    }

    /// Raw walk used by validation: no allocation, no `Bytes` needed.
    pub(crate) fn raw(batch: &[u8], count: i32) -> Result<RawRecords<'_>, RecordError> {
        if batch.len() < BATCH_HEADER_LEN {
            return Err(RecordError::Truncated);
        }
        Ok(RawRecords {
            buf: batch,
            pos: BATCH_HEADER_LEN,
            left: count,
        })
    }

    /// The batch header of the batch being iterated.
    pub fn header(&self) -> &BatchHeader {
        &self.header
    }
}

impl Iterator for RecordIter {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.left <= 0 {
            return None;
        }
        self.left -= 1;
        let result = parse_one(&self.batch, self.pos).and_then(|(raw, next)| {
            self.pos = next;
            Ok(Record {
                offset: self.header.base_offset + i64::from(raw.offset_delta),
                // LogAppendTime: the broker's append time, kept in the
                // header, is every record's timestamp (as Kafka reads it).
                timestamp: if self.header.timestamp_type() == TimestampType::LogAppendTime {
                    self.header.max_timestamp
                } else {
                    self.header.base_timestamp.wrapping_add(raw.timestamp_delta)
                },
                key: raw.key.clone().map(|r| self.batch.slice(r)),
                value: raw.value.clone().map(|r| self.batch.slice(r)),
                headers: decode_headers(&self.batch, &raw)?,
            })
        });
        if result.is_err() {
            self.failed = true;
        }
        Some(result)
    }
}

/// Decodes every record of one batch, inflating a compressed one.
pub fn decode_records(batch: &Bytes) -> Result<Vec<Record>, RecordError> {
    let iter = RecordIter::new(batch.clone())?;
    let mut out = Vec::with_capacity(iter.header().records_count.clamp(0, 4096) as usize);
    for r in iter {
        out.push(r?);
    }
    Ok(out)
}
