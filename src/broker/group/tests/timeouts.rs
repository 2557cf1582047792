//! Session, rebalance and sync timeouts; heartbeat errors; timer cleanup.
use super::*;
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn heartbeat_errors() {
    let (c, _) = setup();
    let (_, ids) = stable_group(&c, "g", 2).await;
    assert_eq!(
        c.heartbeat("g", 1, "ghost").await,
        Err(GroupError::UnknownMemberId)
    );
    assert_eq!(
        c.heartbeat("nope", 1, &ids[0]).await,
        Err(GroupError::UnknownMemberId)
    );
    assert_eq!(
        c.heartbeat("g", 0, &ids[0]).await,
        Err(GroupError::IllegalGeneration { given: 0 })
    );
    assert_eq!(
        c.heartbeat("", 1, &ids[0]).await,
        Err(GroupError::InvalidGroupId)
    );
    c.heartbeat("g", 1, &ids[1]).await.unwrap();
    // A join by someone new puts the group into a rebalance.
    let _newcomer = spawn_join(&c, join_req("g", "", &["range"]));
    settle().await;
    let err = c.heartbeat("g", 1, &ids[0]).await.unwrap_err();
    assert_eq!(err, GroupError::RebalanceInProgress);
    assert_eq!(err.kafka_code(), 27);
}

#[tokio::test(start_paused = true)]
async fn silent_member_is_removed_after_its_session_timeout() {
    let (c, _) = setup();
    let (_, ids) = stable_group(&c, "g", 2).await;
    let (alive, silent) = (&ids[0], &ids[1]);
    let start = Instant::now();
    // `alive` heartbeats every 3 s; `silent` never does.
    let mut removed_at = None;
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(3)).await;
        match c.heartbeat("g", 1, alive).await {
            Ok(()) => {}
            Err(GroupError::RebalanceInProgress) => {
                removed_at = Some(start.elapsed());
                break;
            }
            Err(e) => panic!("unexpected {e}"),
        }
    }
    let removed_at = removed_at.expect("the silent member should have expired");
    assert!(removed_at >= Duration::from_millis(SESSION_MS as u64));
    assert!(removed_at <= Duration::from_millis(SESSION_MS as u64 + 3000));
    assert_eq!(
        c.heartbeat("g", 1, silent).await,
        Err(GroupError::UnknownMemberId)
    );
    let r = c
        .join_group(join_req("g", alive, &["range"]))
        .await
        .unwrap();
    assert_eq!(r.generation_id, 2);
    assert_eq!(r.members.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn silent_member_expires_during_a_rebalance_and_the_join_completes() {
    let (c, _) = setup();
    let (_, ids) = stable_group(&c, "g", 2).await;
    let start = Instant::now();
    let newcomer = spawn_join(&c, join_req("g", "", &["range"]));
    settle().await;
    let rejoin = spawn_join(&c, join_req("g", &ids[0], &["range"]));
    // ids[1] neither rejoins nor heartbeats: its session (10 s) ends before
    // the rebalance timeout (30 s), and that completes the join.
    let n = newcomer.await.unwrap().unwrap();
    let r = rejoin.await.unwrap().unwrap();
    assert!(start.elapsed() <= Duration::from_millis(SESSION_MS as u64 + 10));
    assert_eq!(n.generation_id, 2);
    assert_eq!(r.members.len(), 2, "leader sees only the two that joined");
    assert!(r.members.iter().all(|m| m.member_id != ids[1]));
    assert_eq!(
        c.heartbeat("g", 2, &ids[1]).await,
        Err(GroupError::UnknownMemberId)
    );
}

#[tokio::test(start_paused = true)]
async fn rebalance_timeout_removes_members_that_keep_heartbeating_but_never_rejoin() {
    let (c, _) = setup();
    let (_, ids) = stable_group(&c, "g", 2).await;
    let start = Instant::now();
    let rejoin = spawn_join(&c, join_req("g", &ids[0], &["range"]));
    // ids[1] heartbeats (getting RebalanceInProgress) but never rejoins.
    let hb = {
        let c = c.clone();
        let id = ids[1].clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(3)).await;
                if c.heartbeat("g", 1, &id).await == Err(GroupError::UnknownMemberId) {
                    break;
                }
            }
        })
    };
    let r = rejoin.await.unwrap().unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(REBALANCE_MS as u64));
    assert_eq!(r.generation_id, 2);
    assert_eq!(r.members.len(), 1);
    hb.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn follower_that_never_syncs_is_removed_after_the_rebalance_timeout() {
    let (c, _) = setup();
    let a = spawn_join(&c, join_req("g", "", &["range"]));
    let b = spawn_join(&c, join_req("g", "", &["range"]));
    let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());
    let (leader, follower) = if a.leader_id == a.member_id {
        (a, b)
    } else {
        (b, a)
    };
    c.sync_group("g", 1, &leader.member_id, None, vec![])
        .await
        .unwrap();
    // The leader heartbeats; the follower never syncs.
    let mut saw_rebalance = false;
    for _ in 0..12 {
        tokio::time::sleep(Duration::from_secs(3)).await;
        if c.heartbeat("g", 1, &leader.member_id).await == Err(GroupError::RebalanceInProgress) {
            saw_rebalance = true;
            break;
        }
    }
    assert!(saw_rebalance);
    assert_eq!(
        c.heartbeat("g", 1, &follower.member_id).await,
        Err(GroupError::UnknownMemberId)
    );
}

#[tokio::test(start_paused = true)]
async fn no_timer_task_outlives_a_deleted_group() {
    let (c, _) = setup();
    let metrics = tokio::runtime::Handle::current().metrics();
    let (_, ids) = stable_group(&c, "g", 2).await;
    assert!(metrics.num_alive_tasks() >= 2, "session timers run");
    c.leave_group("g", ids.clone()).await.unwrap();
    assert_eq!(state_of(&c, "g"), GroupState::Empty);
    let deleted = c.delete_groups(vec!["g".into()]).await;
    assert_eq!(deleted[0].1, Ok(()));
    settle().await;
    // Only the store writer of the group's partition is left.
    assert_eq!(metrics.num_alive_tasks(), 1);
}
