//! Applies one `MetadataCommand` to `ClusterMetadata`. Pure and
//! deterministic (no clock, no randomness, no local config): every voter
//! must reach the same state from the same log.
use std::collections::BTreeSet;

use super::command::{
    ApplyResult, CommandResult, ElectionOutcome, MetadataCommand, RejectKind, Rejection,
};
use super::metadata::{
    BrokerRegistration, ClusterMetadata, PartitionAssignment, TopicAssignment, NO_LEADER,
};

/// Upper bound on partitions per topic, as the local topic manager enforces.
const MAX_PARTITIONS: i32 = 100_000;

pub fn apply(md: &mut ClusterMetadata, cmd: MetadataCommand) -> ApplyResult {
    use MetadataCommand::*;
    match cmd {
        RegisterBroker {
            node_id,
            host,
            port,
        } => {
            // A quick restart (within the session) keeps the broker's ISR
            // places, as in Kafka: shrinking the ISR of a lagging replica is
            // the partition leader's job (AlterIsr).
            let epoch = md.brokers.get(&node_id).map(|b| b.epoch + 1).unwrap_or(1);
            md.brokers.insert(
                node_id,
                BrokerRegistration {
                    node_id,
                    host,
                    port,
                    fenced: false,
                    epoch,
                    in_controlled_shutdown: false,
                },
            );
            elect_leaders(md);
            Ok(CommandResult::Done)
        }
        FenceBroker { node_id } => {
            if !md.brokers.contains_key(&node_id) {
                return Err(Rejection::new(
                    RejectKind::UnknownBroker,
                    format!("broker {node_id} is not registered"),
                ));
            }
            fence(md, node_id);
            Ok(CommandResult::Done)
        }
        UnfenceBroker { node_id } => match md.brokers.get_mut(&node_id) {
            // A heartbeat sent just before the broker asked to shut down
            // can arrive after it: the broker is leaving, and must not be
            // handed leaderships or ISR places again in its last moments.
            Some(b) if b.in_controlled_shutdown => Err(Rejection::new(
                RejectKind::InvalidRequest,
                format!("broker {node_id} is shutting down; it returns by registering again"),
            )),
            Some(b) => {
                b.fenced = false;
                elect_leaders(md);
                Ok(CommandResult::Done)
            }
            None => Err(Rejection::new(
                RejectKind::UnknownBroker,
                format!("broker {node_id} is not registered"),
            )),
        },
        CreateTopic {
            name,
            partitions,
            replication_factor,
            configs,
            internal,
        } => create_topic(md, name, partitions, replication_factor, configs, internal),
        DeleteTopic { name } => match md.topics.get(&name) {
            None => Err(unknown_topic(&name)),
            Some(_) if crate::proto::is_internal_topic(&name) => Err(Rejection::new(
                RejectKind::InvalidTopic,
                format!("topic '{name}' is internal and cannot be deleted"),
            )),
            Some(_) => {
                md.topics.remove(&name);
                Ok(CommandResult::Done)
            }
        },
        AlterTopic {
            name,
            partitions,
            set_configs,
            delete_configs,
        } => alter_topic(md, name, partitions, set_configs, delete_configs),
        AlterIsr {
            topic,
            partition,
            leader,
            leader_epoch,
            partition_epoch,
            new_isr,
        } => alter_isr(
            md,
            &topic,
            partition,
            leader,
            leader_epoch,
            partition_epoch,
            new_isr,
        ),
        ElectLeaders => {
            elect_leaders(md);
            Ok(CommandResult::Done)
        }
        ElectPreferredLeaders { partitions } => {
            Ok(CommandResult::Elections(elect_preferred(md, &partitions)))
        }
        ElectUncleanLeaders { partitions } => {
            Ok(CommandResult::Elections(elect_unclean(md, &partitions)))
        }
        AlterBrokerConfigs {
            scope,
            set,
            delete,
            replace,
        } => {
            let values = md.broker_configs.entry(scope.clone()).or_default();
            if replace {
                values.clear();
            }
            for k in &delete {
                values.remove(k);
            }
            values.extend(set);
            if values.is_empty() {
                md.broker_configs.remove(&scope);
            }
            Ok(CommandResult::Done)
        }
        AllocateProducerIds { count } => {
            if count < 1 {
                return Err(Rejection::new(
                    RejectKind::InvalidRequest,
                    format!("cannot allocate {count} producer ids"),
                ));
            }
            let first = md.next_producer_id;
            md.next_producer_id = first.saturating_add(count);
            Ok(CommandResult::ProducerIds { first })
        }
        ControlledShutdown {
            node_id,
            broker_epoch,
        } => {
            let Some(b) = md.brokers.get_mut(&node_id) else {
                return Err(Rejection::new(
                    RejectKind::UnknownBroker,
                    format!("broker {node_id} is not registered"),
                ));
            };
            if b.epoch != broker_epoch {
                return Err(Rejection::new(
                    RejectKind::StaleEpoch,
                    format!(
                        "controlled shutdown of broker {node_id} at epoch {broker_epoch}, but it is registered at epoch {}",
                        b.epoch
                    ),
                ));
            }
            b.in_controlled_shutdown = true;
            // The same moves as a missed session, done while the broker is
            // still up: its followers have everything it acknowledged, so
            // a leader picked from the rest of the ISR loses nothing.
            fence(md, node_id);
            Ok(CommandResult::Done)
        }
    }
}

fn unknown_topic(name: &str) -> Rejection {
    Rejection::new(
        RejectKind::UnknownTopicOrPartition,
        format!("unknown topic '{name}'"),
    )
}

/// Marks `node` fenced, takes it out of every ISR it is not the last member
/// of, and moves leadership of its partitions to the first live ISR
/// replica. A partition whose ISR was only `node` keeps that ISR and has no
/// leader until `node` comes back: no unclean election.
fn fence(md: &mut ClusterMetadata, node: i32) {
    if let Some(b) = md.brokers.get_mut(&node) {
        b.fenced = true;
    }
    let live: BTreeSet<i32> = md.live_brokers().map(|b| b.node_id).collect();
    for topic in md.topics.values_mut() {
        for p in &mut topic.partitions {
            let mut changed = false;
            if p.isr.contains(&node) && p.isr.len() > 1 {
                p.isr.retain(|&r| r != node);
                changed = true;
            }
            if p.leader == node {
                p.leader = pick_leader(p, &live);
                p.leader_epoch += 1;
                changed = true;
            }
            if changed {
                p.partition_epoch += 1;
            }
        }
    }
}

/// The first replica (in preference order) that is in the ISR and live.
fn pick_leader(p: &PartitionAssignment, live: &BTreeSet<i32>) -> i32 {
    p.replicas
        .iter()
        .copied()
        .find(|r| p.isr.contains(r) && live.contains(r))
        .unwrap_or(NO_LEADER)
}

/// Elects a leader for partitions without a live one, from the ISR only.
fn elect_leaders(md: &mut ClusterMetadata) {
    let live: BTreeSet<i32> = md.live_brokers().map(|b| b.node_id).collect();
    for topic in md.topics.values_mut() {
        for p in &mut topic.partitions {
            if p.leader != NO_LEADER && live.contains(&p.leader) {
                continue;
            }
            let next = pick_leader(p, &live);
            if next != p.leader {
                p.leader = next;
                p.leader_epoch += 1;
                p.partition_epoch += 1;
            }
        }
    }
}

/// Hands each listed partition to its preferred replica when that one can
/// lead: live and in the ISR, so it holds every acknowledged record (the
/// same rule as any other election; never outside the ISR).
fn elect_preferred(
    md: &mut ClusterMetadata,
    partitions: &[(String, i32)],
) -> Vec<(String, i32, ElectionOutcome)> {
    let live: BTreeSet<i32> = md.live_brokers().map(|b| b.node_id).collect();
    let mut out = Vec::with_capacity(partitions.len());
    for (topic, index) in partitions {
        let outcome = match partition_mut(md, topic, *index) {
            None => ElectionOutcome::UnknownPartition, // deleted meanwhile
            Some(p) => match p.replicas.first().copied() {
                None => ElectionOutcome::NotAvailable,
                Some(preferred) if p.leader == preferred => ElectionOutcome::NotNeeded,
                Some(preferred) if p.isr.contains(&preferred) && live.contains(&preferred) => {
                    p.leader = preferred;
                    p.leader_epoch += 1;
                    p.partition_epoch += 1;
                    ElectionOutcome::Elected
                }
                Some(_) => ElectionOutcome::NotAvailable,
            },
        };
        out.push((topic.clone(), *index, outcome));
    }
    out
}

/// See `MetadataCommand::ElectUncleanLeaders`.
fn elect_unclean(
    md: &mut ClusterMetadata,
    partitions: &[(String, i32)],
) -> Vec<(String, i32, ElectionOutcome)> {
    let live: BTreeSet<i32> = md.live_brokers().map(|b| b.node_id).collect();
    let mut out = Vec::with_capacity(partitions.len());
    for (topic, index) in partitions {
        let outcome = match partition_mut(md, topic, *index) {
            None => ElectionOutcome::UnknownPartition,
            Some(p) if p.leader != NO_LEADER && live.contains(&p.leader) => {
                ElectionOutcome::NotNeeded
            }
            Some(p) => {
                let clean = pick_leader(p, &live);
                let next = if clean != NO_LEADER {
                    Some((clean, None))
                } else {
                    p.replicas
                        .iter()
                        .copied()
                        .find(|r| live.contains(r))
                        .map(|r| (r, Some(vec![r])))
                };
                match next {
                    None => ElectionOutcome::NotAvailable,
                    Some((leader, isr)) => {
                        p.leader = leader;
                        if let Some(isr) = isr {
                            // Only the new leader's log is known to be
                            // complete now; the others rejoin by catching up.
                            p.isr = isr;
                        }
                        p.leader_epoch += 1;
                        p.partition_epoch += 1;
                        ElectionOutcome::Elected
                    }
                }
            }
        };
        out.push((topic.clone(), *index, outcome));
    }
    out
}

fn partition_mut<'a>(
    md: &'a mut ClusterMetadata,
    topic: &str,
    index: i32,
) -> Option<&'a mut PartitionAssignment> {
    md.topics.get_mut(topic).and_then(|t| {
        usize::try_from(index)
            .ok()
            .and_then(|i| t.partitions.get_mut(i))
    })
}

/// Replicas for `count` new partitions starting at index `first`: live
/// brokers round-robin, distinct per partition, leader = first replica.
/// The start rotates with the number of partitions already in the cluster
/// so leadership spreads across brokers.
fn assign(
    md: &ClusterMetadata,
    first: i32,
    count: i32,
    rf: i16,
) -> Result<Vec<PartitionAssignment>, Rejection> {
    let live: Vec<i32> = md.live_brokers().map(|b| b.node_id).collect();
    if rf < 1 || rf as usize > live.len() {
        return Err(Rejection::new(
            RejectKind::InvalidReplicationFactor,
            format!(
                "replication factor {rf} is not possible with {} live broker(s)",
                live.len()
            ),
        ));
    }
    let existing: usize = md.topics.values().map(|t| t.partitions.len()).sum();
    let n = live.len();
    Ok((first..first + count)
        .map(|p| {
            let start = (existing + p as usize) % n;
            let replicas: Vec<i32> = (0..rf as usize).map(|j| live[(start + j) % n]).collect();
            PartitionAssignment {
                leader: replicas[0],
                isr: replicas.clone(),
                replicas,
                leader_epoch: 0,
                partition_epoch: 0,
            }
        })
        .collect())
}

fn create_topic(
    md: &mut ClusterMetadata,
    name: String,
    partitions: i32,
    rf: i16,
    configs: std::collections::BTreeMap<String, String>,
    internal: bool,
) -> ApplyResult {
    if md.topics.contains_key(&name) {
        return Err(Rejection::new(
            RejectKind::TopicExists,
            format!("topic '{name}' already exists"),
        ));
    }
    if !(1..=MAX_PARTITIONS).contains(&partitions) {
        return Err(Rejection::new(
            RejectKind::InvalidPartitions,
            format!("invalid partition count {partitions}: must be between 1 and {MAX_PARTITIONS}"),
        ));
    }
    let parts = assign(md, 0, partitions, rf)?;
    md.topics.insert(
        name.clone(),
        TopicAssignment {
            name,
            internal,
            configs,
            partitions: parts,
        },
    );
    Ok(CommandResult::Done)
}

fn alter_topic(
    md: &mut ClusterMetadata,
    name: String,
    partitions: Option<i32>,
    set: std::collections::BTreeMap<String, String>,
    delete: Vec<String>,
) -> ApplyResult {
    let Some(topic) = md.topics.get(&name) else {
        return Err(unknown_topic(&name));
    };
    let current = topic.partitions.len() as i32;
    let rf = topic
        .partitions
        .first()
        .map(|p| p.replicas.len())
        .unwrap_or(1) as i16;
    let mut added = Vec::new();
    if let Some(target) = partitions {
        if target < current || target > MAX_PARTITIONS {
            return Err(Rejection::new(
                RejectKind::InvalidPartitions,
                format!("topic '{name}' has {current} partitions; the count can only grow (up to {MAX_PARTITIONS})"),
            ));
        }
        added = assign(md, current, target - current, rf)?;
    }
    if let Some(topic) = md.topics.get_mut(&name) {
        for key in &delete {
            topic.configs.remove(key);
        }
        topic.configs.extend(set);
        topic.partitions.extend(added);
    }
    Ok(CommandResult::Done)
}

fn alter_isr(
    md: &mut ClusterMetadata,
    topic: &str,
    partition: i32,
    leader: i32,
    leader_epoch: i32,
    partition_epoch: i32,
    mut new_isr: Vec<i32>,
) -> ApplyResult {
    let fenced: BTreeSet<i32> = md
        .brokers
        .values()
        .filter(|b| b.fenced)
        .map(|b| b.node_id)
        .collect();
    let p = partition_mut(md, topic, partition).ok_or_else(|| {
        Rejection::new(
            RejectKind::UnknownTopicOrPartition,
            format!("unknown partition {topic}-{partition}"),
        )
    })?;
    if p.leader != leader || p.leader_epoch != leader_epoch || p.partition_epoch != partition_epoch
    {
        return Err(Rejection::new(
            RejectKind::StaleEpoch,
            format!(
                "stale AlterIsr for {topic}-{partition}: sent leader {leader} epoch {leader_epoch} partition epoch {partition_epoch}, current leader {} epoch {} partition epoch {}",
                p.leader, p.leader_epoch, p.partition_epoch
            ),
        ));
    }
    new_isr.sort_unstable();
    new_isr.dedup();
    if !new_isr.contains(&leader) || new_isr.iter().any(|r| !p.replicas.contains(r)) {
        return Err(Rejection::new(
            RejectKind::InvalidRequest,
            format!(
                "ISR {new_isr:?} must contain the leader {leader} and only replicas {:?}",
                p.replicas
            ),
        ));
    }
    if let Some(r) = new_isr
        .iter()
        .find(|r| !p.isr.contains(r) && fenced.contains(r))
    {
        return Err(Rejection::new(
            RejectKind::InvalidRequest,
            format!("broker {r} is fenced and cannot join the ISR"),
        ));
    }
    // Keep replica preference order, which leader election relies on.
    p.isr = p
        .replicas
        .iter()
        .copied()
        .filter(|r| new_isr.contains(r))
        .collect();
    p.partition_epoch += 1;
    Ok(CommandResult::Partition(p.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(n: i32) -> ClusterMetadata {
        let mut md = ClusterMetadata::default();
        for id in 1..=n {
            let r = apply(
                &mut md,
                MetadataCommand::RegisterBroker {
                    node_id: id,
                    host: "h".into(),
                    port: 9000 + id,
                },
            );
            assert_eq!(r, Ok(CommandResult::Done));
        }
        md
    }

    fn create(md: &mut ClusterMetadata, name: &str, partitions: i32, rf: i16) -> ApplyResult {
        apply(
            md,
            MetadataCommand::CreateTopic {
                name: name.into(),
                partitions,
                replication_factor: rf,
                configs: Default::default(),
                internal: false,
            },
        )
    }

    #[test]
    fn create_assigns_distinct_replicas_and_spreads_leaders() {
        let mut md = cluster(3);
        create(&mut md, "t", 3, 3).unwrap();
        let t = &md.topics["t"];
        let mut leaders = BTreeSet::new();
        for p in &t.partitions {
            let set: BTreeSet<_> = p.replicas.iter().collect();
            assert_eq!(set.len(), 3);
            assert_eq!(p.leader, p.replicas[0]);
            assert_eq!(p.isr, p.replicas);
            leaders.insert(p.leader);
        }
        assert_eq!(leaders.len(), 3);
        let err = create(&mut md, "u", 1, 4).unwrap_err();
        assert_eq!(err.kind, RejectKind::InvalidReplicationFactor);
        assert_eq!(
            create(&mut md, "t", 1, 1).unwrap_err().kind,
            RejectKind::TopicExists
        );
    }

    #[test]
    fn fencing_moves_leadership_within_the_isr_and_never_empties_it() {
        let mut md = cluster(3);
        create(&mut md, "t", 1, 2).unwrap();
        let p0 = md.partition("t", 0).unwrap().clone();
        let (a, b) = (p0.replicas[0], p0.replicas[1]);
        apply(&mut md, MetadataCommand::FenceBroker { node_id: a }).unwrap();
        let p = md.partition("t", 0).unwrap();
        assert_eq!((p.leader, p.isr.clone()), (b, vec![b]));
        assert_eq!((p.leader_epoch, p.partition_epoch), (1, 1));
        // The last ISR member is fenced: the ISR keeps it, nobody leads.
        apply(&mut md, MetadataCommand::FenceBroker { node_id: b }).unwrap();
        let p = md.partition("t", 0).unwrap();
        assert_eq!((p.leader, p.isr.clone()), (NO_LEADER, vec![b]));
        // `a` is out of sync: it coming back must not make it leader.
        apply(&mut md, MetadataCommand::UnfenceBroker { node_id: a }).unwrap();
        assert_eq!(md.partition("t", 0).unwrap().leader, NO_LEADER);
        apply(&mut md, MetadataCommand::UnfenceBroker { node_id: b }).unwrap();
        let p = md.partition("t", 0).unwrap();
        assert_eq!((p.leader, p.leader_epoch), (b, 3));
    }

    #[test]
    fn controlled_shutdown_moves_leaders_until_the_broker_registers_again() {
        let mut md = cluster(3);
        create(&mut md, "t", 3, 2).unwrap();
        // Three single-replica partitions: one of them lives on each broker.
        create(&mut md, "solo", 3, 1).unwrap();
        let a = md.partition("t", 0).unwrap().leader;
        let before = md.topics["t"].partitions.clone();
        let solo = md.topics["solo"]
            .partitions
            .iter()
            .position(|p| p.replicas == vec![a])
            .unwrap() as i32;
        let shutdown = |epoch| MetadataCommand::ControlledShutdown {
            node_id: a,
            broker_epoch: epoch,
        };
        // An epoch other than the current registration's is a stale copy.
        assert_eq!(
            apply(&mut md, shutdown(0)).unwrap_err().kind,
            RejectKind::StaleEpoch
        );
        assert_eq!(md.topics["t"].partitions, before);
        apply(&mut md, shutdown(1)).unwrap();
        let b = &md.brokers[&a];
        assert!(b.fenced && b.in_controlled_shutdown);
        for (old, p) in before.iter().zip(&md.topics["t"].partitions) {
            assert!(!p.isr.contains(&a), "{p:?}");
            assert_ne!(p.leader, a);
            if old.leader == a {
                assert!(p.isr.contains(&p.leader), "leader from the ISR: {p:?}");
                assert_eq!(p.leader_epoch, old.leader_epoch + 1);
            }
            if old.isr.contains(&a) {
                assert_eq!(p.partition_epoch, old.partition_epoch + 1);
            }
        }
        // Its only in-sync copy stays its own: no unclean election.
        let p = md.partition("solo", solo).unwrap();
        assert_eq!((p.leader, p.isr.clone()), (NO_LEADER, vec![a]));
        // A late heartbeat does not bring it back; registering does.
        assert_eq!(
            apply(&mut md, MetadataCommand::UnfenceBroker { node_id: a })
                .unwrap_err()
                .kind,
            RejectKind::InvalidRequest
        );
        assert!(md.brokers[&a].fenced);
        let register = MetadataCommand::RegisterBroker {
            node_id: a,
            host: "h".into(),
            port: 1,
        };
        apply(&mut md, register).unwrap();
        let b = &md.brokers[&a];
        assert!(!b.fenced && !b.in_controlled_shutdown);
        assert_eq!(b.epoch, 2);
        assert_eq!(md.partition("solo", solo).unwrap().leader, a);
        // The previous life's request, retried late, cannot fence this one.
        assert_eq!(
            apply(&mut md, shutdown(1)).unwrap_err().kind,
            RejectKind::StaleEpoch
        );
        assert!(!md.brokers[&a].fenced);
    }

    #[test]
    fn old_snapshots_without_the_shutdown_flag_still_load() {
        let json = r#"{"node_id":1,"host":"h","port":1,"fenced":false,"epoch":3}"#;
        let b: BrokerRegistration = serde_json::from_str(json).unwrap();
        assert!(!b.in_controlled_shutdown);
    }

    #[test]
    fn broker_configs_merge_per_scope_and_empty_scopes_go() {
        let mut md = cluster(3);
        let alter = |scope: &str, set: &[(&str, &str)], delete: &[&str], replace: bool| {
            MetadataCommand::AlterBrokerConfigs {
                scope: scope.into(),
                set: set
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                delete: delete.iter().map(|k| k.to_string()).collect(),
                replace,
            }
        };
        apply(&mut md, alter("", &[("a", "1"), ("b", "2")], &[], false)).unwrap();
        apply(&mut md, alter("", &[("c", "3")], &["a"], false)).unwrap();
        assert_eq!(md.broker_configs[""].len(), 2);
        apply(&mut md, alter("", &[("d", "4")], &[], true)).unwrap();
        assert_eq!(md.broker_configs[""].keys().collect::<Vec<_>>(), ["d"]);
        apply(&mut md, alter("2", &[("e", "5")], &[], false)).unwrap();
        apply(&mut md, alter("2", &[], &["e"], false)).unwrap();
        assert!(!md.broker_configs.contains_key("2"));
    }

    #[test]
    fn alter_isr_refuses_stale_epochs() {
        let mut md = cluster(3);
        create(&mut md, "t", 1, 3).unwrap();
        let p = md.partition("t", 0).unwrap().clone();
        let shrink = |pe: i32| MetadataCommand::AlterIsr {
            topic: "t".into(),
            partition: 0,
            leader: p.leader,
            leader_epoch: p.leader_epoch,
            partition_epoch: pe,
            new_isr: vec![p.leader],
        };
        match apply(&mut md, shrink(0)) {
            Ok(CommandResult::Partition(n)) => {
                assert_eq!((n.isr, n.partition_epoch), (vec![p.leader], 1))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            apply(&mut md, shrink(0)).unwrap_err().kind,
            RejectKind::StaleEpoch
        );
    }

    #[test]
    fn producer_ids_are_handed_out_once() {
        let mut md = cluster(1);
        let a = apply(&mut md, MetadataCommand::AllocateProducerIds { count: 10 });
        let b = apply(&mut md, MetadataCommand::AllocateProducerIds { count: 10 });
        assert_eq!(a, Ok(CommandResult::ProducerIds { first: 0 }));
        assert_eq!(b, Ok(CommandResult::ProducerIds { first: 10 }));
    }

    /// Sets partition 0 of "t"'s ISR through the leader, as a leader does.
    fn set_isr(md: &mut ClusterMetadata, isr: Vec<i32>) {
        let p = md.partition("t", 0).unwrap().clone();
        let r = apply(
            md,
            MetadataCommand::AlterIsr {
                topic: "t".into(),
                partition: 0,
                leader: p.leader,
                leader_epoch: p.leader_epoch,
                partition_epoch: p.partition_epoch,
                new_isr: isr,
            },
        );
        assert!(matches!(r, Ok(CommandResult::Partition(_))), "{r:?}");
    }

    #[test]
    fn leadership_returns_to_the_preferred_replica_once_it_is_in_the_isr() {
        let mut md = cluster(3);
        create(&mut md, "t", 3, 3).unwrap();
        assert!(md.leader_imbalance(10).is_empty(), "balanced at creation");
        let preferred = md.partition("t", 0).unwrap().replicas[0];
        // The preferred leader dies: another ISR member takes over.
        apply(&mut md, MetadataCommand::FenceBroker { node_id: preferred }).unwrap();
        let after_fence = md.partition("t", 0).unwrap().clone();
        assert_ne!(after_fence.leader, preferred);
        assert!(!after_fence.isr.contains(&preferred));
        let elect = |md: &mut ClusterMetadata| {
            let partitions = md.leader_imbalance(10);
            apply(md, MetadataCommand::ElectPreferredLeaders { partitions }).unwrap();
        };
        // Back, but not in the ISR yet: it may miss acknowledged records,
        // so it must not lead.
        let reg = MetadataCommand::RegisterBroker {
            node_id: preferred,
            host: "h".into(),
            port: 9000 + preferred,
        };
        apply(&mut md, reg).unwrap();
        assert!(md.leader_imbalance(10).is_empty());
        elect(&mut md);
        assert_eq!(md.partition("t", 0).unwrap(), &after_fence);

        // Caught up: the leader puts it back in the ISR, and it leads again
        // under a new epoch. Other partitions are untouched.
        let mut isr = after_fence.isr.clone();
        isr.push(preferred);
        set_isr(&mut md, isr);
        assert_eq!(md.leader_imbalance(10), vec![("t".to_string(), 0)]);
        let before = md.clone();
        elect(&mut md);
        let p = md.partition("t", 0).unwrap();
        assert_eq!(p.leader, preferred);
        assert_eq!(p.leader_epoch, after_fence.leader_epoch + 1);
        assert!(p.partition_epoch > before.partition("t", 0).unwrap().partition_epoch);
        for i in 1..3 {
            assert_eq!(md.partition("t", i), before.partition("t", i));
        }
        assert!(md.leader_imbalance(10).is_empty());
    }

    #[test]
    fn preferred_election_skips_fenced_unknown_and_small_imbalances() {
        let mut md = cluster(3);
        // Broker 1 prefers 20 partitions; 1 led elsewhere is 5%.
        create(&mut md, "t", 60, 3).unwrap();
        let mine: Vec<i32> = (0..60)
            .filter(|i| md.partition("t", *i).unwrap().replicas[0] == 1)
            .collect();
        assert_eq!(mine.len(), 20);
        let p = md.topics.get_mut("t").unwrap();
        let other = p.partitions[mine[0] as usize].replicas[1];
        p.partitions[mine[0] as usize].leader = other;
        assert!(md.leader_imbalance(10).is_empty(), "5% is within 10%");
        let p = md.topics.get_mut("t").unwrap();
        for &i in &mine[1..3] {
            p.partitions[i as usize].leader = p.partitions[i as usize].replicas[1];
        }
        // 15% now: all three go back.
        assert_eq!(md.leader_imbalance(10).len(), 3);
        // A fenced preferred replica is never elected, even if asked.
        let mut fenced = md.clone();
        fenced.brokers.get_mut(&1).unwrap().fenced = true;
        assert!(fenced.leader_imbalance(10).is_empty());
        let before = fenced.clone();
        let cmd = MetadataCommand::ElectPreferredLeaders {
            partitions: mine.iter().map(|i| ("t".to_string(), *i)).collect(),
        };
        apply(&mut fenced, cmd).unwrap();
        assert_eq!(fenced, before);
        // Unknown topics and partitions change nothing and are named.
        let cmd = MetadataCommand::ElectPreferredLeaders {
            partitions: vec![("gone".into(), 0), ("t".into(), 999), ("t".into(), -1)],
        };
        let before = md.clone();
        assert_eq!(
            apply(&mut md, cmd),
            Ok(CommandResult::Elections(vec![
                ("gone".into(), 0, ElectionOutcome::UnknownPartition),
                ("t".into(), 999, ElectionOutcome::UnknownPartition),
                ("t".into(), -1, ElectionOutcome::UnknownPartition),
            ]))
        );
        assert_eq!(md, before);
    }

    #[test]
    fn unclean_election_takes_a_live_replica_outside_the_isr_only_when_no_isr_member_lives() {
        let mut md = cluster(3);
        create(&mut md, "t", 1, 3).unwrap();
        let p0 = md.partition("t", 0).unwrap().clone();
        let (leader, others) = (p0.replicas[0], p0.replicas[1..].to_vec());
        // The followers fall out of the ISR, then the leader dies.
        set_isr(&mut md, vec![leader]);
        apply(&mut md, MetadataCommand::FenceBroker { node_id: leader }).unwrap();
        assert_eq!(md.partition("t", 0).unwrap().leader, NO_LEADER);
        let fenced_epoch = md.partition("t", 0).unwrap().leader_epoch;
        let asked = vec![("t".to_string(), 0), ("t".to_string(), 9)];
        // A preferred election cannot help: the preferred replica is down.
        let r = apply(
            &mut md,
            MetadataCommand::ElectPreferredLeaders {
                partitions: asked.clone(),
            },
        );
        assert_eq!(
            r,
            Ok(CommandResult::Elections(vec![
                ("t".into(), 0, ElectionOutcome::NotAvailable),
                ("t".into(), 9, ElectionOutcome::UnknownPartition),
            ]))
        );
        let r = apply(
            &mut md,
            MetadataCommand::ElectUncleanLeaders { partitions: asked },
        );
        assert_eq!(
            r,
            Ok(CommandResult::Elections(vec![
                ("t".into(), 0, ElectionOutcome::Elected),
                ("t".into(), 9, ElectionOutcome::UnknownPartition),
            ]))
        );
        let p = md.partition("t", 0).unwrap();
        assert_eq!(p.leader, others[0]);
        assert_eq!(p.isr, vec![others[0]]);
        assert_eq!(p.leader_epoch, fenced_epoch + 1);
        // Led again: a second unclean election is not needed.
        let r = apply(
            &mut md,
            MetadataCommand::ElectUncleanLeaders {
                partitions: vec![("t".to_string(), 0)],
            },
        );
        assert_eq!(
            r,
            Ok(CommandResult::Elections(vec![(
                "t".into(),
                0,
                ElectionOutcome::NotNeeded
            )]))
        );
    }
}
