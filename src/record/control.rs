//! Transaction markers: the control batches a transaction coordinator has
//! written to every partition of a transaction when it ends (Kafka's
//! `EndTransactionMarker`). One record per batch; its key is
//! `version i16 = 0, type i16` (0 abort, 1 commit) and its value
//! `version i16 = 0, coordinator epoch i32`. The batch carries the
//! producer's id and epoch, the transactional and control attribute bits,
//! and no sequence (-1).
use bytes::{BufMut, BytesMut};

use super::batch::{
    BatchHeader, ATTR_CONTROL, ATTR_TRANSACTIONAL, BATCH_HEADER_LEN, OFF_ATTRIBUTES, OFF_CRC,
};
use super::builder::BatchBuilder;
use super::record::RecordIter;
use super::RecordError;

const MARKER_VERSION: i16 = 0;
const TYPE_ABORT: i16 = 0;
const TYPE_COMMIT: i16 = 1;

/// How a transaction ended, as its marker says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    Commit,
    Abort,
}

/// The control batch that ends producer `producer_id`'s transaction.
pub fn marker_batch(
    producer_id: i64,
    producer_epoch: i16,
    marker: Marker,
    coordinator_epoch: i32,
    timestamp: i64,
) -> BytesMut {
    let mut key = BytesMut::with_capacity(4);
    key.put_i16(MARKER_VERSION);
    key.put_i16(match marker {
        Marker::Commit => TYPE_COMMIT,
        Marker::Abort => TYPE_ABORT,
    });
    let mut value = BytesMut::with_capacity(6);
    value.put_i16(MARKER_VERSION);
    value.put_i32(coordinator_epoch);
    let mut b = BatchBuilder::with_capacity(timestamp, 96);
    b.set_producer(producer_id, producer_epoch, -1);
    // Four- and six-byte fields never reach the format's length limits.
    let _ = b.push(timestamp, Some(&key), Some(&value), &[]);
    let mut buf = b.finish();
    let attrs = ATTR_CONTROL | ATTR_TRANSACTIONAL;
    buf[OFF_ATTRIBUTES..OFF_ATTRIBUTES + 2].copy_from_slice(&attrs.to_be_bytes());
    let crc = crc32c::crc32c(&buf[OFF_ATTRIBUTES..]);
    buf[OFF_CRC..OFF_CRC + 4].copy_from_slice(&crc.to_be_bytes());
    buf
}

/// The marker a control batch holds; `None` for a control record of
/// another kind (Kafka has others, e.g. for KRaft) or a batch that is not
/// a control batch.
pub fn parse_marker(batch: &[u8]) -> Result<Option<Marker>, RecordError> {
    let h = BatchHeader::parse(batch)?;
    if !h.is_control() || batch.len() <= BATCH_HEADER_LEN {
        return Ok(None);
    }
    let mut iter = RecordIter::new(bytes::Bytes::copy_from_slice(batch))?;
    let Some(rec) = iter.next().transpose()? else {
        return Ok(None);
    };
    let Some(key) = rec.key.filter(|k| k.len() >= 4) else {
        return Ok(None);
    };
    Ok(match i16::from_be_bytes([key[2], key[3]]) {
        TYPE_COMMIT => Some(Marker::Commit),
        TYPE_ABORT => Some(Marker::Abort),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::validate_batch;

    #[test]
    fn markers_round_trip_and_validate() {
        for m in [Marker::Commit, Marker::Abort] {
            let b = marker_batch(42, 3, m, 0, 1000);
            let h = validate_batch(&b).unwrap();
            assert!(h.is_control() && h.is_transactional());
            assert_eq!(
                (h.producer_id, h.producer_epoch, h.base_sequence),
                (42, 3, -1)
            );
            assert_eq!(h.records_count, 1);
            assert_eq!(parse_marker(&b).unwrap(), Some(m));
        }
        let mut plain = BatchBuilder::new(1);
        plain.push(1, Some(b"k"), Some(b"v"), &[]).unwrap();
        assert_eq!(parse_marker(&plain.finish()).unwrap(), None);
    }
}
