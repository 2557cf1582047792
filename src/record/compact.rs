//! Dropping records from a batch for log compaction. Offsets never change:
//! the rewritten batch keeps its base offset, `lastOffsetDelta` and every
//! other header field (producer id, epoch, base sequence, timestamps, leader
//! epoch), and each kept record keeps its bytes (its offset and timestamp
//! deltas are relative to that unchanged header). Only the record count,
//! length and CRC are recomputed, and a compressed batch is compressed
//! again with its own codec.

use super::batch::{BatchHeader, Compression, BATCH_HEADER_LEN, LOG_OVERHEAD, OFF_RECORDS_COUNT};
use super::compression::{compress_into, decompress_into, seal};
use super::record::RecordIter;
use super::RecordError;

/// What the cleaner needs of one record.
#[derive(Debug, Clone, Copy)]
pub struct KeyedRecord<'a> {
    pub offset: i64,
    pub key: Option<&'a [u8]>,
    /// A null value: a delete marker (tombstone) for its key.
    pub tombstone: bool,
}

/// The outcome of [`filter_batch`].
#[derive(Debug, PartialEq, Eq)]
pub enum Filtered {
    /// Every record stays: keep the original bytes (CRC untouched).
    All,
    /// No record stays.
    Nothing,
    /// Some stay: the rewritten batch.
    Some(Vec<u8>),
}

/// The records section of `batch`, uncompressed (within `limit` bytes).
fn plain_records(
    batch: &[u8],
    limit: usize,
) -> Result<(BatchHeader, Compression, Vec<u8>), RecordError> {
    let header = BatchHeader::parse(batch)?;
    let end = header.total_len();
    if end < BATCH_HEADER_LEN || end > batch.len() {
        return Err(RecordError::Truncated);
    }
    let codec = header.compression()?;
    let mut plain = Vec::with_capacity(end);
    plain.extend_from_slice(&batch[..BATCH_HEADER_LEN]);
    decompress_into(codec, &batch[BATCH_HEADER_LEN..end], limit, &mut plain)?;
    Ok((header, codec, plain))
}

/// Calls `f` with every record of `batch` (a compressed one is inflated
/// within `limit` bytes).
pub fn for_each_record(
    batch: &[u8],
    limit: usize,
    mut f: impl FnMut(KeyedRecord<'_>),
) -> Result<(), RecordError> {
    let (header, _, plain) = plain_records(batch, limit)?;
    for raw in RecordIter::raw(&plain, header.records_count)? {
        let raw = raw?;
        f(KeyedRecord {
            offset: header.base_offset + i64::from(raw.offset_delta),
            key: raw.key.map(|r| &plain[r]),
            tombstone: raw.value.is_none(),
        });
    }
    Ok(())
}

/// Keeps the records of `batch` for which `keep` is true.
pub fn filter_batch(
    batch: &[u8],
    limit: usize,
    mut keep: impl FnMut(KeyedRecord<'_>) -> bool,
) -> Result<Filtered, RecordError> {
    let (header, codec, plain) = plain_records(batch, limit)?;
    let mut kept = Vec::with_capacity(plain.len());
    let mut count: i32 = 0;
    let mut all = true;
    let mut walk = RecordIter::raw(&plain, header.records_count)?;
    let mut start = walk.position();
    while let Some(raw) = walk.next() {
        let raw = raw?;
        let end = walk.position();
        let rec = KeyedRecord {
            offset: header.base_offset + i64::from(raw.offset_delta),
            key: raw.key.map(|r| &plain[r]),
            tombstone: raw.value.is_none(),
        };
        if keep(rec) {
            kept.extend_from_slice(&plain[start..end]);
            count += 1;
        } else {
            all = false;
        }
        start = end;
    }
    if all {
        return Ok(Filtered::All);
    }
    if count == 0 {
        return Ok(Filtered::Nothing);
    }
    let mut out = Vec::with_capacity(BATCH_HEADER_LEN + kept.len());
    out.extend_from_slice(&batch[..BATCH_HEADER_LEN]);
    compress_into(codec, &kept, &mut out)?;
    out[OFF_RECORDS_COUNT..OFF_RECORDS_COUNT + 4].copy_from_slice(&count.to_be_bytes());
    seal(&mut out, header.attributes)?;
    Ok(Filtered::Some(out))
}

/// `batch`'s header with no records (uncompressed): what stays of a
/// batch whose records are all gone when its offset range or producer
/// state must be kept (Kafka keeps such empty batches too).
pub fn empty_batch(batch: &[u8]) -> Result<Vec<u8>, RecordError> {
    let header = BatchHeader::parse(batch)?;
    let mut out = batch
        .get(..BATCH_HEADER_LEN)
        .ok_or(RecordError::Truncated)?
        .to_vec();
    out[OFF_RECORDS_COUNT..OFF_RECORDS_COUNT + 4].copy_from_slice(&0i32.to_be_bytes());
    debug_assert_eq!(out.len() - LOG_OVERHEAD, BATCH_HEADER_LEN - LOG_OVERHEAD);
    seal(&mut out, header.attributes & !Compression::MASK)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{decode_records, stamp, validate_batch, BatchBuilder};

    fn batch(codec: Compression) -> Vec<u8> {
        let mut b = BatchBuilder::new(1_000);
        b.set_producer(9, 2, 40);
        for i in 0..6i64 {
            let key = format!("k{}", i % 3);
            let value = (i != 4).then(|| format!("v{i}"));
            b.push(
                1_000 + i,
                Some(key.as_bytes()),
                value.as_deref().map(str::as_bytes),
                &[],
            )
            .unwrap();
        }
        let mut v = b.finish_compressed(codec).unwrap().to_vec();
        stamp(&mut v, 100, 3);
        v
    }

    #[test]
    fn keeps_offsets_header_fields_and_codec() {
        for codec in Compression::ALL {
            let original = batch(codec);
            let before = validate_batch(&original).unwrap();
            let out = filter_batch(&original, 1 << 20, |r| r.offset % 2 == 1).unwrap();
            let Filtered::Some(out) = out else {
                panic!("{codec:?}: {out:?}")
            };
            let after = validate_batch(&out).unwrap();
            assert_eq!(after.base_offset, 100);
            assert_eq!(after.last_offset_delta, before.last_offset_delta);
            assert_eq!(after.records_count, 3);
            assert_eq!(after.compression().unwrap(), codec);
            assert_eq!(
                (after.producer_id, after.producer_epoch, after.base_sequence),
                (9, 2, 40)
            );
            assert_eq!(after.partition_leader_epoch, 3);
            let recs = decode_records(&bytes::Bytes::from(out)).unwrap();
            let offsets: Vec<i64> = recs.iter().map(|r| r.offset).collect();
            assert_eq!(offsets, vec![101, 103, 105]);
            assert_eq!(recs[0].timestamp, 1_001);
            assert_eq!(recs[0].value.as_deref(), Some(&b"v1"[..]));
        }
    }

    #[test]
    fn all_nothing_and_empty() {
        let b = batch(Compression::None);
        assert_eq!(filter_batch(&b, 1 << 20, |_| true).unwrap(), Filtered::All);
        assert_eq!(
            filter_batch(&b, 1 << 20, |_| false).unwrap(),
            Filtered::Nothing
        );
        let mut tombstones = Vec::new();
        for_each_record(&batch(Compression::Zstd), 1 << 20, |r| {
            if r.tombstone {
                tombstones.push(r.offset)
            }
        })
        .unwrap();
        assert_eq!(tombstones, vec![104]);
        let e = empty_batch(&batch(Compression::Lz4)).unwrap();
        let h = validate_batch(&e).unwrap();
        assert_eq!(
            (h.base_offset, h.next_offset(), h.records_count),
            (100, 106, 0)
        );
        assert!(decode_records(&bytes::Bytes::from(e)).unwrap().is_empty());
    }
}
