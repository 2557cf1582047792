//! Leader epoch → start offset history (`leader-epoch-checkpoint`), the
//! input to KIP-101 style truncation after leader changes.
//!
//! File format (Kafka's): line 1 version `0`, line 2 entry count, then one
//! `<epoch> <start offset>` line per entry, epochs strictly increasing.

use std::path::Path;

use super::checkpoint::{write_atomic, LEADER_EPOCH_FILE};
use super::LogError;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct EpochCache {
    entries: Vec<(i32, i64)>,
}

impl EpochCache {
    /// Loads the checkpoint; a missing or malformed file yields an empty
    /// cache (recovery re-learns epochs from the batches it scans).
    pub fn load(dir: &Path) -> EpochCache {
        let Ok(text) = std::fs::read_to_string(dir.join(LEADER_EPOCH_FILE)) else {
            return EpochCache::default();
        };
        let mut lines = text.lines();
        if lines.next().map(str::trim) != Some("0") {
            return EpochCache::default();
        }
        let Some(count) = lines.next().and_then(|l| l.trim().parse::<usize>().ok()) else {
            return EpochCache::default();
        };
        let mut cache = EpochCache::default();
        for line in lines.take(count) {
            let mut parts = line.split_whitespace();
            let (Some(Ok(e)), Some(Ok(o))) = (
                parts.next().map(str::parse::<i32>),
                parts.next().map(str::parse::<i64>),
            ) else {
                return EpochCache::default();
            };
            cache.assign(e, o);
        }
        cache
    }

    pub fn save(&self, dir: &Path) -> Result<(), LogError> {
        let mut s = format!("0\n{}\n", self.entries.len());
        for (e, o) in &self.entries {
            s.push_str(&format!("{e} {o}\n"));
        }
        write_atomic(dir, LEADER_EPOCH_FILE, s.as_bytes(), true)
    }

    /// Records that `epoch` starts at `offset`; returns true if changed.
    /// Epochs below zero (unset) and non-increasing epochs are ignored.
    pub fn assign(&mut self, epoch: i32, offset: i64) -> bool {
        if epoch < 0 {
            return false;
        }
        match self.entries.last() {
            Some(&(e, _)) if e >= epoch => false,
            _ => {
                self.entries.push((epoch, offset));
                true
            }
        }
    }

    /// Forgets epochs that start at or after `offset` (log truncated there).
    pub fn truncate_from(&mut self, offset: i64) -> bool {
        let before = self.entries.len();
        self.entries.retain(|&(_, o)| o < offset);
        before != self.entries.len()
    }

    /// Forgets epochs whose every offset is below `start` (the log start
    /// moved past them: retention, DeleteRecords). The epoch in effect at
    /// `start` stays, even when the log is empty: it is what a follower
    /// tells the leader to find where the two logs diverge.
    pub fn truncate_before(&mut self, start: i64) -> bool {
        let gone = self
            .entries
            .windows(2)
            .take_while(|w| w[1].1 <= start)
            .count();
        self.entries.drain(..gone);
        gone > 0
    }

    /// Forgets every epoch (the log was restarted empty elsewhere).
    pub fn clear(&mut self) -> bool {
        let had = !self.entries.is_empty();
        self.entries.clear();
        had
    }

    pub fn latest(&self) -> Option<i32> {
        self.entries.last().map(|&(e, _)| e)
    }

    /// Epoch of the batch at `offset`.
    pub fn epoch_for_offset(&self, offset: i64) -> Option<i32> {
        self.entries
            .iter()
            .rev()
            .find(|&&(_, o)| o <= offset)
            .map(|&(e, _)| e)
    }

    /// KIP-101 `OffsetsForLeaderEpoch`: the largest known epoch <= `epoch`
    /// and the offset where the next epoch starts (or `log_end`).
    pub fn end_offset_for(&self, epoch: i32, log_end: i64) -> Option<(i32, i64)> {
        let i = self.entries.iter().rposition(|&(e, _)| e <= epoch)?;
        let end = self.entries.get(i + 1).map_or(log_end, |&(_, o)| o);
        Some((self.entries[i].0, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_offsets() {
        let mut c = EpochCache::default();
        assert!(c.assign(1, 0));
        assert!(!c.assign(1, 5));
        assert!(c.assign(3, 10));
        assert_eq!(c.end_offset_for(0, 20), None);
        assert_eq!(c.end_offset_for(1, 20), Some((1, 10)));
        assert_eq!(c.end_offset_for(2, 20), Some((1, 10)));
        assert_eq!(c.end_offset_for(3, 20), Some((3, 20)));
        assert_eq!(c.epoch_for_offset(9), Some(1));
        c.truncate_from(10);
        assert_eq!(c.latest(), Some(1));
    }

    #[test]
    fn truncate_before_keeps_the_epoch_in_effect() {
        let mut c = EpochCache::default();
        c.assign(1, 0);
        c.assign(2, 10);
        c.assign(4, 20);
        assert!(!c.truncate_before(5));
        assert!(c.truncate_before(10));
        assert_eq!(c.end_offset_for(1, 30), None);
        assert_eq!(c.end_offset_for(2, 30), Some((2, 20)));
        // Past every start: only the latest epoch is left.
        assert!(c.truncate_before(25));
        assert_eq!(c.latest(), Some(4));
        assert_eq!(c.end_offset_for(3, 30), None);
        assert!(c.clear());
        assert_eq!(c.latest(), None);
        assert!(!c.clear());
    }

    #[test]
    fn save_load() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = EpochCache::default();
        c.assign(2, 7);
        c.assign(5, 9);
        c.save(dir.path()).unwrap();
        assert_eq!(EpochCache::load(dir.path()), c);
    }
}
