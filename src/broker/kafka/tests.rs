//! Every advertised version of every API through `dispatch`, encoded and
//! decoded with the `kafka-protocol` crate as a client would; plus the ways
//! a request can be wrong.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};

use super::dispatch::dispatch;
use super::{guard, versions, Reply};
use crate::broker::config::BrokerConfig;
use crate::broker::state::Broker;
use crate::record::builder::BatchBuilder;

mod admin;
mod coordinator;
mod epochs;
mod transactions;

fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

async fn broker() -> (tempfile::TempDir, Arc<Broker>) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = BrokerConfig::new(dir.path().to_path_buf());
    cfg.group_initial_rebalance_delay = Duration::ZERO;
    let b = Broker::open(cfg, ("127.0.0.1".into(), 9092)).await.unwrap();
    (dir, b)
}

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn encode_request<R: Request>(version: i16, cid: i32, req: &R) -> Bytes {
    let mut out = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(R::KEY)
        .with_request_api_version(version)
        .with_correlation_id(cid)
        .with_client_id(Some(s("test")))
        .encode(&mut out, R::header_version(version))
        .unwrap();
    req.encode(&mut out, version).unwrap();
    out.freeze()
}

async fn reply_bytes(reply: Reply) -> Option<Bytes> {
    match reply {
        Reply::Now(b) => Some(b.freeze()),
        Reply::Later(f) => f.await.map(BytesMut::freeze),
        Reply::None | Reply::Close => None,
    }
}

/// Sends `req` at `version` and decodes the answer as that version.
async fn call<R: Request>(b: &Arc<Broker>, version: i16, req: &R) -> R::Response {
    let cid = 1000 + i32::from(version);
    let reply = dispatch(b, encode_request(version, cid, req), peer()).await;
    let mut frame = reply_bytes(reply)
        .await
        .unwrap_or_else(|| panic!("api {} v{version}: no response", R::KEY));
    let size = frame.get_i32();
    assert_eq!(size as usize, frame.len(), "frame size");
    let header = ResponseHeader::decode(&mut frame, R::Response::header_version(version)).unwrap();
    assert_eq!(header.correlation_id, cid);
    let resp = R::Response::decode(&mut frame, version)
        .unwrap_or_else(|e| panic!("api {} v{version}: {e}", R::KEY));
    assert!(
        frame.is_empty(),
        "api {} v{version}: trailing bytes",
        R::KEY
    );
    resp
}

fn batch(n: usize) -> Bytes {
    let mut bb = BatchBuilder::new(1_000);
    for i in 0..n {
        let v = format!("value-{i}");
        bb.push(
            1_000 + i as i64,
            Some(b"k"),
            Some(v.as_bytes()),
            &[("h", Some(b"x"))],
        )
        .unwrap();
    }
    bb.finish().freeze()
}

fn produce_req(topic: &str, acks: i16, records: Bytes) -> ProduceRequest {
    let mut req = ProduceRequest::default();
    req.transactional_id = None;
    req.acks = acks;
    req.timeout_ms = 1000;
    req.topic_data = vec![produce_request::TopicProduceData::default()
        .with_name(TopicName(s(topic)))
        .with_partition_data(vec![produce_request::PartitionProduceData::default()
            .with_index(0)
            .with_records(Some(records))])];
    req
}

fn fetch_req(topic: &str, offset: i64, max_wait_ms: i32) -> FetchRequest {
    let mut req = FetchRequest::default();
    req.max_wait_ms = max_wait_ms;
    req.min_bytes = 1;
    req.topics = vec![fetch_request::FetchTopic::default()
        .with_topic(TopicName(s(topic)))
        .with_partitions(vec![fetch_request::FetchPartition::default()
            .with_partition(0)
            .with_fetch_offset(offset)
            .with_partition_max_bytes(1 << 20)])];
    req
}

fn range(api: ApiKey) -> std::ops::RangeInclusive<i16> {
    let (min, max) = versions::range(api).unwrap();
    min.max(versions::PRODUCE_MIN_DECODABLE * i16::from(api == ApiKey::Produce))..=max
}

#[tokio::test]
async fn api_versions_lists_the_table_and_refuses_newer_versions() {
    let (_d, b) = broker().await;
    for v in range(ApiKey::ApiVersions) {
        let resp = call(&b, v, &ApiVersionsRequest::default()).await;
        assert_eq!(resp.error_code, 0);
        assert_eq!(resp.api_keys.len(), versions::SUPPORTED.len());
        let produce = resp.api_keys.iter().find(|k| k.api_key == 0).unwrap();
        assert_eq!(produce.min_version, 0, "librdkafka needs Produce from v0");
    }
    // A newer ApiVersions: v0 body, UNSUPPORTED_VERSION, our table.
    let mut raw = BytesMut::new();
    raw.put_i16(18);
    raw.put_i16(99);
    raw.put_i32(7);
    raw.put_i16(-1); // null client id
    raw.put_u8(0); // no tagged fields
    let mut frame = reply_bytes(dispatch(&b, raw.freeze(), peer()).await)
        .await
        .unwrap();
    frame.advance(4);
    let header = ResponseHeader::decode(&mut frame, 0).unwrap();
    assert_eq!(header.correlation_id, 7);
    let resp = ApiVersionsResponse::decode(&mut frame, 0).unwrap();
    assert_eq!(resp.error_code, 35);
    assert_eq!(resp.api_keys.len(), versions::SUPPORTED.len());
}

#[tokio::test]
async fn produce_and_fetch_every_version() {
    let (_d, b) = broker().await;
    b.topics
        .create("t", 1, 1, Default::default(), false)
        .unwrap();
    let mut next = 0;
    for v in range(ApiKey::Produce) {
        let resp = call(&b, v, &produce_req("t", -1, batch(3))).await;
        let p = &resp.responses[0].partition_responses[0];
        assert_eq!((p.error_code, p.base_offset), (0, next), "produce v{v}");
        next += 3;
    }
    for v in range(ApiKey::Fetch) {
        let resp = call(&b, v, &fetch_req("t", 3, 0)).await;
        let p = &resp.responses[0].partitions[0];
        assert_eq!(p.error_code, 0, "fetch v{v}");
        assert_eq!(p.high_watermark, next);
        let mut records = p.records.clone().unwrap();
        // The first of the stored batches, passed through as written.
        let set = kafka_protocol::records::RecordBatchDecoder::decode(&mut records).unwrap();
        assert_eq!(set.records.len(), 3, "fetch v{v}");
        assert_eq!(set.records[0].offset, 3);
        assert_eq!(set.records[0].headers.len(), 1);
    }
    // Out of range: the error and where the log really is.
    let resp = call(&b, 12, &fetch_req("t", next + 5, 0)).await;
    let p = &resp.responses[0].partitions[0];
    assert_eq!(
        (p.error_code, p.high_watermark, p.log_start_offset),
        (1, next, 0)
    );
    // Unknown topic.
    let resp = call(&b, 12, &fetch_req("nope", 0, 0)).await;
    assert_eq!(resp.responses[0].partitions[0].error_code, 3);
}

#[tokio::test]
async fn acks_zero_gets_no_response_and_bad_acks_an_error() {
    let (_d, b) = broker().await;
    b.topics
        .create("t", 1, 1, Default::default(), false)
        .unwrap();
    let reply = dispatch(
        &b,
        encode_request(9, 1, &produce_req("t", 0, batch(1))),
        peer(),
    )
    .await;
    assert!(matches!(reply, Reply::None));
    assert_eq!(b.topics.partition("t", 0).unwrap().offsets().1, 1);
    let resp = call(&b, 9, &produce_req("t", 5, batch(1))).await;
    assert_eq!(resp.responses[0].partition_responses[0].error_code, 21);
}

#[tokio::test]
async fn fetch_long_polls_until_data_arrives() {
    let (_d, b) = broker().await;
    b.topics
        .create("t", 1, 1, Default::default(), false)
        .unwrap();
    let reply = dispatch(&b, encode_request(11, 5, &fetch_req("t", 0, 5000)), peer()).await;
    let Reply::Later(fut) = reply else {
        panic!("an empty fetch with max_wait should wait");
    };
    let waiter = tokio::spawn(fut);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiter.is_finished());
    let _ = call(&b, 9, &produce_req("t", 1, batch(2))).await;
    let frame = tokio::time::timeout(Duration::from_secs(2), waiter)
        .await
        .expect("the append should wake the fetch")
        .unwrap()
        .unwrap();
    let mut frame = frame.freeze();
    frame.advance(4);
    let _ = ResponseHeader::decode(&mut frame, 0).unwrap();
    let resp = FetchResponse::decode(&mut frame, 11).unwrap();
    assert_eq!(resp.responses[0].partitions[0].high_watermark, 2);
}

#[tokio::test]
async fn legacy_produce_versions_are_refused_readably() {
    let (_d, b) = broker().await;
    for v in 0..versions::PRODUCE_MIN_DECODABLE {
        // v2 layout is v3 without the transactional id.
        let mut body = BytesMut::new();
        produce_req("t", 1, Bytes::from_static(b"xx"))
            .encode(&mut body, 3)
            .unwrap();
        let mut raw = BytesMut::new();
        raw.put_i16(0);
        raw.put_i16(v);
        raw.put_i32(9);
        raw.put_i16(-1);
        raw.put_slice(&body[2..]);
        let mut frame = reply_bytes(dispatch(&b, raw.freeze(), peer()).await)
            .await
            .unwrap();
        assert_eq!(frame.get_i32() as usize, frame.len());
        assert_eq!(frame.get_i32(), 9);
        assert_eq!(frame.get_i32(), 1); // topics
        let name_len = frame.get_i16() as usize;
        frame.advance(name_len);
        assert_eq!(frame.get_i32(), 1); // partitions
        assert_eq!(frame.get_i32(), 0);
        assert_eq!(frame.get_i16(), 43, "UNSUPPORTED_FOR_MESSAGE_FORMAT");
    }
}

#[tokio::test]
async fn metadata_list_offsets_and_admin_every_version() {
    let (_d, b) = broker().await;
    b.topics
        .create("t", 2, 1, Default::default(), false)
        .unwrap();
    for v in range(ApiKey::Metadata) {
        let mut req = MetadataRequest::default();
        req.topics = Some(vec![
            metadata_request::MetadataRequestTopic::default().with_name(Some(TopicName(s("t")))),
            metadata_request::MetadataRequestTopic::default()
                .with_name(Some(TopicName(s(&format!("auto{v}"))))),
        ]);
        let resp = call(&b, v, &req).await;
        assert_eq!(resp.brokers[0].port, 9092);
        assert_eq!(resp.topics.len(), 2);
        assert_eq!(resp.topics[0].partitions.len(), 2, "metadata v{v}");
        assert_eq!(resp.topics[1].error_code, 0, "auto-created, v{v}");
        if v >= 2 {
            assert_eq!(resp.cluster_id.as_deref(), Some("strom"));
        }
    }
    for v in range(ApiKey::ListOffsets) {
        let mut req = ListOffsetsRequest::default();
        req.topics = vec![list_offsets_request::ListOffsetsTopic::default()
            .with_name(TopicName(s("t")))
            .with_partitions(vec![
                list_offsets_request::ListOffsetsPartition::default().with_timestamp(-1),
                list_offsets_request::ListOffsetsPartition::default()
                    .with_partition_index(1)
                    .with_timestamp(-2),
            ])];
        let resp = call(&b, v, &req).await;
        assert_eq!(resp.topics[0].partitions[0].offset, 0, "list offsets v{v}");
        assert_eq!(resp.topics[0].partitions[1].error_code, 0);
    }
    for v in range(ApiKey::CreateTopics) {
        let mut req = CreateTopicsRequest::default();
        req.topics = vec![
            create_topics_request::CreatableTopic::default()
                .with_name(TopicName(s(&format!("c{v}"))))
                .with_num_partitions(3)
                .with_replication_factor(1)
                .with_configs(vec![create_topics_request::CreatableTopicConfig::default()
                    .with_name(s("retention.ms"))
                    .with_value(Some(s("1000")))]),
            create_topics_request::CreatableTopic::default()
                .with_name(TopicName(s("t")))
                .with_num_partitions(1)
                .with_replication_factor(1),
        ];
        let resp = call(&b, v, &req).await;
        assert_eq!(resp.topics[0].error_code, 0, "create v{v}");
        assert_eq!(resp.topics[1].error_code, 36, "exists, v{v}");
        assert_eq!(b.topics.get(&format!("c{v}")).unwrap().partition_count(), 3);
    }
    for v in range(ApiKey::DescribeConfigs) {
        let mut req = DescribeConfigsRequest::default();
        req.resources = vec![
            describe_configs_request::DescribeConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(s("c2"))
                .with_configuration_keys(None),
            describe_configs_request::DescribeConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(s("nope")),
        ];
        let resp = call(&b, v, &req).await;
        let r = &resp.results[0];
        assert_eq!(r.error_code, 0);
        let retention = r
            .configs
            .iter()
            .find(|c| c.name.as_str() == "retention.ms")
            .unwrap();
        assert_eq!(
            retention.value.as_deref(),
            Some("1000"),
            "describe configs v{v}"
        );
        assert_eq!(resp.results[1].error_code, 3);
    }
    for v in range(ApiKey::DeleteTopics) {
        let mut req = DeleteTopicsRequest::default();
        let name = TopicName(s(&format!("c{}", v.clamp(2, 7))));
        if v >= 6 {
            req.topics =
                vec![delete_topics_request::DeleteTopicState::default().with_name(Some(name))];
        } else {
            req.topic_names = vec![name];
        }
        let resp = call(&b, v, &req).await;
        let code = resp.responses[0].error_code;
        assert!(code == 0 || code == 3, "delete v{v}: {code}");
    }
    assert!(b.topics.get("c3").is_none());
}

#[tokio::test]
async fn group_apis_every_version() {
    let (_d, b) = broker().await;
    b.topics
        .create("t", 1, 1, Default::default(), false)
        .unwrap();
    for v in range(ApiKey::FindCoordinator) {
        let mut req = FindCoordinatorRequest::default();
        if v >= 4 {
            req.coordinator_keys = vec![s("g")];
        } else {
            req.key = s("g");
        }
        let resp = call(&b, v, &req).await;
        let port = if v >= 4 {
            resp.coordinators[0].port
        } else {
            resp.port
        };
        assert_eq!(port, 9092, "find coordinator v{v}");
    }
    for v in range(ApiKey::JoinGroup) {
        let group = format!("g{v}");
        let mut req = JoinGroupRequest::default();
        req.group_id = GroupId(s(&group));
        req.session_timeout_ms = 10_000;
        req.rebalance_timeout_ms = 10_000;
        req.protocol_type = s("consumer");
        req.protocols = vec![join_group_request::JoinGroupRequestProtocol::default()
            .with_name(s("range"))
            .with_metadata(Bytes::from_static(b"meta"))];
        let mut resp = call(&b, v, &req).await;
        if v >= 4 {
            assert_eq!(resp.error_code, 79, "member id required, v{v}");
            req.member_id = resp.member_id.clone();
            resp = call(&b, v, &req).await;
        }
        assert_eq!(resp.error_code, 0, "join v{v}");
        assert_eq!(resp.leader, resp.member_id);
        assert_eq!(resp.members.len(), 1);
        let member = resp.member_id.clone();
        let generation = resp.generation_id;

        let sv = v.min(5);
        let mut sync = SyncGroupRequest::default();
        sync.group_id = GroupId(s(&group));
        sync.generation_id = generation;
        sync.member_id = member.clone();
        if sv >= 5 {
            sync.protocol_type = Some(s("consumer"));
            sync.protocol_name = Some(s("range"));
        }
        sync.assignments = vec![sync_group_request::SyncGroupRequestAssignment::default()
            .with_member_id(member.clone())
            .with_assignment(Bytes::from_static(b"assigned"))];
        let resp = call(&b, sv, &sync).await;
        assert_eq!(
            (resp.error_code, &resp.assignment[..]),
            (0, &b"assigned"[..]),
            "sync v{sv}"
        );

        let hv = v.min(4);
        let mut hb = HeartbeatRequest::default();
        hb.group_id = GroupId(s(&group));
        hb.generation_id = generation;
        hb.member_id = member.clone();
        assert_eq!(call(&b, hv, &hb).await.error_code, 0, "heartbeat v{hv}");

        let cv = v.clamp(2, 8);
        let mut commit = OffsetCommitRequest::default();
        commit.group_id = GroupId(s(&group));
        commit.generation_id_or_member_epoch = generation;
        commit.member_id = member.clone();
        commit.topics = vec![offset_commit_request::OffsetCommitRequestTopic::default()
            .with_name(TopicName(s("t")))
            .with_partitions(vec![
                offset_commit_request::OffsetCommitRequestPartition::default()
                    .with_committed_offset(42)
                    .with_committed_metadata(Some(s("m"))),
            ])];
        let resp = call(&b, cv, &commit).await;
        assert_eq!(resp.topics[0].partitions[0].error_code, 0, "commit v{cv}");

        let fv = v.clamp(1, 8);
        let mut fetch = OffsetFetchRequest::default();
        if fv >= 8 {
            fetch.groups = vec![offset_fetch_request::OffsetFetchRequestGroup::default()
                .with_group_id(GroupId(s(&group)))
                .with_topics(Some(vec![
                    offset_fetch_request::OffsetFetchRequestTopics::default()
                        .with_name(TopicName(s("t")))
                        .with_partition_indexes(vec![0]),
                ]))];
            let resp = call(&b, fv, &fetch).await;
            assert_eq!(resp.groups[0].topics[0].partitions[0].committed_offset, 42);
        } else {
            fetch.group_id = GroupId(s(&group));
            fetch.topics = Some(vec![
                offset_fetch_request::OffsetFetchRequestTopic::default()
                    .with_name(TopicName(s("t")))
                    .with_partition_indexes(vec![0]),
            ]);
            let resp = call(&b, fv, &fetch).await;
            assert_eq!(
                resp.topics[0].partitions[0].committed_offset, 42,
                "offset fetch v{fv}"
            );
        }

        let dv = v.min(5);
        let mut describe = DescribeGroupsRequest::default();
        describe.groups = vec![GroupId(s(&group))];
        let resp = call(&b, dv, &describe).await;
        assert_eq!(
            resp.groups[0].group_state.as_str(),
            "Stable",
            "describe v{dv}"
        );
        assert_eq!(resp.groups[0].members[0].client_id.as_str(), "test");

        let lv = v.min(4);
        let resp = call(&b, lv, &ListGroupsRequest::default()).await;
        assert!(
            resp.groups.iter().any(|g| g.group_id.as_str() == group),
            "list v{lv}"
        );

        let lgv = v.min(5);
        let mut leave = LeaveGroupRequest::default();
        leave.group_id = GroupId(s(&group));
        if lgv >= 3 {
            leave.members =
                vec![leave_group_request::MemberIdentity::default().with_member_id(member.clone())];
        } else {
            leave.member_id = member.clone();
        }
        let resp = call(&b, lgv, &leave).await;
        assert_eq!(resp.error_code, 0, "leave v{lgv}");
    }
    for v in range(ApiKey::InitProducerId) {
        let mut req = InitProducerIdRequest::default();
        req.transactional_id = None;
        let resp = call(&b, v, &req).await;
        assert_eq!(resp.error_code, 0);
        assert!(resp.producer_id.0 >= 0);
        // A transactional id gets its epoch bumped by each call; a timeout
        // above transaction.max.timeout.ms is refused.
        req.transactional_id = Some(TransactionalId(s("tx")));
        req.transaction_timeout_ms = 60_000;
        let first = call(&b, v, &req).await;
        assert_eq!(first.error_code, 0);
        let again = call(&b, v, &req).await;
        assert_eq!(again.producer_id, first.producer_id);
        assert_eq!(again.producer_epoch, first.producer_epoch + 1);
        req.transaction_timeout_ms = i32::MAX;
        assert_eq!(
            call(&b, v, &req).await.error_code,
            50,
            "INVALID_TRANSACTION_TIMEOUT"
        );
    }
}

#[tokio::test]
async fn versions_outside_the_table_get_unsupported_version() {
    let (_d, b) = broker().await;
    let resp = call(&b, 13, &MetadataRequest::default()).await;
    assert_eq!(resp.error_code, 35);
    let resp = call(&b, 13, &FetchRequest::default()).await;
    assert_eq!(resp.error_code, 35);
    let resp = call(&b, 12, &produce_req("t", 1, batch(1))).await;
    assert_eq!(resp.responses[0].partition_responses[0].error_code, 35);
}

#[tokio::test]
async fn bad_requests_close_the_connection() {
    let (_d, b) = broker().await;
    let close = |r: &Reply| matches!(r, Reply::Close);
    // Shorter than a header.
    assert!(close(
        &dispatch(&b, Bytes::from_static(&[0, 3, 0]), peer()).await
    ));
    // Unknown API key.
    assert!(close(
        &dispatch(
            &b,
            Bytes::from_static(&[0x7f, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff]),
            peer()
        )
        .await
    ));
    // Known to Kafka, not to strom (DeleteRecords).
    assert!(close(
        &dispatch(
            &b,
            Bytes::from_static(&[0, 21, 0, 1, 0, 0, 0, 1, 0xff, 0xff]),
            peer()
        )
        .await
    ));
    // A body cut short.
    let full = encode_request(9, 1, &produce_req("t", 1, batch(1)));
    assert!(close(
        &dispatch(&b, full.slice(..full.len() - 5), peer()).await
    ));
}

#[tokio::test]
async fn huge_array_counts_are_refused_before_decoding() {
    let (_d, b) = broker().await;
    // Metadata v1 claiming 2^31-1 topics: the crate would try to allocate
    // ~150 GB and abort the process.
    let mut raw = BytesMut::new();
    raw.put_i16(3);
    raw.put_i16(1);
    raw.put_i32(7);
    raw.put_i16(-1);
    raw.put_i32(i32::MAX);
    assert!(matches!(
        dispatch(&b, raw.freeze(), peer()).await,
        Reply::Close
    ));
    // The same in a flexible version (compact array, varint count).
    let mut raw = BytesMut::new();
    raw.put_i16(3);
    raw.put_i16(12);
    raw.put_i32(7);
    raw.put_i16(-1);
    raw.put_u8(0);
    raw.put_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert!(matches!(
        dispatch(&b, raw.freeze(), peer()).await,
        Reply::Close
    ));
}

/// The walker must accept everything the crate encodes, with arrays
/// filled in, at every advertised version.
#[test]
fn guard_accepts_what_the_crate_encodes() {
    fn ok<R: Request>(version: i16, req: &R) {
        let mut body = BytesMut::new();
        req.encode(&mut body, version).unwrap();
        let api = ApiKey::try_from(R::KEY).unwrap();
        guard::check(api, version, &body).unwrap_or_else(|e| panic!("{api:?} v{version}: {e}"));
        // And it rejects the same body cut short wherever a field ends.
        if !body.is_empty() {
            assert!(
                guard::check(api, version, &body[..body.len() - 1]).is_err() || body.len() == 1
            );
        }
    }
    for v in range(ApiKey::Produce) {
        ok(v, &produce_req("t", 1, batch(1)));
    }
    for v in range(ApiKey::Fetch) {
        let mut req = fetch_req("t", 0, 0);
        if v >= 7 {
            req.forgotten_topics_data = vec![fetch_request::ForgottenTopic::default()
                .with_topic(TopicName(s("x")))
                .with_partitions(vec![1, 2])];
        }
        ok(v, &req);
    }
    for v in range(ApiKey::CreateTopics) {
        let mut req = CreateTopicsRequest::default();
        req.topics = vec![create_topics_request::CreatableTopic::default()
            .with_name(TopicName(s("x")))
            .with_assignments(vec![
                create_topics_request::CreatableReplicaAssignment::default()
                    .with_broker_ids(vec![BrokerId(1)]),
            ])
            .with_configs(vec![
                create_topics_request::CreatableTopicConfig::default().with_name(s("a"))
            ])];
        ok(v, &req);
    }
    for v in range(ApiKey::ListGroups) {
        let mut req = ListGroupsRequest::default();
        if v >= 4 {
            req.states_filter = vec![s("Stable")];
        }
        ok(v, &req);
    }
    for v in range(ApiKey::DescribeGroups) {
        let mut req = DescribeGroupsRequest::default();
        req.groups = vec![GroupId(s("a")), GroupId(s("b"))];
        ok(v, &req);
    }
    for v in range(ApiKey::ApiVersions) {
        ok(
            v,
            &ApiVersionsRequest::default().with_client_software_name(s("x")),
        );
    }
    for v in range(ApiKey::Heartbeat) {
        ok(v, &HeartbeatRequest::default());
    }
}
