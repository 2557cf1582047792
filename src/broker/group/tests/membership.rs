//! Join/sync of 1–3 members, generations, protocol selection, leave.
use super::*;
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn single_member_join_and_sync() {
    let (c, _) = setup();
    let start = Instant::now();
    let r = c.join_group(join_req("g", "", &["range"])).await.unwrap();
    // A new group waits the initial rebalance delay (3 s) for more members.
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert_eq!(r.generation_id, 1);
    assert_eq!(r.leader_id, r.member_id);
    assert!(r.member_id.starts_with("client-"));
    assert_eq!(r.protocol_name, "range");
    assert_eq!(r.protocol_type, "consumer");
    assert_eq!(r.members.len(), 1);
    assert_eq!(r.members[0].metadata, Bytes::from("meta-range"));
    assert_eq!(state_of(&c, "g"), GroupState::CompletingRebalance);

    let mine = Bytes::from_static(b"p0");
    let got = c
        .sync_group(
            "g",
            1,
            &r.member_id,
            None,
            vec![(r.member_id.clone(), mine.clone())],
        )
        .await
        .unwrap();
    assert_eq!(got, mine);
    let d = c.describe_group("g").unwrap();
    assert_eq!(d.state, GroupState::Stable);
    assert_eq!(d.protocol, "range");
    assert_eq!(d.members.len(), 1);
    assert_eq!(d.members[0].assignment, mine);
    assert_eq!(d.members[0].metadata, Bytes::from("meta-range"));
    c.heartbeat("g", 1, &r.member_id).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn two_members_share_the_first_generation() {
    let (c, _) = setup();
    let start = Instant::now();
    let a = spawn_join(&c, join_req("g", "", &["range"]));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let b = spawn_join(&c, join_req("g", "", &["range"]));
    let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());
    // The second join extended the initial delay once more (Kafka's rule).
    assert_eq!(start.elapsed(), Duration::from_secs(6));
    assert_eq!((a.generation_id, b.generation_id), (1, 1));
    assert_eq!(a.leader_id, a.member_id, "the first member leads");
    assert_eq!(b.leader_id, a.member_id);
    assert_eq!(a.members.len(), 2);
    assert!(b.members.is_empty(), "only the leader gets the member list");

    // The follower waits for the leader's assignment.
    let follower = spawn_sync(&c, "g", 1, &b.member_id, vec![]);
    settle().await;
    assert!(!follower.is_finished());
    let assignments = vec![
        (a.member_id.clone(), Bytes::from_static(b"A")),
        (b.member_id.clone(), Bytes::from_static(b"B")),
    ];
    let mine = c
        .sync_group("g", 1, &a.member_id, None, assignments)
        .await
        .unwrap();
    assert_eq!(mine, Bytes::from_static(b"A"));
    assert_eq!(follower.await.unwrap().unwrap(), Bytes::from_static(b"B"));
    assert_eq!(state_of(&c, "g"), GroupState::Stable);
}

#[tokio::test(start_paused = true)]
async fn third_member_triggers_a_rebalance_and_bumps_the_generation() {
    let (c, _) = setup();
    let (generation, ids) = stable_group(&c, "g", 2).await;
    assert_eq!(generation, 1);

    let newcomer = spawn_join(&c, join_req("g", "", &["range"]));
    settle().await;
    assert_eq!(state_of(&c, "g"), GroupState::PreparingRebalance);
    // Existing members learn about the rebalance from their heartbeat.
    for id in &ids {
        assert_eq!(
            c.heartbeat("g", 1, id).await,
            Err(GroupError::RebalanceInProgress)
        );
    }
    assert!(!newcomer.is_finished(), "waits until known members rejoin");
    let rejoins: Vec<_> = ids
        .iter()
        .map(|id| spawn_join(&c, join_req("g", id, &["range"])))
        .collect();
    let n = newcomer.await.unwrap().unwrap();
    let mut results = vec![n.clone()];
    for r in rejoins {
        results.push(r.await.unwrap().unwrap());
    }
    assert!(results.iter().all(|r| r.generation_id == 2));
    assert_eq!(n.leader_id, ids[0], "the leader stays the leader");
    let leader = results.iter().find(|r| r.member_id == ids[0]).unwrap();
    assert_eq!(leader.members.len(), 3);
    assert_eq!(state_of(&c, "g"), GroupState::CompletingRebalance);
    // The old generation is gone.
    assert_eq!(
        c.heartbeat("g", 1, &ids[1]).await,
        Err(GroupError::IllegalGeneration { given: 1 })
    );
}

#[tokio::test(start_paused = true)]
async fn three_members_join_and_sync() {
    let (c, _) = setup();
    let (generation, ids) = stable_group(&c, "g", 3).await;
    assert_eq!(generation, 1);
    let d = c.describe_group("g").unwrap();
    assert_eq!(d.members.len(), 3);
    for m in d.members {
        assert_eq!(m.assignment, Bytes::from(format!("assign-{}", m.member_id)));
        assert!(ids.contains(&m.member_id));
    }
}

#[tokio::test(start_paused = true)]
async fn leader_rejoin_forces_a_rebalance_follower_rejoin_does_not() {
    let (c, _) = setup();
    let (_, ids) = stable_group(&c, "g", 2).await;
    // A follower rejoining with unchanged metadata gets the current generation.
    let r = c
        .join_group(join_req("g", &ids[1], &["range"]))
        .await
        .unwrap();
    assert_eq!(r.generation_id, 1);
    assert_eq!(state_of(&c, "g"), GroupState::Stable);
    // The leader rejoining starts a rebalance (it wants a new assignment).
    let l = spawn_join(&c, join_req("g", &ids[0], &["range"]));
    settle().await;
    assert_eq!(state_of(&c, "g"), GroupState::PreparingRebalance);
    let f = spawn_join(&c, join_req("g", &ids[1], &["range"]));
    assert_eq!(l.await.unwrap().unwrap().generation_id, 2);
    assert_eq!(f.await.unwrap().unwrap().generation_id, 2);
}

#[tokio::test(start_paused = true)]
async fn protocol_is_chosen_by_votes_among_common_ones() {
    let (c, _) = setup();
    let a = spawn_join(&c, join_req("g", "", &["range", "roundrobin"]));
    let b = spawn_join(&c, join_req("g", "", &["roundrobin", "range"]));
    let d = spawn_join(&c, join_req("g", "", &["roundrobin", "range", "sticky"]));
    let a = a.await.unwrap().unwrap();
    b.await.unwrap().unwrap();
    d.await.unwrap().unwrap();
    assert_eq!(a.protocol_name, "roundrobin");
    assert!(a.members.iter().all(|m| m.metadata == "meta-roundrobin"));
}

#[tokio::test(start_paused = true)]
async fn inconsistent_protocols_are_refused() {
    let (c, _) = setup();
    let _ = stable_group(&c, "g", 1).await;
    let err = c.join_group(join_req("g", "", &["roundrobin"])).await;
    assert_eq!(err, Err(GroupError::InconsistentGroupProtocol));
    assert_eq!(err.unwrap_err().kafka_code(), 23);
    let mut other_type = join_req("g", "", &["range"]);
    other_type.protocol_type = "connect".into();
    assert_eq!(
        c.join_group(other_type).await,
        Err(GroupError::InconsistentGroupProtocol)
    );
    let mut none = join_req("new", "", &[]);
    none.protocols.clear();
    assert_eq!(
        c.join_group(none).await,
        Err(GroupError::InconsistentGroupProtocol)
    );
    assert_eq!(
        state_of(&c, "new"),
        GroupState::Dead,
        "a failed join leaves no group"
    );
}

#[tokio::test(start_paused = true)]
async fn join_validation() {
    let (c, _) = setup();
    assert_eq!(
        c.join_group(join_req("", "", &["range"])).await,
        Err(GroupError::InvalidGroupId)
    );
    let mut short = join_req("g", "", &["range"]);
    short.session_timeout_ms = 1000;
    let err = c.join_group(short).await.unwrap_err();
    assert_eq!(err.kafka_code(), 26);
    assert_eq!(
        c.join_group(join_req("nope", "ghost", &["range"])).await,
        Err(GroupError::UnknownMemberId)
    );
}

#[tokio::test(start_paused = true)]
async fn member_id_required_then_join_with_it() {
    let (c, _) = setup();
    let mut req = join_req("g", "", &["range"]);
    req.require_known_member_id = true;
    let id = match c.join_group(req.clone()).await {
        Err(GroupError::MemberIdRequired(id)) => id,
        other => panic!("expected MemberIdRequired, got {other:?}"),
    };
    assert_eq!(GroupError::MemberIdRequired(id.clone()).kafka_code(), 79);
    req.member_id = id.clone();
    let r = c.join_group(req).await.unwrap();
    assert_eq!(r.member_id, id);
    assert_eq!(r.generation_id, 1);
}

#[tokio::test(start_paused = true)]
async fn pending_member_id_expires_after_session_timeout() {
    let (c, _) = setup();
    let mut req = join_req("g", "", &["range"]);
    req.require_known_member_id = true;
    let Err(GroupError::MemberIdRequired(id)) = c.join_group(req.clone()).await else {
        panic!("expected MemberIdRequired");
    };
    tokio::time::sleep(Duration::from_millis(SESSION_MS as u64 + 1)).await;
    req.member_id = id;
    assert_eq!(c.join_group(req).await, Err(GroupError::UnknownMemberId));
}

#[tokio::test(start_paused = true)]
async fn leave_group_rebalances_and_elects_a_new_leader() {
    let (c, _) = setup();
    let (_, ids) = stable_group(&c, "g", 2).await;
    let out = c
        .leave_group("g", vec![ids[0].clone(), "ghost".into()])
        .await
        .unwrap();
    assert_eq!(out[0], (ids[0].clone(), Ok(())));
    assert_eq!(
        out[1],
        ("ghost".to_string(), Err(GroupError::UnknownMemberId))
    );
    assert_eq!(state_of(&c, "g"), GroupState::PreparingRebalance);
    let r = c
        .join_group(join_req("g", &ids[1], &["range"]))
        .await
        .unwrap();
    assert_eq!(r.generation_id, 2);
    assert_eq!(r.leader_id, ids[1]);
    assert_eq!(r.members.len(), 1);
    // The last member leaving empties the group at once.
    let out = c.leave_group("g", vec![ids[1].clone()]).await.unwrap();
    assert_eq!(out[0].1, Ok(()));
    assert_eq!(state_of(&c, "g"), GroupState::Empty);
    let unknown = c.leave_group("nope", vec!["x".into()]).await.unwrap();
    assert_eq!(unknown[0].1, Err(GroupError::UnknownMemberId));
}

#[tokio::test(start_paused = true)]
async fn sync_errors() {
    let (c, _) = setup();
    let (_, ids) = stable_group(&c, "g", 1).await;
    assert_eq!(
        c.sync_group("g", 9, &ids[0], None, vec![]).await,
        Err(GroupError::IllegalGeneration { given: 9 })
    );
    assert_eq!(
        c.sync_group("g", 1, "ghost", None, vec![]).await,
        Err(GroupError::UnknownMemberId)
    );
    assert_eq!(
        c.sync_group("nope", 1, "x", None, vec![]).await,
        Err(GroupError::UnknownMemberId)
    );
    // Stable: a repeated sync returns the current assignment.
    let again = c.sync_group("g", 1, &ids[0], None, vec![]).await.unwrap();
    assert_eq!(again, Bytes::from(format!("assign-{}", ids[0])));
}

#[tokio::test(start_paused = true)]
async fn failed_assignment_store_fails_the_sync_and_rebalances() {
    let (c, store) = setup();
    let r = c.join_group(join_req("g", "", &["range"])).await.unwrap();
    store.set_fail_appends(true);
    let err = c
        .sync_group(
            "g",
            1,
            &r.member_id,
            None,
            vec![(r.member_id.clone(), Bytes::new())],
        )
        .await;
    assert_eq!(err, Err(GroupError::CoordinatorNotAvailable));
    // The lone member had its sync answered, so it rejoins: the rebalance
    // waits for it.
    assert_eq!(state_of(&c, "g"), GroupState::PreparingRebalance);
    store.set_fail_appends(false);
    let r2 = c
        .join_group(join_req("g", &r.member_id, &["range"]))
        .await
        .unwrap();
    assert_eq!(r2.generation_id, 2);
}

#[tokio::test(start_paused = true)]
async fn static_member_replacement_fences_the_old_id_without_rebalance() {
    let (c, _) = setup();
    let mut req = join_req("g", "", &["range"]);
    req.group_instance_id = Some("inst-1".into());
    let a = c.join_group(req.clone()).await.unwrap();
    assert!(a.member_id.starts_with("inst-1-"));
    c.sync_group(
        "g",
        1,
        &a.member_id,
        Some("inst-1"),
        vec![(a.member_id.clone(), Bytes::from_static(b"A"))],
    )
    .await
    .unwrap();
    // Same instance restarts: it takes over the old member's place.
    let b = c.join_group(req).await.unwrap();
    assert_ne!(b.member_id, a.member_id);
    assert_eq!(
        b.generation_id, 1,
        "no rebalance for a returning static member"
    );
    assert_eq!(state_of(&c, "g"), GroupState::Stable);
    let mine = c
        .sync_group("g", 1, &b.member_id, Some("inst-1"), vec![])
        .await
        .unwrap();
    assert_eq!(mine, Bytes::from_static(b"A"), "it keeps the assignment");
    assert_eq!(
        c.heartbeat("g", 1, &a.member_id).await,
        Err(GroupError::FencedInstanceId)
    );
    let fenced = c
        .sync_group("g", 1, &a.member_id, Some("inst-1"), vec![])
        .await;
    assert_eq!(fenced.unwrap_err().kafka_code(), 82);
}
