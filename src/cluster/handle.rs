//! `ClusterHandle`: what the broker holds when it runs in a cluster. It
//! starts this node's controller (a Raft voter, or a learner for a broker
//! not in `--voters`, plus the controller server), keeps the broker
//! registered and heartbeating, and gives the data plane the latest
//! committed `ClusterMetadata`.
//!
//! For the data plane (partition replication): read `metadata()` for the
//! current view, `subscribe()` to react to leader/ISR changes, and
//! `propose(MetadataCommand::AlterIsr { .. })` to change an ISR; the result
//! is `CommandResult::Partition` with the new `partition_epoch`.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openraft::error::{ClientWriteError, RaftError};
use openraft::{BasicNode, Config, ServerState, SnapshotPolicy};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::command::{CommandResult, MetadataCommand, RejectKind};
use super::error::{ClusterError, ControlledShutdownError, JoinRefused};
use super::liveness::Liveness;
use super::metadata::ClusterMetadata;
use super::peers::Peers;
use super::raft::log_store::LogStore;
use super::raft::network::Network;
use super::raft::state_machine::StateMachine;
use super::raft::types::{broker_id, raft_id, NodeId, Raft};
use super::raft::wire::{HeartbeatReply, NotApplied, Request, Response};
use crate::broker::config::BrokerConfig;

/// Settings of the quorum, from `BrokerConfig`.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub node_id: i32,
    /// The controller quorum. A `node_id` not among them makes this node a
    /// learner: it gets the replicated log but never votes.
    pub voters: Vec<(i32, String)>,
    /// Where this node's controller listens; for a learner also the
    /// address the leader replicates to (it has no `voters` entry).
    pub controller_listen: String,
    /// The client address this broker registers (host, port).
    pub advertised: (String, i32),
    /// A broker silent this long is fenced.
    pub session_timeout: Duration,
    pub heartbeat_interval: Duration,
    /// How long a write may wait for a leader and a commit.
    pub propose_timeout: Duration,
    /// Partitions and replication factor of `__consumer_offsets` when the
    /// controller creates it.
    pub offsets_partitions: i32,
    /// Partitions of `__transaction_state` when the controller creates it.
    pub transaction_state_partitions: i32,
    /// Log entries between snapshots (older entries are then purged, and a
    /// voter or learner that is further behind receives the snapshot).
    pub snapshot_every: u64,
    /// How often the controller leader checks for leadership to hand back
    /// to preferred replicas; `None`: never.
    pub leader_imbalance_check_interval: Option<Duration>,
}

impl ClusterConfig {
    pub fn from_broker(config: &BrokerConfig, advertised: (String, i32)) -> ClusterConfig {
        let own = config
            .voters
            .iter()
            .find(|(id, _)| *id == config.node_id)
            .map(|(_, a)| a.clone())
            .unwrap_or_default();
        ClusterConfig {
            node_id: config.node_id,
            voters: config.voters.clone(),
            controller_listen: config.controller_listen.clone().unwrap_or(own),
            advertised,
            session_timeout: config.broker_session_timeout,
            heartbeat_interval: Duration::from_millis(500),
            propose_timeout: Duration::from_secs(10),
            offsets_partitions: config.offsets_partitions,
            transaction_state_partitions: config.transaction_state_partitions,
            snapshot_every: 1000,
            leader_imbalance_check_interval: config.leader_imbalance_check_interval,
        }
    }

    /// Whether this node votes; otherwise it is a learner.
    pub fn is_voter(&self) -> bool {
        self.voters.iter().any(|(id, _)| *id == self.node_id)
    }
}

/// See [`ClusterHandle::raft_status`].
#[derive(Debug, Clone)]
pub struct RaftStatus {
    /// leader, follower, candidate, learner or shutdown.
    pub state: &'static str,
    pub term: u64,
    pub last_log_index: u64,
    pub last_applied_index: u64,
    /// The controller (Raft leader) as a broker id, when one is known.
    pub controller: Option<i32>,
}

pub struct ClusterHandle {
    pub(crate) config: ClusterConfig,
    pub(crate) raft: Raft,
    pub(crate) peers: Peers,
    pub(crate) liveness: Liveness,
    metadata: watch::Receiver<Arc<ClusterMetadata>>,
    /// Set when the quorum refused this learner for good (see `failed`).
    refused: watch::Sender<Option<JoinRefused>>,
    /// Whether this node has once caught up with the quorum since it
    /// started: before that, its view can be an old prefix of the log (a
    /// restart replays its own copy first), too stale to answer clients.
    caught_up: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

fn raft_config(snapshot_every: u64) -> anyhow::Result<Arc<Config>> {
    let config = Config {
        cluster_name: "strom".into(),
        heartbeat_interval: 100,
        // openraft starts an election only after the leader's lease (=
        // election_timeout_max) plus a random election timeout pass with
        // no heartbeat: 1.2-1.6 s after the leader dies. That is the first
        // part of every failover that loses the controller leader, so not
        // larger; not smaller, because controllers share machines with
        // busy brokers and a needless election stalls metadata writes (the
        // log store's fdatasync must stay well under it).
        election_timeout_min: 400,
        election_timeout_max: 800,
        install_snapshot_timeout: 5000,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(snapshot_every.max(1)),
        // Half a snapshot interval stays in the log, so a voter or learner
        // that is only a little behind catches up from the log rather than
        // receiving a whole snapshot.
        max_in_snapshot_log_to_keep: snapshot_every / 2,
        snapshot_max_chunk_size: 1 << 20,
        ..Default::default()
    };
    Ok(Arc::new(config.validate()?))
}

impl ClusterHandle {
    /// Opens `data_dir/raft`, starts the Raft node and the controller
    /// listener, and the background duties: for a voter bootstrap,
    /// registration, heartbeats and (when leader) fencing; for a learner
    /// joining the quorum, then registration and heartbeats. Returns once
    /// the listener is bound.
    pub async fn start(
        config: ClusterConfig,
        data_dir: &std::path::Path,
    ) -> anyhow::Result<Arc<ClusterHandle>> {
        if config.controller_listen.is_empty() {
            // A voter defaults to its --voters entry; a learner has none.
            anyhow::bail!(
                "node {} is not among the voters and has no controller address (--controller-listen)",
                config.node_id
            );
        }
        // Bound first: a taken port is the likeliest mistake, and failing
        // before Raft starts leaves nothing half-started behind.
        let listener = tokio::net::TcpListener::bind(&config.controller_listen)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot listen for controllers on {}: {e}",
                    config.controller_listen
                )
            })?;
        let raft_dir = data_dir.join("raft");
        std::fs::create_dir_all(&raft_dir)?;
        let log = LogStore::open(&raft_dir)
            .map_err(|e| anyhow::anyhow!("cannot open raft log in {}: {e}", raft_dir.display()))?;
        let (tx, rx) = watch::channel(Arc::new(ClusterMetadata::default()));
        let sm = StateMachine::open(&raft_dir, tx).map_err(|e| {
            anyhow::anyhow!("cannot open raft snapshot in {}: {e}", raft_dir.display())
        })?;
        let raft = Raft::new(
            raft_id(config.node_id),
            raft_config(config.snapshot_every)?,
            Network,
            log,
            sm,
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot start raft: {e}"))?;
        let peers = Peers::new(
            config
                .voters
                .iter()
                .map(|(id, a)| (raft_id(*id), a.clone()))
                .collect(),
        );
        let handle = Arc::new(ClusterHandle {
            config,
            raft,
            peers,
            liveness: Liveness::default(),
            metadata: rx,
            refused: watch::channel(None).0,
            caught_up: watch::channel(false).0,
            tasks: Mutex::new(Vec::new()),
        });
        let mut tasks = vec![tokio::spawn(super::raft::server::serve(
            listener,
            handle.clone(),
        ))];
        if handle.config.is_voter() {
            tasks.push(tokio::spawn(super::bootstrap::run(handle.clone())));
            tasks.push(tokio::spawn(super::heartbeat::run(handle.clone())));
            tasks.push(tokio::spawn(super::duties::run(handle.clone())));
        } else {
            // A learner never leads, so it has no bootstrap or leader
            // duties; it joins first, then registers and heartbeats.
            tasks.push(tokio::spawn(super::learner::run(handle.clone())));
        }
        handle
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(tasks);
        Ok(handle)
    }

    pub fn node_id(&self) -> i32 {
        self.config.node_id
    }

    /// Resolves when the quorum refused this learner for good (its id is a
    /// voter's, its address another member's): the broker then stops.
    /// Never resolves for a voter, nor for a learner that joined.
    pub async fn failed(&self) -> JoinRefused {
        let mut rx = self.refused.subscribe();
        if let Ok(r) = rx.wait_for(|r| r.is_some()).await {
            if let Some(r) = r.clone() {
                return r;
            }
        }
        // The sender lives as long as `self`; without it nothing can fail.
        std::future::pending().await
    }

    pub(crate) fn refuse(&self, why: JoinRefused) {
        self.refused.send_replace(Some(why));
    }

    /// The latest applied metadata (may trail the leader by a moment).
    pub fn metadata(&self) -> Arc<ClusterMetadata> {
        self.metadata.borrow().clone()
    }

    /// Changes whenever a committed command is applied locally.
    pub fn subscribe(&self) -> watch::Receiver<Arc<ClusterMetadata>> {
        self.metadata.clone()
    }

    /// The current controller (Raft leader), if one is known.
    pub fn controller_id(&self) -> Option<i32> {
        self.raft.metrics().borrow().current_leader.map(broker_id)
    }

    /// This node's view of the metadata quorum, for metrics.
    pub fn raft_status(&self) -> RaftStatus {
        let m = self.raft.metrics().borrow().clone();
        RaftStatus {
            state: match m.state {
                ServerState::Leader => "leader",
                ServerState::Follower => "follower",
                ServerState::Candidate => "candidate",
                ServerState::Learner => "learner",
                ServerState::Shutdown => "shutdown",
            },
            term: m.current_term,
            last_log_index: m.last_log_index.unwrap_or(0),
            last_applied_index: m.last_applied.map(|l| l.index).unwrap_or(0),
            controller: m.current_leader.map(broker_id),
        }
    }

    pub(crate) fn is_leader(&self) -> bool {
        self.raft.metrics().borrow().state == ServerState::Leader
    }

    pub(crate) fn leader(&self) -> Option<NodeId> {
        self.raft.metrics().borrow().current_leader
    }

    /// The voters: id → controller address (learners are not in it).
    pub(crate) fn voters(&self) -> BTreeMap<NodeId, BasicNode> {
        self.config
            .voters
            .iter()
            .map(|(id, a)| (raft_id(*id), BasicNode::new(a)))
            .collect()
    }

    /// Commits `cmd` through the quorum and returns what applying it
    /// produced. Forwards to the leader when this node is not it, and
    /// retries while there is no leader, for up to `propose_timeout`.
    /// A refusal by the state machine is `ClusterError::Rejected`.
    pub async fn propose(&self, cmd: MetadataCommand) -> Result<CommandResult, ClusterError> {
        let timeout = self.config.propose_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let mut last = String::from("no controller leader elected");
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(ClusterError::Unavailable(format!(
                    "{last} within {} ms (a majority of the voters must be up)",
                    timeout.as_millis()
                )));
            }
            match self.leader() {
                Some(l) if l == raft_id(self.node_id()) => {
                    match tokio::time::timeout(left, self.raft.client_write(cmd.clone())).await {
                        Ok(Ok(resp)) => return resp.data.map_err(ClusterError::Rejected),
                        Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_)))) => {
                            last = "leadership changed".into();
                        }
                        Ok(Err(RaftError::Fatal(_))) => return Err(ClusterError::ShuttingDown),
                        Ok(Err(e)) => last = e.to_string(),
                        Err(_) => return Err(ClusterError::Timeout(timeout.as_millis() as u64)),
                    }
                }
                Some(l) => {
                    match self
                        .peers
                        .call(l, &Request::Propose(cmd.clone()), left)
                        .await
                    {
                        Ok(Response::Propose(Ok(r))) => return r.map_err(ClusterError::Rejected),
                        Ok(Response::Propose(Err(NotApplied::Failed(m)))) => {
                            return Err(ClusterError::Unavailable(m))
                        }
                        Ok(_) => last = format!("controller {l} is no longer the leader"),
                        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                            return Err(ClusterError::Timeout(timeout.as_millis() as u64))
                        }
                        Err(e) => last = format!("controller {l} unreachable: {e}"),
                    }
                }
                None => {}
            }
            tokio::time::sleep(Duration::from_millis(100).min(left)).await;
        }
    }

    /// The leader's quorum-confirmed commit index.
    async fn read_index(&self) -> Option<u64> {
        match self.leader() {
            Some(l) if l == raft_id(self.node_id()) => self
                .raft
                .ensure_linearizable()
                .await
                .ok()
                .map(|id| id.map(|i| i.index).unwrap_or(0)),
            Some(l) => match self
                .peers
                .call(l, &Request::ReadIndex, Duration::from_secs(2))
                .await
            {
                Ok(Response::ReadIndex(Ok(i))) => Some(i),
                _ => None,
            },
            None => None,
        }
    }

    /// Records that this node has caught up with the quorum once.
    pub fn mark_caught_up(&self) {
        self.caught_up.send_replace(true);
    }

    /// Waits (at most `limit`) until this node has caught up with the
    /// quorum once since it started, so that a restarted broker does not
    /// hand clients the leaders and ISRs of before its restart, as a Kafka
    /// broker serves nobody until it has caught up with the metadata log.
    /// Past `limit` (no quorum) the caller answers from what it has.
    pub async fn wait_first_catch_up(&self, limit: Duration) {
        let mut rx = self.caught_up.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(|c| *c)).await;
    }

    /// Waits until this node has applied everything the quorum had
    /// committed when called, so a view missing a topic really means the
    /// topic is gone (not that this node is behind after a restart).
    pub async fn wait_caught_up(&self) {
        loop {
            if let Some(index) = self.read_index().await {
                let mut rx = self.subscribe();
                let _ = rx.wait_for(|m| m.applied_index >= index).await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The leader's side of a heartbeat: note the broker alive; a fenced
    /// broker is unfenced (in the background, the reply does not wait).
    pub(crate) fn on_heartbeat(
        self: &Arc<Self>,
        node_id: i32,
    ) -> Result<HeartbeatReply, NotApplied> {
        if !self.is_leader() {
            return Err(NotApplied::NotLeader {
                leader: self.leader(),
            });
        }
        self.liveness.record(node_id);
        let md = self.metadata();
        match md.brokers.get(&node_id) {
            None => Ok(HeartbeatReply::Unregistered),
            Some(b) => {
                // A broker in controlled shutdown is leaving: only a new
                // registration (its restart) brings it back.
                if b.fenced && !b.in_controlled_shutdown {
                    let me = self.clone();
                    tokio::spawn(async move {
                        if let Err(e) = me.propose(MetadataCommand::UnfenceBroker { node_id }).await
                        {
                            tracing::warn!(node_id, error = %e, "could not unfence broker");
                        }
                    });
                }
                Ok(HeartbeatReply::Ok)
            }
        }
    }

    /// Sends this broker's heartbeat to the leader (or records it locally).
    pub(crate) async fn heartbeat(self: &Arc<Self>) -> Option<HeartbeatReply> {
        let me = self.node_id();
        match self.leader() {
            Some(l) if l == raft_id(me) => self.on_heartbeat(me).ok(),
            Some(l) => {
                let timeout = self.config.heartbeat_interval * 2;
                match self
                    .peers
                    .call(l, &Request::Heartbeat { node_id: me }, timeout)
                    .await
                {
                    Ok(Response::Heartbeat(Ok(r))) => Some(r),
                    _ => None,
                }
            }
            None => None,
        }
    }

    /// Hands this broker's partitions over before it stops (Kafka's
    /// controlled shutdown): proposes `ControlledShutdown` at this broker's
    /// registration epoch, then waits until the locally applied metadata
    /// shows it leading no partition that another live in-sync replica
    /// could lead. Bounded by `limit`; on any failure the caller goes on
    /// shutting down and the session timeout does the rest.
    ///
    /// The Raft voter keeps running meanwhile (the proposal must commit and
    /// the other brokers still need this voter for their majority); it
    /// stops only in `shutdown`. openraft 0.9 cannot transfer leadership,
    /// so if this node is the Raft leader the others elect a new one after
    /// it stops (one election timeout).
    pub async fn controlled_shutdown(
        &self,
        limit: Duration,
    ) -> Result<Handover, ControlledShutdownError> {
        let me = self.node_id();
        // Typically the last broker of a cluster being stopped: the others
        // already left every ISR, so no one could take anything over, and
        // the quorum may have no majority left to commit a proposal.
        if !holds_movable(&self.metadata(), me) {
            return Ok(Handover::NothingToHandOver);
        }
        let work = async {
            // Read our epoch from a view that includes everything committed
            // so far, so a registration that committed a moment ago is seen.
            self.wait_caught_up().await;
            let mut retried = false;
            loop {
                let md = self.metadata();
                let Some(b) = md.brokers.get(&me) else {
                    return Err(ControlledShutdownError::NotRegistered(me));
                };
                let cmd = MetadataCommand::ControlledShutdown {
                    node_id: me,
                    broker_epoch: b.epoch,
                };
                match self.propose(cmd).await {
                    Ok(_) => break,
                    // Our registration committed after the view we read
                    // (it was in flight): catch up once and use its epoch.
                    Err(ClusterError::Rejected(r))
                        if r.kind == RejectKind::StaleEpoch && !retried =>
                    {
                        retried = true;
                        self.wait_caught_up().await;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            // The leader applied it; wait until this node has too. The
            // replica manager reacts to the same change, so from about
            // then on this broker answers NOT_LEADER_OR_FOLLOWER for the
            // partitions it handed over, and clients move on.
            let mut rx = self.subscribe();
            if rx.wait_for(|md| !leads_movable(md, me)).await.is_err() {
                return Err(ClusterError::ShuttingDown.into());
            }
            Ok(Handover::HandedOver)
        };
        match tokio::time::timeout(limit, work).await {
            Ok(r) => r,
            Err(_) => Err(ControlledShutdownError::TimedOut(limit.as_millis() as u64)),
        }
    }

    /// Stops the background tasks and the Raft node.
    pub async fn shutdown(&self) {
        let tasks: Vec<_> = self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        for t in tasks {
            t.abort();
        }
        if let Err(e) = self.raft.shutdown().await {
            tracing::warn!(error = %e, "raft did not shut down cleanly");
        }
    }
}

/// What a controlled shutdown did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handover {
    /// The controller moved this broker's leaderships and ISR places.
    HandedOver,
    /// No other live in-sync replica could take anything over; nothing
    /// was proposed.
    NothingToHandOver,
}

/// Whether `node` leads a partition that another live in-sync replica
/// could take over (what a controlled shutdown waits to be rid of).
pub fn leads_movable(md: &ClusterMetadata, node: i32) -> bool {
    movable(md, node, |p| p.leader == node)
}

/// Whether `node` leads or is in the ISR of a partition whose ISR has
/// another live member: a leadership to move, or an ISR place whose
/// leader's high watermark would otherwise wait for `node` until it is
/// dropped for lagging.
pub fn holds_movable(md: &ClusterMetadata, node: i32) -> bool {
    movable(md, node, |p| p.leader == node || p.isr.contains(&node))
}

fn movable(
    md: &ClusterMetadata,
    node: i32,
    holds: impl Fn(&super::metadata::PartitionAssignment) -> bool,
) -> bool {
    let live = |r: i32| md.brokers.get(&r).is_some_and(|b| !b.fenced);
    md.topics
        .values()
        .flat_map(|t| &t.partitions)
        .any(|p| holds(p) && p.isr.iter().any(|&r| r != node && live(r)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::metadata::{BrokerRegistration, PartitionAssignment, TopicAssignment};

    fn md(isr: Vec<i32>, leader: i32, fenced: &[i32]) -> ClusterMetadata {
        let mut md = ClusterMetadata::default();
        for id in 1..=3 {
            md.brokers.insert(
                id,
                BrokerRegistration {
                    node_id: id,
                    host: "h".into(),
                    port: 1,
                    fenced: fenced.contains(&id),
                    epoch: 1,
                    in_controlled_shutdown: false,
                },
            );
        }
        md.topics.insert(
            "t".into(),
            TopicAssignment {
                name: "t".into(),
                partitions: vec![PartitionAssignment {
                    replicas: vec![1, 2, 3],
                    leader,
                    isr,
                    ..Default::default()
                }],
                ..Default::default()
            },
        );
        md
    }

    #[test]
    fn only_what_another_live_isr_member_can_take_counts() {
        // Leads, and 2 could take over.
        let m = md(vec![1, 2], 1, &[]);
        assert!(leads_movable(&m, 1) && holds_movable(&m, 1));
        // A follower in the ISR: nothing to lead, an ISR place to give up.
        assert!(!leads_movable(&m, 2) && holds_movable(&m, 2));
        // Out of the ISR: nothing at all.
        assert!(!holds_movable(&m, 3));
        // The only live in-sync replica (the other one is fenced, or the
        // ISR is just itself): stays, nothing to hand over.
        assert!(!holds_movable(&md(vec![1, 2], 1, &[2]), 1));
        assert!(!holds_movable(&md(vec![1], 1, &[]), 1));
    }
}
