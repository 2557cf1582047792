//! Leader elections an operator asks for (Kafka's ElectLeaders,
//! `strom topics elect-leaders`): preferred (hand each partition back to
//! its first replica, only from the ISR) or unclean (a leaderless
//! partition takes any live replica, losing what only the dead replicas
//! had). Both go through the metadata quorum; a single node has nothing to
//! elect.
use crate::broker::error::BrokerError;
use crate::broker::state::Broker;
use crate::cluster::{CommandResult, ElectionOutcome, MetadataCommand};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElectionType {
    Preferred,
    Unclean,
}

impl Broker {
    /// Elects leaders for `partitions` (`None`: every partition of every
    /// topic) and says, per partition, what happened. With `None`,
    /// partitions that needed no election are left out of the answer, as
    /// Kafka does.
    pub async fn elect_leaders(
        &self,
        kind: ElectionType,
        partitions: Option<Vec<(String, i32)>>,
    ) -> Result<Vec<(String, i32, ElectionOutcome)>, BrokerError> {
        let all = partitions.is_none();
        let asked: Vec<(String, i32)> = match partitions {
            Some(p) => p,
            None => self
                .topic_views()
                .into_iter()
                .flat_map(|t| {
                    let name = t.name;
                    t.partitions
                        .into_iter()
                        .map(move |p| (name.clone(), p.partition))
                })
                .collect(),
        };
        let results = match &self.cluster {
            // One replica per partition: it leads already.
            None => asked
                .into_iter()
                .map(|(t, p)| {
                    let outcome = if self.partition_exists(&t, p) {
                        ElectionOutcome::NotNeeded
                    } else {
                        ElectionOutcome::UnknownPartition
                    };
                    (t, p, outcome)
                })
                .collect(),
            Some(c) => {
                let cmd = match kind {
                    ElectionType::Preferred => {
                        MetadataCommand::ElectPreferredLeaders { partitions: asked }
                    }
                    ElectionType::Unclean => {
                        MetadataCommand::ElectUncleanLeaders { partitions: asked }
                    }
                };
                match c.propose(cmd).await? {
                    CommandResult::Elections(r) => {
                        // Answer once this broker's view shows the new
                        // leaders, so a describe right after agrees.
                        c.wait_caught_up().await;
                        r
                    }
                    other => {
                        return Err(BrokerError::InvalidRequest(format!(
                            "the controller answered an election with {other:?}"
                        )))
                    }
                }
            }
        };
        Ok(results
            .into_iter()
            .filter(|(_, _, o)| !(all && *o == ElectionOutcome::NotNeeded))
            .collect())
    }
}

/// The error code (NONE when elected) and message both protocols answer
/// for one partition's outcome.
pub fn outcome_status(
    kind: ElectionType,
    topic: &str,
    partition: i32,
    o: ElectionOutcome,
) -> (crate::proto::ErrorCode, Option<String>) {
    use crate::proto::ErrorCode;
    match o {
        ElectionOutcome::Elected => (ErrorCode::None, None),
        ElectionOutcome::NotNeeded => (
            ErrorCode::ElectionNotNeeded,
            Some(format!(
                "{topic}-{partition} already has the leader asked for"
            )),
        ),
        ElectionOutcome::NotAvailable => match kind {
            ElectionType::Preferred => (
                ErrorCode::PreferredLeaderNotAvailable,
                Some(format!(
                    "the preferred replica of {topic}-{partition} is not live or not in the ISR"
                )),
            ),
            ElectionType::Unclean => (
                ErrorCode::EligibleLeadersNotAvailable,
                Some(format!("no replica of {topic}-{partition} is live")),
            ),
        },
        ElectionOutcome::UnknownPartition => (
            ErrorCode::UnknownTopicOrPartition,
            Some(format!("topic '{topic}' has no partition {partition}")),
        ),
    }
}
