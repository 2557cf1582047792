//! The replica manager: applies the cluster metadata to the local
//! partitions (leader, follower or offline at the metadata's epoch), runs
//! one fetcher per leader this broker follows, proposes ISR changes, and
//! hands out producer ids in blocks from the controller.
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::control::{AlterIsr, ControlPlane};
use super::fetcher::{self, Key, Target, Targets};
use super::state::Role;
use super::ReplicationConfig;
use crate::broker::topics::TopicManager;
use crate::cluster::metadata::{ClusterMetadata, NO_LEADER};

/// Called with (topic, partition, leads) when leadership is gained or lost
/// (the group coordinator loads or unloads `__consumer_offsets` partitions).
pub type LeadershipListener = Box<dyn Fn(&str, i32, bool) + Send + Sync>;

struct Fetcher {
    targets: Targets,
    /// Told when a partition is added, so the fetch includes it at once.
    changed: Arc<tokio::sync::Notify>,
    task: JoinHandle<()>,
}

pub struct ReplicaManager {
    node_id: i32,
    topics: Arc<TopicManager>,
    control: Arc<dyn ControlPlane>,
    metadata: watch::Receiver<Arc<ClusterMetadata>>,
    config: ReplicationConfig,
    fetchers: Mutex<HashMap<i32, Fetcher>>,
    listeners: Mutex<Vec<LeadershipListener>>,
    /// Producer ids reserved from the controller: [next, end).
    producer_ids: tokio::sync::Mutex<(i64, i64)>,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// Producer ids reserved per controller round trip.
const PRODUCER_ID_BLOCK: i64 = 1000;

static REGISTRY: Mutex<Vec<(Weak<TopicManager>, Weak<ReplicaManager>)>> = Mutex::new(Vec::new());

impl ReplicaManager {
    /// Starts replication for the broker whose partitions `topics` holds.
    pub fn start(
        node_id: i32,
        data_dir: &std::path::Path,
        topics: Arc<TopicManager>,
        control: Arc<dyn ControlPlane>,
        metadata: watch::Receiver<Arc<ClusterMetadata>>,
        config: ReplicationConfig,
        listeners: Vec<LeadershipListener>,
    ) -> Arc<ReplicaManager> {
        // From now on partitions opened here start offline; those already
        // open stop acting alone until the metadata gives them a role.
        super::state::mark_clustered(data_dir);
        for topic in topics.list() {
            for part in topic.partitions() {
                if matches!(part.role(), Role::Standalone) {
                    part.become_offline(-1);
                }
            }
        }
        let mgr = Arc::new(ReplicaManager {
            node_id,
            topics: topics.clone(),
            control,
            metadata,
            config,
            fetchers: Mutex::new(HashMap::new()),
            listeners: Mutex::new(listeners),
            producer_ids: tokio::sync::Mutex::new((0, 0)),
            task: Mutex::new(None),
        });
        {
            let mut reg = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
            reg.retain(|(t, m)| t.strong_count() > 0 && m.strong_count() > 0);
            reg.push((Arc::downgrade(&topics), Arc::downgrade(&mgr)));
        }
        let task = tokio::spawn(run(
            Arc::downgrade(&mgr),
            mgr.metadata.clone(),
            topics.subscribe_opened(),
        ));
        *mgr.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
        mgr
    }

    /// The manager replicating these topics, if the broker is clustered.
    pub fn for_topics(topics: &Arc<TopicManager>) -> Option<Arc<ReplicaManager>> {
        let reg = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
        reg.iter()
            .filter(|(t, _)| t.upgrade().is_some_and(|t| Arc::ptr_eq(&t, topics)))
            .find_map(|(_, m)| m.upgrade())
    }

    pub fn node_id(&self) -> i32 {
        self.node_id
    }

    pub fn metadata(&self) -> Arc<ClusterMetadata> {
        self.metadata.borrow().clone()
    }

    pub fn on_leadership(&self, f: LeadershipListener) {
        self.listeners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(f);
    }

    /// Stops the fetchers and the metadata watch (broker shutdown).
    pub fn stop(&self) {
        if let Some(t) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            t.abort();
        }
        for (_, f) in self
            .fetchers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
        {
            f.task.abort();
        }
    }

    /// A producer id from the block reserved from the controller.
    pub async fn next_producer_id(&self) -> Result<i64, String> {
        let mut ids = self.producer_ids.lock().await;
        if ids.0 >= ids.1 {
            let first = self
                .control
                .allocate_producer_ids(PRODUCER_ID_BLOCK)
                .await?;
            *ids = (first, first + PRODUCER_ID_BLOCK);
        }
        let id = ids.0;
        ids.0 += 1;
        Ok(id)
    }

    /// Brings every local partition's role in line with the metadata.
    pub fn reconcile(&self, md: &ClusterMetadata) {
        let mut follow: HashMap<i32, Vec<(Key, Target)>> = HashMap::new();
        let mut events: Vec<(String, i32, bool)> = Vec::new();
        for (name, t) in &md.topics {
            let Some(topic) = self.topics.get(name) else {
                continue;
            };
            for (i, a) in t.partitions.iter().enumerate() {
                let index = i as i32;
                let Some(part) = topic.partition(index) else {
                    continue;
                };
                let before = part.role();
                if !matches!(before, Role::Standalone) && a.leader_epoch < before.epoch() {
                    continue; // never act on older metadata than we have seen
                }
                let was_leader = before.is_leader() && !matches!(before, Role::Standalone);
                if a.leader == self.node_id && a.replicas.contains(&self.node_id) {
                    if part.become_leader(self.node_id, a) {
                        events.push((name.clone(), index, true));
                    }
                    continue;
                }
                if was_leader {
                    events.push((name.clone(), index, false));
                }
                if a.leader == NO_LEADER || !a.replicas.contains(&self.node_id) {
                    part.become_offline(a.leader_epoch);
                    continue;
                }
                let changed = part.become_follower(a.leader, a.leader_epoch);
                follow.entry(a.leader).or_default().push((
                    (topic.name.clone(), index),
                    Target {
                        part: part.clone(),
                        epoch: a.leader_epoch,
                        truncate_first: changed,
                    },
                ));
            }
        }
        self.assign_fetchers(follow);
        if !events.is_empty() {
            let listeners = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
            for (topic, p, leads) in events {
                for l in listeners.iter() {
                    l(&topic, p, leads);
                }
            }
        }
    }

    fn assign_fetchers(&self, follow: HashMap<i32, Vec<(Key, Target)>>) {
        let mut fetchers = self.fetchers.lock().unwrap_or_else(|p| p.into_inner());
        let wanted: HashSet<i32> = follow.keys().copied().collect();
        fetchers.retain(|leader, f| {
            let keep = wanted.contains(leader);
            if !keep {
                f.task.abort();
            }
            keep
        });
        for (leader, list) in follow {
            let f = fetchers.entry(leader).or_insert_with(|| {
                let targets: Targets = Default::default();
                let changed = Arc::new(tokio::sync::Notify::new());
                let task = tokio::spawn(fetcher::run(
                    self.node_id,
                    leader,
                    targets.clone(),
                    changed.clone(),
                    self.metadata.clone(),
                    self.config.clone(),
                ));
                Fetcher {
                    targets,
                    changed,
                    task,
                }
            });
            let mut added = false;
            let mut targets = fetcher::lock(&f.targets);
            let keys: HashSet<Key> = list.iter().map(|(k, _)| k.clone()).collect();
            targets.retain(|k, _| keys.contains(k));
            for (key, t) in list {
                match targets.get_mut(&key) {
                    Some(cur) if cur.epoch == t.epoch && !t.truncate_first => {}
                    _ => {
                        targets.insert(key, t);
                        added = true;
                    }
                }
            }
            drop(targets);
            if added {
                f.changed.notify_waiters();
            }
        }
    }

    /// Proposes ISR shrinks and expansions for partitions this broker leads.
    async fn maintain_isr(&self) {
        let lag = self.config.replica_lag_time_max;
        let md = self.metadata();
        for topic in self.topics.list() {
            for part in topic.partitions() {
                let Some(mut change) = part.isr_change(lag) else {
                    continue;
                };
                // A fenced broker (one that missed its session or is in
                // controlled shutdown) may still look caught up here, but
                // the controller refuses to add it; proposing it anyway
                // would hold the high watermark on the union of both ISRs
                // until each refusal, every 250 ms.
                if let Role::Leader(l) = part.role() {
                    change.new_isr.retain(|r| {
                        l.isr.contains(r) || !md.brokers.get(r).is_some_and(|b| b.fenced)
                    });
                    if same_members(&change.new_isr, &l.isr) {
                        continue;
                    }
                }
                part.set_pending_isr(Some(change.new_isr.clone()));
                let req = AlterIsr {
                    topic: topic.name.to_string(),
                    partition: part.index,
                    leader: self.node_id,
                    leader_epoch: change.leader_epoch,
                    partition_epoch: change.partition_epoch,
                    new_isr: change.new_isr.clone(),
                };
                tracing::info!(topic = %topic.name, partition = part.index, isr = ?change.new_isr, "proposing ISR change");
                let control = self.control.clone();
                let part = part.clone();
                tokio::spawn(async move {
                    if let Err(e) = control.alter_isr(req).await {
                        tracing::info!(topic = %part.topic, partition = part.index, error = %e, "ISR change refused");
                        part.set_pending_isr(None);
                    }
                });
            }
        }
    }
}

fn same_members(a: &[i32], b: &[i32]) -> bool {
    a.len() == b.len() && a.iter().all(|r| b.contains(r))
}

/// Reconciles roles whenever the metadata changes or partitions open
/// locally (a new topic's files are created by `cluster::sync` after the
/// metadata that assigns it arrives), and checks ISRs every 250 ms.
async fn run(
    mgr: Weak<ReplicaManager>,
    mut metadata: watch::Receiver<Arc<ClusterMetadata>>,
    mut opened: watch::Receiver<u64>,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let md = metadata.borrow_and_update().clone();
        {
            let Some(m) = mgr.upgrade() else { return };
            m.reconcile(&md);
        }
        tokio::select! {
            r = metadata.changed() => if r.is_err() { return },
            r = opened.changed() => if r.is_err() { return },
            _ = tick.tick() => {
                let Some(m) = mgr.upgrade() else { return };
                m.maintain_isr().await;
            }
        }
    }
}
