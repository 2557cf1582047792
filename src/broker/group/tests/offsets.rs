//! Offset commit admission, durability and fetch.
use super::*;

fn commit(topic: &str, partition: i32, offset: i64) -> OffsetCommit {
    OffsetCommit {
        topic: topic.to_string(),
        partition,
        offset,
        leader_epoch: 5,
        metadata: Some("m".to_string()),
    }
}

#[tokio::test(start_paused = true)]
async fn member_commit_is_stored_and_fetched() {
    let (c, store) = setup();
    let (generation, ids) = stable_group(&c, "g", 2).await;
    let out = c
        .commit_offsets(
            "g",
            generation,
            &ids[1],
            vec![commit("t", 0, 10), commit("t", 1, 20)],
        )
        .await
        .unwrap();
    assert!(out.iter().all(|(_, _, r)| r.is_ok()));
    let partition = partition_for_group("g", 8);
    let records = store.records(partition);
    assert!(records.iter().any(|(k, _)| {
        codec::RecordKey::decode(k)
            == Ok(codec::RecordKey::Offset {
                group: "g".into(),
                topic: "t".into(),
                partition: 1,
            })
    }));
    let fetched = c
        .fetch_offsets("g", Some(vec![("t".into(), 0), ("t".into(), 7)]))
        .await
        .unwrap();
    assert_eq!(
        fetched[0],
        CommittedOffset {
            topic: "t".into(),
            partition: 0,
            offset: 10,
            leader_epoch: 5,
            metadata: "m".into()
        }
    );
    assert_eq!((fetched[1].offset, fetched[1].leader_epoch), (-1, -1));
    let all = c.fetch_offsets("g", None).await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(c.fetch_offsets("nope", None).await.unwrap().is_empty());
    // A later commit overwrites.
    c.commit_offsets("g", generation, &ids[0], vec![commit("t", 0, 11)])
        .await
        .unwrap();
    let f = c
        .fetch_offsets("g", Some(vec![("t".into(), 0)]))
        .await
        .unwrap();
    assert_eq!(f[0].offset, 11);
}

#[tokio::test(start_paused = true)]
async fn commit_from_an_old_generation_is_refused() {
    let (c, _) = setup();
    let (_, ids) = stable_group(&c, "g", 1).await;
    // Rejoin as leader: generation 2 forms.
    let r = c
        .join_group(join_req("g", &ids[0], &["range"]))
        .await
        .unwrap();
    assert_eq!(r.generation_id, 2);
    c.sync_group("g", 2, &ids[0], None, vec![]).await.unwrap();
    let err = c
        .commit_offsets("g", 1, &ids[0], vec![commit("t", 0, 1)])
        .await
        .unwrap_err();
    assert_eq!(err, GroupError::IllegalGeneration { given: 1 });
    assert_eq!(err.kafka_code(), 22);
    // Unknown group with a generation: also a stale generation.
    assert_eq!(
        c.commit_offsets("nope", 3, "m", vec![commit("t", 0, 1)])
            .await,
        Err(GroupError::IllegalGeneration { given: 3 })
    );
}

#[tokio::test(start_paused = true)]
async fn commit_from_an_unknown_member_is_refused() {
    let (c, _) = setup();
    let (generation, _) = stable_group(&c, "g", 1).await;
    let err = c
        .commit_offsets("g", generation, "ghost", vec![commit("t", 0, 1)])
        .await
        .unwrap_err();
    assert_eq!(err, GroupError::UnknownMemberId);
    assert_eq!(err.kafka_code(), 25);
    // An admin commit into a group with members is refused the same way.
    assert_eq!(
        c.commit_offsets("g", -1, "", vec![commit("t", 0, 1)]).await,
        Err(GroupError::UnknownMemberId)
    );
}

#[tokio::test(start_paused = true)]
async fn commit_while_completing_rebalance_is_refused_but_allowed_while_preparing() {
    let (c, _) = setup();
    let r = c.join_group(join_req("g", "", &["range"])).await.unwrap();
    assert_eq!(state_of(&c, "g"), GroupState::CompletingRebalance);
    assert_eq!(
        c.commit_offsets("g", 1, &r.member_id, vec![commit("t", 0, 1)])
            .await,
        Err(GroupError::RebalanceInProgress)
    );
    c.sync_group("g", 1, &r.member_id, None, vec![])
        .await
        .unwrap();
    let _newcomer = spawn_join(&c, join_req("g", "", &["range"]));
    settle().await;
    assert_eq!(state_of(&c, "g"), GroupState::PreparingRebalance);
    // Kafka lets members commit what they processed before rejoining.
    let out = c
        .commit_offsets("g", 1, &r.member_id, vec![commit("t", 0, 1)])
        .await
        .unwrap();
    assert_eq!(out[0].2, Ok(()));
}

#[tokio::test(start_paused = true)]
async fn admin_commit_on_an_empty_group() {
    let (c, _) = setup();
    let out = c
        .commit_offsets("tools", -1, "", vec![commit("t", 3, 99)])
        .await
        .unwrap();
    assert_eq!(out, vec![("t".to_string(), 3, Ok(()))]);
    assert_eq!(state_of(&c, "tools"), GroupState::Empty);
    let f = c
        .fetch_offsets("tools", Some(vec![("t".into(), 3)]))
        .await
        .unwrap();
    assert_eq!(f[0].offset, 99);
    let listed = c.list_groups();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, GroupState::Empty);
    assert_eq!(listed[0].protocol_type, "");
}

#[tokio::test(start_paused = true)]
async fn oversized_metadata_fails_only_that_partition() {
    let (c, _) = setup();
    let mut big = commit("t", 1, 5);
    big.metadata = Some("x".repeat(5000));
    let out = c
        .commit_offsets("g", -1, "", vec![commit("t", 0, 5), big])
        .await
        .unwrap();
    assert_eq!(out[0].2, Ok(()));
    assert_eq!(out[1].2.as_ref().unwrap_err().kafka_code(), 12);
    let f = c.fetch_offsets("g", None).await.unwrap();
    assert_eq!(f.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn failed_append_is_reported_and_not_cached() {
    let (c, store) = setup();
    store.set_fail_appends(true);
    let out = c
        .commit_offsets("g", -1, "", vec![commit("t", 0, 5)])
        .await
        .unwrap();
    assert_eq!(out[0].2, Err(GroupError::CoordinatorNotAvailable));
    let f = c
        .fetch_offsets("g", Some(vec![("t".into(), 0)]))
        .await
        .unwrap();
    assert_eq!(f[0].offset, -1);
}

#[tokio::test(start_paused = true)]
async fn deleting_a_topic_drops_its_offsets() {
    let (c, _) = setup();
    c.commit_offsets("a", -1, "", vec![commit("t", 0, 1), commit("u", 0, 2)])
        .await
        .unwrap();
    c.commit_offsets("b", -1, "", vec![commit("t", 0, 3)])
        .await
        .unwrap();
    assert_eq!(c.delete_offsets_for_topic("t").await, Ok(2));
    let a = c.fetch_offsets("a", None).await.unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].topic, "u");
    // "b" had nothing else: it is gone, like in Kafka.
    assert_eq!(state_of(&c, "b"), GroupState::Dead);
}
