//! Isolation levels (Kafka's `isolation.level`) and the consumer's side of
//! read_committed: which batches of a fetched range are not the caller's.
//! The broker stops a read_committed fetch at the last stable offset and
//! lists the aborted transactions in the range; the batches of those
//! producers from each one's first offset up to its abort marker are
//! dropped here, as Kafka's consumer does. Control batches (markers) are
//! never handed out under either level.
use std::collections::HashSet;

use crate::proto::messages::fetch::{AbortedTransaction, READ_COMMITTED, READ_UNCOMMITTED};
use crate::record::{parse_marker, BatchHeader, Marker};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IsolationLevel {
    /// Every record up to the high watermark, open and aborted
    /// transactions' too (Kafka's default).
    #[default]
    ReadUncommitted,
    /// Only committed records: up to the last stable offset, without
    /// aborted transactions.
    ReadCommitted,
}

impl IsolationLevel {
    pub fn wire(self) -> i8 {
        match self {
            IsolationLevel::ReadUncommitted => READ_UNCOMMITTED,
            IsolationLevel::ReadCommitted => READ_COMMITTED,
        }
    }
}

impl std::str::FromStr for IsolationLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<IsolationLevel, String> {
        match s {
            "read_uncommitted" => Ok(IsolationLevel::ReadUncommitted),
            "read_committed" => Ok(IsolationLevel::ReadCommitted),
            other => Err(format!(
                "invalid isolation level {other:?}: use read_committed or read_uncommitted"
            )),
        }
    }
}

/// Walks the batches of one fetched range in order and says which to skip.
pub struct AbortFilter {
    /// Sorted by first offset; `next` is the first not yet reached.
    aborted: Vec<AbortedTransaction>,
    next: usize,
    /// Producers inside an aborted transaction at the current batch.
    active: HashSet<i64>,
}

impl AbortFilter {
    pub fn new(aborted: &[AbortedTransaction]) -> AbortFilter {
        let mut aborted = aborted.to_vec();
        aborted.sort_by_key(|a| a.first_offset);
        AbortFilter {
            aborted,
            next: 0,
            active: HashSet::new(),
        }
    }

    /// Whether the batch (`bytes`, headed by `h`) holds records for the
    /// caller. Must be called for every batch of the range, in order.
    pub fn keep(&mut self, h: &BatchHeader, bytes: &[u8]) -> bool {
        while let Some(a) = self.aborted.get(self.next) {
            if a.first_offset > h.last_offset() {
                break;
            }
            self.active.insert(a.producer_id);
            self.next += 1;
        }
        if h.is_control() {
            // The abort marker ends that producer's aborted transaction.
            if matches!(parse_marker(bytes), Ok(Some(Marker::Abort))) {
                self.active.remove(&h.producer_id);
            }
            return false;
        }
        !(h.is_transactional() && self.active.contains(&h.producer_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{marker_batch, BatchBuilder};

    fn txn_batch(pid: i64, base: i64, n: usize) -> Vec<u8> {
        let mut b = BatchBuilder::new(0);
        b.set_producer(pid, 0, 0);
        b.set_transactional(true);
        for _ in 0..n {
            b.push(0, None, Some(b"v"), &[]).unwrap();
        }
        let mut buf = b.finish();
        buf[..8].copy_from_slice(&base.to_be_bytes());
        buf.to_vec()
    }

    fn marker(pid: i64, at: i64, m: Marker) -> Vec<u8> {
        let mut buf = marker_batch(pid, 0, m, 0, 0);
        buf[..8].copy_from_slice(&at.to_be_bytes());
        buf.to_vec()
    }

    #[test]
    fn drops_aborted_producers_batches_and_markers_only() {
        // Producer 1 aborts (offsets 0-1, marker 3), producer 2 commits
        // (offset 2, marker 4), producer 1 then commits (5, marker 6).
        let batches = [
            txn_batch(1, 0, 2),
            txn_batch(2, 2, 1),
            marker(1, 3, Marker::Abort),
            marker(2, 4, Marker::Commit),
            txn_batch(1, 5, 1),
            marker(1, 6, Marker::Commit),
        ];
        let mut f = AbortFilter::new(&[AbortedTransaction {
            producer_id: 1,
            first_offset: 0,
        }]);
        let kept: Vec<bool> = batches
            .iter()
            .map(|b| f.keep(&BatchHeader::parse(b).unwrap(), b))
            .collect();
        assert_eq!(kept, [false, true, false, false, true, false]);
    }

    #[test]
    fn parses_levels() {
        assert_eq!(
            "read_committed".parse::<IsolationLevel>(),
            Ok(IsolationLevel::ReadCommitted)
        );
        assert!("committed".parse::<IsolationLevel>().is_err());
        assert_eq!(IsolationLevel::default().wire(), READ_UNCOMMITTED);
    }
}
