//! Idempotent producers (Kafka semantics): per producer id the leader keeps
//! the sequence numbers and offsets of its last five batches, so a retried
//! batch is answered with its original offsets instead of being written
//! twice, and a gap in the sequence is refused.
use std::collections::{HashMap, VecDeque};

use crate::broker::error::BrokerError;
use crate::log::AppendInfo;
use crate::record::{batches, BatchHeader};

/// Batches remembered per producer (Kafka allows five in flight).
pub const REMEMBERED_BATCHES: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BatchMeta {
    first_seq: i32,
    last_seq: i32,
    first_offset: i64,
    last_offset: i64,
    max_timestamp: i64,
    records: i64,
}

#[derive(Debug, Clone, Default)]
struct Entry {
    epoch: i16,
    batches: VecDeque<BatchMeta>,
}

#[derive(Debug, Default)]
pub struct ProducerTable {
    producers: HashMap<i64, Entry>,
}

/// Sequence numbers wrap from i32::MAX to 0.
fn last_seq(h: &BatchHeader) -> i32 {
    ((i64::from(h.base_sequence) + i64::from(h.last_offset_delta)) % (i64::from(i32::MAX) + 1))
        as i32
}

fn next_seq(seq: i32) -> i32 {
    if seq == i32::MAX {
        0
    } else {
        seq + 1
    }
}

fn idempotent(h: &BatchHeader) -> bool {
    h.producer_id >= 0 && h.base_sequence >= 0
}

impl ProducerTable {
    pub fn clear(&mut self) {
        self.producers.clear();
    }

    /// Checks a produce request's batches before they are written. `Some`
    /// means the request repeats batches already in the log: answer with
    /// these offsets and write nothing.
    pub fn check(&self, buf: &[u8]) -> Result<Option<AppendInfo>, BrokerError> {
        // What this request has added so far, per producer: (epoch, last seq).
        let mut pending: Vec<(i64, i16, i32)> = Vec::new();
        let mut duplicate: Option<AppendInfo> = None;
        for (i, b) in batches(buf).enumerate() {
            let Ok(b) = b else { return Ok(None) }; // the log reports it
            let Ok(h) = BatchHeader::parse(b) else {
                return Ok(None);
            };
            if !idempotent(&h) {
                continue;
            }
            let entry = self.producers.get(&h.producer_id);
            let in_request = pending.iter().find(|p| p.0 == h.producer_id).copied();
            let (epoch, last) = match (in_request, entry) {
                (Some((_, e, s)), _) => (Some(e), Some(s)),
                (None, Some(e)) => (Some(e.epoch), e.batches.back().map(|b| b.last_seq)),
                (None, None) => (None, None),
            };
            if let Some(epoch) = epoch {
                if h.producer_epoch < epoch {
                    return Err(BrokerError::InvalidProducerEpoch(format!(
                        "producer {} epoch {} is older than the current epoch {epoch}",
                        h.producer_id, h.producer_epoch
                    )));
                }
            }
            let same_epoch = epoch == Some(h.producer_epoch);
            if same_epoch && in_request.is_none() {
                if let Some(e) = entry {
                    let ls = last_seq(&h);
                    if let Some(m) = e
                        .batches
                        .iter()
                        .find(|m| m.first_seq == h.base_sequence && m.last_seq == ls)
                    {
                        if i == 0 {
                            duplicate = Some(AppendInfo {
                                base_offset: m.first_offset,
                                last_offset: m.last_offset,
                                max_timestamp: m.max_timestamp,
                                record_count: m.records,
                                bytes: 0,
                            });
                            continue;
                        }
                    }
                }
            }
            if duplicate.is_some() {
                // Retried requests repeat whole requests; a mix is a bug.
                return Err(BrokerError::OutOfOrderSequence(format!(
                    "producer {}: request mixes already-written and new batches",
                    h.producer_id
                )));
            }
            match (same_epoch, last) {
                (true, Some(last)) if h.base_sequence != next_seq(last) => {
                    return Err(BrokerError::OutOfOrderSequence(format!(
                        "producer {} sent sequence {} but {} was expected",
                        h.producer_id,
                        h.base_sequence,
                        next_seq(last)
                    )));
                }
                (false, _) if epoch.is_some() && h.base_sequence != 0 => {
                    return Err(BrokerError::OutOfOrderSequence(format!(
                        "producer {} started epoch {} at sequence {}, not 0",
                        h.producer_id, h.producer_epoch, h.base_sequence
                    )));
                }
                _ => {}
            }
            pending.retain(|p| p.0 != h.producer_id);
            pending.push((h.producer_id, h.producer_epoch, last_seq(&h)));
        }
        Ok(duplicate)
    }

    /// Records the batches of `buf` as written (offsets already stamped).
    pub fn record(&mut self, buf: &[u8]) {
        for b in batches(buf) {
            let Ok(b) = b else { return };
            let Ok(h) = BatchHeader::parse(b) else { return };
            self.record_header(&h);
        }
    }

    pub fn record_header(&mut self, h: &BatchHeader) {
        if !idempotent(h) {
            return;
        }
        let e = self.producers.entry(h.producer_id).or_default();
        if h.producer_epoch != e.epoch {
            e.epoch = h.producer_epoch;
            e.batches.clear();
        }
        e.batches.push_back(BatchMeta {
            first_seq: h.base_sequence,
            last_seq: last_seq(h),
            first_offset: h.base_offset,
            last_offset: h.last_offset(),
            max_timestamp: h.max_timestamp,
            records: i64::from(h.records_count),
        });
        while e.batches.len() > REMEMBERED_BATCHES {
            e.batches.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::BatchBuilder;
    use bytes::BytesMut;

    fn batch(pid: i64, epoch: i16, seq: i32, n: usize, base_offset: i64) -> BytesMut {
        let mut b = BatchBuilder::new(1);
        b.set_producer(pid, epoch, seq);
        for _ in 0..n {
            b.push(1, None, Some(b"v"), &[]).unwrap();
        }
        let mut buf = b.finish();
        crate::record::stamp(&mut buf, base_offset, 0);
        buf
    }

    #[test]
    fn duplicates_get_original_offsets_and_gaps_are_refused() {
        let mut t = ProducerTable::default();
        let b0 = batch(7, 0, 0, 3, 100);
        assert_eq!(t.check(&b0).unwrap(), None);
        t.record(&b0);
        let dup = t.check(&batch(7, 0, 0, 3, 0)).unwrap().unwrap();
        assert_eq!((dup.base_offset, dup.last_offset), (100, 102));
        assert!(t.check(&batch(7, 0, 3, 1, 0)).unwrap().is_none());
        let gap = t.check(&batch(7, 0, 5, 1, 0)).unwrap_err();
        assert!(matches!(gap, BrokerError::OutOfOrderSequence(_)));
        // Unknown producers start anywhere (state may have been trimmed).
        assert!(t.check(&batch(8, 0, 42, 1, 0)).unwrap().is_none());
        // A stale epoch is fenced.
        t.record(&batch(7, 2, 0, 1, 103));
        assert!(matches!(
            t.check(&batch(7, 1, 0, 1, 0)).unwrap_err(),
            BrokerError::InvalidProducerEpoch(_)
        ));
    }

    #[test]
    fn only_last_five_batches_are_remembered() {
        let mut t = ProducerTable::default();
        for i in 0..7 {
            t.record(&batch(1, 0, i, 1, i64::from(i)));
        }
        assert!(t.check(&batch(1, 0, 6, 1, 0)).unwrap().is_some());
        assert!(t.check(&batch(1, 0, 2, 1, 0)).unwrap().is_some());
        assert!(t.check(&batch(1, 0, 1, 1, 0)).is_err());
    }
}
