//! The transactional APIs at every advertised version: a transaction
//! committed and one aborted, as a Kafka client drives them, with the
//! markers, the last stable offset and the aborted list seen by Fetch and
//! ListOffsets under read_committed.
use super::*;

async fn init(b: &Arc<Broker>, id: &str) -> (i64, i16) {
    let mut req = InitProducerIdRequest::default();
    req.transactional_id = Some(TransactionalId(s(id)));
    req.transaction_timeout_ms = 60_000;
    let resp = call(b, 1, &req).await;
    assert_eq!(resp.error_code, 0);
    (resp.producer_id.0, resp.producer_epoch)
}

fn txn_batch(pid: i64, epoch: i16, seq: i32, n: usize) -> Bytes {
    let mut bb = BatchBuilder::new(1);
    bb.set_producer(pid, epoch, seq);
    for _ in 0..n {
        bb.push(1, None, Some(b"v"), &[]).unwrap();
    }
    let mut buf = bb.finish();
    // The transactional attribute bit, then the CRC over it again.
    buf[21..23].copy_from_slice(&0x10i16.to_be_bytes());
    let crc = crc32c::crc32c(&buf[21..]);
    buf[17..21].copy_from_slice(&crc.to_be_bytes());
    buf.freeze()
}

fn add_partitions(id: &str, pid: i64, epoch: i16, topic: &str) -> AddPartitionsToTxnRequest {
    let mut req = AddPartitionsToTxnRequest::default();
    req.v3_and_below_transactional_id = TransactionalId(s(id));
    req.v3_and_below_producer_id = ProducerId(pid);
    req.v3_and_below_producer_epoch = epoch;
    req.v3_and_below_topics = vec![
        add_partitions_to_txn_request::AddPartitionsToTxnTopic::default()
            .with_name(TopicName(s(topic)))
            .with_partitions(vec![0]),
    ];
    req
}

fn end(id: &str, pid: i64, epoch: i16, commit: bool) -> EndTxnRequest {
    EndTxnRequest::default()
        .with_transactional_id(TransactionalId(s(id)))
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
        .with_committed(commit)
}

async fn fetch_committed(b: &Arc<Broker>, topic: &str) -> fetch_response::PartitionData {
    let mut req = fetch_req(topic, 0, 0);
    req.isolation_level = 1;
    let resp = call(b, 12, &req).await;
    resp.responses[0].partitions[0].clone()
}

#[tokio::test]
async fn commit_and_abort_at_every_version() {
    let (_d, b) = broker().await;
    for v in range(ApiKey::AddPartitionsToTxn) {
        let topic = format!("txn-{v}");
        let id = format!("tid-{v}");
        b.topics
            .create(&topic, 1, 1, Default::default(), false)
            .unwrap();
        let resp = call(&b, 9, &produce_req(&topic, 1, batch(1))).await;
        assert_eq!(resp.responses[0].partition_responses[0].error_code, 0);
        let (pid, epoch) = init(&b, &id).await;

        // Transaction 1: data, offsets for a group, commit.
        let resp = call(&b, v, &add_partitions(&id, pid, epoch, &topic)).await;
        let code =
            resp.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code;
        assert_eq!(code, 0, "AddPartitionsToTxn v{v}");
        let resp = call(&b, 9, &produce_req(&topic, -1, txn_batch(pid, epoch, 0, 2))).await;
        assert_eq!(resp.responses[0].partition_responses[0].error_code, 0);
        let open = fetch_committed(&b, &topic).await;
        assert_eq!(
            (open.high_watermark, open.last_stable_offset),
            (3, 1),
            "open: LSO at the txn"
        );
        let add_offsets = AddOffsetsToTxnRequest::default()
            .with_transactional_id(TransactionalId(s(&id)))
            .with_producer_id(ProducerId(pid))
            .with_producer_epoch(epoch)
            .with_group_id(GroupId(s("g-txn")));
        assert_eq!(call(&b, v, &add_offsets).await.error_code, 0);
        let mut commit = TxnOffsetCommitRequest::default()
            .with_transactional_id(TransactionalId(s(&id)))
            .with_group_id(GroupId(s("g-txn")))
            .with_producer_id(ProducerId(pid))
            .with_producer_epoch(epoch);
        commit.topics = vec![
            txn_offset_commit_request::TxnOffsetCommitRequestTopic::default()
                .with_name(TopicName(s(&topic)))
                .with_partitions(vec![
                    txn_offset_commit_request::TxnOffsetCommitRequestPartition::default()
                        .with_committed_offset(17),
                ]),
        ];
        let resp = call(&b, v, &commit).await;
        assert_eq!(resp.topics[0].partitions[0].error_code, 0);
        let committed = b
            .groups
            .fetch_offsets("g-txn", Some(vec![(topic.clone(), 0)]))
            .await
            .unwrap();
        assert_eq!(committed[0].offset, -1, "not visible before the commit");
        assert_eq!(call(&b, v, &end(&id, pid, epoch, true)).await.error_code, 0);
        let committed = b
            .groups
            .fetch_offsets("g-txn", Some(vec![(topic.clone(), 0)]))
            .await
            .unwrap();
        assert_eq!(committed[0].offset, 17, "visible once committed");
        let done = fetch_committed(&b, &topic).await;
        // Data 1-2, commit marker 3.
        assert_eq!((done.high_watermark, done.last_stable_offset), (4, 4));
        assert_eq!(done.aborted_transactions.as_deref(), Some(&[][..]));

        // Transaction 2: data, abort.
        call(&b, v, &add_partitions(&id, pid, epoch, &topic)).await;
        call(&b, 9, &produce_req(&topic, -1, txn_batch(pid, epoch, 2, 3))).await;
        assert_eq!(
            call(&b, v, &end(&id, pid, epoch, false)).await.error_code,
            0
        );
        let aborted = fetch_committed(&b, &topic).await;
        assert_eq!(aborted.last_stable_offset, 8);
        let list = aborted.aborted_transactions.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].producer_id.0, list[0].first_offset), (pid, 4));

        // A second instance fences the first.
        let (pid2, epoch2) = init(&b, &id).await;
        assert_eq!((pid2, epoch2), (pid, epoch + 1));
        let fenced = call(&b, v, &end(&id, pid, epoch, true)).await.error_code;
        assert_eq!(fenced, if v >= 2 { 90 } else { 47 }, "EndTxn v{v} fenced");
        let resp = call(&b, 9, &produce_req(&topic, -1, txn_batch(pid, epoch, 5, 1))).await;
        assert_eq!(resp.responses[0].partition_responses[0].error_code, 47);
        // Nor may the new one write outside a transaction, or a client
        // write a marker.
        let resp = call(
            &b,
            9,
            &produce_req(&topic, -1, txn_batch(pid, epoch2, 0, 1)),
        )
        .await;
        assert_eq!(resp.responses[0].partition_responses[0].error_code, 48);
        let marker = crate::record::marker_batch(pid, epoch2, crate::record::Marker::Commit, 0, 1);
        let resp = call(&b, 9, &produce_req(&topic, -1, marker.freeze())).await;
        assert_eq!(resp.responses[0].partition_responses[0].error_code, 87);
    }
    // ListOffsets read_committed: latest is the LSO.
    let (pid, epoch) = init(&b, "tid-lso").await;
    call(&b, 3, &add_partitions("tid-lso", pid, epoch, "txn-0")).await;
    call(
        &b,
        9,
        &produce_req("txn-0", -1, txn_batch(pid, epoch, 0, 1)),
    )
    .await;
    let mut lo = ListOffsetsRequest::default();
    lo.isolation_level = 1;
    lo.topics = vec![list_offsets_request::ListOffsetsTopic::default()
        .with_name(TopicName(s("txn-0")))
        .with_partitions(vec![
            list_offsets_request::ListOffsetsPartition::default().with_timestamp(-1)
        ])];
    let resp = call(&b, 6, &lo).await;
    assert_eq!(resp.topics[0].partitions[0].offset, 8);
    lo.isolation_level = 0;
    let resp = call(&b, 6, &lo).await;
    assert_eq!(resp.topics[0].partitions[0].offset, 9);

    // ListTransactions / DescribeTransactions.
    let mut list = ListTransactionsRequest::default();
    list.state_filters = vec![s("Ongoing"), s("Bogus")];
    let resp = call(&b, 0, &list).await;
    assert_eq!(resp.unknown_state_filters, vec![s("Bogus")]);
    assert_eq!(resp.transaction_states.len(), 1);
    assert_eq!(
        resp.transaction_states[0].transactional_id.0.as_str(),
        "tid-lso"
    );
    let mut desc = DescribeTransactionsRequest::default();
    desc.transactional_ids = vec![TransactionalId(s("tid-lso")), TransactionalId(s("nope"))];
    let resp = call(&b, 0, &desc).await;
    let d = &resp.transaction_states[0];
    assert_eq!(
        (d.transaction_state.as_str(), d.producer_id.0),
        ("Ongoing", pid)
    );
    assert_eq!(d.topics[0].partitions, vec![0]);
    assert_eq!(resp.transaction_states[1].error_code, 105);
}

#[test]
fn guard_accepts_the_transactional_apis() {
    fn ok<R: Request>(version: i16, req: &R) {
        let mut body = BytesMut::new();
        req.encode(&mut body, version).unwrap();
        let api = ApiKey::try_from(R::KEY).unwrap();
        guard::check(api, version, &body).unwrap_or_else(|e| panic!("{api:?} v{version}: {e}"));
        assert!(guard::check(api, version, &body[..body.len() - 1]).is_err());
    }
    for v in range(ApiKey::AddPartitionsToTxn) {
        ok(v, &add_partitions("t", 1, 0, "x"));
    }
    for v in range(ApiKey::AddOffsetsToTxn) {
        ok(
            v,
            &AddOffsetsToTxnRequest::default().with_group_id(GroupId(s("g"))),
        );
    }
    for v in range(ApiKey::EndTxn) {
        ok(v, &end("t", 1, 0, true));
    }
    for v in range(ApiKey::TxnOffsetCommit) {
        let mut req = TxnOffsetCommitRequest::default();
        req.topics = vec![
            txn_offset_commit_request::TxnOffsetCommitRequestTopic::default()
                .with_name(TopicName(s("x")))
                .with_partitions(vec![
                    txn_offset_commit_request::TxnOffsetCommitRequestPartition::default()
                        .with_committed_metadata(Some(s("m"))),
                ]),
        ];
        ok(v, &req);
    }
    for v in range(ApiKey::ListTransactions) {
        let mut req = ListTransactionsRequest::default();
        req.state_filters = vec![s("Ongoing")];
        req.producer_id_filters = vec![ProducerId(3), ProducerId(4)];
        ok(v, &req);
    }
    for v in range(ApiKey::DescribeTransactions) {
        let mut req = DescribeTransactionsRequest::default();
        req.transactional_ids = vec![TransactionalId(s("a"))];
        ok(v, &req);
    }
}
