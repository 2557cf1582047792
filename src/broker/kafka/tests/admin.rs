//! The admin APIs beyond create/delete: CreatePartitions, AlterConfigs,
//! IncrementalAlterConfigs, DeleteRecords, and the topic configs Kafka
//! clients send (timestamps honoured on produce), at every advertised
//! version.
use super::*;

const INVALID_PARTITIONS: i16 = 37;
const INVALID_CONFIG: i16 = 40;
const INVALID_REQUEST: i16 = 42;
const INVALID_TIMESTAMP: i16 = 32;
const OFFSET_OUT_OF_RANGE: i16 = 1;
const UNKNOWN_TOPIC: i16 = 3;

fn config_of(b: &Broker, topic: &str, key: &str) -> (String, bool) {
    b.topic_config(topic)
        .unwrap()
        .described()
        .into_iter()
        .find(|e| e.key == key)
        .map(|e| (e.value, e.is_default))
        .unwrap()
}

fn incremental(topic: &str, ops: &[(&str, i8, Option<&str>)]) -> IncrementalAlterConfigsRequest {
    let mut req = IncrementalAlterConfigsRequest::default();
    req.resources = vec![
        incremental_alter_configs_request::AlterConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(s(topic))
            .with_configs(
                ops.iter()
                    .map(|(k, op, v)| {
                        incremental_alter_configs_request::AlterableConfig::default()
                            .with_name(s(k))
                            .with_config_operation(*op)
                            .with_value(v.map(s))
                    })
                    .collect(),
            ),
    ];
    req
}

#[tokio::test]
async fn create_partitions_every_version_grows_only() {
    let (_d, b) = broker().await;
    b.topics
        .create("g", 1, 1, Default::default(), false)
        .unwrap();
    let mut want = 1;
    for v in range(ApiKey::CreatePartitions) {
        want += 1;
        let mut req = CreatePartitionsRequest::default();
        req.topics = vec![
            create_partitions_request::CreatePartitionsTopic::default()
                .with_name(TopicName(s("g")))
                .with_count(want),
            create_partitions_request::CreatePartitionsTopic::default()
                .with_name(TopicName(s("missing")))
                .with_count(3),
        ];
        let resp = call(&b, v, &req).await;
        assert_eq!(
            resp.results[0].error_code, 0,
            "v{v}: {:?}",
            resp.results[0].error_message
        );
        assert_eq!(resp.results[1].error_code, UNKNOWN_TOPIC);
        assert_eq!(b.topics.get("g").unwrap().partition_count(), want, "v{v}");
    }
    // Shrinking, or the same count, is refused as Kafka does.
    for count in [want - 1, want] {
        let mut req = CreatePartitionsRequest::default();
        req.topics = vec![create_partitions_request::CreatePartitionsTopic::default()
            .with_name(TopicName(s("g")))
            .with_count(count)];
        let resp = call(&b, 3, &req).await;
        assert_eq!(
            resp.results[0].error_code, INVALID_PARTITIONS,
            "count {count}"
        );
        assert!(resp.results[0].error_message.is_some());
    }
    // validate_only changes nothing.
    let mut req = CreatePartitionsRequest::default();
    req.validate_only = true;
    req.topics = vec![create_partitions_request::CreatePartitionsTopic::default()
        .with_name(TopicName(s("g")))
        .with_count(want + 5)];
    assert_eq!(call(&b, 3, &req).await.results[0].error_code, 0);
    assert_eq!(b.topics.get("g").unwrap().partition_count(), want);
    // The new partitions take produces.
    let mut p = produce_req("g", 1, batch(2));
    p.topic_data[0].partition_data[0].index = want - 1;
    let resp = call(&b, 9, &p).await;
    assert_eq!(resp.responses[0].partition_responses[0].error_code, 0);
}

#[tokio::test]
async fn alter_configs_every_version_replaces_the_overrides() {
    let (_d, b) = broker().await;
    let mut cfg = std::collections::BTreeMap::new();
    cfg.insert("segment.ms".to_string(), "100000".to_string());
    b.topics.create("a", 1, 1, cfg, false).unwrap();
    for v in range(ApiKey::AlterConfigs) {
        let mut req = AlterConfigsRequest::default();
        let retention = format!("{}", 1000 + i32::from(v));
        req.resources = vec![
            alter_configs_request::AlterConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(s("a"))
                .with_configs(vec![
                    alter_configs_request::AlterableConfig::default()
                        .with_name(s("retention.ms"))
                        .with_value(Some(s(&retention))),
                    alter_configs_request::AlterableConfig::default()
                        .with_name(s("compression.type"))
                        .with_value(Some(s("zstd"))),
                ]),
            alter_configs_request::AlterConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(s("a"))
                .with_configs(vec![alter_configs_request::AlterableConfig::default()
                    .with_name(s("bogus.key"))
                    .with_value(Some(s("1")))]),
        ];
        let resp = call(&b, v, &req).await;
        assert_eq!(
            resp.responses[0].error_code, 0,
            "v{v}: {:?}",
            resp.responses[0].error_message
        );
        assert_eq!(resp.responses[1].error_code, INVALID_CONFIG);
        let why = resp.responses[1]
            .error_message
            .as_deref()
            .unwrap_or_default();
        assert!(
            why.contains("known:") && why.contains("retention.ms"),
            "{why}"
        );
        assert_eq!(config_of(&b, "a", "retention.ms"), (retention, false));
        // Not named: back to its default.
        assert!(config_of(&b, "a", "segment.ms").1, "v{v}");
        assert_eq!(
            b.topics.get("a").unwrap().partitions()[0]
                .log()
                .config()
                .retention_ms,
            Some(1000 + i64::from(v))
        );
    }
}

#[tokio::test]
async fn incremental_alter_configs_every_version() {
    let (_d, b) = broker().await;
    b.topics
        .create("i", 1, 1, Default::default(), false)
        .unwrap();
    for v in range(ApiKey::IncrementalAlterConfigs) {
        let req = incremental(
            "i",
            &[
                ("message.timestamp.type", 0, Some("LogAppendTime")),
                ("leader.replication.throttled.replicas", 2, Some("0:1")),
                ("min.cleanable.dirty.ratio", 0, Some("0.7")),
            ],
        );
        let resp = call(&b, v, &req).await;
        assert_eq!(
            resp.responses[0].error_code, 0,
            "v{v}: {:?}",
            resp.responses[0].error_message
        );
        assert_eq!(
            config_of(&b, "i", "message.timestamp.type").0,
            "LogAppendTime"
        );
        assert_eq!(
            config_of(&b, "i", "leader.replication.throttled.replicas").0,
            "0:1"
        );
        let req = incremental(
            "i",
            &[
                ("min.cleanable.dirty.ratio", 1, None),
                ("leader.replication.throttled.replicas", 3, Some("0:1")),
            ],
        );
        assert_eq!(call(&b, v, &req).await.responses[0].error_code, 0);
        assert!(config_of(&b, "i", "min.cleanable.dirty.ratio").1);
        assert!(config_of(&b, "i", "leader.replication.throttled.replicas").1);
        for (bad, code) in [
            (
                incremental("i", &[("retention.ms", 2, Some("5"))]),
                INVALID_CONFIG,
            ),
            (
                incremental("i", &[("retention.ms", 0, Some("soon"))]),
                INVALID_CONFIG,
            ),
            (
                incremental("i", &[("retention.ms", 9, Some("5"))]),
                INVALID_REQUEST,
            ),
            (
                incremental("nope", &[("retention.ms", 0, Some("5"))]),
                UNKNOWN_TOPIC,
            ),
        ] {
            assert_eq!(
                call(&b, v, &bad).await.responses[0].error_code,
                code,
                "v{v}"
            );
        }
    }
    // Broker resources: dynamic broker defaults, inherited by every topic
    // that does not override the key; unknown keys and bad values refused.
    let broker_res = |name: &str, ops: &[(&str, i8, Option<&str>)]| {
        let mut r = incremental(name, ops);
        r.resources[0].resource_type = 4;
        r
    };
    for (req, code) in [
        (
            broker_res("", &[("log.dirs", 0, Some("/x"))]),
            INVALID_CONFIG,
        ),
        (
            broker_res("", &[("log.retention.ms", 0, Some("soon"))]),
            INVALID_CONFIG,
        ),
        (
            broker_res("7", &[("log.retention.ms", 0, Some("5"))]),
            INVALID_REQUEST,
        ),
        (
            broker_res("x", &[("log.retention.ms", 0, Some("5"))]),
            INVALID_REQUEST,
        ),
        (
            broker_res("", &[("log.segment.bytes", 0, Some("1048576"))]),
            0,
        ),
    ] {
        assert_eq!(call(&b, 1, &req).await.responses[0].error_code, code);
    }
    b.topics
        .create("inherits", 1, 1, Default::default(), false)
        .unwrap();
    let seg = |b: &Arc<Broker>| b.topic_config("inherits").unwrap().segment_bytes;
    assert_eq!(seg(&b), 1_048_576);
    let del = broker_res("", &[("log.segment.bytes", 1, None)]);
    assert_eq!(call(&b, 1, &del).await.responses[0].error_code, 0);
    assert_eq!(
        seg(&b),
        crate::broker::config::TopicDefaults::default().segment_bytes
    );
}

#[tokio::test]
async fn describe_configs_carries_types_sources_and_synonyms() {
    let (_d, b) = broker().await;
    let mut cfg = std::collections::BTreeMap::new();
    cfg.insert("preallocate".to_string(), "true".to_string());
    b.topics.create("d", 1, 1, cfg, false).unwrap();
    let mut req = DescribeConfigsRequest::default();
    req.include_synonyms = true;
    req.resources = vec![describe_configs_request::DescribeConfigsResource::default()
        .with_resource_type(2)
        .with_resource_name(s("d"))
        .with_configuration_keys(None)];
    let resp = call(&b, 4, &req).await;
    let get = |k: &str| {
        resp.results[0]
            .configs
            .iter()
            .find(|c| c.name.as_str() == k)
            .unwrap_or_else(|| panic!("{k}"))
            .clone()
    };
    let pre = get("preallocate");
    assert_eq!(
        (pre.value.as_deref(), pre.config_source, pre.config_type),
        (Some("true"), 1, 1)
    );
    assert_eq!(pre.synonyms.len(), 1);
    let ct = get("compression.type");
    assert_eq!(
        (ct.value.as_deref(), ct.config_source, ct.config_type),
        (Some("producer"), 5, 2)
    );
    assert_eq!(get("message.timestamp.before.max.ms").config_type, 5);
    assert_eq!(get("min.cleanable.dirty.ratio").config_type, 6);
}

#[tokio::test]
async fn delete_records_every_version() {
    let (_d, b) = broker().await;
    b.topics
        .create("r", 2, 1, Default::default(), false)
        .unwrap();
    for _ in 0..3 {
        let resp = call(&b, 9, &produce_req("r", 1, batch(10))).await;
        assert_eq!(resp.responses[0].partition_responses[0].error_code, 0);
    }
    let mut before = 0;
    for v in range(ApiKey::DeleteRecords) {
        before += 5;
        let mut req = DeleteRecordsRequest::default();
        req.topics = vec![delete_records_request::DeleteRecordsTopic::default()
            .with_name(TopicName(s("r")))
            .with_partitions(vec![
                delete_records_request::DeleteRecordsPartition::default()
                    .with_partition_index(0)
                    .with_offset(before),
                delete_records_request::DeleteRecordsPartition::default()
                    .with_partition_index(1)
                    .with_offset(1),
                delete_records_request::DeleteRecordsPartition::default()
                    .with_partition_index(7)
                    .with_offset(1),
            ])];
        let resp = call(&b, v, &req).await;
        let parts = &resp.topics[0].partitions;
        assert_eq!(
            (parts[0].error_code, parts[0].low_watermark),
            (0, before),
            "v{v}"
        );
        assert_eq!(
            parts[1].error_code, OFFSET_OUT_OF_RANGE,
            "past the empty partition's end"
        );
        assert_eq!(parts[2].error_code, UNKNOWN_TOPIC);
        assert_eq!(b.topics.partition("r", 0).unwrap().offsets().0, before);
    }
    // Fetching below the new start is out of range; from it works.
    let resp = call(&b, 12, &fetch_req("r", 0, 0)).await;
    assert_eq!(
        resp.responses[0].partitions[0].error_code,
        OFFSET_OUT_OF_RANGE
    );
    assert_eq!(resp.responses[0].partitions[0].log_start_offset, before);
    // -1: up to the high watermark.
    let mut req = DeleteRecordsRequest::default();
    req.topics = vec![delete_records_request::DeleteRecordsTopic::default()
        .with_name(TopicName(s("r")))
        .with_partitions(vec![
            delete_records_request::DeleteRecordsPartition::default()
                .with_partition_index(0)
                .with_offset(-1),
        ])];
    assert_eq!(
        call(&b, 2, &req).await.topics[0].partitions[0].low_watermark,
        30
    );
    // Internal topics are refused.
    req.topics[0].name = TopicName(s("__consumer_offsets"));
    assert_eq!(
        call(&b, 2, &req).await.topics[0].partitions[0].error_code,
        17
    );
}

fn ts_batch(ts: i64) -> Bytes {
    let mut bb = BatchBuilder::new(ts);
    bb.push(ts, Some(b"k"), Some(b"v"), &[]).unwrap();
    bb.finish().freeze()
}

#[tokio::test]
async fn timestamp_configs_are_honoured_on_produce() {
    let (_d, b) = broker().await;
    let now = crate::broker::server::now_ms();
    let mut cfg = std::collections::BTreeMap::new();
    cfg.insert(
        "message.timestamp.before.max.ms".to_string(),
        "60000".to_string(),
    );
    cfg.insert(
        "message.timestamp.after.max.ms".to_string(),
        "60000".to_string(),
    );
    b.topics.create("bounded", 1, 1, cfg, false).unwrap();
    for (ts, code) in [
        (now, 0),
        (now - 3_600_000, INVALID_TIMESTAMP),
        (now + 3_600_000, INVALID_TIMESTAMP),
    ] {
        let resp = call(&b, 9, &produce_req("bounded", 1, ts_batch(ts))).await;
        let p = &resp.responses[0].partition_responses[0];
        assert_eq!(p.error_code, code, "ts {ts}: {:?}", p.error_message);
    }
    assert_eq!(
        b.topics.partition("bounded", 0).unwrap().offsets().2,
        1,
        "refused batches not appended"
    );
    // Kafka 4.0's default refuses more than an hour ahead.
    b.topics
        .create("plain", 1, 1, Default::default(), false)
        .unwrap();
    let resp = call(&b, 9, &produce_req("plain", 1, ts_batch(now + 7_200_000))).await;
    assert_eq!(
        resp.responses[0].partition_responses[0].error_code,
        INVALID_TIMESTAMP
    );
    let resp = call(&b, 9, &produce_req("plain", 1, ts_batch(1))).await;
    assert_eq!(resp.responses[0].partition_responses[0].error_code, 0);

    // LogAppendTime: the broker's time, in the stored batch and the answer.
    let mut cfg = std::collections::BTreeMap::new();
    cfg.insert(
        "message.timestamp.type".to_string(),
        "LogAppendTime".to_string(),
    );
    b.topics.create("lat", 1, 1, cfg, false).unwrap();
    let resp = call(&b, 9, &produce_req("lat", 1, ts_batch(5))).await;
    let p = &resp.responses[0].partition_responses[0];
    assert_eq!(p.error_code, 0);
    assert!(
        p.log_append_time_ms >= now,
        "log_append_time_ms {}",
        p.log_append_time_ms
    );
    let mut out = BytesMut::new();
    b.topics
        .partition("lat", 0)
        .unwrap()
        .read_into(0, 1 << 20, &mut out)
        .unwrap();
    let h = crate::record::validate_batch(&out).expect("stored batch valid (CRC recomputed)");
    assert_eq!(
        h.timestamp_type(),
        crate::record::TimestampType::LogAppendTime
    );
    assert_eq!(h.max_timestamp, p.log_append_time_ms);
    let recs = crate::record::decode_records(&out.freeze()).unwrap();
    assert_eq!(recs[0].timestamp, p.log_append_time_ms);
}

#[test]
fn guard_accepts_the_admin_requests() {
    fn ok<R: Request>(version: i16, req: &R) {
        let mut body = BytesMut::new();
        req.encode(&mut body, version).unwrap();
        let api = ApiKey::try_from(R::KEY).unwrap();
        guard::check(api, version, &body).unwrap_or_else(|e| panic!("{api:?} v{version}: {e}"));
        assert!(
            guard::check(api, version, &body[..body.len() - 1]).is_err(),
            "{api:?} v{version} cut"
        );
    }
    for v in range(ApiKey::CreatePartitions) {
        let mut req = CreatePartitionsRequest::default();
        req.topics = vec![create_partitions_request::CreatePartitionsTopic::default()
            .with_name(TopicName(s("x")))
            .with_count(3)
            .with_assignments(Some(vec![
                create_partitions_request::CreatePartitionsAssignment::default()
                    .with_broker_ids(vec![BrokerId(1)]),
            ]))];
        ok(v, &req);
    }
    for v in range(ApiKey::DeleteGroups) {
        ok(
            v,
            &DeleteGroupsRequest::default().with_groups_names(vec![GroupId(s("g"))]),
        );
    }
    for v in range(ApiKey::OffsetDelete) {
        let mut req = OffsetDeleteRequest::default().with_group_id(GroupId(s("g")));
        req.topics = vec![offset_delete_request::OffsetDeleteRequestTopic::default()
            .with_name(TopicName(s("x")))
            .with_partitions(vec![
                offset_delete_request::OffsetDeleteRequestPartition::default()
                    .with_partition_index(1),
            ])];
        ok(v, &req);
    }
    for v in range(ApiKey::DescribeCluster) {
        ok(v, &DescribeClusterRequest::default().with_endpoint_type(1));
    }
    for v in range(ApiKey::DescribeLogDirs) {
        let req = DescribeLogDirsRequest::default().with_topics(Some(vec![
            describe_log_dirs_request::DescribableLogDirTopic::default()
                .with_topic(TopicName(s("x")))
                .with_partitions(vec![0, 1]),
        ]));
        ok(v, &req);
    }
    for v in range(ApiKey::DescribeProducers) {
        let req = DescribeProducersRequest::default().with_topics(vec![
            describe_producers_request::TopicRequest::default()
                .with_name(TopicName(s("x")))
                .with_partition_indexes(vec![0]),
        ]);
        ok(v, &req);
    }
    for v in range(ApiKey::ElectLeaders) {
        let req = ElectLeadersRequest::default()
            .with_election_type(if v >= 1 { 1 } else { 0 })
            .with_topic_partitions(Some(vec![elect_leaders_request::TopicPartitions::default(
            )
            .with_topic(TopicName(s("x")))
            .with_partitions(vec![0])]))
            .with_timeout_ms(1000);
        ok(v, &req);
    }
    for v in range(ApiKey::AlterConfigs) {
        let mut req = AlterConfigsRequest::default();
        req.resources = vec![alter_configs_request::AlterConfigsResource::default()
            .with_resource_name(s("x"))
            .with_configs(vec![alter_configs_request::AlterableConfig::default()
                .with_name(s("a"))
                .with_value(Some(s("b")))])];
        ok(v, &req);
    }
    for v in range(ApiKey::IncrementalAlterConfigs) {
        ok(v, &incremental("x", &[("a", 0, Some("b")), ("c", 1, None)]));
    }
    for v in range(ApiKey::DeleteRecords) {
        let mut req = DeleteRecordsRequest::default();
        req.topics = vec![delete_records_request::DeleteRecordsTopic::default()
            .with_name(TopicName(s("x")))
            .with_partitions(vec![
                delete_records_request::DeleteRecordsPartition::default(),
            ])];
        ok(v, &req);
    }
}

#[tokio::test]
async fn offset_commit_to_a_missing_topic_or_partition_is_refused() {
    let (_d, b) = broker().await;
    b.topics
        .create("oc", 1, 1, Default::default(), false)
        .unwrap();
    let part = |i: i32| {
        offset_commit_request::OffsetCommitRequestPartition::default()
            .with_partition_index(i)
            .with_committed_offset(1)
    };
    let mut req = OffsetCommitRequest::default();
    req.group_id = GroupId(s("g-oc"));
    req.generation_id_or_member_epoch = -1;
    req.topics = vec![
        offset_commit_request::OffsetCommitRequestTopic::default()
            .with_name(TopicName(s("oc")))
            .with_partitions(vec![part(0), part(5)]),
        offset_commit_request::OffsetCommitRequestTopic::default()
            .with_name(TopicName(s("no-such-topic")))
            .with_partitions(vec![part(0)]),
    ];
    let resp = call(&b, 8, &req).await;
    let codes: Vec<i16> = resp
        .topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| p.error_code))
        .collect();
    assert_eq!(codes, vec![0, UNKNOWN_TOPIC, UNKNOWN_TOPIC]);
}

#[tokio::test]
async fn create_topics_and_partitions_refuse_what_the_caps_and_names_forbid() {
    const POLICY_VIOLATION: i16 = 44;
    const INVALID_TOPIC: i16 = 17;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = BrokerConfig::new(dir.path().to_path_buf());
    cfg.max_partitions_per_topic = 4;
    let b = Broker::open(cfg, ("127.0.0.1".into(), 9092)).await.unwrap();
    let create = |name: &str, partitions: i32, configs: &[(&str, &str)]| {
        let mut req = CreateTopicsRequest::default();
        req.topics = vec![create_topics_request::CreatableTopic::default()
            .with_name(TopicName(s(name)))
            .with_num_partitions(partitions)
            .with_replication_factor(1)
            .with_configs(
                configs
                    .iter()
                    .map(|(k, v)| {
                        create_topics_request::CreatableTopicConfig::default()
                            .with_name(s(k))
                            .with_value(Some(s(v)))
                    })
                    .collect(),
            )];
        req
    };
    let resp = call(&b, 7, &create("huge", 5, &[])).await;
    assert_eq!(resp.topics[0].error_code, POLICY_VIOLATION);
    let msg = resp.topics[0].error_message.as_deref().unwrap_or_default();
    assert!(msg.contains("--max-partitions-per-topic=4"), "{msg}");
    assert!(b.topics.get("huge").is_none());
    let resp = call(&b, 7, &create("m", 1, &[("min.insync.replicas", "2")])).await;
    assert_eq!(resp.topics[0].error_code, INVALID_CONFIG);
    assert_eq!(
        call(&b, 7, &create("a.b", 2, &[])).await.topics[0].error_code,
        0
    );
    let resp = call(&b, 7, &create("a_b", 1, &[])).await;
    assert_eq!(resp.topics[0].error_code, INVALID_TOPIC);
    let msg = resp.topics[0].error_message.as_deref().unwrap_or_default();
    assert!(msg.contains("collides with existing topic 'a.b'"), "{msg}");
    let mut grow = CreatePartitionsRequest::default();
    grow.topics = vec![create_partitions_request::CreatePartitionsTopic::default()
        .with_name(TopicName(s("a.b")))
        .with_count(5)];
    assert_eq!(
        call(&b, 3, &grow).await.results[0].error_code,
        POLICY_VIOLATION
    );
    assert_eq!(b.topics.get("a.b").unwrap().partition_count(), 2);
}
