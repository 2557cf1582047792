//! A partition's transactions as its log shows them: the producers with a
//! transaction open here (and the offset of its first batch), and the
//! aborted ones (`aborted_txn_index`). From these come the last stable
//! offset (LSO: below the first open transaction's first offset, at most
//! the high watermark) and the aborted list a read_committed fetch returns.
//!
//! Kept up to date as batches are appended ([`TxnLogState::observe`]);
//! rebuilt when a log is opened by reading the headers of every batch
//! (and the records of the markers) of a partition that has seen
//! transactions, so a crash between a marker and its index entry loses
//! nothing.
use std::collections::HashMap;
use std::path::Path;

use super::aborted_txn_index::{AbortedTxn, AbortedTxnIndex};
use super::batch_scan::for_each_batch;
use super::{LogError, PartitionLog};
use crate::record::{batches, parse_marker, BatchHeader, Marker};

/// Largest control batch read during a scan (a marker is ~80 bytes).
const MAX_MARKER_BATCH: usize = 4096;

#[derive(Debug)]
pub struct TxnLogState {
    /// Producer id → first offset of its open transaction here.
    ongoing: HashMap<i64, i64>,
    aborted: AbortedTxnIndex,
    /// Producer id → the epoch the transaction coordinator let write here
    /// (the partition joined its transaction) before its first batch:
    /// KIP-890's verification, so a late or stray transactional batch
    /// cannot open a transaction no coordinator will ever end. Memory
    /// only: kept by the leader, and forgotten on a role change.
    allowed: HashMap<i64, i16>,
}

impl TxnLogState {
    /// The state of the log in `dir`: empty unless the partition has seen
    /// transactions, else rebuilt from the whole log.
    pub fn open(dir: &Path, log: &PartitionLog) -> Result<TxnLogState, LogError> {
        if !AbortedTxnIndex::exists(dir) {
            return Ok(TxnLogState {
                ongoing: HashMap::new(),
                aborted: AbortedTxnIndex::empty(dir),
                allowed: HashMap::new(),
            });
        }
        let mut index = AbortedTxnIndex::load(dir)?;
        let mut state = TxnLogState {
            ongoing: HashMap::new(),
            aborted: AbortedTxnIndex::empty(dir),
            allowed: HashMap::new(),
        };
        let mut found: Vec<AbortedTxn> = Vec::new();
        let (start, end) = (log.log_start_offset(), log.log_end_offset());
        let slices = log.read_bounded(start, usize::MAX / 2, end)?.slices;
        for_each_batch(&slices, "transactions", |b| {
            let marker = if b.header.is_control() {
                b.read(MAX_MARKER_BATCH)
                    .and_then(|bytes| parse_marker(&bytes).ok().flatten())
            } else {
                None
            };
            if let Some(e) = state.apply(&b.header, marker) {
                found.push(e);
            }
        });
        // Entries for aborts below the log start are kept by the scan's
        // own reading only from what is left; older ones no read can ask
        // for any more.
        if found.as_slice() != index.entries() {
            index.replace(found)?;
        }
        state.aborted = index;
        state.aborted.create()?;
        Ok(state)
    }

    /// Takes in batches just appended (offsets stamped). Costs a header
    /// parse per batch; only transactional batches change anything.
    pub fn observe(&mut self, buf: &[u8]) -> Result<(), LogError> {
        for b in batches(buf) {
            let Ok(b) = b else { break };
            let Ok(h) = BatchHeader::parse(b) else { break };
            if !h.is_transactional() {
                continue;
            }
            let marker = if h.is_control() {
                parse_marker(b).ok().flatten()
            } else {
                None
            };
            if self.ongoing.is_empty() && self.aborted.entries().is_empty() {
                // First transactional batch of this partition: from now on
                // its log is scanned on open.
                self.aborted.create()?;
            }
            if let Some(e) = self.apply(&h, marker) {
                self.aborted.push(e)?;
            }
        }
        Ok(())
    }

    /// One transactional batch's effect; returns the index entry an abort
    /// marker adds.
    fn apply(&mut self, h: &BatchHeader, marker: Option<Marker>) -> Option<AbortedTxn> {
        if !h.is_transactional() {
            return None;
        }
        if !h.is_control() {
            self.ongoing.entry(h.producer_id).or_insert(h.base_offset);
            self.allowed.remove(&h.producer_id);
            return None;
        }
        // A marker ends the producer's transaction here, and with it the
        // coordinator's leave to open one (at this epoch or older).
        if self
            .allowed
            .get(&h.producer_id)
            .is_some_and(|&e| e <= h.producer_epoch)
        {
            self.allowed.remove(&h.producer_id);
        }
        let first = self.ongoing.remove(&h.producer_id);
        match (marker, first) {
            (Some(Marker::Abort), Some(first)) => Some(AbortedTxn {
                producer_id: h.producer_id,
                first_offset: first,
                last_offset: h.base_offset,
            }),
            _ => None,
        }
    }

    /// Forgets what lies below the log start after retention or
    /// DeleteRecords removed it, so the state stays as small as what is
    /// left (Kafka drops a deleted segment's `.txnindex` with it): aborted
    /// transactions that ended below it, and an open transaction's first
    /// offset moves up to it (its older records are gone, and the last
    /// stable offset must not stay below the log start).
    pub fn trim_below(&mut self, log_start: i64) -> Result<(), LogError> {
        for first in self.ongoing.values_mut() {
            *first = (*first).max(log_start);
        }
        let entries = self.aborted.entries();
        if entries.iter().any(|e| e.last_offset < log_start) {
            let kept = entries
                .iter()
                .copied()
                .filter(|e| e.last_offset >= log_start)
                .collect();
            self.aborted.replace(kept)?;
        }
        Ok(())
    }

    /// The coordinator's leave for (`producer_id`, `epoch`) to write
    /// transactional batches here until a marker ends its transaction.
    pub fn allow(&mut self, producer_id: i64, epoch: i16) {
        let e = self.allowed.entry(producer_id).or_insert(epoch);
        *e = (*e).max(epoch);
    }

    /// Whether a transactional batch of (`producer_id`, `epoch`) may be
    /// appended: its transaction is already open here, or the coordinator
    /// let it open one. (An older epoch of an open transaction passes
    /// here and is fenced by the producer state.)
    pub fn may_write(&self, producer_id: i64, epoch: i16) -> bool {
        self.ongoing.contains_key(&producer_id) || self.allowed.get(&producer_id) == Some(&epoch)
    }

    /// Forgets every leave (the replica's role changed: a new leader is
    /// told again by the coordinator, or the transaction already wrote).
    pub fn forget_allowed(&mut self) {
        self.allowed.clear();
    }

    /// The last stable offset: nothing at or above it may be read by a
    /// read_committed consumer.
    pub fn last_stable_offset(&self, high_watermark: i64) -> i64 {
        self.ongoing
            .values()
            .copied()
            .min()
            .map_or(high_watermark, |first| first.min(high_watermark))
    }

    /// Aborted transactions overlapping `[from, upto)`.
    pub fn aborted_overlapping(&self, from: i64, upto: i64) -> Vec<AbortedTxn> {
        self.aborted.overlapping(from, upto)
    }

    /// (producer id, first offset) of every transaction open here.
    pub fn ongoing(&self) -> Vec<(i64, i64)> {
        let mut v: Vec<(i64, i64)> = self.ongoing.iter().map(|(&p, &o)| (p, o)).collect();
        v.sort_unstable_by_key(|&(_, o)| o);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::LogConfig;
    use crate::record::{marker_batch, BatchBuilder};

    fn txn_batch(pid: i64, seq: i32, n: usize) -> bytes::BytesMut {
        let mut b = BatchBuilder::new(1);
        b.set_producer(pid, 0, seq);
        for _ in 0..n {
            b.push(1, None, Some(b"v"), &[]).unwrap();
        }
        let mut buf = b.finish();
        // Set the transactional bit and re-checksum.
        let attrs: i16 = 0x10;
        buf[21..23].copy_from_slice(&attrs.to_be_bytes());
        let crc = crc32c::crc32c(&buf[21..]);
        buf[17..21].copy_from_slice(&crc.to_be_bytes());
        buf
    }

    fn append(log: &mut PartitionLog, st: &mut TxnLogState, mut b: bytes::BytesMut) {
        log.append(&mut b, 0).unwrap();
        st.observe(&b).unwrap();
    }

    #[test]
    fn lso_and_aborted_index_follow_markers_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = PartitionLog::open(dir.path(), LogConfig::default()).unwrap();
        let mut st = TxnLogState::open(dir.path(), &log).unwrap();
        let mut plain = BatchBuilder::new(1);
        plain.push(1, None, Some(b"p"), &[]).unwrap();
        append(&mut log, &mut st, plain.finish()); // 0
        assert_eq!(st.last_stable_offset(1), 1);
        append(&mut log, &mut st, txn_batch(7, 0, 2)); // 1-2
        append(&mut log, &mut st, txn_batch(8, 0, 1)); // 3
        assert_eq!(st.last_stable_offset(4), 1);
        append(&mut log, &mut st, marker_batch(7, 0, Marker::Abort, 0, 1)); // 4
        assert_eq!(st.last_stable_offset(5), 3);
        assert_eq!(st.ongoing(), vec![(8, 3)]);
        drop(log);
        // Reopened (as after a crash): the scan finds the same state.
        let log = PartitionLog::open(dir.path(), LogConfig::default()).unwrap();
        let mut st = TxnLogState::open(dir.path(), &log).unwrap();
        assert_eq!(st.ongoing(), vec![(8, 3)]);
        assert_eq!(
            st.aborted_overlapping(0, 10),
            vec![AbortedTxn {
                producer_id: 7,
                first_offset: 1,
                last_offset: 4
            }]
        );
        let mut log = log;
        append(&mut log, &mut st, marker_batch(8, 0, Marker::Commit, 0, 1)); // 5
        assert_eq!(st.last_stable_offset(6), 6);
        assert!(st.aborted_overlapping(5, 10).is_empty());
        // A lost index file is rebuilt from the log... once it exists.
        std::fs::write(
            dir.path()
                .join(super::super::aborted_txn_index::ABORTED_INDEX_FILE),
            b"",
        )
        .unwrap();
        drop(log);
        let log = PartitionLog::open(dir.path(), LogConfig::default()).unwrap();
        let st = TxnLogState::open(dir.path(), &log).unwrap();
        assert_eq!(st.aborted_overlapping(0, 10).len(), 1);
    }

    #[test]
    fn a_transaction_opens_only_with_the_coordinators_leave_and_a_marker_ends_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = PartitionLog::open(dir.path(), LogConfig::default()).unwrap();
        let mut st = TxnLogState::open(dir.path(), &log).unwrap();
        assert!(!st.may_write(7, 0), "no leave, nothing open");
        st.allow(7, 0);
        assert!(st.may_write(7, 0));
        assert!(!st.may_write(7, 1), "another epoch has no leave");
        append(&mut log, &mut st, txn_batch(7, 0, 2));
        assert!(st.may_write(7, 0), "its transaction is open here");
        append(&mut log, &mut st, marker_batch(7, 0, Marker::Commit, 0, 1));
        assert!(
            !st.may_write(7, 0),
            "a late batch after the marker is refused"
        );
        st.allow(8, 0);
        st.forget_allowed();
        assert!(!st.may_write(8, 0), "a role change forgets leaves");
        st.allow(9, 0);
        append(&mut log, &mut st, marker_batch(9, 1, Marker::Abort, 0, 1));
        assert!(
            !st.may_write(9, 0),
            "an abort at a newer epoch ends the leave"
        );
    }

    #[test]
    fn trimming_below_the_log_start_drops_old_aborts_and_lifts_open_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = PartitionLog::open(dir.path(), LogConfig::default()).unwrap();
        let mut st = TxnLogState::open(dir.path(), &log).unwrap();
        append(&mut log, &mut st, txn_batch(7, 0, 2)); // 0-1
        append(&mut log, &mut st, marker_batch(7, 0, Marker::Abort, 0, 1)); // 2
        append(&mut log, &mut st, txn_batch(8, 0, 2)); // 3-4
        append(&mut log, &mut st, txn_batch(9, 0, 1)); // 5
        append(&mut log, &mut st, marker_batch(9, 0, Marker::Abort, 0, 1)); // 6
        assert_eq!(st.aborted_overlapping(0, 7).len(), 2);
        st.trim_below(4).unwrap();
        let left = st.aborted_overlapping(0, 7);
        assert_eq!(
            left.len(),
            1,
            "the abort that ended below the start is gone"
        );
        assert_eq!(left[0].producer_id, 9);
        assert_eq!(
            st.ongoing(),
            vec![(8, 4)],
            "the open one starts at the log start now"
        );
        assert_eq!(st.last_stable_offset(7), 4);
        // The index file says the same after a restart's scan... of what is
        // left; and its own entries were rewritten.
        drop(st);
        let reopened = AbortedTxnIndex::load(dir.path()).unwrap();
        assert_eq!(reopened.entries().len(), 1);
    }
}
