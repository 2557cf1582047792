//! An idempotent producer survives a batch that fails for good: the
//! broker never fills that batch's sequence numbers, so without a new
//! producer identity every later batch of the partition would be refused
//! as out of order.
mod common;

use std::time::Duration;

use strom::client::{Acks, Client, ClientConfig, Producer, ProducerConfig, ProducerRecord};

#[test]
fn a_permanently_failed_batch_does_not_block_the_partition() {
    let broker = common::Broker::start();
    let out = common::strom()
        .args(["topics", "create", "ids", "-b", &broker.addr])
        .args(["--partitions", "1", "--config", "max.message.bytes=2000"])
        .output()
        .expect("topics create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let mut cfg = ClientConfig::new(&broker.addr);
        cfg.request_timeout = Duration::from_secs(5);
        let client = Client::connect(cfg).await.expect("client");
        let producer = Producer::new(
            client,
            ProducerConfig {
                acks: Acks::All,
                linger: Duration::from_millis(1),
                ..ProducerConfig::default()
            },
        );
        producer.wait_ready().await;
        let first_id = producer.producer_id().expect("idempotent producer id");
        let send = |value: Vec<u8>| {
            let producer = producer.clone();
            async move {
                let rec = ProducerRecord {
                    topic: "ids",
                    partition: Some(0),
                    value: Some(&value),
                    ..Default::default()
                };
                let fut = producer.send(&rec).await.expect("send");
                tokio::time::timeout(Duration::from_secs(20), fut.wait())
                    .await
                    .expect("answered in time")
            }
        };
        let a = send(b"before".to_vec()).await.expect("small record");
        // Bigger than max.message.bytes: refused, not retried.
        let err = send(vec![b'x'; 5000]).await.expect_err("oversized record");
        assert!(
            err.to_string().contains("MESSAGE_TOO_LARGE")
                || err.to_string().to_lowercase().contains("too large"),
            "{err}"
        );
        // The sequence gap is left behind with the old identity.
        let b = send(b"after".to_vec())
            .await
            .expect("record after the failure");
        assert!(b.offset > a.offset, "{} then {}", a.offset, b.offset);
        let c = send(b"later".to_vec()).await.expect("and the next one");
        assert_eq!(c.offset, b.offset + 1);
        let renewed = producer.producer_id().expect("still idempotent");
        assert_ne!(renewed, first_id, "a new producer id after the failure");
    });

    // What is stored: the three small records, in order.
    let out = common::run_with_timeout(
        {
            let mut c = common::strom();
            c.args([
                "consume",
                "--topic",
                "ids",
                "-b",
                &broker.addr,
                "--from-beginning",
                "-e",
            ]);
            c
        },
        None,
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "before\nafter\nlater\n"
    );
}

/// A producer that cannot get a producer id (its only broker is down)
/// fails its records once the delivery timeout passes rather than sending
/// them, or any later record, without idempotence; once the broker is
/// back, the next record asks again and goes out idempotent.
#[test]
fn without_a_producer_id_records_fail_instead_of_losing_idempotence() {
    let mut broker = common::Broker::start_on_fixed_port(&[]);
    broker.create_topic("ids", 1);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let mut cfg = ClientConfig::new(&broker.addr);
        cfg.request_timeout = Duration::from_secs(5);
        let client = Client::connect(cfg).await.expect("client");
        // Cached, so the producer can place records with the broker gone.
        client.topic("ids", false).await.expect("metadata");
        broker.kill();
        let producer = Producer::new(
            client,
            ProducerConfig {
                acks: Acks::All,
                linger: Duration::from_millis(1),
                delivery_timeout: Duration::from_millis(1500),
                ..ProducerConfig::default()
            },
        );
        let send = |value: &'static [u8]| {
            let producer = producer.clone();
            async move {
                let rec = ProducerRecord {
                    topic: "ids",
                    partition: Some(0),
                    value: Some(value),
                    ..Default::default()
                };
                let fut = producer.send(&rec).await.expect("send");
                tokio::time::timeout(Duration::from_secs(30), fut.wait())
                    .await
                    .expect("answered in time")
            }
        };
        let err = send(b"while down").await.expect_err("no broker, no id");
        assert!(err.to_string().contains("producer id"), "{err}");
        assert_eq!(producer.producer_id(), None);

        broker.start_again();
        send(b"after")
            .await
            .expect("delivered once the broker is back");
        assert!(
            producer.producer_id().is_some(),
            "the record went out without idempotence"
        );
    });
    let out = broker.ok(&["consume", "-t", "ids", "--from-beginning", "-e"], None);
    assert_eq!(String::from_utf8_lossy(&out), "after\n");
}
