//! An idempotent producer must not let a later batch of a partition reach
//! a leader that does not know the producer yet while an earlier batch of
//! that partition is still unanswered.
//!
//! A leader accepts an unknown producer at any sequence (Kafka's rule: its
//! state may have been removed by retention). If the first batch is
//! refused with NOT_LEADER_OR_FOLLOWER because the broker takes over
//! leadership a moment later, a second batch pipelined behind it is
//! accepted as the producer's start, and the first can never be written
//! (OUT_OF_ORDER_SEQUENCE_NUMBER on every retry). CI saw this on a new
//! topic under `cluster_shutdown`.
//!
//! The race needs a leader that changes its mind between two requests on
//! one connection, so the peer here is a scripted leader on 127.0.0.1:
//! it answers the first Produce with NOT_LEADER_OR_FOLLOWER (late, so the
//! client has time to pipeline the next batch) and then checks sequences
//! as the broker does.
//!
//! The same scripted leader, refusing every batch (as a broker with a full
//! disk does), checks that `delivery_timeout` bounds how long a queued
//! record waits: otherwise each batch behind the failing one spends its
//! whole retry budget in turn, and the producer seems to hang.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use strom::client::{Acks, Client, ClientConfig, Producer, ProducerConfig, ProducerRecord};
use strom::proto::codec::{from_bytes, to_bytes};
use strom::proto::messages::metadata::{
    BrokerInfo, MetadataResponse, PartitionMetadata, TopicMetadata,
};
use strom::proto::messages::produce::{
    ProducePartitionResponse, ProduceRequest, ProduceResponse, ProduceTopicResponse,
};
use strom::proto::messages::replication::InitProducerIdResponse;
use strom::proto::messages::Status;
use strom::proto::{ApiKey, ErrorCode, FrameHeader, ResponseHeader, Wire, PREAMBLE_LEN};
use strom::record::{batches, BatchHeader, RecordIter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TOPIC: &str = "race";
const PRODUCER_ID: i64 = 7;

/// What the scripted leader wrote, in order: record values.
#[derive(Default)]
struct Leader {
    /// Refuse every produce with KAFKA_STORAGE_ERROR (a full disk).
    disk_full: bool,
    produce_requests: usize,
    /// Next sequence it expects from the producer; None while unknown.
    expected: Option<i32>,
    log: Vec<String>,
}

async fn read_frame(s: &mut TcpStream) -> Option<BytesMut> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).await.ok()?;
    let len = u32::from_be_bytes(len) as usize;
    assert!(len < 64 << 20, "frame of {len} bytes");
    let mut body = BytesMut::zeroed(len);
    s.read_exact(&mut body).await.ok()?;
    Some(body)
}

async fn respond<T: Wire>(s: &mut TcpStream, correlation_id: i32, msg: &T) {
    let mut out = BytesMut::new();
    let start = ResponseHeader { correlation_id }.begin(&mut out);
    out.extend_from_slice(&to_bytes(msg));
    ResponseHeader::finish(&mut out, start);
    s.write_all(&out).await.expect("write response");
}

fn metadata(port: u16) -> MetadataResponse {
    MetadataResponse {
        status: Status::ok(),
        brokers: vec![BrokerInfo {
            node_id: 1,
            host: "127.0.0.1".into(),
            port: i32::from(port),
        }],
        controller_id: 1,
        topics: vec![TopicMetadata {
            status: Status::ok(),
            name: TOPIC.into(),
            internal: false,
            partitions: vec![PartitionMetadata {
                status: Status::ok(),
                partition: 0,
                leader: 1,
                leader_epoch: 0,
                replicas: vec![1],
                isr: vec![1],
            }],
        }],
    }
}

/// Answers one partition's batches as a leader that checks sequences.
fn append(leader: &mut Leader, records: &BytesMut) -> Status {
    let mut out = Vec::new();
    for b in batches(records) {
        let b = b.expect("batch");
        let h = BatchHeader::parse(b).expect("header");
        assert_eq!(h.producer_id, PRODUCER_ID, "idempotent batches");
        if leader.expected.is_some_and(|e| e != h.base_sequence) {
            return Status::error(
                ErrorCode::OutOfOrderSequenceNumber,
                format!(
                    "sequence {} but {:?} was expected",
                    h.base_sequence, leader.expected
                ),
            );
        }
        leader.expected = Some(h.base_sequence + h.last_offset_delta + 1);
        let iter = RecordIter::new(bytes::Bytes::copy_from_slice(b)).expect("records");
        for r in iter {
            let v = r.expect("record").value.expect("value");
            out.push(String::from_utf8_lossy(&v).into_owned());
        }
    }
    leader.log.extend(out);
    Status::ok()
}

async fn serve(mut s: TcpStream, port: u16, leader: Arc<Mutex<Leader>>) {
    let mut preamble = [0u8; PREAMBLE_LEN];
    if s.read_exact(&mut preamble).await.is_err() {
        return;
    }
    while let Some(mut body) = read_frame(&mut s).await {
        let h = FrameHeader::parse(&mut body).expect("header");
        match ApiKey::from_code(h.api_key) {
            Some(ApiKey::Metadata) => respond(&mut s, h.correlation_id, &metadata(port)).await,
            Some(ApiKey::InitProducerId) => {
                let r = InitProducerIdResponse {
                    status: Status::ok(),
                    producer_id: PRODUCER_ID,
                    producer_epoch: 0,
                };
                respond(&mut s, h.correlation_id, &r).await
            }
            Some(ApiKey::Produce) => {
                let req: ProduceRequest = from_bytes(body).expect("produce request");
                let (first, disk_full) = {
                    let mut l = leader.lock().expect("leader");
                    l.produce_requests += 1;
                    (l.produce_requests == 1, l.disk_full)
                };
                if first && !disk_full {
                    // Not the leader yet; it takes over while this answer
                    // is on its way, so the next request finds a leader.
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                let topics = req
                    .topics
                    .iter()
                    .map(|t| ProduceTopicResponse {
                        name: t.name.clone(),
                        partitions: t
                            .partitions
                            .iter()
                            .map(|p| {
                                let status = if disk_full {
                                    Status::error(
                                        ErrorCode::KafkaStorageError,
                                        "No space left on device (os error 28)",
                                    )
                                } else if first {
                                    Status::error(
                                        ErrorCode::NotLeaderOrFollower,
                                        "not the leader yet",
                                    )
                                } else {
                                    append(&mut leader.lock().expect("leader"), &p.records)
                                };
                                ProducePartitionResponse {
                                    partition: p.partition,
                                    status,
                                    base_offset: 0,
                                    log_start_offset: 0,
                                }
                            })
                            .collect(),
                    })
                    .collect();
                let r = ProduceResponse {
                    status: Status::ok(),
                    topics,
                };
                respond(&mut s, h.correlation_id, &r).await
            }
            other => panic!("unexpected request {other:?}"),
        }
    }
}

/// Starts the scripted leader on an ephemeral loopback port.
async fn start_leader(leader: Arc<Mutex<Leader>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(serve(s, port, leader.clone()));
        }
    });
    port
}

/// A producer on the scripted leader at `port`, with `config`'s settings.
async fn producer_for(port: u16, config: ProducerConfig) -> Producer {
    let mut cfg = ClientConfig::new(format!("127.0.0.1:{port}"));
    cfg.request_timeout = Duration::from_secs(5);
    let client = Client::connect(cfg).await.expect("client");
    let producer = Producer::new(client, config);
    producer.wait_ready().await;
    assert_eq!(producer.producer_id(), Some(PRODUCER_ID));
    producer
}

/// Sends records "0".."count" to partition 0, one batch each (30 ms
/// apart, past the 1 ms linger), and waits at most 20 s for every outcome.
async fn send_batches(producer: &Producer, count: u32) -> Vec<Result<(), String>> {
    let mut futures = Vec::new();
    for n in 0..count {
        let value = n.to_string();
        let rec = ProducerRecord {
            topic: TOPIC,
            partition: Some(0),
            value: Some(value.as_bytes()),
            ..Default::default()
        };
        futures.push(producer.send(&rec).await.expect("send"));
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    tokio::time::timeout(Duration::from_secs(20), async {
        let mut out = Vec::new();
        for f in futures {
            out.push(f.wait().await.map(|_| ()).map_err(|e| e.to_string()));
        }
        out
    })
    .await
    .expect("every delivery ends within 20 s")
}

#[test]
fn queued_batches_fail_at_the_delivery_timeout_when_every_append_fails() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let leader = Arc::new(Mutex::new(Leader {
            disk_full: true,
            ..Leader::default()
        }));
        let port = start_leader(leader.clone()).await;
        let producer = producer_for(
            port,
            ProducerConfig {
                acks: Acks::All,
                linger: Duration::from_millis(1),
                // Far more retries than the test could wait for: only the
                // delivery timeout (1.5 s) can end these batches in time.
                retries: 1_000_000,
                retry_backoff: Duration::from_millis(20),
                retry_backoff_max: Duration::from_millis(200),
                delivery_timeout: Duration::from_millis(1500),
                ..ProducerConfig::default()
            },
        )
        .await;
        let results = send_batches(&producer, 5).await;
        for r in &results {
            let e = r.as_ref().expect_err("nothing can be written");
            assert!(
                e.contains("KAFKA_STORAGE_ERROR") || e.contains("delivery.timeout.ms"),
                "{e}"
            );
        }
        assert!(leader.lock().expect("leader").log.is_empty());
    });
}

#[test]
fn a_later_batch_never_overtakes_an_unanswered_first_one() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let leader = Arc::new(Mutex::new(Leader::default()));
        let port = start_leader(leader.clone()).await;
        let producer = producer_for(
            port,
            ProducerConfig {
                acks: Acks::All,
                linger: Duration::from_millis(1),
                retry_backoff: Duration::from_millis(20),
                ..ProducerConfig::default()
            },
        )
        .await;
        let results = send_batches(&producer, 4).await;
        let leader = leader.lock().expect("leader");
        assert_eq!(
            results,
            vec![Ok(()); 4],
            "every record delivered (leader log: {:?})",
            leader.log
        );
        assert_eq!(leader.log, ["0", "1", "2", "3"], "written once, in order");
    });
}
