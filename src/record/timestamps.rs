//! Broker-side timestamp handling of a RecordBatch v2: reading the records'
//! timestamps (to check them against a topic's bounds) and stamping the
//! append time into a batch for `message.timestamp.type=LogAppendTime`.
use super::batch::{
    compute_crc, BatchHeader, Compression, BATCH_HEADER_LEN, OFF_ATTRIBUTES, OFF_CRC,
    OFF_MAX_TIMESTAMP,
};
use super::record::RecordIter;
use super::RecordError;

const ATTR_LOG_APPEND_TIME: i16 = 0x08;

/// Kafka's "no timestamp" marker; such records are never refused.
pub const NO_TIMESTAMP: i64 = -1;

/// The smallest and largest record timestamp of one validated batch
/// (ignoring [`NO_TIMESTAMP`]); `None` when no record has one. A compressed
/// batch is judged by its header (base and max timestamp) without being
/// decompressed.
pub fn timestamp_range(batch: &[u8]) -> Result<Option<(i64, i64)>, RecordError> {
    let header = BatchHeader::parse(batch)?;
    let mut range: Option<(i64, i64)> = None;
    let mut see = |ts: i64| {
        if ts != NO_TIMESTAMP {
            range = Some(match range {
                None => (ts, ts),
                Some((lo, hi)) => (lo.min(ts), hi.max(ts)),
            });
        }
    };
    if header.compression()? != Compression::None {
        see(header.base_timestamp);
        see(header.max_timestamp);
        return Ok(range);
    }
    for rec in RecordIter::raw(
        &batch[..header.total_len().min(batch.len())],
        header.records_count,
    )? {
        see(header.base_timestamp.wrapping_add(rec?.timestamp_delta));
    }
    Ok(range)
}

/// Marks a batch as LogAppendTime with `now_ms` as its max timestamp, and
/// recomputes the CRC (both fields are covered by it), as Kafka's leader
/// does. Consumers then read `now_ms` as every record's timestamp.
pub fn set_log_append_time(batch: &mut [u8], now_ms: i64) -> Result<(), RecordError> {
    if batch.len() < BATCH_HEADER_LEN {
        return Err(RecordError::Truncated);
    }
    let attrs = i16::from_be_bytes([batch[OFF_ATTRIBUTES], batch[OFF_ATTRIBUTES + 1]]);
    let attrs = attrs | ATTR_LOG_APPEND_TIME;
    batch[OFF_ATTRIBUTES..OFF_ATTRIBUTES + 2].copy_from_slice(&attrs.to_be_bytes());
    batch[OFF_MAX_TIMESTAMP..OFF_MAX_TIMESTAMP + 8].copy_from_slice(&now_ms.to_be_bytes());
    let crc = compute_crc(batch)?;
    batch[OFF_CRC..OFF_CRC + 4].copy_from_slice(&crc.to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{decode_records, validate_batch, BatchBuilder, TimestampType};

    fn batch(ts: &[i64]) -> bytes::BytesMut {
        let mut b = BatchBuilder::new(ts[0]);
        for &t in ts {
            b.push(t, Some(b"k"), Some(b"v"), &[]).unwrap();
        }
        b.finish()
    }

    #[test]
    fn range_covers_every_record() {
        let b = batch(&[1000, 500, 3000, -1]);
        assert_eq!(timestamp_range(&b).unwrap(), Some((500, 3000)));
        assert_eq!(timestamp_range(&batch(&[-1])).unwrap(), None);
    }

    #[test]
    fn log_append_time_keeps_the_batch_valid() {
        let mut b = batch(&[1000, 2000]);
        set_log_append_time(&mut b, 99_000).unwrap();
        let h = validate_batch(&b).expect("CRC recomputed");
        assert_eq!(h.timestamp_type(), TimestampType::LogAppendTime);
        assert_eq!(h.max_timestamp, 99_000);
        assert_eq!(decode_records(&b.freeze()).unwrap().len(), 2);
    }
}
