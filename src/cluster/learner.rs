//! Brokers that are not controller voters: they are openraft *learners*.
//! A learner receives and applies the replicated metadata log (or a
//! snapshot, when it is further behind than the log reaches) like a
//! voter, registers and heartbeats as a broker, hosts and leads partition
//! replicas, but never votes and never becomes the controller.
//!
//! Learner side (`run`): ask the voters, one after another, to add this
//! node with its controller address (`Request::Join`); a voter that is not
//! the Raft leader forwards the request once to the leader, and the answer
//! also names the leader. Then register and heartbeat like any broker.
//!
//! Leader side (`on_join`): idempotent, so every start of a learner simply
//! asks again. Already a learner at that address: nothing is written. At
//! another address: the membership's node is updated (`SetNodes`), and the
//! leader's replication streams are rebuilt to the new address. Not a
//! member: `add_learner`. An id that is a voter, or an address that is
//! another member's, is refused for good (`JoinRefused`).
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{ChangeMembershipError, ClientWriteError, RaftError};
use openraft::{BasicNode, ChangeMembers, Membership};

use super::error::JoinRefused;
use super::handle::ClusterHandle;
use super::raft::types::{broker_id, raft_id, NodeId};
use super::raft::wire::{JoinError, JoinReply, Request, Response};

/// Pause between join attempts when no voter could help.
const RETRY: Duration = Duration::from_millis(500);

/// The learner's life: join the quorum, then register and heartbeat. A
/// refusal stops here and tells the broker (`ClusterHandle::failed`).
pub async fn run(handle: Arc<ClusterHandle>) {
    match join(&handle).await {
        Ok(()) => super::heartbeat::run(handle).await,
        Err(why) => {
            tracing::error!(error = %why, "the metadata quorum refused this broker");
            handle.refuse(why);
        }
    }
}

/// Asks voters until one answers for the leader. Retries everything but a
/// refusal, forever: a learner is useless without the quorum, and the
/// quorum may simply not be up yet.
async fn join(handle: &ClusterHandle) -> Result<(), JoinRefused> {
    let me = handle.node_id();
    let addr = handle.config.controller_listen.clone();
    let voters: Vec<NodeId> = handle.peers.ids().collect();
    if voters.is_empty() {
        // `--voters` is required with a learner; nothing to ask otherwise.
        tracing::error!("a learner needs at least one voter to join");
        return std::future::pending().await;
    }
    // The voter forwards to the leader and may wait for a commit there.
    let timeout = handle.config.propose_timeout * 2 + Duration::from_secs(1);
    let mut next = 0usize;
    let mut hint: Option<NodeId> = None;
    let mut last_failure = String::new();
    loop {
        let target = match hint.take() {
            Some(l) => l,
            None => {
                next = next.wrapping_add(1);
                voters[next % voters.len()]
            }
        };
        let req = Request::Join {
            node_id: me,
            addr: addr.clone(),
            forwarded: false,
        };
        let pause = match handle.peers.call(target, &req, timeout).await {
            Ok(Response::Join(Ok(reply))) => {
                match reply {
                    JoinReply::Added => {
                        tracing::info!(node_id = me, %addr, "joined the metadata quorum as a learner")
                    }
                    JoinReply::AlreadyLearner => {
                        tracing::info!(node_id = me, %addr, "already a learner of the metadata quorum")
                    }
                    JoinReply::AddressUpdated => tracing::info!(
                        node_id = me,
                        %addr,
                        "learner of the metadata quorum; its controller address is updated"
                    ),
                }
                return Ok(());
            }
            Ok(Response::Join(Err(JoinError::Refused(why)))) => return Err(why),
            Ok(Response::Join(Err(JoinError::NotLeader { leader }))) => {
                // Straight to the leader if it is a voter we know (it is
                // always a voter); else on to the next voter.
                hint = leader.filter(|l| *l != target && voters.contains(l));
                Duration::from_millis(if hint.is_some() { 50 } else { 200 })
            }
            Ok(Response::Join(Err(JoinError::Failed(m)))) => {
                // Say it once per distinct cause (e.g. a second broker
                // with this id) instead of every half second.
                if m != last_failure {
                    tracing::warn!(voter = target, error = %m, "cannot join the metadata quorum yet; retrying");
                    last_failure = m;
                }
                RETRY
            }
            Ok(other) => {
                tracing::debug!(voter = target, ?other, "unexpected answer to a join");
                RETRY
            }
            Err(e) => {
                tracing::debug!(voter = target, error = %e, "voter unreachable while joining");
                RETRY
            }
        };
        tokio::time::sleep(pause).await;
    }
}

/// What the leader must do about a join, from the current membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JoinAction {
    Nothing,
    Add,
    UpdateAddress,
}

pub(crate) fn decide(
    membership: &Membership<NodeId, BasicNode>,
    node_id: i32,
    addr: &str,
) -> Result<JoinAction, JoinRefused> {
    if node_id < 0 {
        return Err(JoinRefused::InvalidId { node_id });
    }
    let id = raft_id(node_id);
    if membership.voter_ids().any(|v| v == id) {
        return Err(JoinRefused::IdIsVoter { node_id });
    }
    if let Some((owner, _)) = membership
        .nodes()
        .find(|(other, n)| **other != id && n.addr == addr)
    {
        return Err(JoinRefused::AddressTaken {
            addr: addr.to_string(),
            owner: broker_id(*owner),
        });
    }
    Ok(match membership.get_node(&id) {
        Some(n) if n.addr == addr => JoinAction::Nothing,
        Some(_) => JoinAction::UpdateAddress,
        None => JoinAction::Add,
    })
}

/// A voter's side of `Request::Join`: the leader decides and commits; any
/// other voter forwards once to the leader it knows.
pub(crate) async fn on_join(
    handle: &Arc<ClusterHandle>,
    node_id: i32,
    addr: String,
    forwarded: bool,
) -> Result<JoinReply, JoinError> {
    let me = raft_id(handle.node_id());
    if !handle.is_leader() {
        let leader = handle.leader();
        return match leader {
            Some(l) if !forwarded && l != me => {
                let req = Request::Join {
                    node_id,
                    addr,
                    forwarded: true,
                };
                let timeout = handle.config.propose_timeout + Duration::from_secs(1);
                match handle.peers.call(l, &req, timeout).await {
                    Ok(Response::Join(r)) => r,
                    Ok(_) => Err(JoinError::Failed(format!(
                        "controller {l} answered a join with the wrong response type"
                    ))),
                    Err(e) => Err(JoinError::Failed(format!(
                        "controller {l} unreachable: {e}"
                    ))),
                }
            }
            _ => Err(JoinError::NotLeader { leader }),
        };
    }
    let membership = handle.raft.metrics().borrow().membership_config.clone();
    let action = decide(membership.membership(), node_id, &addr).map_err(JoinError::Refused)?;
    let id = raft_id(node_id);
    let node = BasicNode::new(&addr);
    let timeout = handle.config.propose_timeout;
    let outcome = match action {
        JoinAction::Nothing => return Ok(JoinReply::AlreadyLearner),
        JoinAction::Add => {
            // Not blocking: the learner catches up in the background, and
            // nothing waits on it being current (it does not vote).
            tokio::time::timeout(timeout, handle.raft.add_learner(id, node, false)).await
        }
        JoinAction::UpdateAddress => {
            // A live broker with this id moving its address is most likely
            // a second process started with the same id: refuse while the
            // first one still heartbeats. A restarted broker's previous
            // life falls silent, so this only delays it by a session.
            if handle
                .liveness
                .seen_within(node_id, handle.config.session_timeout)
            {
                return Err(JoinError::Failed(format!(
                    "node {node_id} still heartbeats from its previous controller address; \
                     waiting for its session to expire (is another broker running with node id {node_id}?)"
                )));
            }
            let change = ChangeMembers::SetNodes(BTreeMap::from([(id, node)]));
            tokio::time::timeout(timeout, handle.raft.change_membership(change, true)).await
        }
    };
    match outcome {
        Ok(Ok(_)) => Ok(match action {
            JoinAction::UpdateAddress => JoinReply::AddressUpdated,
            _ => JoinReply::Added,
        }),
        Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f)))) => {
            Err(JoinError::NotLeader {
                leader: f.leader_id,
            })
        }
        Ok(Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(
            ChangeMembershipError::InProgress(_),
        )))) => Err(JoinError::Failed(
            "another membership change is being committed".into(),
        )),
        Ok(Err(e)) => Err(JoinError::Failed(e.to_string())),
        Err(_) => Err(JoinError::Failed(format!(
            "the membership change did not commit within {} ms (has the controller lost its majority?)",
            timeout.as_millis()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::command::MetadataCommand;
    use crate::cluster::handle::ClusterConfig;
    use crate::cluster::metadata::ClusterMetadata;
    use openraft::ServerState;
    use std::collections::BTreeSet;
    use std::time::Instant;

    fn membership(voters: &[u64], learners: &[(u64, &str)]) -> Membership<NodeId, BasicNode> {
        let mut nodes: BTreeMap<NodeId, BasicNode> = voters
            .iter()
            .map(|&v| (v, BasicNode::new(format!("v{v}:1"))))
            .collect();
        for (id, a) in learners {
            nodes.insert(*id, BasicNode::new(*a));
        }
        Membership::new(vec![voters.iter().copied().collect::<BTreeSet<_>>()], nodes)
    }

    #[test]
    fn joining_is_idempotent_and_refuses_collisions() {
        let m = membership(&[1, 2, 3], &[(4, "l4:1")]);
        assert_eq!(decide(&m, 5, "l5:1"), Ok(JoinAction::Add));
        // A restart at the same address writes nothing; at a new one the
        // address is updated.
        assert_eq!(decide(&m, 4, "l4:1"), Ok(JoinAction::Nothing));
        assert_eq!(decide(&m, 4, "l4:2"), Ok(JoinAction::UpdateAddress));
        assert_eq!(
            decide(&m, 2, "x:1"),
            Err(JoinRefused::IdIsVoter { node_id: 2 })
        );
        assert_eq!(
            decide(&m, 5, "v3:1"),
            Err(JoinRefused::AddressTaken {
                addr: "v3:1".into(),
                owner: 3
            })
        );
        assert_eq!(
            decide(&m, 5, "l4:1"),
            Err(JoinRefused::AddressTaken {
                addr: "l4:1".into(),
                owner: 4
            })
        );
        assert_eq!(
            decide(&m, -1, "x:1"),
            Err(JoinRefused::InvalidId { node_id: -1 })
        );
    }

    fn free_addr() -> String {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    }

    fn config(node_id: i32, voter: &str, listen: &str) -> ClusterConfig {
        ClusterConfig {
            node_id,
            voters: vec![(1, voter.to_string())],
            controller_listen: listen.to_string(),
            advertised: ("127.0.0.1".into(), 9000 + node_id),
            session_timeout: Duration::from_millis(1000),
            heartbeat_interval: Duration::from_millis(100),
            propose_timeout: Duration::from_secs(10),
            offsets_partitions: 1,
            transaction_state_partitions: 1,
            // Tiny, so a few dozen writes purge the log.
            snapshot_every: 20,
            leader_imbalance_check_interval: None,
        }
    }

    /// Polls `f` until it holds, for at most 20 s.
    async fn until(what: &str, f: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !f() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn registered(md: &ClusterMetadata, node: i32, epoch: i64) -> bool {
        md.brokers
            .get(&node)
            .is_some_and(|b| b.epoch >= epoch && !b.fenced)
    }

    fn learner_addr(voter: &ClusterHandle, node: u64) -> Option<String> {
        let m = voter.raft.metrics().borrow().membership_config.clone();
        let is_learner = m.membership().learner_ids().any(|l| l == node);
        is_learner
            .then(|| m.membership().get_node(&node).map(|n| n.addr.clone()))
            .flatten()
    }

    /// One voter, then a learner that starts after the voter's log was
    /// purged: it must get the snapshot, apply what follows, register, and
    /// on restarts join again without a membership change (same address)
    /// or with the address updated (new address).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_late_learner_gets_the_snapshot_and_rejoins_idempotently() {
        let tmp = tempfile::tempdir().unwrap();
        let voter_addr = free_addr();
        let voter =
            ClusterHandle::start(config(1, &voter_addr, &voter_addr), &tmp.path().join("n1"))
                .await
                .unwrap();
        for _ in 0..60 {
            voter
                .propose(MetadataCommand::AllocateProducerIds { count: 1 })
                .await
                .unwrap();
        }
        until("the voter to purge its log", || {
            voter.raft.metrics().borrow().purged.is_some()
        })
        .await;

        let addr = free_addr();
        let learner = ClusterHandle::start(config(2, &voter_addr, &addr), &tmp.path().join("n2"))
            .await
            .unwrap();
        // The early producer-id entries are purged from the voter's log, so
        // a learner holding all of them got them through the snapshot.
        until("the learner to catch up and register", || {
            let md = learner.metadata();
            registered(&md, 2, 1)
                && md.next_producer_id == voter.metadata().next_producer_id
                && md.next_producer_id >= 60
        })
        .await;
        {
            let m = learner.raft.metrics().borrow().clone();
            assert!(m.snapshot.is_some(), "it started from the snapshot: {m:?}");
            assert_eq!(m.state, ServerState::Learner);
            assert_eq!(m.membership_config.voter_ids().collect::<Vec<_>>(), [1]);
        }
        assert_eq!(learner_addr(&voter, 2).as_deref(), Some(addr.as_str()));
        assert_eq!(voter.controller_id(), Some(1));
        let membership_at = *voter.raft.metrics().borrow().membership_config.log_id();

        // Restart at the same address: nothing to change.
        learner.shutdown().await;
        drop(learner);
        // The stopped node's controller port may take a moment to be free.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let learner = loop {
            match ClusterHandle::start(config(2, &voter_addr, &addr), &tmp.path().join("n2")).await
            {
                Ok(h) => break h,
                Err(e) if tokio::time::Instant::now() < deadline => {
                    eprintln!("restart not yet possible: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("learner restart: {e}"),
            }
        };
        until("the restarted learner to register", || {
            registered(&learner.metadata(), 2, 2)
        })
        .await;
        assert_eq!(
            *voter.raft.metrics().borrow().membership_config.log_id(),
            membership_at,
            "a restart at the same address wrote no membership change"
        );

        // Restart at a new address: the membership follows, and so does
        // replication (the learner applies new writes).
        learner.shutdown().await;
        drop(learner);
        let moved = free_addr();
        let learner = ClusterHandle::start(config(2, &voter_addr, &moved), &tmp.path().join("n2"))
            .await
            .unwrap();
        until("the address to be updated", || {
            learner_addr(&voter, 2).as_deref() == Some(moved.as_str())
        })
        .await;
        let first = voter
            .propose(MetadataCommand::AllocateProducerIds { count: 1 })
            .await
            .unwrap();
        let crate::cluster::CommandResult::ProducerIds { first } = first else {
            panic!("{first:?}");
        };
        until("the moved learner to apply new writes", || {
            learner.metadata().next_producer_id > first && registered(&learner.metadata(), 2, 3)
        })
        .await;
        learner.shutdown().await;
        voter.shutdown().await;
    }
}
