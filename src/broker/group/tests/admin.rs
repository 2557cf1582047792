//! List, describe and delete.
use super::*;

#[tokio::test(start_paused = true)]
async fn describe_unknown_group_is_dead() {
    let (c, _) = setup();
    let d = c.describe_group("nope").unwrap();
    assert_eq!(d.state, GroupState::Dead);
    assert_eq!(d.state.as_str(), "Dead");
    assert!(d.members.is_empty());
}

#[tokio::test(start_paused = true)]
async fn describe_hides_metadata_until_stable() {
    let (c, _) = setup();
    let _a = spawn_join(&c, join_req("g", "", &["range"]));
    settle().await;
    let d = c.describe_group("g").unwrap();
    assert_eq!(d.state.as_str(), "PreparingRebalance");
    assert_eq!(d.protocol, "");
    assert_eq!(d.members.len(), 1);
    assert!(d.members[0].metadata.is_empty());
    assert_eq!(d.members[0].client_host, "/127.0.0.1");
}

#[tokio::test(start_paused = true)]
async fn delete_groups() {
    let (c, store) = setup();
    let (_, ids) = stable_group(&c, "busy", 1).await;
    c.commit_offsets(
        "idle",
        -1,
        "",
        vec![OffsetCommit {
            topic: "t".into(),
            partition: 0,
            offset: 4,
            leader_epoch: -1,
            metadata: None,
        }],
    )
    .await
    .unwrap();
    let out = c
        .delete_groups(vec!["idle".into(), "busy".into(), "nope".into()])
        .await;
    assert_eq!(out[0], ("idle".to_string(), Ok(())));
    assert_eq!(out[1].1, Err(GroupError::NonEmptyGroup));
    assert_eq!(out[1].1.as_ref().unwrap_err().kafka_code(), 68);
    assert_eq!(out[2].1, Err(GroupError::GroupIdNotFound));
    assert_eq!(out[2].1.as_ref().unwrap_err().kafka_code(), 69);
    assert_eq!(state_of(&c, "idle"), GroupState::Dead);
    let f = c
        .fetch_offsets("idle", Some(vec![("t".into(), 0)]))
        .await
        .unwrap();
    assert_eq!(f[0].offset, -1);
    // Tombstones for the offset and the group metadata were appended.
    let records = store.records(partition_for_group("idle", 8));
    let tombstones = records.iter().filter(|(_, v)| v.is_none()).count();
    assert_eq!(tombstones, 2);
    // Once empty, "busy" can go too.
    c.leave_group("busy", ids).await.unwrap();
    let out = c.delete_groups(vec!["busy".into()]).await;
    assert_eq!(out[0].1, Ok(()));
    assert!(c.list_groups().is_empty());
}

#[test]
fn error_codes_match_kafka() {
    let cases = [
        (GroupError::CoordinatorNotAvailable, 15),
        (GroupError::NotCoordinator, 16),
        (GroupError::IllegalGeneration { given: 1 }, 22),
        (GroupError::InconsistentGroupProtocol, 23),
        (GroupError::InvalidGroupId, 24),
        (GroupError::UnknownMemberId, 25),
        (
            GroupError::InvalidSessionTimeout {
                given: 1,
                min: 2,
                max: 3,
            },
            26,
        ),
        (GroupError::RebalanceInProgress, 27),
        (GroupError::NonEmptyGroup, 68),
        (GroupError::GroupIdNotFound, 69),
        (GroupError::MemberIdRequired("m".into()), 79),
        (GroupError::FencedInstanceId, 82),
        (GroupError::UnknownServerError("x".into()), -1),
    ];
    for (e, code) in cases {
        assert_eq!(e.kafka_code(), code, "{e}");
        assert!(!e.to_string().is_empty());
    }
    assert_eq!(
        GroupError::from(StoreError::NotLeader(3)),
        GroupError::NotCoordinator
    );
}

#[test]
fn state_names_are_kafkas() {
    let names: Vec<&str> = [
        GroupState::Empty,
        GroupState::PreparingRebalance,
        GroupState::CompletingRebalance,
        GroupState::Stable,
        GroupState::Dead,
    ]
    .iter()
    .map(|s| s.as_str())
    .collect();
    assert_eq!(
        names,
        [
            "Empty",
            "PreparingRebalance",
            "CompletingRebalance",
            "Stable",
            "Dead"
        ]
    );
}
