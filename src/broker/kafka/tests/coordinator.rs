//! Group requests in a cluster: only the leader of a group's
//! `__consumer_offsets` partition serves it. Every other broker answers
//! NOT_COORDINATOR where each API version carries errors for that group,
//! and FindCoordinator names the leader.
use super::*;
use crate::broker::group::partition_for_group;
use crate::broker::replication::{
    coordinator, ControlPlane, LocalControlPlane, ReplicaManager, ReplicationConfig, Role,
};
use crate::broker::state::OFFSETS_TOPIC;
use crate::cluster::metadata::NO_LEADER;

const NOT_COORDINATOR: i16 = 16;
const LOAD_IN_PROGRESS: i16 = 14;
const NOT_AVAILABLE: i16 = 15;

/// Offsets partitions in the test cluster: this broker (1) leads
/// `MINE`, broker 2 leads `THEIRS`, `ORPHAN` has no leader.
const MINE: i32 = 1;
/// Also where "" hashes to: an empty group id is sent elsewhere by the
/// offset APIs, but refused as invalid by the membership APIs.
const THEIRS: i32 = 0;
const ORPHAN: i32 = 2;
const INVALID_GROUP_ID: i16 = 24;
/// Where broker 2 is said to listen (nothing does: its followers' fetches
/// just fail, which these tests do not need).
const OTHER_PORT: i32 = 1;

/// A group id whose offsets partition (of the default 8) is `p`.
fn group_on(p: i32) -> String {
    (0..)
        .map(|i| format!("group-{i}"))
        .find(|g| partition_for_group(g, 8) == p)
        .unwrap()
}

fn commit_req(group: &str, generation: i32) -> OffsetCommitRequest {
    let mut req = OffsetCommitRequest::default();
    req.group_id = GroupId(s(group));
    req.generation_id_or_member_epoch = generation;
    req.topics = vec![offset_commit_request::OffsetCommitRequestTopic::default()
        .with_name(TopicName(s("t")))
        .with_partitions(vec![
            offset_commit_request::OffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(42),
            offset_commit_request::OffsetCommitRequestPartition::default()
                .with_partition_index(1)
                .with_committed_offset(43),
        ])];
    req
}

fn fetch_topics() -> Vec<offset_fetch_request::OffsetFetchRequestTopic> {
    vec![offset_fetch_request::OffsetFetchRequestTopic::default()
        .with_name(TopicName(s("t")))
        .with_partition_indexes(vec![0, 1])]
}

async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A broker (node 1) that holds a group of `THEIRS` from before it joined
/// the cluster, then replicates under a [`LocalControlPlane`].
async fn clustered() -> (tempfile::TempDir, Arc<Broker>, Arc<ReplicaManager>) {
    let (dir, b) = broker().await;
    b.topics
        .create("t", 2, 1, Default::default(), false)
        .unwrap();
    // Stale state: the group is in memory, but broker 2 will coordinate it.
    let resp = call(&b, 8, &commit_req(&group_on(THEIRS), -1)).await;
    assert_eq!(resp.topics[0].partitions[0].error_code, 0);

    let control = LocalControlPlane::new(Default::default());
    control.register_broker(1, "127.0.0.1", 9092);
    control.register_broker(2, "127.0.0.1", OTHER_PORT);
    let replicas = (0..8)
        .map(|p| match p {
            THEIRS => vec![2, 1],
            ORPHAN => vec![1, 2],
            _ => vec![1],
        })
        .collect();
    control.create_topic(OFFSETS_TOPIC, replicas);
    control.update(|md| {
        if let Some(t) = md.topics.get_mut(OFFSETS_TOPIC) {
            t.partitions[ORPHAN as usize].leader = NO_LEADER;
        }
    });
    let ctl: Arc<dyn ControlPlane> = control.clone();
    let mgr = ReplicaManager::start(
        1,
        dir.path(),
        b.topics.clone(),
        ctl,
        control.subscribe(),
        ReplicationConfig::default(),
        vec![coordinator::leadership_listener(b.groups.clone())],
    );
    let role = |p: i32| b.topics.partition(OFFSETS_TOPIC, p).unwrap().role();
    eventually("roles from the metadata", || {
        matches!(role(MINE), Role::Leader(_))
            && matches!(role(THEIRS), Role::Follower { leader: 2, .. })
            && matches!(role(ORPHAN), Role::Offline { .. })
            && b.groups.is_loaded(MINE)
    })
    .await;
    (dir, b, mgr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_coordinator_names_the_offsets_partition_leader() {
    let (_d, b, mgr) = clustered().await;
    let (mine, theirs, orphan) = (group_on(MINE), group_on(THEIRS), group_on(ORPHAN));
    for v in range(ApiKey::FindCoordinator) {
        let mut answers = Vec::new();
        if v >= 4 {
            let mut req = FindCoordinatorRequest::default();
            req.coordinator_keys = vec![s(&mine), s(&theirs), s(&orphan)];
            let resp = call(&b, v, &req).await;
            for c in resp.coordinators {
                answers.push((c.error_code, c.node_id.0, c.host.to_string(), c.port));
            }
        } else {
            for g in [&mine, &theirs, &orphan] {
                let mut req = FindCoordinatorRequest::default();
                req.key = s(g);
                let resp = call(&b, v, &req).await;
                answers.push((
                    resp.error_code,
                    resp.node_id.0,
                    resp.host.to_string(),
                    resp.port,
                ));
            }
        }
        assert_eq!(answers[0], (0, 1, "127.0.0.1".into(), 9092), "v{v} mine");
        assert_eq!(
            answers[1],
            (0, 2, "127.0.0.1".into(), OTHER_PORT),
            "v{v} theirs"
        );
        assert_eq!(answers[2].0, NOT_AVAILABLE, "v{v} leaderless");
        assert_eq!(
            (answers[2].1, answers[2].3),
            (-1, -1),
            "v{v} leaderless node"
        );
    }
    mgr.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_apis_refuse_groups_led_elsewhere_every_version() {
    let (_d, b, mgr) = clustered().await;
    for group in [group_on(THEIRS), group_on(ORPHAN)] {
        for v in range(ApiKey::JoinGroup) {
            let mut req = JoinGroupRequest::default();
            req.group_id = GroupId(s(&group));
            req.member_id = s("member-1");
            req.session_timeout_ms = 10_000;
            req.rebalance_timeout_ms = 10_000;
            req.protocol_type = s("consumer");
            req.protocols = vec![join_group_request::JoinGroupRequestProtocol::default()
                .with_name(s("range"))
                .with_metadata(Bytes::from_static(b"meta"))];
            let resp = call(&b, v, &req).await;
            assert_eq!(resp.error_code, NOT_COORDINATOR, "join v{v} {group}");
            assert_eq!(resp.generation_id, -1);
            assert_eq!(resp.member_id.as_str(), "member-1");
            assert!(resp.members.is_empty());
        }
        for v in range(ApiKey::SyncGroup) {
            let mut req = SyncGroupRequest::default();
            req.group_id = GroupId(s(&group));
            req.generation_id = 1;
            req.member_id = s("member-1");
            let resp = call(&b, v, &req).await;
            assert_eq!(resp.error_code, NOT_COORDINATOR, "sync v{v} {group}");
        }
        for v in range(ApiKey::Heartbeat) {
            let mut req = HeartbeatRequest::default();
            req.group_id = GroupId(s(&group));
            req.generation_id = 1;
            req.member_id = s("member-1");
            let resp = call(&b, v, &req).await;
            assert_eq!(resp.error_code, NOT_COORDINATOR, "heartbeat v{v} {group}");
        }
        for v in range(ApiKey::LeaveGroup) {
            let mut req = LeaveGroupRequest::default();
            req.group_id = GroupId(s(&group));
            if v >= 3 {
                req.members =
                    vec![leave_group_request::MemberIdentity::default()
                        .with_member_id(s("member-1"))];
            } else {
                req.member_id = s("member-1");
            }
            let resp = call(&b, v, &req).await;
            assert_eq!(resp.error_code, NOT_COORDINATOR, "leave v{v} {group}");
            assert!(resp.members.is_empty());
        }
    }
    mgr.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_apis_refuse_an_empty_group_id_on_every_broker() {
    let (_d, b, mgr) = clustered().await;
    assert_eq!(partition_for_group("", 8), THEIRS);
    for v in range(ApiKey::JoinGroup) {
        let mut req = JoinGroupRequest::default();
        req.session_timeout_ms = 10_000;
        req.protocol_type = s("consumer");
        let resp = call(&b, v, &req).await;
        assert_eq!(resp.error_code, INVALID_GROUP_ID, "join v{v}");
    }
    for v in range(ApiKey::SyncGroup) {
        let resp = call(&b, v, &SyncGroupRequest::default()).await;
        assert_eq!(resp.error_code, INVALID_GROUP_ID, "sync v{v}");
    }
    for v in range(ApiKey::Heartbeat) {
        let resp = call(&b, v, &HeartbeatRequest::default()).await;
        assert_eq!(resp.error_code, INVALID_GROUP_ID, "heartbeat v{v}");
    }
    for v in range(ApiKey::LeaveGroup) {
        let resp = call(&b, v, &LeaveGroupRequest::default()).await;
        assert_eq!(resp.error_code, INVALID_GROUP_ID, "leave v{v}");
    }
    // Offsets accept "" (old clients), so it goes to its coordinator.
    let resp = call(&b, 8, &commit_req("", -1)).await;
    assert_eq!(resp.topics[0].partitions[0].error_code, NOT_COORDINATOR);
    mgr.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offset_and_admin_apis_answer_per_group() {
    let (_d, b, mgr) = clustered().await;
    let (mine, theirs) = (group_on(MINE), group_on(THEIRS));
    for v in range(ApiKey::OffsetCommit) {
        let resp = call(&b, v, &commit_req(&mine, -1)).await;
        let codes: Vec<i16> = resp.topics[0]
            .partitions
            .iter()
            .map(|p| p.error_code)
            .collect();
        assert_eq!(codes, [0, 0], "commit v{v} mine");
        for group in [&theirs, &group_on(ORPHAN)] {
            let resp = call(&b, v, &commit_req(group, -1)).await;
            let codes: Vec<i16> = resp.topics[0]
                .partitions
                .iter()
                .map(|p| p.error_code)
                .collect();
            assert_eq!(codes, [NOT_COORDINATOR; 2], "commit v{v} {group}");
        }
    }
    for v in range(ApiKey::OffsetFetch) {
        let mut req = OffsetFetchRequest::default();
        if v >= 8 {
            // One request, two groups: each gets its own answer.
            req.groups = [&mine, &theirs]
                .into_iter()
                .map(|g| {
                    offset_fetch_request::OffsetFetchRequestGroup::default()
                        .with_group_id(GroupId(s(g)))
                        .with_topics(Some(vec![
                            offset_fetch_request::OffsetFetchRequestTopics::default()
                                .with_name(TopicName(s("t")))
                                .with_partition_indexes(vec![0, 1]),
                        ]))
                })
                .collect();
            let resp = call(&b, v, &req).await;
            assert_eq!(resp.groups[0].error_code, 0);
            assert_eq!(resp.groups[0].topics[0].partitions[0].committed_offset, 42);
            assert_eq!(resp.groups[1].error_code, NOT_COORDINATOR, "fetch v{v}");
            assert!(resp.groups[1].topics.is_empty());
            continue;
        }
        req.topics = Some(fetch_topics());
        req.group_id = GroupId(s(&mine));
        let resp = call(&b, v, &req).await;
        assert_eq!(resp.error_code, 0);
        assert_eq!(resp.topics[0].partitions[1].committed_offset, 43);
        req.group_id = GroupId(s(&theirs));
        let resp = call(&b, v, &req).await;
        if v >= 2 {
            assert_eq!(resp.error_code, NOT_COORDINATOR, "fetch v{v}");
            assert!(resp.topics.is_empty());
        } else {
            // v1 has no top-level error code: every partition asked has it.
            let codes: Vec<(i16, i64)> = resp.topics[0]
                .partitions
                .iter()
                .map(|p| (p.error_code, p.committed_offset))
                .collect();
            assert_eq!(codes, [(NOT_COORDINATOR, -1); 2], "fetch v1");
        }
    }
    for v in range(ApiKey::DescribeGroups) {
        let mut req = DescribeGroupsRequest::default();
        req.groups = vec![GroupId(s(&mine)), GroupId(s(&theirs))];
        let resp = call(&b, v, &req).await;
        assert_eq!(resp.groups[0].error_code, 0, "describe v{v}");
        assert_eq!(resp.groups[0].group_state.as_str(), "Empty");
        assert_eq!(resp.groups[1].group_id.as_str(), theirs);
        assert_eq!(resp.groups[1].error_code, NOT_COORDINATOR, "describe v{v}");
        assert_eq!(resp.groups[1].group_state.as_str(), "");
    }
    for v in range(ApiKey::ListGroups) {
        let resp = call(&b, v, &ListGroupsRequest::default()).await;
        let listed: Vec<&str> = resp.groups.iter().map(|g| g.group_id.as_str()).collect();
        assert_eq!(
            listed,
            [mine.as_str()],
            "list v{v}: only groups coordinated here"
        );
    }
    mgr.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_wait_for_their_partition_to_load() {
    let (_d, b, mgr) = clustered().await;
    let mine = group_on(MINE);
    let resp = call(&b, 8, &commit_req(&mine, -1)).await;
    assert_eq!(resp.topics[0].partitions[0].error_code, 0);
    // Leadership moved away and back: until the replay finishes nothing
    // is answered from the (empty) state.
    b.groups.unload_partition(MINE);
    let ticket = b.groups.begin_load(MINE);
    let mut fetch = OffsetFetchRequest::default();
    fetch.group_id = GroupId(s(&mine));
    fetch.topics = Some(fetch_topics());
    assert_eq!(call(&b, 7, &fetch).await.error_code, LOAD_IN_PROGRESS);
    let mut hb = HeartbeatRequest::default();
    hb.group_id = GroupId(s(&mine));
    hb.member_id = s("member-1");
    assert_eq!(call(&b, 4, &hb).await.error_code, LOAD_IN_PROGRESS);
    let resp = call(&b, 4, &ListGroupsRequest::default()).await;
    assert!(resp.groups.is_empty(), "a loading group is not listed");
    assert!(b.groups.finish_load(ticket).await.unwrap());
    let resp = call(&b, 7, &fetch).await;
    assert_eq!(resp.error_code, 0);
    assert_eq!(resp.topics[0].partitions[0].committed_offset, 42);
    mgr.stop();
}
