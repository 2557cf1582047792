//! Ordinary user actions that used to lose data or break the broker
//! (issue 20): client writes to internal topics.
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use common::Broker;
use kafka_protocol::messages::{
    produce_request, ProduceRequest, ProduceResponse, RequestHeader, ResponseHeader, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One record batch holding `value`, as any Kafka client would send it.
fn one_record_batch(value: &[u8]) -> Bytes {
    let mut b = strom::record::builder::BatchBuilder::new(1_000);
    b.push(1_000, None, Some(value), &[]).expect("push");
    b.finish().freeze()
}

/// Sends a Kafka Produce v9 over a real socket; the partition's error code.
fn kafka_produce(addr: &str, topic: &str, acks: i16) -> i16 {
    const VERSION: i16 = 9;
    let mut req = ProduceRequest::default();
    req.acks = acks;
    req.timeout_ms = 5_000;
    req.topic_data = vec![produce_request::TopicProduceData::default()
        .with_name(TopicName(StrBytes::from_string(topic.to_string())))
        .with_partition_data(vec![produce_request::PartitionProduceData::default()
            .with_index(0)
            .with_records(Some(one_record_batch(b"x")))])];
    let mut body = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(ProduceRequest::KEY)
        .with_request_api_version(VERSION)
        .with_correlation_id(7)
        .with_client_id(Some(StrBytes::from_static_str("test")))
        .encode(&mut body, ProduceRequest::header_version(VERSION))
        .expect("encode header");
    req.encode(&mut body, VERSION).expect("encode produce");
    let mut sock = TcpStream::connect(addr).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut frame = BytesMut::new();
    frame.put_i32(body.len() as i32);
    frame.put_slice(&body);
    sock.write_all(&frame).expect("send produce");
    let mut len = [0u8; 4];
    sock.read_exact(&mut len).expect("response size");
    let mut resp = vec![0u8; i32::from_be_bytes(len) as usize];
    sock.read_exact(&mut resp).expect("response body");
    let mut resp = Bytes::from(resp);
    let header = ResponseHeader::decode(&mut resp, ProduceResponse::header_version(VERSION))
        .expect("response header");
    assert_eq!(header.correlation_id, 7);
    let decoded = ProduceResponse::decode(&mut resp, VERSION).expect("produce response");
    assert!(!resp.has_remaining());
    decoded.responses[0].partition_responses[0].error_code
}

// ---- 1. internal topics ------------------------------------------------------

#[test]
fn clients_cannot_write_grow_or_reconfigure_internal_topics() {
    let mut b = Broker::start_with(&["--group-initial-rebalance-delay-ms", "0"]);
    b.create_topic("t", 1);
    b.ok(&["produce", "-t", "t"], Some(b"a\nb\n"));
    // A group with a committed offset: what the internal topic protects.
    b.ok(
        &[
            "consume",
            "-t",
            "t",
            "--group",
            "g",
            "--from-beginning",
            "-e",
        ],
        None,
    );
    let refused = |args: &[&str], stdin: Option<&[u8]>| {
        let out = b.run(args, stdin);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?} must fail: {err}");
        assert!(err.contains("internal"), "{args:?}: {err}");
    };
    refused(
        &[
            "topics",
            "alter",
            "__consumer_offsets",
            "--partitions",
            "20",
        ],
        None,
    );
    refused(
        &[
            "topics",
            "alter",
            "__consumer_offsets",
            "--config",
            "retention.ms=1000",
        ],
        None,
    );
    refused(&["produce", "-t", "__consumer_offsets"], Some(b"x\n"));
    refused(&["topics", "create", "__strom_connect_offsets"], None);
    // Over the Kafka protocol: INVALID_TOPIC_EXCEPTION, as Kafka answers.
    assert_eq!(kafka_produce(&b.addr, "__consumer_offsets", 1), 17);
    assert_eq!(
        kafka_produce(&b.addr, "t", 1),
        0,
        "ordinary topics still take writes"
    );

    let describe = text(&b.ok(&["topics", "describe", "__consumer_offsets"], None));
    b.restart();
    assert_eq!(
        text(&b.ok(&["topics", "describe", "__consumer_offsets"], None)),
        describe,
        "the internal topic is unchanged"
    );
    let group = text(&b.ok(&["groups", "describe", "--group", "g"], None));
    assert!(
        group.contains(" 2 "),
        "the committed offset survived: {group}"
    );
}

// ---- 5. acks=all and min.insync.replicas -------------------------------------

/// Reads `child`'s stderr until a line contains `needle` (true) or it ends
/// or the deadline passes (false); the child is killed either way.
fn stderr_shows(mut child: std::process::Child, needle: &str, timeout: Duration) -> bool {
    use std::io::BufRead;
    let err = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    let wanted = needle.to_string();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            eprintln!("[client] {line}");
            if line.contains(&wanted) {
                let _ = tx.send(());
                break;
            }
        }
    });
    let seen = rx.recv_timeout(timeout).is_ok();
    let _ = child.kill();
    let _ = child.wait();
    seen
}

#[test]
fn acks_all_honours_min_insync_replicas_on_a_single_node() {
    let mut b = Broker::start();
    // Asking for more in-sync replicas than replicas is refused up front,
    // at create and at alter time, naming both numbers.
    let out = b.run(
        &["topics", "create", "m", "--config", "min.insync.replicas=2"],
        None,
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("min.insync.replicas=2") && err.contains("replication factor 1"),
        "{err}"
    );
    assert!(err.contains("INVALID_CONFIG"), "{err}");
    b.create_topic("a", 1);
    let out = b.run(
        &["topics", "alter", "a", "--config", "min.insync.replicas=2"],
        None,
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("replication factor 1"), "{err}");
    let listed = text(&b.ok(&["topics", "list"], None));
    assert!(!listed.lines().any(|l| l.trim() == "m"), "{listed}");

    // A topic that already asks for 2 (written by an older strom) refuses
    // acks=all writes, as docs/replication.md promises, and takes acks=1.
    b.stop();
    std::fs::write(
        b.data_dir().join("meta/topics/legacy.json"),
        r#"{"name":"legacy","partitions":1,"replication_factor":1,"configs":{"min.insync.replicas":"2"}}"#,
    )
    .expect("write topic meta");
    b.start_again();
    assert_eq!(
        kafka_produce(&b.addr, "legacy", -1),
        19,
        "NOT_ENOUGH_REPLICAS"
    );
    assert_eq!(kafka_produce(&b.addr, "legacy", 1), 0);
    b.ok(&["produce", "-t", "legacy", "--acks", "1"], Some(b"one\n"));
    // The producer says why at once instead of only after its delivery
    // timeout.
    let child = b
        .cmd(&["produce", "-t", "legacy", "--acks", "all"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn produce");
    let mut child = child;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"all\n")
        .expect("write stdin");
    assert!(
        stderr_shows(child, "NOT_ENOUGH_REPLICAS", Duration::from_secs(60)),
        "the producer names NOT_ENOUGH_REPLICAS"
    );
    let out = text(&b.ok(&["consume", "-t", "legacy", "--from-beginning", "-e"], None));
    // (The Kafka-protocol record is stamped 1970 and may be gone to
    // retention already.)
    assert!(out.lines().any(|l| l == "one"), "{out}");
    assert!(
        !out.lines().any(|l| l == "all"),
        "acks=all wrote nothing: {out}"
    );
}

/// strom's connect runtime marks its connections as an internal writer:
/// it may create and write `__strom_connect_offsets` and no other internal
/// topic; unmarked native clients and Kafka-protocol producers stay refused.
#[test]
fn only_the_marked_connect_runtime_writes_its_internal_topic() {
    use strom::client::{Acks, Admin, Client, ClientConfig, NewTopic, Producer, ProducerConfig};
    use strom::client::{ProducerRecord, TopicAlteration};
    const TOPIC: &str = "__strom_connect_offsets";
    let b = Broker::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let client = |internal_writer: bool| {
        let mut cfg = ClientConfig::new(b.addr.clone());
        cfg.internal_writer = internal_writer;
        cfg.request_timeout = Duration::from_secs(5);
        rt.block_on(Client::connect(cfg)).expect("client")
    };
    let new_topic = |name: &str| NewTopic {
        name: name.to_string(),
        partitions: Some(1),
        replication_factor: None,
        configs: vec![],
    };
    let plain = client(false);
    let marked = client(true);
    let create = |c: &Client, name: &str| {
        rt.block_on(Admin::new(c.clone()).create_topic(new_topic(name), false))
    };
    assert!(
        create(&plain, TOPIC).is_err(),
        "an unmarked client created it"
    );
    assert!(
        create(&marked, "__other").is_err(),
        "the allow-list was ignored"
    );
    create(&marked, TOPIC).expect("the connect runtime creates its topic");
    let produce = |c: &Client, topic: &str| {
        rt.block_on(async {
            let p = Producer::new(
                c.clone(),
                ProducerConfig {
                    acks: Acks::All,
                    delivery_timeout: Duration::from_secs(5),
                    ..ProducerConfig::default()
                },
            );
            let rec = ProducerRecord {
                topic,
                key: Some(b"k"),
                value: Some(b"v"),
                ..ProducerRecord::default()
            };
            let r = match p.send(&rec).await {
                Ok(f) => f.wait().await.map(|_| ()),
                Err(e) => Err(e),
            };
            p.close().await;
            r
        })
    };
    produce(&marked, TOPIC).expect("the connect runtime writes its topic");
    let err = produce(&plain, TOPIC).expect_err("an unmarked client wrote it");
    assert!(err.to_string().contains("internal"), "{err}");
    let err = produce(&marked, "__consumer_offsets").expect_err("the mark opened every topic");
    assert!(err.to_string().contains("internal"), "{err}");
    assert_eq!(
        kafka_produce(&b.addr, TOPIC, 1),
        17,
        "a Kafka producer wrote it"
    );
    // The mark does not open the topic to other changes.
    let alter = rt.block_on(Admin::new(marked.clone()).alter_topic(
        TopicAlteration {
            name: TOPIC.into(),
            partitions: Some(4),
            set_configs: vec![],
            delete_configs: vec![],
        },
        false,
    ));
    assert!(alter.is_err(), "the mark let a client grow the topic");
    let described = text(&b.ok(&["topics", "describe", TOPIC], None));
    assert!(described.contains(TOPIC), "{described}");
}
