//! What the data plane asks of the controller, as a trait so replication
//! runs against the metadata quorum in production and against an in-memory
//! controller in tests. [`LocalControlPlane`] applies the same rules as
//! the controller (epoch checks, election from the ISR) to a watch channel.
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::cluster::metadata::{
    BrokerRegistration, ClusterMetadata, PartitionAssignment, TopicAssignment, NO_LEADER,
};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A leader's request to change a partition's in-sync replicas. Refused
/// when `leader_epoch` or `partition_epoch` are not the current ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterIsr {
    pub topic: String,
    pub partition: i32,
    pub leader: i32,
    pub leader_epoch: i32,
    pub partition_epoch: i32,
    pub new_isr: Vec<i32>,
}

pub trait ControlPlane: Send + Sync + 'static {
    fn alter_isr(&self, req: AlterIsr) -> BoxFuture<'_, Result<(), String>>;
    /// Reserves `count` producer ids; returns the first.
    fn allocate_producer_ids(&self, count: i64) -> BoxFuture<'_, Result<i64, String>>;
}

/// An in-memory controller over a watch channel (tests, and a static
/// cluster without a quorum).
pub struct LocalControlPlane {
    tx: watch::Sender<Arc<ClusterMetadata>>,
    lock: Mutex<()>,
}

impl LocalControlPlane {
    pub fn new(md: ClusterMetadata) -> Arc<LocalControlPlane> {
        Arc::new(LocalControlPlane {
            tx: watch::channel(Arc::new(md)).0,
            lock: Mutex::new(()),
        })
    }

    pub fn subscribe(&self) -> watch::Receiver<Arc<ClusterMetadata>> {
        self.tx.subscribe()
    }

    pub fn metadata(&self) -> Arc<ClusterMetadata> {
        self.tx.borrow().clone()
    }

    /// Applies `f` to a copy of the metadata and publishes it.
    pub fn update<R>(&self, f: impl FnOnce(&mut ClusterMetadata) -> R) -> R {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut md = (**self.tx.borrow()).clone();
        let r = f(&mut md);
        md.applied_index += 1;
        self.tx.send_replace(Arc::new(md));
        r
    }

    pub fn register_broker(&self, node_id: i32, host: &str, port: i32) {
        self.update(|md| {
            let epoch = md.brokers.get(&node_id).map(|b| b.epoch + 1).unwrap_or(0);
            md.brokers.insert(
                node_id,
                BrokerRegistration {
                    node_id,
                    host: host.to_string(),
                    port,
                    fenced: false,
                    epoch,
                    in_controlled_shutdown: false,
                },
            );
        });
    }

    /// Assigns a topic with the first replica of each list as leader.
    pub fn create_topic(&self, name: &str, replicas: Vec<Vec<i32>>) {
        self.update(|md| {
            md.topics.insert(
                name.to_string(),
                TopicAssignment {
                    name: name.to_string(),
                    internal: false,
                    configs: Default::default(),
                    partitions: replicas
                        .into_iter()
                        .map(|r| PartitionAssignment {
                            leader: r.first().copied().unwrap_or(NO_LEADER),
                            leader_epoch: 0,
                            isr: r.clone(),
                            partition_epoch: 0,
                            replicas: r,
                        })
                        .collect(),
                },
            );
        });
    }

    /// Fences a broker: out of every ISR; partitions it led get a new
    /// leader from the remaining ISR (never an out-of-sync replica).
    pub fn fence(&self, node_id: i32) {
        self.update(|md| {
            if let Some(b) = md.brokers.get_mut(&node_id) {
                b.fenced = true;
            }
            for t in md.topics.values_mut() {
                for p in &mut t.partitions {
                    let was_leader = p.leader == node_id;
                    if p.isr.len() > 1 || was_leader {
                        p.isr.retain(|r| *r != node_id);
                    }
                    if p.isr.is_empty() {
                        // Keep the last replica in the ISR (no unclean election).
                        p.isr.push(node_id);
                    }
                    if was_leader {
                        p.leader = p
                            .isr
                            .iter()
                            .copied()
                            .find(|r| *r != node_id)
                            .unwrap_or(NO_LEADER);
                        p.leader_epoch += 1;
                    }
                    p.partition_epoch += 1;
                }
            }
        });
    }

    pub fn unfence(&self, node_id: i32) {
        self.update(|md| {
            if let Some(b) = md.brokers.get_mut(&node_id) {
                b.fenced = false;
                b.epoch += 1;
            }
            for t in md.topics.values_mut() {
                for p in &mut t.partitions {
                    if p.leader == NO_LEADER && p.isr.contains(&node_id) {
                        p.leader = node_id;
                        p.leader_epoch += 1;
                        p.partition_epoch += 1;
                    }
                }
            }
        });
    }
}

impl ControlPlane for LocalControlPlane {
    fn alter_isr(&self, req: AlterIsr) -> BoxFuture<'_, Result<(), String>> {
        let r = self.update(|md| {
            let t = md
                .topics
                .get_mut(&req.topic)
                .ok_or_else(|| format!("unknown topic {}", req.topic))?;
            let p = usize::try_from(req.partition)
                .ok()
                .and_then(|i| t.partitions.get_mut(i))
                .ok_or_else(|| format!("unknown partition {}", req.partition))?;
            if p.leader != req.leader
                || p.leader_epoch != req.leader_epoch
                || p.partition_epoch != req.partition_epoch
            {
                return Err(format!(
                    "stale AlterIsr: leader {} epoch {}/{} vs current {} epoch {}/{}",
                    req.leader,
                    req.leader_epoch,
                    req.partition_epoch,
                    p.leader,
                    p.leader_epoch,
                    p.partition_epoch
                ));
            }
            p.isr = req.new_isr.clone();
            p.partition_epoch += 1;
            Ok(())
        });
        Box::pin(async move { r })
    }

    fn allocate_producer_ids(&self, count: i64) -> BoxFuture<'_, Result<i64, String>> {
        let first = self.update(|md| {
            let first = md.next_producer_id;
            md.next_producer_id += count;
            first
        });
        Box::pin(async move { Ok(first) })
    }
}
