//! The follower's side of a partition: it appends what the leader sends,
//! keeping offsets and epochs, and truncates where its log diverges from
//! the leader's (KIP-101 / KIP-320 semantics).
use super::state::Role;
use crate::broker::error::BrokerError;
use crate::broker::partition::Partition;
use crate::log::{AppendInfo, LogError};
use crate::record::{BatchHeader, BATCH_HEADER_LEN};

/// Last offset of the first batch in `buf`, if its header is readable.
fn first_batch_last_offset(buf: &[u8]) -> Option<i64> {
    let header = buf.get(..BATCH_HEADER_LEN)?;
    BatchHeader::parse(header).ok().map(|h| h.last_offset())
}

impl Partition {
    /// Follows `leader` at `epoch`. Returns true when the role changed (the
    /// fetcher must then find the divergence point before fetching).
    pub fn become_follower(&self, leader: i32, epoch: i32) -> bool {
        let mut role = self.replica.role();
        if matches!(&*role, Role::Follower { leader: l, epoch: e } if *l == leader && *e == epoch) {
            return false;
        }
        *role = Role::Follower { leader, epoch };
        self.replica.producers().clear();
        self.forget_txn_writes();
        // Until the leader says how far every replica has got.
        self.log().set_tombstone_horizon(-1);
        drop(role);
        // acks=all produces still waiting here fail with NOT_LEADER.
        self.replica.notify();
        tracing::info!(topic = %self.topic, partition = self.index, leader, epoch, "became follower");
        true
    }

    fn check_follower(&self, role: &Role, epoch: i32) -> Result<(), BrokerError> {
        match role {
            Role::Follower { epoch: e, .. } if *e == epoch => Ok(()),
            _ => Err(BrokerError::NotLeader(format!(
                "{}-{} no longer follows at epoch {epoch}",
                self.topic, self.index
            ))),
        }
    }

    /// Appends the leader's batches as they are (offsets, epochs), if this
    /// broker still follows at `epoch`.
    pub fn follower_append(&self, epoch: i32, buf: &mut [u8]) -> Result<AppendInfo, BrokerError> {
        let role = self.replica.role();
        self.check_follower(&role, epoch)?;
        let mut log = self.log();
        let leo = log.log_end_offset();
        match log.append_as_follower(buf) {
            Err(LogError::NonContiguous { expected, actual })
                if expected == leo && actual < leo && leo == log.log_start_offset() =>
            {
                // Our log is empty and starts inside the leader's first
                // batch: the leader's log start (DeleteRecords) is not a
                // batch boundary. As Kafka does, restart the log at the
                // batch's base, append, then move the start back to where
                // the leader has it; nothing is lost, the log was empty.
                let last = first_batch_last_offset(buf);
                if last.is_none_or(|l| l < expected) {
                    return Err(LogError::NonContiguous { expected, actual }.into());
                }
                tracing::info!(topic = %self.topic, partition = self.index, start = expected, batch = actual, "log start inside the leader's batch; starting at the batch");
                log.truncate_fully_and_start_at(actual)?;
                self.rebuild_txns(&log)?;
                let info = log.append_as_follower(buf)?;
                self.observe_replicated(buf);
                if let Err(e) = log.delete_records_before(expected) {
                    // The records are in; only the start stays lower than
                    // the leader's, which serves a few records more.
                    tracing::warn!(topic = %self.topic, partition = self.index, error = %e, "cannot move the log start to the leader's");
                }
                Ok(info)
            }
            r => {
                let info = r?;
                self.observe_replicated(buf);
                Ok(info)
            }
        }
    }

    /// Restarts the log, empty, at the leader's log start, if this broker
    /// still follows at `epoch` and its log ends below that start (it was
    /// down while retention deleted what it misses, or it is new): Kafka's
    /// `truncateFullyAndStartAt` on OFFSET_OUT_OF_RANGE. Returns whether
    /// it did; a log that reaches the leader's start is left alone.
    pub fn follower_reset_to(
        &self,
        epoch: i32,
        leader_log_start: i64,
    ) -> Result<bool, BrokerError> {
        let role = self.replica.role();
        self.check_follower(&role, epoch)?;
        let mut log = self.log();
        let leo = log.log_end_offset();
        if leader_log_start <= leo {
            return Ok(false);
        }
        tracing::info!(topic = %self.topic, partition = self.index, log_end = leo, leader_log_start, "log ends below the leader's log start; restarting it there");
        log.truncate_fully_and_start_at(leader_log_start)?;
        self.rebuild_txns(&log)?;
        Ok(true)
    }

    /// Removes everything from `offset` on, if still following at `epoch`.
    pub fn follower_truncate(&self, epoch: i32, offset: i64) -> Result<(), BrokerError> {
        let role = self.replica.role();
        self.check_follower(&role, epoch)?;
        let mut log = self.log();
        if offset < log.log_end_offset() {
            tracing::info!(topic = %self.topic, partition = self.index, from = log.log_end_offset(), to = offset, "truncating diverged log");
            log.truncate_to(offset)?;
            self.rebuild_txns(&log)?;
        }
        Ok(())
    }

    /// Where to truncate given the leader's answer for an epoch: the
    /// smaller of the leader's end for it and our own end for it.
    pub fn divergence_point(&self, leader_epoch: i32, leader_end: i64) -> i64 {
        let log = self.log();
        let leo = log.log_end_offset();
        if leader_epoch < 0 || leader_end < 0 {
            // The leader knows no epoch this old: keep what is committed.
            return log.high_watermark().min(leo);
        }
        match log.end_offset_for_epoch(leader_epoch) {
            Some((_, ours)) => leader_end.min(ours).min(leo),
            None => leader_end.min(leo),
        }
    }

    /// The follower learns the high watermark from the leader.
    pub fn follower_set_hw(&self, leader_hw: i64) {
        let mut log = self.log();
        let hw = leader_hw.min(log.log_end_offset());
        if hw > log.high_watermark() {
            log.set_high_watermark(hw);
        }
    }

    /// The follower's cleaner follows the leader's tombstone horizon.
    pub fn follower_set_tombstone_horizon(&self, horizon: i64) {
        self.log().set_tombstone_horizon(horizon);
    }

    /// (log end offset, latest epoch) for the next fetch.
    pub fn fetch_position(&self) -> (i64, Option<i32>) {
        let log = self.log();
        (log.log_end_offset(), log.latest_epoch())
    }
}
