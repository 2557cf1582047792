//! Rebuilding state from the store.
use super::*;

#[tokio::test(start_paused = true)]
async fn reload_restores_offsets_and_groups() {
    let (c, store) = setup();
    let (generation, ids) = stable_group(&c, "g", 2).await;
    c.commit_offsets(
        "g",
        generation,
        &ids[0],
        vec![OffsetCommit {
            topic: "t".into(),
            partition: 2,
            offset: 42,
            leader_epoch: 3,
            metadata: Some("ckpt".into()),
        }],
    )
    .await
    .unwrap();
    c.commit_offsets(
        "admin",
        -1,
        "",
        vec![OffsetCommit {
            topic: "t".into(),
            partition: 0,
            offset: 7,
            leader_epoch: -1,
            metadata: None,
        }],
    )
    .await
    .unwrap();
    let deleted = c.delete_offsets_for_topic("gone").await;
    assert_eq!(deleted, Ok(0));
    drop(c);

    let c2 = GroupCoordinator::new(config(), store.clone());
    c2.load().await.unwrap();
    let f = c2
        .fetch_offsets("g", Some(vec![("t".into(), 2)]))
        .await
        .unwrap();
    assert_eq!(
        (f[0].offset, f[0].leader_epoch, f[0].metadata.as_str()),
        (42, 3, "ckpt")
    );
    let f = c2.fetch_offsets("admin", None).await.unwrap();
    assert_eq!(f[0].offset, 7);
    // The group resumes Stable with its members and generation, so live
    // members keep heartbeating across a coordinator restart.
    let d = c2.describe_group("g").unwrap();
    assert_eq!(d.state, GroupState::Stable);
    assert_eq!(d.protocol, "range");
    assert_eq!(d.members.len(), 2);
    for m in &d.members {
        assert_eq!(m.assignment, Bytes::from(format!("assign-{}", m.member_id)));
    }
    c2.heartbeat("g", generation, &ids[1]).await.unwrap();
    // A follower rejoin with the same metadata needs no rebalance.
    let r = c2
        .join_group(join_req("g", &ids[1], &["range"]))
        .await
        .unwrap();
    assert_eq!(r.generation_id, generation);
    assert_eq!(r.leader_id, ids[0]);
}

#[tokio::test(start_paused = true)]
async fn reload_honours_tombstones_and_generation_of_empty_groups() {
    let (c, store) = setup();
    let (_, ids) = stable_group(&c, "g", 1).await;
    c.leave_group("g", ids).await.unwrap();
    assert_eq!(state_of(&c, "g"), GroupState::Empty);
    c.commit_offsets(
        "d",
        -1,
        "",
        vec![OffsetCommit {
            topic: "t".into(),
            partition: 0,
            offset: 1,
            leader_epoch: -1,
            metadata: None,
        }],
    )
    .await
    .unwrap();
    assert_eq!(c.delete_groups(vec!["d".into()]).await[0].1, Ok(()));
    settle().await; // let the fire-and-forget metadata write land
    drop(c);

    let c2 = GroupCoordinator::new(config(), store);
    c2.load().await.unwrap();
    assert_eq!(state_of(&c2, "d"), GroupState::Dead);
    assert_eq!(state_of(&c2, "g"), GroupState::Empty);
    // Generation continues from the persisted one (2 after the leave).
    let r = c2.join_group(join_req("g", "", &["range"])).await.unwrap();
    assert_eq!(r.generation_id, 3);
}

#[tokio::test(start_paused = true)]
async fn undecodable_records_are_skipped() {
    let store = Arc::new(MemoryGroupStore::new());
    let good_key = codec::RecordKey::Offset {
        group: "g".into(),
        topic: "t".into(),
        partition: 0,
    };
    let good_value = codec::OffsetValue {
        offset: 9,
        leader_epoch: -1,
        metadata: String::new(),
        commit_timestamp: 0,
    };
    let p = partition_for_group("g", 8);
    store
        .append(
            p,
            vec![
                (
                    Bytes::from_static(&[0, 9, 1]),
                    Some(Bytes::from_static(b"junk")),
                ),
                (good_key.encode(), Some(Bytes::from_static(&[0, 3, 1]))),
                (good_key.encode(), Some(good_value.encode())),
            ],
        )
        .await
        .unwrap();
    let c = GroupCoordinator::new(config(), store);
    c.load().await.unwrap();
    let f = c.fetch_offsets("g", None).await.unwrap();
    assert_eq!(f[0].offset, 9);
}

#[tokio::test(start_paused = true)]
async fn a_load_overtaken_by_a_leadership_change_is_discarded() {
    let (c, store) = setup();
    c.commit_offsets(
        "g",
        -1,
        "",
        vec![OffsetCommit {
            topic: "t".into(),
            partition: 0,
            offset: 5,
            leader_epoch: -1,
            metadata: None,
        }],
    )
    .await
    .unwrap();
    let p = partition_for_group("g", 8);
    let c2 = GroupCoordinator::new(config(), store);
    assert!(!c2.is_loaded(p));
    let stale = c2.begin_load(p);
    assert!(!c2.is_loaded(p), "loading is not loaded");
    // Leadership lost and regained before the first replay finished.
    c2.unload_partition(p);
    let current = c2.begin_load(p);
    assert!(!c2.finish_load(stale).await.unwrap(), "stale load applied");
    assert!(!c2.is_loaded(p));
    assert!(c2.fetch_offsets("g", None).await.unwrap().is_empty());
    assert!(c2.finish_load(current).await.unwrap());
    assert!(c2.is_loaded(p));
    assert_eq!(c2.fetch_offsets("g", None).await.unwrap()[0].offset, 5);
    // Losing the partition forgets its groups.
    c2.unload_partition(p);
    assert!(!c2.is_loaded(p));
    assert!(c2.fetch_offsets("g", None).await.unwrap().is_empty());
}
