//! Encoding records into a RecordBatch v2.

use bytes::{BufMut, BytesMut};

use super::batch::Compression;
use super::batch::{
    ATTR_TRANSACTIONAL, BATCH_HEADER_LEN, LOG_OVERHEAD, MAGIC_V2, OFF_ATTRIBUTES, OFF_BASE_OFFSET,
    OFF_BASE_SEQUENCE, OFF_BASE_TIMESTAMP, OFF_CRC, OFF_LAST_OFFSET_DELTA, OFF_LEADER_EPOCH,
    OFF_LENGTH, OFF_MAGIC, OFF_MAX_TIMESTAMP, OFF_PRODUCER_EPOCH, OFF_PRODUCER_ID,
    OFF_RECORDS_COUNT,
};
use super::compression::recompress;
use super::varint::{encode_varint, encode_varlong, varint_len, varlong_len};
use super::RecordError;

/// Builds one uncompressed batch. Records are encoded straight into the
/// output buffer as they are pushed; the header is filled in by `finish`.
#[derive(Debug)]
pub struct BatchBuilder {
    buf: BytesMut,
    base_timestamp: i64,
    max_timestamp: i64,
    count: i32,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    transactional: bool,
}

fn field_len(len: usize, what: &'static str) -> Result<i32, RecordError> {
    i32::try_from(len).map_err(|_| RecordError::TooLarge(what))
}

fn nullable_len(v: Option<&[u8]>, what: &'static str) -> Result<(i32, usize), RecordError> {
    match v {
        None => Ok((-1, varint_len(-1))),
        Some(b) => {
            let n = field_len(b.len(), what)?;
            Ok((n, varint_len(n) + b.len()))
        }
    }
}

fn put_nullable(buf: &mut BytesMut, len: i32, v: Option<&[u8]>) {
    encode_varint(buf, len);
    if let Some(b) = v {
        buf.put_slice(b);
    }
}

impl BatchBuilder {
    /// A builder whose records' timestamps are stored relative to
    /// `base_timestamp` (usually the first record's timestamp).
    pub fn new(base_timestamp: i64) -> BatchBuilder {
        BatchBuilder::with_capacity(base_timestamp, 1024)
    }

    /// Like `new`, reserving room for about `bytes` of output up front.
    pub fn with_capacity(base_timestamp: i64, bytes: usize) -> BatchBuilder {
        let mut buf = BytesMut::with_capacity(bytes.max(BATCH_HEADER_LEN));
        buf.put_bytes(0, BATCH_HEADER_LEN);
        BatchBuilder {
            buf,
            base_timestamp,
            max_timestamp: i64::MIN,
            count: 0,
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            transactional: false,
        }
    }

    /// Idempotent/transactional producer identity; defaults are -1.
    pub fn set_producer(&mut self, producer_id: i64, producer_epoch: i16, base_sequence: i32) {
        self.producer_id = producer_id;
        self.producer_epoch = producer_epoch;
        self.base_sequence = base_sequence;
    }

    /// Marks the batch as written inside a transaction (the attribute
    /// bit read_committed consumers go by).
    pub fn set_transactional(&mut self, transactional: bool) {
        self.transactional = transactional;
    }

    /// Appends one record. Fails only if a field exceeds the format's
    /// 2 GiB length limits or the batch exceeds i32::MAX records.
    pub fn push(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&str, Option<&[u8]>)],
    ) -> Result<(), RecordError> {
        let offset_delta = self.count;
        let next_count = self
            .count
            .checked_add(1)
            .ok_or(RecordError::TooLarge("record count"))?;
        let ts_delta = timestamp.wrapping_sub(self.base_timestamp);
        let (key_len, key_size) = nullable_len(key, "key")?;
        let (value_len, value_size) = nullable_len(value, "value")?;
        let header_count = field_len(headers.len(), "header count")?;
        let mut body = 1 // attributes
            + varlong_len(ts_delta)
            + varint_len(offset_delta)
            + key_size
            + value_size
            + varint_len(header_count);
        for (k, v) in headers {
            let (_, ks) = nullable_len(Some(k.as_bytes()), "header key")?;
            let (_, vs) = nullable_len(*v, "header value")?;
            body += ks + vs;
        }
        let body_len = field_len(body, "record")?;
        // Size computed first so the buffer grows at most once per record.
        self.buf.reserve(varint_len(body_len) + body);
        encode_varint(&mut self.buf, body_len);
        self.buf.put_u8(0);
        encode_varlong(&mut self.buf, ts_delta);
        encode_varint(&mut self.buf, offset_delta);
        put_nullable(&mut self.buf, key_len, key);
        put_nullable(&mut self.buf, value_len, value);
        encode_varint(&mut self.buf, header_count);
        for (k, v) in headers {
            put_nullable(&mut self.buf, k.len() as i32, Some(k.as_bytes()));
            let vl = v.map_or(-1, |b| b.len() as i32);
            put_nullable(&mut self.buf, vl, *v);
        }
        self.count = next_count;
        self.max_timestamp = self.max_timestamp.max(timestamp);
        Ok(())
    }

    /// Records pushed so far.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Exact encoded size of the batch if finished now.
    pub fn size_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Size one more record would add; lets a producer decide to cap a
    /// batch before pushing.
    pub fn record_size_estimate(
        &self,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&str, Option<&[u8]>)],
    ) -> usize {
        record_size_estimate(key, value, headers)
    }

    /// [`finish`](Self::finish), with the records compressed by `codec`.
    /// The compressed batch replaces the plain one, which is dropped.
    pub fn finish_compressed(self, codec: Compression) -> Result<BytesMut, RecordError> {
        let plain = self.finish();
        if codec == Compression::None {
            return Ok(plain);
        }
        // No inflate cap needed: the input is uncompressed.
        let packed = recompress(&plain, codec, usize::MAX)?;
        Ok(bytes::Bytes::from(packed)
            .try_into_mut()
            .unwrap_or_else(|b| BytesMut::from(&b[..])))
    }

    /// Fills in the header (baseOffset 0, leader epoch -1) and CRC.
    /// An empty builder yields a header-only batch with lastOffsetDelta -1,
    /// which `validate_batch` rejects: don't send empty batches.
    pub fn finish(self) -> BytesMut {
        let mut buf = self.buf;
        let max_ts = if self.count == 0 {
            self.base_timestamp
        } else {
            self.max_timestamp
        };
        let batch_length = (buf.len() - LOG_OVERHEAD) as i32;
        let h = &mut buf[..BATCH_HEADER_LEN];
        h[OFF_BASE_OFFSET..OFF_BASE_OFFSET + 8].copy_from_slice(&0i64.to_be_bytes());
        h[OFF_LENGTH..OFF_LENGTH + 4].copy_from_slice(&batch_length.to_be_bytes());
        h[OFF_LEADER_EPOCH..OFF_LEADER_EPOCH + 4].copy_from_slice(&(-1i32).to_be_bytes());
        h[OFF_MAGIC] = MAGIC_V2 as u8;
        let attrs = if self.transactional {
            ATTR_TRANSACTIONAL
        } else {
            0
        };
        h[OFF_ATTRIBUTES..OFF_ATTRIBUTES + 2].copy_from_slice(&attrs.to_be_bytes());
        h[OFF_LAST_OFFSET_DELTA..OFF_LAST_OFFSET_DELTA + 4]
            .copy_from_slice(&(self.count - 1).to_be_bytes());
        h[OFF_BASE_TIMESTAMP..OFF_BASE_TIMESTAMP + 8]
            .copy_from_slice(&self.base_timestamp.to_be_bytes());
        h[OFF_MAX_TIMESTAMP..OFF_MAX_TIMESTAMP + 8].copy_from_slice(&max_ts.to_be_bytes());
        h[OFF_PRODUCER_ID..OFF_PRODUCER_ID + 8].copy_from_slice(&self.producer_id.to_be_bytes());
        h[OFF_PRODUCER_EPOCH..OFF_PRODUCER_EPOCH + 2]
            .copy_from_slice(&self.producer_epoch.to_be_bytes());
        h[OFF_BASE_SEQUENCE..OFF_BASE_SEQUENCE + 4]
            .copy_from_slice(&self.base_sequence.to_be_bytes());
        h[OFF_RECORDS_COUNT..OFF_RECORDS_COUNT + 4].copy_from_slice(&self.count.to_be_bytes());
        let crc = crc32c::crc32c(&buf[OFF_ATTRIBUTES..]);
        buf[OFF_CRC..OFF_CRC + 4].copy_from_slice(&crc.to_be_bytes());
        buf
    }
}

/// An upper bound on one record's encoded size, without a builder.
pub fn record_size_estimate(
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[(&str, Option<&[u8]>)],
) -> usize {
    let mut n = 1 + 10 + 5 + 5; // attributes + worst-case deltas + length
    n += 5 + key.map_or(0, <[u8]>::len);
    n += 5 + value.map_or(0, <[u8]>::len);
    n += 5;
    for (k, v) in headers {
        n += 10 + k.len() + v.map_or(0, <[u8]>::len);
    }
    n
}
