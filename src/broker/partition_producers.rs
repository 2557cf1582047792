//! The idempotent and transactional producers a partition's leader
//! remembers (KIP-664's DescribeProducers): epoch, last sequence, last
//! timestamp, and where an open transaction of theirs starts. Both
//! protocols' handlers answer from here.
use super::error::BrokerError;
use super::state::Broker;

/// One producer as the partition's leader knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveProducer {
    pub producer_id: i64,
    pub epoch: i16,
    pub last_sequence: i32,
    pub last_timestamp: i64,
    /// The first offset of its open transaction here; -1: none.
    pub current_txn_start_offset: i64,
}

impl Broker {
    /// Only the leader answers (NOT_LEADER elsewhere), as in Kafka.
    pub fn partition_producers(
        &self,
        topic: &str,
        partition: i32,
    ) -> Result<Vec<ActiveProducer>, BrokerError> {
        let part = self.topics.partition(topic, partition)?;
        if !part.replica.role().is_leader() {
            return Err(BrokerError::NotLeader(format!(
                "this broker does not lead {topic}-{partition}"
            )));
        }
        let open = part.open_transactions();
        let known = part.replica.producers().describe();
        Ok(known
            .into_iter()
            .map(|p| ActiveProducer {
                producer_id: p.producer_id,
                epoch: p.epoch,
                last_sequence: p.last_sequence,
                last_timestamp: p.last_timestamp,
                current_txn_start_offset: open
                    .iter()
                    .find(|(id, _)| *id == p.producer_id)
                    .map_or(-1, |&(_, first)| first),
            })
            .collect())
    }
}
