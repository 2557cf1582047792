//! OffsetForLeaderEpoch for clients (KIP-320).
use super::*;

fn epoch_req(topic: &str, partition: i32, current: i32, epoch: i32) -> OffsetForLeaderEpochRequest {
    OffsetForLeaderEpochRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![
            offset_for_leader_epoch_request::OffsetForLeaderTopic::default()
                .with_topic(TopicName(s(topic)))
                .with_partitions(vec![
                    offset_for_leader_epoch_request::OffsetForLeaderPartition::default()
                        .with_partition(partition)
                        .with_current_leader_epoch(current)
                        .with_leader_epoch(epoch),
                ]),
        ])
}

fn answer(resp: &OffsetForLeaderEpochResponse) -> (i16, i32, i64) {
    let p = &resp.topics[0].partitions[0];
    (p.error_code, p.leader_epoch, p.end_offset)
}

#[tokio::test]
async fn a_consumer_learns_where_its_epoch_ends_at_every_version() {
    let (_d, b) = broker().await;
    b.topics
        .create("ep", 1, 1, Default::default(), false)
        .unwrap();
    let produced = call(&b, 9, &produce_req("ep", 1, batch(5))).await;
    assert_eq!(produced.responses[0].partition_responses[0].error_code, 0);
    for v in range(ApiKey::OffsetForLeaderEpoch) {
        // The single node leads at epoch 0, and that epoch ends at the log
        // end; with no current epoch (-1) nothing is fenced.
        for current in [-1, 0] {
            let resp = call(&b, v, &epoch_req("ep", 0, current, 0)).await;
            assert_eq!(answer(&resp), (0, 0, 5), "v{v} current {current}");
        }
        // A client ahead of the broker's epoch: UNKNOWN_LEADER_EPOCH.
        let resp = call(&b, v, &epoch_req("ep", 0, 3, 0)).await;
        assert_eq!(answer(&resp), (75, -1, -1), "v{v}");
        // A partition or topic that does not exist.
        let resp = call(&b, v, &epoch_req("ep", 7, -1, 0)).await;
        assert_eq!(answer(&resp).0, 3, "v{v}");
        let resp = call(&b, v, &epoch_req("nope", 0, -1, 0)).await;
        assert_eq!(answer(&resp).0, 3, "v{v}");
    }
}

#[test]
fn the_guard_accepts_every_version() {
    for v in range(ApiKey::OffsetForLeaderEpoch) {
        let req = epoch_req("x", 0, -1, 0);
        let mut body = BytesMut::new();
        req.encode(&mut body, v).unwrap();
        guard::check(ApiKey::OffsetForLeaderEpoch, v, &body).unwrap();
    }
}

#[tokio::test]
async fn fetch_and_list_offsets_fence_a_client_at_another_leader_epoch() {
    let (_d, b) = broker().await;
    b.topics
        .create("ef", 1, 1, Default::default(), false)
        .unwrap();
    call(&b, 9, &produce_req("ef", 1, batch(3))).await;
    for v in range(ApiKey::Fetch).filter(|v| *v >= 9) {
        for (current, code) in [(-1, 0), (0, 0), (4, 75)] {
            let mut req = fetch_req("ef", 0, 0);
            req.topics[0].partitions[0].current_leader_epoch = current;
            let resp = call(&b, v, &req).await;
            assert_eq!(
                resp.responses[0].partitions[0].error_code, code,
                "fetch v{v} at epoch {current}"
            );
        }
    }
    for v in range(ApiKey::ListOffsets).filter(|v| *v >= 4) {
        for (current, code) in [(-1, 0), (0, 0), (4, 75)] {
            let req = ListOffsetsRequest::default()
                .with_replica_id(BrokerId(-1))
                .with_topics(vec![list_offsets_request::ListOffsetsTopic::default()
                    .with_name(TopicName(s("ef")))
                    .with_partitions(vec![
                        list_offsets_request::ListOffsetsPartition::default()
                            .with_partition_index(0)
                            .with_current_leader_epoch(current)
                            .with_timestamp(-1),
                    ])]);
            let resp = call(&b, v, &req).await;
            let p = &resp.topics[0].partitions[0];
            assert_eq!(p.error_code, code, "list offsets v{v} at epoch {current}");
            if code == 0 {
                // The epoch the records were written at, for the client to
                // keep with its position.
                assert_eq!((p.offset, p.leader_epoch), (3, 0), "v{v}");
            }
        }
    }
}
