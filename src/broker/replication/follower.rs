//! The follower's side of a partition: it appends what the leader sends,
//! keeping offsets and epochs, and truncates where its log diverges from
//! the leader's (KIP-101 / KIP-320 semantics).
use super::state::Role;
use crate::broker::error::BrokerError;
use crate::broker::partition::Partition;
use crate::log::AppendInfo;

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
        Ok(self.log().append_as_follower(buf)?)
    }

    /// Removes everything from `offset` on, if still following at `epoch`.
    pub fn follower_truncate(&self, epoch: i32, offset: i64) -> Result<(), BrokerError> {
        let role = self.replica.role();
        self.check_follower(&role, epoch)?;
        let mut log = self.log();
        if offset < log.log_end_offset() {
            tracing::info!(topic = %self.topic, partition = self.index, from = log.log_end_offset(), to = offset, "truncating diverged log");
            log.truncate_to(offset)?;
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

    /// (log end offset, latest epoch) for the next fetch.
    pub fn fetch_position(&self) -> (i64, Option<i32>) {
        let log = self.log();
        (log.log_end_offset(), log.latest_epoch())
    }
}
