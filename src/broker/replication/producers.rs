//! Idempotent producers (Kafka semantics): per producer id the leader keeps
//! the sequence numbers and offsets of its last five batches, so a retried
//! batch is answered with its original offsets instead of being written
//! twice, and a gap in the sequence is refused.
//!
//! The rules, per batch of a producer this table knows, in its epoch:
//! - one of the last five batches again: answered with its offsets, not
//!   written;
//! - the next sequence: written;
//! - wholly behind the last sequence, within the run of sequences this
//!   table has seen back to back: written before, its offsets forgotten
//!   (Kafka's `DUPLICATE_SEQUENCE_NUMBER`, which clients count as
//!   delivered): not written;
//! - anything else (a gap, a batch overlapping the last one, one from
//!   before what the table saw): `OUT_OF_ORDER_SEQUENCE_NUMBER`, not
//!   written.
//!
//! An older epoch is fenced (`INVALID_PRODUCER_EPOCH`); a newer one must
//! start at sequence 0. A producer the table does not know starts at any
//! sequence (Kafka since KIP-360: its state may have expired). So the table
//! must know every producer whose batches are in the log, across a
//! failover (`tail::rebuild_producers`) and a restart
//! (`tail::load_producers`): a producer forgotten by a restart would have
//! its retries of batches already written accepted as new.
//!
//! A producer's state is dropped once it has not appended for
//! `producer.id.expiration.ms` (Kafka's setting, default one day), so
//! producers that went away do not pile up. The idle clock is tokio's
//! (monotonic, never the clients' record timestamps, which may be old or
//! skewed); a new leader that rebuilds the table from its log starts every
//! producer's clock afresh, as a new controller does for broker sessions.
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::sync::oneshot::error::TryRecvError;
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;

use crate::broker::error::BrokerError;
use crate::log::AppendInfo;
use crate::record::{batches, BatchHeader};

/// Batches remembered per producer (Kafka allows five in flight).
pub const REMEMBERED_BATCHES: usize = 5;

/// Kafka's `producer.id.expiration.ms` default: one day.
pub const DEFAULT_PRODUCER_ID_EXPIRATION: Duration = Duration::from_millis(86_400_000);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BatchMeta {
    first_seq: i32,
    last_seq: i32,
    first_offset: i64,
    last_offset: i64,
    max_timestamp: i64,
    records: i64,
}

#[derive(Debug, Clone)]
struct Entry {
    epoch: i16,
    batches: VecDeque<BatchMeta>,
    /// Where the run of this epoch's sequences that this table saw back to
    /// back, up to the last batch, starts: every sequence from here to the
    /// last is in the log.
    contiguous_from: i32,
    /// When this broker last recorded a batch of the producer.
    last_append: Instant,
}

#[derive(Debug, Default)]
pub struct ProducerTable {
    producers: HashMap<i64, Entry>,
    /// Set while a new leader rebuilds the table from its log on a
    /// blocking thread (`tail.rs`): appends are refused until it arrives.
    rebuild: Option<Rebuild>,
}

/// A rebuild in progress, seen from the table.
#[derive(Debug)]
struct Rebuild {
    table: oneshot::Receiver<ProducerTable>,
    /// Turns true once the table was sent (or the sender is dropped).
    done: watch::Receiver<bool>,
}

/// Held by the thread that rebuilds a table: delivers it and wakes the
/// appends waiting for it. Dropping it without sending abandons the
/// rebuild (the table then starts empty).
#[derive(Debug)]
pub struct RebuildSender {
    table: oneshot::Sender<ProducerTable>,
    done: watch::Sender<bool>,
}

impl RebuildSender {
    pub fn send(self, table: ProducerTable) {
        // Nobody waits any more when the partition stopped leading in the
        // meantime: the table is then simply dropped.
        let _ = self.table.send(table);
        self.done.send_replace(true);
    }
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

/// How far `b` is ahead of `a` in the wrapping sequence space.
fn ahead(a: i32, b: i32) -> i64 {
    (i64::from(b) - i64::from(a)).rem_euclid(i64::from(i32::MAX) + 1)
}

impl Entry {
    /// Whether sequences `first..=last` all lie in the run this table saw
    /// written (`contiguous_from` to the last batch's last sequence).
    fn wrote(&self, first: i32, last: i32) -> bool {
        let Some(end) = self.batches.back().map(|b| b.last_seq) else {
            return false;
        };
        let span = ahead(self.contiguous_from, end);
        let (f, l) = (
            ahead(self.contiguous_from, first),
            ahead(self.contiguous_from, last),
        );
        f <= l && l <= span
    }
}

fn idempotent(h: &BatchHeader) -> bool {
    h.producer_id >= 0 && h.base_sequence >= 0
}

impl ProducerTable {
    /// Forgets every producer (and any rebuild still running).
    pub fn clear(&mut self) {
        self.producers.clear();
        self.rebuild = None;
    }

    /// Empties the table and marks it as being rebuilt: appends are
    /// refused until the returned sender delivers the rebuilt table.
    pub fn begin_rebuild(&mut self) -> RebuildSender {
        self.producers.clear();
        let (table_tx, table_rx) = oneshot::channel();
        let (done_tx, done_rx) = watch::channel(false);
        self.rebuild = Some(Rebuild {
            table: table_rx,
            done: done_rx,
        });
        RebuildSender {
            table: table_tx,
            done: done_tx,
        }
    }

    /// While a rebuild runs: a signal that turns true when it is done.
    pub fn rebuild_signal(&self) -> Option<watch::Receiver<bool>> {
        self.rebuild.as_ref().map(|r| r.done.clone())
    }

    /// Takes in a finished rebuild; refuses while one is still running.
    fn settle(&mut self) -> Result<(), BrokerError> {
        let Some(rebuild) = &mut self.rebuild else {
            return Ok(());
        };
        match rebuild.table.try_recv() {
            Ok(rebuilt) => {
                // Nothing was recorded meanwhile (appends were refused),
                // but should anything be, it is newer than the log's tail.
                let newer = std::mem::replace(&mut self.producers, rebuilt.producers);
                self.producers.extend(newer);
                self.rebuild = None;
                Ok(())
            }
            Err(TryRecvError::Empty) => Err(BrokerError::NotLeader(
                "this broker just became leader and is still loading idempotent producer \
                 state from its log; retry"
                    .to_string(),
            )),
            Err(TryRecvError::Closed) => {
                // The rebuilding thread died: serve with what we have
                // rather than refuse this partition's appends forever.
                tracing::warn!(
                    "rebuilding idempotent producer state was abandoned; starting empty"
                );
                self.rebuild = None;
                Ok(())
            }
        }
    }

    /// Checks a produce request's batches before they are written. `Some`
    /// means the request repeats batches already in the log: answer with
    /// these offsets and write nothing. Refused (NOT_LEADER_OR_FOLLOWER,
    /// retriable) while the table is being rebuilt.
    pub fn check(&mut self, buf: &[u8]) -> Result<Option<AppendInfo>, BrokerError> {
        self.settle()?;
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
                    let written = in_request.is_none()
                        && entry.is_some_and(|e| e.wrote(h.base_sequence, last_seq(&h)));
                    if written && i == 0 {
                        return Err(BrokerError::DuplicateSequence(format!(
                            "producer {} sequences {}..={} were written before (the last is {last}); \
                             their offsets are no longer remembered",
                            h.producer_id,
                            h.base_sequence,
                            last_seq(&h)
                        )));
                    }
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

    /// Records the batches of `buf` as written (offsets already stamped)
    /// at `now`.
    pub fn record(&mut self, buf: &[u8], now: Instant) {
        for b in batches(buf) {
            let Ok(b) = b else { return };
            let Ok(h) = BatchHeader::parse(b) else { return };
            self.record_header(&h, now);
        }
    }

    pub fn record_header(&mut self, h: &BatchHeader, now: Instant) {
        if !idempotent(h) {
            return;
        }
        let e = self
            .producers
            .entry(h.producer_id)
            .or_insert_with(|| Entry {
                epoch: h.producer_epoch,
                batches: VecDeque::new(),
                contiguous_from: h.base_sequence,
                last_append: now,
            });
        e.last_append = e.last_append.max(now);
        if h.producer_epoch != e.epoch {
            e.epoch = h.producer_epoch;
            e.batches.clear();
        }
        // A jump (the producer was forgotten and came back further on, or
        // a rebuild met it mid-way) starts a new run.
        if e.batches.back().map(|b| next_seq(b.last_seq)) != Some(h.base_sequence) {
            e.contiguous_from = h.base_sequence;
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

    /// A transaction marker of `producer_id` at `epoch` was written: its
    /// older epochs are fenced from now on (a zombie producer's batches
    /// are refused with INVALID_PRODUCER_EPOCH), and a newer epoch starts
    /// its sequences afresh.
    pub fn fence(&mut self, producer_id: i64, epoch: i16, now: Instant) {
        let e = self.producers.entry(producer_id).or_insert_with(|| Entry {
            epoch,
            batches: VecDeque::new(),
            contiguous_from: 0,
            last_append: now,
        });
        e.last_append = e.last_append.max(now);
        if epoch > e.epoch {
            e.epoch = epoch;
            e.batches.clear();
        }
    }

    /// Forgets producers that have not appended for `expiration` (Kafka's
    /// `producer.id.expiration.ms`); returns how many were dropped. A
    /// forgotten producer that comes back is treated as new: its next
    /// batch is accepted at any sequence.
    pub fn expire(&mut self, now: Instant, expiration: Duration) -> usize {
        let before = self.producers.len();
        self.producers
            .retain(|_, e| now.saturating_duration_since(e.last_append) < expiration);
        before - self.producers.len()
    }

    /// The highest producer id remembered.
    pub fn max_producer_id(&self) -> Option<i64> {
        self.producers.keys().max().copied()
    }

    /// Producers currently remembered.
    pub fn len(&self) -> usize {
        self.producers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.producers.is_empty()
    }

    /// The producers remembered, by id: what DescribeProducers reports.
    pub fn describe(&self) -> Vec<ProducerSummary> {
        let mut out: Vec<ProducerSummary> = self
            .producers
            .iter()
            .map(|(&id, e)| {
                let last = e.batches.back();
                ProducerSummary {
                    producer_id: id,
                    epoch: e.epoch,
                    last_sequence: last.map_or(-1, |b| b.last_seq),
                    last_timestamp: last.map_or(-1, |b| b.max_timestamp),
                }
            })
            .collect();
        out.sort_by_key(|p| p.producer_id);
        out
    }
}

/// One idempotent producer as this partition's leader knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerSummary {
    pub producer_id: i64,
    pub epoch: i16,
    pub last_sequence: i32,
    pub last_timestamp: i64,
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
        t.record(&b0, Instant::now());
        let dup = t.check(&batch(7, 0, 0, 3, 0)).unwrap().unwrap();
        assert_eq!((dup.base_offset, dup.last_offset), (100, 102));
        assert!(t.check(&batch(7, 0, 3, 1, 0)).unwrap().is_none());
        let gap = t.check(&batch(7, 0, 5, 1, 0)).unwrap_err();
        assert!(matches!(gap, BrokerError::OutOfOrderSequence(_)));
        // Unknown producers start anywhere (state may have been trimmed).
        assert!(t.check(&batch(8, 0, 42, 1, 0)).unwrap().is_none());
        // A stale epoch is fenced.
        t.record(&batch(7, 2, 0, 1, 103), Instant::now());
        assert!(matches!(
            t.check(&batch(7, 1, 0, 1, 0)).unwrap_err(),
            BrokerError::InvalidProducerEpoch(_)
        ));
    }

    #[test]
    fn only_last_five_batches_are_remembered() {
        let mut t = ProducerTable::default();
        for i in 0..7 {
            t.record(&batch(1, 0, i, 1, i64::from(i)), Instant::now());
        }
        assert!(t.check(&batch(1, 0, 6, 1, 0)).unwrap().is_some());
        assert!(t.check(&batch(1, 0, 2, 1, 0)).unwrap().is_some());
        // Older than the last five, but written: a duplicate whose offsets
        // are forgotten, never written again.
        assert!(matches!(
            t.check(&batch(1, 0, 1, 1, 0)).unwrap_err(),
            BrokerError::DuplicateSequence(_)
        ));
        assert!(matches!(
            t.check(&batch(1, 0, 0, 2, 0)).unwrap_err(),
            BrokerError::DuplicateSequence(_)
        ));
    }

    #[test]
    fn a_retry_overlapping_the_last_batch_or_past_it_is_out_of_order() {
        let mut t = ProducerTable::default();
        for i in 0..3 {
            t.record(&batch(1, 0, i * 2, 2, i64::from(i) * 2), Instant::now());
        }
        // Sequences 0-5 written; 5-6 reaches past the last one.
        assert!(matches!(
            t.check(&batch(1, 0, 5, 2, 0)).unwrap_err(),
            BrokerError::OutOfOrderSequence(_)
        ));
        // A batch that is not one of the remembered ones but lies inside
        // them (a client re-cut its batches) was written too.
        assert!(matches!(
            t.check(&batch(1, 0, 1, 2, 0)).unwrap_err(),
            BrokerError::DuplicateSequence(_)
        ));
        // In a request whose first batch is new, an old one is a client bug.
        let mut two = batch(1, 0, 6, 1, 0);
        two.extend_from_slice(&batch(1, 0, 0, 1, 0));
        assert!(matches!(
            t.check(&two).unwrap_err(),
            BrokerError::OutOfOrderSequence(_)
        ));
    }

    #[test]
    fn sequences_before_what_the_table_saw_are_not_taken_for_duplicates() {
        let mut t = ProducerTable::default();
        // First seen at 100 (a producer whose earlier state expired).
        assert!(t.check(&batch(3, 0, 100, 1, 0)).unwrap().is_none());
        t.record(&batch(3, 0, 100, 1, 0), Instant::now());
        t.record(&batch(3, 0, 101, 1, 1), Instant::now());
        // 50 was never seen here: it may never have been written.
        assert!(matches!(
            t.check(&batch(3, 0, 50, 1, 0)).unwrap_err(),
            BrokerError::OutOfOrderSequence(_)
        ));
        // A jump in what is recorded (a rebuild meeting a producer that was
        // forgotten in between) starts a new run: 102-109 are not known.
        t.record(&batch(3, 0, 110, 1, 2), Instant::now());
        for i in 111..116 {
            t.record(&batch(3, 0, i, 1, i64::from(i) - 108), Instant::now());
        }
        assert!(matches!(
            t.check(&batch(3, 0, 105, 1, 0)).unwrap_err(),
            BrokerError::OutOfOrderSequence(_)
        ));
        assert!(matches!(
            t.check(&batch(3, 0, 110, 1, 0)).unwrap_err(),
            BrokerError::DuplicateSequence(_)
        ));
        assert!(t.check(&batch(3, 0, 116, 1, 0)).unwrap().is_none());
    }

    #[test]
    fn sequence_rules_hold_across_the_wrap() {
        let mut t = ProducerTable::default();
        let start = i32::MAX - 7;
        for i in 0..6 {
            let seq = ((i64::from(start) + i * 2) % (i64::from(i32::MAX) + 1)) as i32;
            t.record(&batch(4, 0, seq, 2, i * 2), Instant::now());
        }
        // Written: MAX-7 ..= 3 (wrapping); the next is 4.
        assert!(t.check(&batch(4, 0, 4, 1, 0)).unwrap().is_none());
        assert!(matches!(
            t.check(&batch(4, 0, start, 2, 0)).unwrap_err(),
            BrokerError::DuplicateSequence(_)
        ));
        assert!(t.check(&batch(4, 0, 0, 2, 0)).unwrap().is_some());
        assert!(matches!(
            t.check(&batch(4, 0, 6, 1, 0)).unwrap_err(),
            BrokerError::OutOfOrderSequence(_)
        ));
    }

    #[test]
    fn epochs_fence_and_restart_sequences() {
        let mut t = ProducerTable::default();
        t.record(&batch(5, 1, 0, 3, 0), Instant::now());
        assert!(matches!(
            t.check(&batch(5, 0, 3, 1, 0)).unwrap_err(),
            BrokerError::InvalidProducerEpoch(_)
        ));
        assert!(matches!(
            t.check(&batch(5, 2, 7, 1, 0)).unwrap_err(),
            BrokerError::OutOfOrderSequence(_)
        ));
        assert!(t.check(&batch(5, 2, 0, 1, 0)).unwrap().is_none());
        t.record(&batch(5, 2, 0, 1, 3), Instant::now());
        // The old epoch's sequences mean nothing in the new one.
        assert!(matches!(
            t.check(&batch(5, 2, 3, 1, 0)).unwrap_err(),
            BrokerError::OutOfOrderSequence(_)
        ));
        assert_eq!(t.max_producer_id(), Some(5));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_producers_expire() {
        let expiry = Duration::from_secs(60);
        let mut t = ProducerTable::default();
        t.record(&batch(1, 0, 0, 1, 0), Instant::now());
        t.record(&batch(2, 0, 0, 1, 1), Instant::now());
        tokio::time::advance(Duration::from_secs(40)).await;
        // Producer 2 appends again: its clock restarts.
        t.record(&batch(2, 0, 1, 1, 2), Instant::now());
        assert_eq!(t.expire(Instant::now(), expiry), 0);
        tokio::time::advance(Duration::from_secs(20)).await;
        assert_eq!(t.expire(Instant::now(), expiry), 1, "producer 1 idle 60 s");
        assert_eq!(t.len(), 1);
        // A retry of producer 2 is still recognised...
        assert!(t.check(&batch(2, 0, 1, 1, 0)).unwrap().is_some());
        // ...while producer 1 is new again: any sequence is accepted.
        assert!(t.check(&batch(1, 0, 9, 1, 0)).unwrap().is_none());
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(t.expire(Instant::now(), expiry), 1);
        assert!(t.is_empty());
    }

    #[test]
    fn appends_wait_for_a_rebuild() {
        let mut t = ProducerTable::default();
        t.record(&batch(1, 0, 0, 1, 0), Instant::now());
        let sender = t.begin_rebuild();
        assert!(t.is_empty(), "a rebuild starts from nothing");
        let signal = t.rebuild_signal().unwrap();
        assert!(!*signal.borrow());
        assert!(matches!(
            t.check(&batch(9, 0, 0, 1, 0)).unwrap_err(),
            BrokerError::NotLeader(_)
        ));
        let mut rebuilt = ProducerTable::default();
        rebuilt.record(&batch(5, 0, 0, 2, 10), Instant::now());
        sender.send(rebuilt);
        assert!(*signal.borrow());
        let dup = t.check(&batch(5, 0, 0, 2, 0)).unwrap().unwrap();
        assert_eq!(dup.base_offset, 10);
        assert!(t.rebuild_signal().is_none());
        // An abandoned rebuild does not block appends forever.
        drop(t.begin_rebuild());
        assert!(t.check(&batch(9, 0, 0, 1, 0)).unwrap().is_none());
        // Nor does one the partition gave up (it became follower).
        let sender = t.begin_rebuild();
        t.clear();
        assert!(t.check(&batch(9, 0, 0, 1, 0)).unwrap().is_none());
        sender.send(ProducerTable::default());
        assert!(t.is_empty());
    }
}
