//! A consumer-group member: Kafka's classic (eager) group protocol on top
//! of [`Consumer`].
//!
//! Life of a member: find the coordinator, JoinGroup (protocols `range` /
//! `roundrobin`, each carrying our Subscription), the leader computes the
//! assignment with [`assignor::assign`], SyncGroup hands every member its
//! partitions, each partition starts at the group's committed offset (or
//! `auto.offset.reset`), and a background task heartbeats.
//!
//! Nothing lost, nothing skipped (at-least-once):
//! - what is committed is the position after the last record *handed to
//!   the caller* (never the fetch-ahead position, which runs in front);
//! - before giving partitions up in a rebalance the member commits those
//!   positions, and the coordinator completes the join only after every
//!   member has rejoined, so the next owner's OffsetFetch sees the commit;
//! - a member that dies without committing leaves the last commit behind,
//!   so its successor re-reads from there (duplicates, never gaps).
//!
//! All group work happens inside `poll` (the heartbeat task only raises a
//! flag), so a rebalance can never run between handing records out and
//! recording that they were handed out.
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::assignor::{self, GroupMember};
use super::blocking::{BlockingClient, Runtime, StopSignal};
use super::connection::Connection;
use super::consumer::{Consumer, ConsumerConfig, ConsumerRecord, FetchedPartition, StartOffset};
use super::error::{ClientError, Result};
use super::group_admin::{connect_coordinator, fetch_offsets, find_coordinator, Coordinator};
use super::group_config::{GroupConfig, OffsetReset};
use super::group_heartbeat::{self, Shared, Target};
use super::metadata::Client;
use crate::proto::consumer_protocol::{
    Assignment, Subscription, TopicPartitions, CONSUMER_PROTOCOL_TYPE,
};
use crate::proto::messages::groups::{
    GroupProtocol, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse,
    OffsetCommitPartition, OffsetCommitRequest, OffsetCommitResponse, SyncGroupAssignment,
    SyncGroupRequest, SyncGroupResponse,
};
use crate::proto::{ApiKey, ErrorCode, Wire};
use crate::record::{batches, BatchHeader};

type Tp = (Arc<str>, i32);

/// What one join attempt achieved.
enum Joined {
    Yes,
    /// Try again at once (new member id, generation moved on, ...).
    RetryNow,
    /// Try again after a backoff (coordinator moving or unreachable).
    RetryLater,
}

fn is_coordinator_error(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::CoordinatorNotAvailable
            | ErrorCode::NotCoordinator
            | ErrorCode::CoordinatorLoadInProgress
    )
}

/// The coordinator no longer counts us in the current generation.
fn is_membership_error(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::RebalanceInProgress | ErrorCode::IllegalGeneration | ErrorCode::UnknownMemberId
    )
}

/// Errors worth waiting out: the broker restarting or briefly unreachable.
fn is_transient(e: &ClientError) -> bool {
    e.is_retriable() || matches!(e, ClientError::Unreachable { .. })
}

fn bad_protocol_data(what: &str, e: impl std::fmt::Display) -> ClientError {
    ClientError::broker(
        ErrorCode::InconsistentGroupProtocol,
        Some(&format!("cannot use the {what}: {e}")),
    )
}

pub struct GroupConsumer {
    client: Client,
    config: GroupConfig,
    topics: Vec<String>,
    consumer: Consumer,
    /// The group connection (join, sync, commit, leave) and its coordinator.
    coordinator: Option<(Coordinator, Arc<Connection>)>,
    /// True while a request is in flight on the group connection: if the
    /// caller abandons `poll` there, the connection is replaced rather than
    /// queueing behind a JoinGroup that may block for the rebalance timeout.
    busy: bool,
    member_id: String,
    /// Some once this generation's partitions are assigned.
    generation: Option<i32>,
    assignment: Vec<Tp>,
    shared: Arc<Shared>,
    heartbeat: Option<JoinHandle<()>>,
    /// Decoded records not yet handed to the caller.
    buffer: VecDeque<ConsumerRecord>,
    /// Per partition: the offset after the last record handed out (or the
    /// start position); this is what commits carry.
    handed: HashMap<Tp, i64>,
    /// Per partition: the last offset committed in this generation.
    committed: HashMap<Tp, i64>,
    /// Positions handed out in a generation that ended without their
    /// commit going through (the coordinator restarted or moved): where a
    /// partition that comes back to this member resumes, so it is not read
    /// again from an older commit.
    uncommitted: HashMap<Tp, i64>,
    last_commit: Instant,
    closed: bool,
}

impl GroupConsumer {
    /// A member of `config.group_id` subscribed to `topics`. Nothing is
    /// sent until the first `poll`.
    pub fn new(
        client: Client,
        config: GroupConfig,
        consumer_config: ConsumerConfig,
        topics: Vec<String>,
    ) -> GroupConsumer {
        GroupConsumer {
            consumer: Consumer::new(client.clone(), consumer_config),
            client,
            config,
            topics,
            coordinator: None,
            busy: false,
            member_id: String::new(),
            generation: None,
            assignment: Vec::new(),
            shared: Arc::new(Shared::default()),
            heartbeat: None,
            buffer: VecDeque::new(),
            handed: HashMap::new(),
            committed: HashMap::new(),
            uncommitted: HashMap::new(),
            last_commit: Instant::now(),
            closed: false,
        }
    }

    pub fn config(&self) -> &GroupConfig {
        &self.config
    }

    /// The generation whose assignment is in use, if any.
    pub fn generation(&self) -> Option<i32> {
        self.generation
    }

    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    /// Partitions assigned in the current generation, sorted.
    pub fn assignment(&self) -> Vec<(Arc<str>, i32)> {
        let mut v = self.assignment.clone();
        v.sort();
        v
    }

    /// Positions after the records handed out so far (what a commit sends).
    pub fn positions(&self) -> Vec<(Arc<str>, i32, i64)> {
        let mut v: Vec<_> = self
            .handed
            .iter()
            .map(|((t, p), o)| (t.clone(), *p, *o))
            .collect();
        v.sort();
        v
    }

    /// True when the member has an assignment, every record fetched has
    /// been handed out, and every assigned partition is at its end.
    pub fn at_end(&self) -> bool {
        self.generation.is_some()
            && self.buffer.is_empty()
            && !self.shared.rejoin_pending()
            && self.consumer.at_end()
    }

    /// Up to `max` records. Joins or rejoins the group first when needed
    /// and auto-commits on the interval. Calling `poll` again means the
    /// records returned before were processed.
    pub async fn poll(&mut self, max: usize) -> Result<Vec<ConsumerRecord>> {
        self.prepare().await?;
        if self.buffer.is_empty() {
            let Some(parts) = self.fetch().await? else {
                return Ok(Vec::new());
            };
            let mut decoded = Vec::new();
            for p in &parts {
                p.decode(&mut decoded)?;
            }
            self.buffer.extend(decoded);
        }
        Ok(self.hand_out(max.max(1)))
    }

    /// Like `poll` without decoding, for callers that only count: every
    /// record of the returned batches counts as handed out. Do not mix
    /// with `poll`.
    pub async fn poll_raw(&mut self) -> Result<Vec<FetchedPartition>> {
        self.prepare().await?;
        let Some(parts) = self.fetch().await? else {
            return Ok(Vec::new());
        };
        for p in &parts {
            let next = batches(&p.records)
                .filter_map(|b| b.ok().and_then(|b| BatchHeader::parse(b).ok()))
                .map(|h| h.next_offset())
                .max();
            if let Some(next) = next {
                self.handed.insert((p.topic.clone(), p.partition), next);
            }
        }
        Ok(parts)
    }

    /// Moves an assigned partition to `offset`, for callers that keep their
    /// own offsets beside their output (exactly-once sinks): records of it
    /// fetched but not yet handed out are dropped, and the next commit
    /// carries `offset`. Call it right after a poll that started a new
    /// generation (see [`generation`](Self::generation)).
    pub async fn seek(&mut self, topic: &str, partition: i32, offset: i64) -> Result<()> {
        self.consumer
            .seek(topic, partition, StartOffset::Offset(offset))
            .await?;
        self.buffer
            .retain(|r| !(r.partition == partition && &*r.topic == topic));
        self.handed.insert((Arc::from(topic), partition), offset);
        Ok(())
    }

    /// Commits the positions of the records handed out so far.
    pub async fn commit(&mut self) -> Result<()> {
        match self.generation {
            Some(g) => self.commit_positions(g, true).await,
            None => Ok(()),
        }
    }

    /// Commits what was handed out (with auto-commit on) and leaves the
    /// group, so the others take over at once instead of after the session
    /// timeout. The consumer cannot be used afterwards.
    pub async fn close(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
        self.shared.set_target(None);
        let mut result = Ok(());
        if let (Some(g), true) = (self.generation, self.config.enable_auto_commit) {
            result = match self.commit_positions(g, false).await {
                // The group already moved on without us: the partitions'
                // new owners re-read from the last commit. Nothing is lost,
                // so this is worth a warning, not a failure.
                Err(e) if e.code().is_some_and(is_membership_error) => {
                    tracing::warn!(error = %e, "final commit refused; records since the last commit will be read again");
                    Ok(())
                }
                other => other,
            };
        }
        // Static members keep their place across restarts (KIP-345).
        if !self.member_id.is_empty() && self.config.group_instance_id.is_none() {
            let req = LeaveGroupRequest {
                group_id: self.config.group_id.clone(),
                member_ids: vec![self.member_id.clone()],
            };
            let timeout = self.client.request_timeout();
            match self
                .group_call::<_, LeaveGroupResponse>(ApiKey::LeaveGroup, &req, timeout)
                .await
            {
                Ok(r) if !r.status.is_ok() => {
                    tracing::debug!(status = %r.status, "leave group failed")
                }
                Ok(_) => {}
                // The coordinator drops us after the session timeout anyway.
                Err(e) => tracing::debug!(error = %e, "leave group failed"),
            }
        }
        self.generation = None;
        self.consumer.unassign_all();
        self.buffer.clear();
        result
    }

    /// Joins if needed and auto-commits if due.
    async fn prepare(&mut self) -> Result<()> {
        if self.closed {
            return Err(ClientError::Closed);
        }
        self.ensure_active().await?;
        if self.config.enable_auto_commit
            && self.last_commit.elapsed() >= self.config.auto_commit_interval
        {
            if let Err(e) = self.commit().await {
                // The next commit (or the one before a rebalance) retries.
                tracing::warn!(error = %e, "auto-commit failed");
            }
        }
        Ok(())
    }

    /// The next fetch response, or None when a rejoin was requested first.
    async fn fetch(&mut self) -> Result<Option<Vec<FetchedPartition>>> {
        if self.shared.rejoin_pending() {
            return Ok(None);
        }
        let shared = self.shared.clone();
        tokio::select! {
            r = self.consumer.poll_raw() => r.map(Some),
            _ = shared.wake.notified() => Ok(None),
        }
    }

    fn hand_out(&mut self, max: usize) -> Vec<ConsumerRecord> {
        let n = max.min(self.buffer.len());
        let out: Vec<ConsumerRecord> = self.buffer.drain(..n).collect();
        // Records of a partition arrive in runs; record each run's end once.
        let mut i = 0;
        while i < out.len() {
            let mut j = i;
            while j + 1 < out.len()
                && out[j + 1].partition == out[i].partition
                && Arc::ptr_eq(&out[j + 1].topic, &out[i].topic)
            {
                j += 1;
            }
            let last = &out[j];
            self.handed
                .insert((last.topic.clone(), last.partition), last.offset + 1);
            i = j + 1;
        }
        out
    }

    /// Takes back records handed out by the last `poll` that the caller
    /// could not process (its output closed mid-batch): the next commit
    /// carries the offset of the first of them per partition, so they are
    /// read again instead of being committed unseen.
    pub fn unhand(&mut self, records: &[ConsumerRecord]) {
        for r in records {
            let pos = self
                .handed
                .entry((r.topic.clone(), r.partition))
                .or_insert(r.offset);
            *pos = (*pos).min(r.offset);
        }
    }

    async fn ensure_active(&mut self) -> Result<()> {
        let mut backoff = self.config.retry_backoff;
        loop {
            if let Some(e) = self.shared.take_fatal() {
                return Err(e);
            }
            if self.generation.is_some() && !self.shared.rejoin_pending() {
                return Ok(());
            }
            let mut why = self.shared.take_rejoin();
            self.revoke().await;
            // A commit refused during revoke says "rebalancing": known.
            let after = self.shared.take_rejoin();
            why.reset_member |= after.reset_member;
            why.lost_coordinator |= after.lost_coordinator;
            if why.reset_member {
                self.member_id.clear();
            }
            if why.lost_coordinator {
                self.coordinator = None;
            }
            let wait = match self.join_and_sync().await {
                Ok(Joined::Yes) => return Ok(()),
                Ok(Joined::RetryNow) => false,
                Ok(Joined::RetryLater) => true,
                Err(e) if is_transient(&e) => {
                    tracing::debug!(error = %e, "joining the group failed, retrying");
                    self.coordinator = None;
                    true
                }
                Err(e) => return Err(e),
            };
            if wait {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }

    /// Gives up the current assignment, committing first what the caller
    /// has processed so the next owner starts right after it.
    async fn revoke(&mut self) {
        let Some(g) = self.generation else { return };
        if self.config.enable_auto_commit {
            if let Err(e) = self.commit_positions(g, false).await {
                tracing::warn!(error = %e, "commit before rebalance failed; a partition that stays with this member resumes where it was, others are read again from the last commit");
                for (tp, o) in &self.handed {
                    if self.committed.get(tp) != Some(o) {
                        self.uncommitted.insert(tp.clone(), *o);
                    }
                }
            }
        }
        self.generation = None;
        self.shared.set_target(None);
        self.consumer.unassign_all();
        self.buffer.clear();
        self.handed.clear();
        self.committed.clear();
        self.assignment.clear();
    }

    async fn coordinator_conn(&mut self) -> Result<Arc<Connection>> {
        if let Some((_, c)) = &self.coordinator {
            if !c.is_closed() && !self.busy {
                return Ok(c.clone());
            }
        }
        let coord = find_coordinator(&self.client, &self.config.group_id).await?;
        let conn = connect_coordinator(&self.client, &coord).await?;
        self.coordinator = Some((coord, conn.clone()));
        self.busy = false;
        Ok(conn)
    }

    async fn group_call<Req: Wire, Resp: Wire>(
        &mut self,
        api: ApiKey,
        req: &Req,
        timeout: Duration,
    ) -> Result<Resp> {
        let conn = self.coordinator_conn().await?;
        self.busy = true;
        let r = conn.call(api, req, timeout).await;
        self.busy = false;
        if r.is_err() {
            self.coordinator = None;
        }
        r
    }

    async fn join_and_sync(&mut self) -> Result<Joined> {
        let subscription = Subscription::new(self.topics.clone())
            .encode(0)
            .map_err(|e| bad_protocol_data("subscription", e))?;
        let req = JoinGroupRequest {
            group_id: self.config.group_id.clone(),
            session_timeout_ms: millis(self.config.session_timeout),
            rebalance_timeout_ms: millis(self.config.rebalance_timeout),
            member_id: self.member_id.clone(),
            group_instance_id: self.config.group_instance_id.clone(),
            client_id: self.config.client_id.clone(),
            protocol_type: CONSUMER_PROTOCOL_TYPE.to_string(),
            protocols: self
                .config
                .strategies
                .iter()
                .map(|name| GroupProtocol {
                    name: name.clone(),
                    metadata: subscription.clone(),
                })
                .collect(),
        };
        // JoinGroup waits for the whole group, up to the rebalance timeout.
        let timeout = self.config.rebalance_timeout + self.client.request_timeout();
        let join: JoinGroupResponse = self.group_call(ApiKey::JoinGroup, &req, timeout).await?;
        match join.status.error_code() {
            ErrorCode::None => {}
            ErrorCode::MemberIdRequired => {
                self.member_id = join.member_id;
                return Ok(Joined::RetryNow);
            }
            ErrorCode::UnknownMemberId => {
                self.member_id.clear();
                return Ok(Joined::RetryNow);
            }
            ErrorCode::RebalanceInProgress | ErrorCode::IllegalGeneration => {
                return Ok(Joined::RetryNow)
            }
            code if is_coordinator_error(code) => {
                self.coordinator = None;
                return Ok(Joined::RetryLater);
            }
            code => {
                return Err(ClientError::broker(code, join.status.message.as_deref()));
            }
        }
        self.member_id = join.member_id.clone();
        let generation = join.generation_id;
        let assignments = if join.leader == join.member_id {
            self.lead(&join).await?
        } else {
            Vec::new()
        };
        let req = SyncGroupRequest {
            group_id: self.config.group_id.clone(),
            generation_id: generation,
            member_id: self.member_id.clone(),
            group_instance_id: self.config.group_instance_id.clone(),
            assignments,
        };
        let sync: SyncGroupResponse = self.group_call(ApiKey::SyncGroup, &req, timeout).await?;
        match sync.status.error_code() {
            ErrorCode::None => {}
            ErrorCode::RebalanceInProgress | ErrorCode::IllegalGeneration => {
                return Ok(Joined::RetryNow)
            }
            ErrorCode::UnknownMemberId => {
                self.member_id.clear();
                return Ok(Joined::RetryNow);
            }
            code if is_coordinator_error(code) => {
                self.coordinator = None;
                return Ok(Joined::RetryLater);
            }
            code => {
                return Err(ClientError::broker(code, sync.status.message.as_deref()));
            }
        }
        let assignment =
            Assignment::decode(&sync.assignment).map_err(|e| bad_protocol_data("assignment", e))?;
        self.start_generation(generation, assignment.partitions)
            .await?;
        Ok(Joined::Yes)
    }

    /// The leader's job: assign the subscribed topics' partitions among
    /// the members with the protocol the coordinator picked.
    async fn lead(&self, join: &JoinGroupResponse) -> Result<Vec<SyncGroupAssignment>> {
        let mut members = Vec::with_capacity(join.members.len());
        for m in &join.members {
            let subscription = Subscription::decode(&m.metadata).unwrap_or_else(|e| {
                tracing::warn!(member = %m.member_id, error = %e, "undecodable subscription; assigning it nothing");
                Subscription::default()
            });
            members.push(GroupMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                subscription,
            });
        }
        let mut topics: Vec<&String> = members
            .iter()
            .flat_map(|m| m.subscription.topics.iter())
            .collect();
        topics.sort();
        topics.dedup();
        let mut counts = HashMap::new();
        for t in topics {
            // Fresh metadata: partitions may have been added since.
            match self.client.refresh_topic(t, false).await {
                Ok(info) => {
                    counts.insert(t.clone(), info.partition_count());
                }
                Err(ClientError::UnknownTopic(_)) => {
                    tracing::warn!(topic = %t, "subscribed topic does not exist; nothing to assign")
                }
                Err(e) => return Err(e),
            }
        }
        let plan = assignor::assign(&join.protocol_name, &members, &counts)
            .map_err(|e| bad_protocol_data("assignment strategy", e))?;
        let mut out = Vec::with_capacity(plan.len());
        for (member_id, a) in plan {
            out.push(SyncGroupAssignment {
                member_id,
                assignment: a
                    .encode(0)
                    .map_err(|e| bad_protocol_data("assignment", e))?,
            });
        }
        Ok(out)
    }

    /// Starts consuming a new assignment at the committed offsets.
    async fn start_generation(
        &mut self,
        generation: i32,
        assigned: Vec<TopicPartitions>,
    ) -> Result<()> {
        let parts: Vec<(String, i32)> = assigned
            .iter()
            .flat_map(|tp| tp.partitions.iter().map(|&p| (tp.topic.clone(), p)))
            .collect();
        let committed: HashMap<(String, i32), i64> = if parts.is_empty() {
            HashMap::new()
        } else {
            let conn = self.coordinator_conn().await?;
            fetch_offsets(&conn, &self.client, &self.config.group_id, Some(&parts))
                .await?
                .into_iter()
                .map(|(t, p, o)| ((t, p), o))
                .collect()
        };
        for tp in &assigned {
            let topic = tp.topic.as_str();
            // Partitions may be newer than our cached metadata.
            self.client.invalidate(topic);
            let mut fresh = Vec::new();
            for &p in &tp.partitions {
                let ours = self.uncommitted.get(&(Arc::from(topic), p)).copied();
                let theirs = committed.get(&(topic.to_string(), p)).copied();
                // Never behind the group's commit (another member may have
                // read further meanwhile), never behind what we printed.
                match theirs.max(ours) {
                    Some(o) => {
                        self.assign_or_skip(topic, &[p], StartOffset::Offset(o))
                            .await?
                    }
                    None => fresh.push(p),
                }
            }
            if !fresh.is_empty() {
                let start = match self.config.auto_offset_reset {
                    OffsetReset::Earliest => StartOffset::Earliest,
                    OffsetReset::Latest => StartOffset::Latest,
                    OffsetReset::None => {
                        return Err(ClientError::broker(
                            ErrorCode::OffsetOutOfRange,
                            Some(&format!(
                                "group {} has no committed offset for {topic} partitions {fresh:?} and auto.offset.reset is none",
                                self.config.group_id
                            )),
                        ))
                    }
                };
                self.assign_or_skip(topic, &fresh, start).await?;
            }
        }
        self.uncommitted.clear();
        self.assignment.clear();
        for (t, p, pos) in self.consumer.assignment() {
            self.handed.insert((t.clone(), p), pos);
            self.assignment.push((t, p));
        }
        self.generation = Some(generation);
        self.last_commit = Instant::now();
        let coordinator = match &self.coordinator {
            Some((c, _)) => c.clone(),
            None => find_coordinator(&self.client, &self.config.group_id).await?,
        };
        self.shared.set_target(Some(Target {
            coordinator,
            generation,
            member_id: self.member_id.clone(),
        }));
        if self.heartbeat.is_none() {
            self.heartbeat = Some(group_heartbeat::spawn(
                self.client.clone(),
                self.config.group_id.clone(),
                self.config.heartbeat(),
                self.config.session_timeout,
                self.shared.clone(),
            ));
        }
        tracing::debug!(generation, member = %self.member_id, partitions = ?self.assignment, "joined the group");
        Ok(())
    }

    /// Assigns partitions; ones that vanished (topic deleted) are skipped
    /// with a warning rather than failing the whole member.
    async fn assign_or_skip(
        &mut self,
        topic: &str,
        parts: &[i32],
        start: StartOffset,
    ) -> Result<()> {
        match self.consumer.assign(topic, Some(parts), start).await {
            Ok(()) => Ok(()),
            Err(e @ (ClientError::UnknownTopic(_) | ClientError::UnknownPartition { .. })) => {
                tracing::warn!(error = %e, "assigned partition does not exist; skipping it");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Commits handed-out positions that changed since the last commit.
    /// With `report`, a refusal that means "rejoin" is passed on to the
    /// next `poll`.
    async fn commit_positions(&mut self, generation: i32, report: bool) -> Result<()> {
        let changed: Vec<(Tp, i64)> = self
            .handed
            .iter()
            .filter(|(tp, o)| self.committed.get(*tp) != Some(o))
            .map(|(tp, o)| (tp.clone(), *o))
            .collect();
        self.last_commit = Instant::now();
        if changed.is_empty() {
            return Ok(());
        }
        let req = OffsetCommitRequest {
            group_id: self.config.group_id.clone(),
            generation_id: generation,
            member_id: self.member_id.clone(),
            offsets: changed
                .iter()
                .map(|((t, p), o)| OffsetCommitPartition {
                    topic: t.to_string(),
                    partition: *p,
                    offset: *o,
                    metadata: Some(String::new()),
                })
                .collect(),
        };
        let timeout = self.client.request_timeout();
        let resp: OffsetCommitResponse =
            self.group_call(ApiKey::OffsetCommit, &req, timeout).await?;
        let code = resp.status.error_code();
        if code != ErrorCode::None {
            if report {
                let why = group_heartbeat::Rejoin {
                    requested: true,
                    reset_member: code == ErrorCode::UnknownMemberId,
                    lost_coordinator: is_coordinator_error(code),
                };
                if is_membership_error(code) || is_coordinator_error(code) {
                    self.shared.request_rejoin(Some(generation), why);
                }
            }
            return Err(ClientError::broker(code, resp.status.message.as_deref()));
        }
        let mut first_error = None;
        for p in &resp.partitions {
            if !p.status.is_ok() && first_error.is_none() {
                first_error = Some(ClientError::broker(
                    p.status.error_code(),
                    p.status.message.as_deref(),
                ));
            }
        }
        for ((t, p), o) in changed {
            let ok = resp
                .partitions
                .iter()
                .find(|s| *s.topic == *t && s.partition == p)
                .is_none_or(|s| s.status.is_ok());
            if ok {
                self.committed.insert((t, p), o);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Drop for GroupConsumer {
    fn drop(&mut self) {
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
    }
}

fn millis(d: Duration) -> i32 {
    d.as_millis().min(i32::MAX as u128) as i32
}

/// A blocking facade over [`GroupConsumer`] for the CLI.
pub struct BlockingGroupConsumer {
    rt: Arc<Runtime>,
    inner: GroupConsumer,
}

impl BlockingGroupConsumer {
    pub fn new(
        client: &BlockingClient,
        config: GroupConfig,
        consumer_config: ConsumerConfig,
        topics: Vec<String>,
    ) -> BlockingGroupConsumer {
        BlockingGroupConsumer {
            rt: client.runtime().clone(),
            inner: GroupConsumer::new(client.client().clone(), config, consumer_config, topics),
        }
    }

    /// Up to `max` records, or `Ok(None)` when `stop` fired first.
    pub fn poll(
        &mut self,
        stop: Option<&StopSignal>,
        max: usize,
    ) -> Result<Option<Vec<ConsumerRecord>>> {
        let inner = &mut self.inner;
        self.rt.block_on(async move {
            match stop {
                None => inner.poll(max).await.map(Some),
                Some(s) => tokio::select! {
                    r = inner.poll(max) => r.map(Some),
                    _ = s.wait() => Ok(None),
                },
            }
        })
    }

    /// Like `poll` without decoding.
    pub fn poll_raw(&mut self, stop: Option<&StopSignal>) -> Result<Option<Vec<FetchedPartition>>> {
        let inner = &mut self.inner;
        self.rt.block_on(async move {
            match stop {
                None => inner.poll_raw().await.map(Some),
                Some(s) => tokio::select! {
                    r = inner.poll_raw() => r.map(Some),
                    _ = s.wait() => Ok(None),
                },
            }
        })
    }

    pub fn commit(&mut self) -> Result<()> {
        self.rt.block_on(self.inner.commit())
    }

    pub fn close(&mut self) -> Result<()> {
        self.rt.block_on(self.inner.close())
    }

    pub fn at_end(&self) -> bool {
        self.inner.at_end()
    }

    pub fn inner(&mut self) -> &mut GroupConsumer {
        &mut self.inner
    }
}
