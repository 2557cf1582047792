//! One group's state: members, generation, chosen protocol and committed
//! offsets, plus the bookkeeping helpers the rebalance logic
//! (`rebalance.rs`) builds on.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;

use super::codec::{GroupMetadataValue, MemberValue, OffsetValue, RecordKey};
use super::env::Env;
use super::member::{Member, PendingMember};
use super::timers::TimerHandle;
use super::{partition_for_group, GroupState, JoinResult, JoinedMember};

/// The join phase in progress while PreparingRebalance.
pub(super) struct JoinPhase {
    pub nonce: u64,
    /// Set during the initial delay of a new group: how much of the
    /// rebalance timeout is left for further extensions.
    pub initial_remaining: Option<Duration>,
    pub _timer: TimerHandle,
}

pub(super) struct Group {
    pub id: String,
    /// Distinguishes this group from an earlier one of the same id that was
    /// deleted, so that group's timers do nothing.
    pub incarnation: u64,
    pub partition: i32,
    pub state: GroupState,
    pub state_since_ms: i64,
    pub generation: i32,
    pub protocol_type: Option<String>,
    pub protocol: Option<String>,
    pub leader: Option<String>,
    /// Ordered by id so iteration (and so test output) is deterministic.
    pub members: BTreeMap<String, Member>,
    pub pending: HashMap<String, PendingMember>,
    /// group.instance.id → current member id of static members.
    pub static_members: HashMap<String, String>,
    /// Old member id → instance id, for static members that were replaced:
    /// their requests get FENCED_INSTANCE_ID rather than UNKNOWN_MEMBER_ID,
    /// so two processes with the same instance id do not fight forever.
    pub fenced: HashMap<String, String>,
    /// Members of the current generation that have not sent SyncGroup yet.
    pub pending_sync: HashSet<String>,
    pub join: Option<JoinPhase>,
    /// A new member joined during the initial delay: extend it once more.
    pub new_member_added: bool,
    pub sync_timer: Option<TimerHandle>,
    pub offsets: BTreeMap<(String, i32), OffsetValue>,
}

impl Group {
    pub fn new(env: &Env, id: &str) -> Group {
        Group {
            id: id.to_string(),
            incarnation: env.next_nonce(),
            partition: partition_for_group(id, env.partitions()),
            state: GroupState::Empty,
            state_since_ms: env.wall_clock_ms(),
            generation: 0,
            protocol_type: None,
            protocol: None,
            leader: None,
            members: BTreeMap::new(),
            pending: HashMap::new(),
            static_members: HashMap::new(),
            fenced: HashMap::new(),
            pending_sync: HashSet::new(),
            join: None,
            new_member_added: false,
            sync_timer: None,
            offsets: BTreeMap::new(),
        }
    }

    pub fn transition(&mut self, env: &Env, state: GroupState) {
        self.state = state;
        self.state_since_ms = env.wall_clock_ms();
    }

    pub fn is_leader(&self, member_id: &str) -> bool {
        self.leader.as_deref() == Some(member_id)
    }

    /// An empty group with nothing to remember: safe to forget entirely.
    pub fn is_blank(&self) -> bool {
        self.state == GroupState::Empty
            && self.members.is_empty()
            && self.pending.is_empty()
            && self.offsets.is_empty()
            && self.generation == 0
    }

    /// The longest a member may take to rejoin: the largest rebalance
    /// timeout of the members, as in Kafka.
    pub fn rebalance_timeout(&self) -> Duration {
        self.members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or(Duration::ZERO)
    }

    /// Whether a member with these protocols may join (Kafka's
    /// `supportsProtocols`): an empty group takes any non-empty set; else
    /// the protocol type must match and at least one protocol must be
    /// supported by every current member.
    pub fn supports_protocols(&self, protocol_type: &str, protocols: &[(String, Bytes)]) -> bool {
        if self.members.is_empty() {
            return !protocol_type.is_empty() && !protocols.is_empty();
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols
                .iter()
                .any(|(name, _)| self.members.values().all(|m| m.supports(name)))
    }

    /// Kafka's protocol election: among the protocols every member supports,
    /// each member votes for its most preferred one; most votes wins. Ties go
    /// to the protocol the earliest-joined member prefers.
    pub fn select_protocol(&self) -> Option<String> {
        let first = self.members_by_join_order().into_iter().next()?;
        let candidates: Vec<&str> = first
            .protocols
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| self.members.values().all(|m| m.supports(n)))
            .collect();
        let mut votes: HashMap<&str, usize> = HashMap::new();
        for m in self.members.values() {
            if let Some(choice) = m
                .protocols
                .iter()
                .map(|(n, _)| n.as_str())
                .find(|n| candidates.contains(n))
            {
                *votes.entry(choice).or_default() += 1;
            }
        }
        let mut best: Option<(&str, usize)> = None;
        for c in candidates {
            let v = votes.get(c).copied().unwrap_or(0);
            if best.is_none_or(|(_, bv)| v > bv) {
                best = Some((c, v));
            }
        }
        best.map(|(c, _)| c.to_string())
    }

    pub fn members_by_join_order(&self) -> Vec<&Member> {
        let mut v: Vec<&Member> = self.members.values().collect();
        v.sort_by_key(|m| m.join_seq);
        v
    }

    /// Adds a member; the first one fixes the group's protocol type and
    /// becomes leader.
    pub fn add_member(&mut self, env: &Env, mut member: Member) {
        if self.members.is_empty() {
            self.protocol_type = Some(member.protocol_type.clone());
        }
        if self.leader.is_none() {
            self.leader = Some(member.id.clone());
        }
        if let Some(instance) = &member.instance_id {
            self.static_members
                .insert(instance.clone(), member.id.clone());
        }
        member.watcher = Some(self.session_timer_for(env, &member));
        self.members.insert(member.id.clone(), member);
    }

    pub fn session_timer_for(&self, env: &Env, member: &Member) -> TimerHandle {
        env.spawn_session_timer(
            &self.id,
            self.incarnation,
            &member.id,
            member.nonce,
            member.last_heartbeat + member.session_timeout,
        )
    }

    /// Removes a member without starting a rebalance; a new leader is picked
    /// if it was the leader. Dropping the member stops its session timer.
    pub fn remove_member(&mut self, member_id: &str) -> Option<Member> {
        let member = self.members.remove(member_id)?;
        if let Some(instance) = &member.instance_id {
            if self.static_members.get(instance) == Some(&member.id) {
                self.static_members.remove(instance);
            }
            self.fenced.retain(|_, i| i != instance);
        }
        self.pending_sync.remove(member_id);
        if self.is_leader(member_id) {
            self.leader = self.members_by_join_order().first().map(|m| m.id.clone());
        }
        Some(member)
    }

    /// Whether a request naming this member (and maybe an instance id) comes
    /// from a static member that another process has since replaced.
    pub fn is_fenced(&self, member_id: &str, instance_id: Option<&str>) -> bool {
        if self.fenced.contains_key(member_id) {
            return true;
        }
        match instance_id.and_then(|i| self.static_members.get(i)) {
            Some(current) => current != member_id,
            None => false,
        }
    }

    /// The JoinGroup answer for the current generation; only the leader gets
    /// the member list.
    pub fn join_result_for(&self, member_id: &str) -> JoinResult {
        let protocol = self.protocol.clone().unwrap_or_default();
        let members = if self.is_leader(member_id) {
            self.members
                .values()
                .map(|m| JoinedMember {
                    member_id: m.id.clone(),
                    group_instance_id: m.instance_id.clone(),
                    metadata: m.metadata_for(&protocol),
                })
                .collect()
        } else {
            Vec::new()
        };
        JoinResult {
            generation_id: self.generation,
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            protocol_name: protocol,
            leader_id: self.leader.clone().unwrap_or_default(),
            member_id: member_id.to_string(),
            members,
        }
    }

    /// The group metadata record, with `assignments` overriding the members'
    /// current ones (used before the leader's assignment is applied).
    pub fn metadata_value(
        &self,
        assignments: Option<&HashMap<String, Bytes>>,
    ) -> GroupMetadataValue {
        let protocol = self.protocol.clone().unwrap_or_default();
        GroupMetadataValue {
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            generation: self.generation,
            protocol: self.protocol.clone(),
            leader: self.leader.clone(),
            current_state_timestamp: self.state_since_ms,
            members: self
                .members
                .values()
                .map(|m| MemberValue {
                    member_id: m.id.clone(),
                    group_instance_id: m.instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    rebalance_timeout_ms: duration_ms(m.rebalance_timeout),
                    session_timeout_ms: duration_ms(m.session_timeout),
                    subscription: m.metadata_for(&protocol),
                    assignment: assignments
                        .and_then(|a| a.get(&m.id).cloned())
                        .unwrap_or_else(|| m.assignment.clone()),
                })
                .collect(),
        }
    }

    pub fn metadata_record(&self, value: &GroupMetadataValue) -> (Bytes, Option<Bytes>) {
        let key = RecordKey::GroupMetadata {
            group: self.id.clone(),
        };
        (key.encode(), Some(value.encode()))
    }

    /// Persists the group metadata without waiting; a failure only means a
    /// restarted coordinator sees the previous generation, so it is logged.
    pub fn persist_metadata(&self, env: &Env) {
        let value = self.metadata_value(None);
        let record = self.metadata_record(&value);
        let group = self.id.clone();
        env.write(
            self.partition,
            vec![record],
            Box::new(move |_, _, result| {
                if let Err(e) = result {
                    tracing::warn!(group = %group, error = %e, "could not persist group metadata");
                }
            }),
        );
    }
}

pub(super) fn duration_ms(d: Duration) -> i32 {
    d.as_millis().min(i32::MAX as u128) as i32
}
