//! Hostile and broken input against a real broker process: each gets a
//! clear error or a closed connection, and a well-behaved client on the same
//! broker keeps producing and fetching throughout.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use strom::proto::codec::{from_bytes, to_bytes};
use strom::proto::frame::{FrameHeader, PREAMBLE};
use strom::proto::messages::fetch::*;
use strom::proto::messages::produce::*;
use strom::proto::messages::topics::*;
use strom::proto::messages::Status;
use strom::proto::{ApiKey, ErrorCode, Wire};
use strom::record::BatchBuilder;

struct Broker {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_broker() -> Broker {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_strom"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--max-frame-bytes",
            "1048576",
            "--data-dir",
        ])
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn strom serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("strom: listening on ") {
                let addr = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let _ = tx.send(addr);
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("broker did not print its ready line within 30 s");
    Broker {
        child,
        addr,
        _dir: dir,
    }
}

struct Client {
    sock: TcpStream,
    next_id: i32,
}

impl Client {
    fn connect(addr: &str) -> Client {
        let mut sock = TcpStream::connect(addr).expect("connect");
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        sock.write_all(&PREAMBLE).expect("preamble");
        Client { sock, next_id: 1 }
    }

    fn send_raw(&mut self, api_key: u16, body: &[u8]) -> i32 {
        let id = self.next_id;
        self.next_id += 1;
        let mut out = BytesMut::new();
        FrameHeader {
            api_key,
            api_version: 0,
            correlation_id: id,
        }
        .write_request(body, &mut out);
        self.sock.write_all(&out).expect("write");
        id
    }

    /// Reads one response frame: (correlation id, body).
    fn read_frame(&mut self) -> std::io::Result<(i32, BytesMut)> {
        let mut len = [0u8; 4];
        self.sock.read_exact(&mut len)?;
        let len = u32::from_be_bytes(len) as usize;
        assert!(len < 64 << 20, "absurd response length {len}");
        let mut buf = vec![0u8; len];
        self.sock.read_exact(&mut buf)?;
        let cid = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        Ok((cid, BytesMut::from(&buf[4..])))
    }

    fn call<Req: Wire, Resp: Wire>(&mut self, api: ApiKey, req: &Req) -> Resp {
        let id = self.send_raw(api as u16, &to_bytes(req));
        let (cid, body) = self.read_frame().expect("response");
        assert_eq!(cid, id, "responses come back in order");
        from_bytes(body).expect("decodable response")
    }

    /// Reads a response and decodes only its leading status.
    fn status(&mut self) -> (i32, Status) {
        let (cid, body) = self.read_frame().expect("response");
        let mut d = strom::proto::Decoder::new(body);
        (cid, Status::decode(&mut d).expect("status"))
    }
}

fn create_topic(c: &mut Client, name: &str) -> Status {
    let resp: CreateTopicsResponse = c.call(
        ApiKey::CreateTopics,
        &CreateTopicsRequest {
            topics: vec![CreatableTopic {
                name: name.into(),
                partitions: 1,
                replication_factor: 1,
                configs: vec![],
            }],
            validate_only: false,
        },
    );
    resp.topics[0].status.clone()
}

/// Now, in ms: records far in the past would be deleted by time retention.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn produce_one(c: &mut Client, topic: &str, value: &[u8]) -> i64 {
    let now = now_ms();
    let mut b = BatchBuilder::new(now);
    b.push(now, None, Some(value), &[]).expect("push");
    let resp: ProduceResponse = c.call(
        ApiKey::Produce,
        &ProduceRequest {
            acks: ACKS_ALL,
            timeout_ms: 5000,
            topics: vec![ProduceTopic {
                name: topic.into(),
                partitions: vec![ProducePartition {
                    partition: 0,
                    records: b.finish(),
                }],
            }],
        },
    );
    let p = &resp.topics[0].partitions[0];
    assert!(p.status.is_ok(), "produce failed: {}", p.status);
    p.base_offset
}

fn fetch_bytes(c: &mut Client, topic: &str, offset: i64) -> usize {
    let resp: FetchResponse = c.call(
        ApiKey::Fetch,
        &FetchRequest {
            max_wait_ms: 0,
            min_bytes: 1,
            max_bytes: 1 << 20,
            topics: vec![FetchTopic {
                name: topic.into(),
                partitions: vec![FetchPartition {
                    partition: 0,
                    fetch_offset: offset,
                    max_bytes: 1 << 20,
                }],
            }],
        },
    );
    let p = &resp.topics[0].partitions[0];
    assert!(p.status.is_ok(), "fetch failed: {}", p.status);
    p.records.len()
}

/// Connection closed by the broker: EOF (or reset) within the deadline.
fn assert_closed(sock: &mut TcpStream) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 4096];
    loop {
        match sock.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => assert!(Instant::now() < deadline, "connection not closed"),
        }
    }
}

#[test]
fn bad_input_gets_clear_errors_and_other_clients_keep_working() {
    let broker = start_broker();
    let mut good = Client::connect(&broker.addr);
    assert!(create_topic(&mut good, "steady").is_ok());
    let mut expected = 0;
    let mut check_good = |good: &mut Client| {
        let off = produce_one(good, "steady", b"still here");
        assert_eq!(off, expected);
        expected += 1;
        assert!(fetch_bytes(good, "steady", 0) > 0);
    };
    check_good(&mut good);

    // Unknown API key: an error status, and the connection stays usable.
    let mut c = Client::connect(&broker.addr);
    let id = c.send_raw(999, b"");
    let (cid, status) = c.status();
    assert_eq!(cid, id);
    assert_eq!(status.error_code(), ErrorCode::InvalidRequest);
    assert!(status
        .message
        .unwrap_or_default()
        .contains("unknown api key 999"));
    assert!(create_topic(&mut c, "after-unknown-api").is_ok());
    check_good(&mut good);

    // Malformed body (garbage where a produce request should be).
    let id = c.send_raw(
        ApiKey::Produce as u16,
        &[0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0xff, 0xff, 1],
    );
    let (cid, status) = c.status();
    assert_eq!(cid, id);
    assert_eq!(status.error_code(), ErrorCode::InvalidRequest);
    assert!(status
        .message
        .unwrap_or_default()
        .contains("malformed Produce"));
    check_good(&mut good);

    // A corrupt record batch (CRC flipped) is refused and nothing is written.
    let mut b = BatchBuilder::new(now_ms());
    b.push(now_ms(), None, Some(b"x"), &[]).expect("push");
    let mut batch = b.finish();
    let last = batch.len() - 1;
    batch[last] ^= 0xff;
    let resp: ProduceResponse = c.call(
        ApiKey::Produce,
        &ProduceRequest {
            acks: ACKS_LEADER,
            timeout_ms: 1000,
            topics: vec![ProduceTopic {
                name: "steady".into(),
                partitions: vec![ProducePartition {
                    partition: 0,
                    records: batch,
                }],
            }],
        },
    );
    assert_eq!(
        resp.topics[0].partitions[0].status.error_code(),
        ErrorCode::CorruptMessage
    );
    check_good(&mut good);

    // Illegal topic names.
    for bad in ["bad name", "..", "", &"x".repeat(250), "ünïcode"] {
        let s = create_topic(&mut c, bad);
        assert_eq!(
            s.error_code(),
            ErrorCode::InvalidTopicException,
            "{bad:?}: {s}"
        );
    }
    check_good(&mut good);

    // A 2 GiB length prefix: refused from the prefix alone, then closed.
    let mut big = Client::connect(&broker.addr);
    big.sock
        .write_all(&0x8000_0000u32.to_be_bytes())
        .expect("write");
    let (cid, status) = big.status();
    assert_eq!(cid, -1);
    assert_eq!(status.error_code(), ErrorCode::InvalidRequest);
    assert!(status
        .message
        .unwrap_or_default()
        .contains("larger than the limit"));
    assert_closed(&mut big.sock);
    check_good(&mut good);

    // A truncated frame, then the client goes away.
    let mut t = Client::connect(&broker.addr);
    let mut partial = BytesMut::new();
    partial.put_u32(100);
    partial.put_slice(&[0, 3, 0, 0, 0, 0, 0, 1, 0xff]);
    t.sock.write_all(&partial).expect("write");
    drop(t);
    check_good(&mut good);

    // Raw garbage instead of a preamble (not native, not Kafka).
    let mut g = TcpStream::connect(&broker.addr).expect("connect");
    g.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    g.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    assert_closed(&mut g);
    check_good(&mut good);

    // A wrong preamble version.
    let mut v = TcpStream::connect(&broker.addr).expect("connect");
    v.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    v.write_all(b"STRM\x00\x09\x00\x00").expect("write");
    let mut c2 = Client {
        sock: v,
        next_id: 1,
    };
    let (cid, status) = c2.status();
    assert_eq!(cid, -1);
    assert_eq!(status.error_code(), ErrorCode::UnsupportedVersion);
    check_good(&mut good);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let broker = start_broker();
    let mut c = Client::connect(&broker.addr);
    assert!(create_topic(&mut c, "pipe").is_ok());
    let mut ids = Vec::new();
    for i in 0..50u32 {
        let mut b = BatchBuilder::new(now_ms());
        b.push(now_ms(), None, Some(&i.to_be_bytes()), &[])
            .expect("push");
        let req = ProduceRequest {
            acks: ACKS_ALL,
            timeout_ms: 5000,
            topics: vec![ProduceTopic {
                name: "pipe".into(),
                partitions: vec![ProducePartition {
                    partition: 0,
                    records: b.finish(),
                }],
            }],
        };
        ids.push(c.send_raw(ApiKey::Produce as u16, &to_bytes(&req)));
    }
    for (i, id) in ids.into_iter().enumerate() {
        let (cid, body) = c.read_frame().expect("response");
        assert_eq!(cid, id);
        let resp: ProduceResponse = from_bytes(body).expect("decode");
        assert_eq!(resp.topics[0].partitions[0].base_offset, i as i64);
    }
}

fn produce_batch(c: &mut Client, topic: &str, records: BytesMut) -> (Status, i64) {
    let resp: ProduceResponse = c.call(
        ApiKey::Produce,
        &ProduceRequest {
            acks: ACKS_ALL,
            timeout_ms: 5000,
            topics: vec![ProduceTopic {
                name: topic.into(),
                partitions: vec![ProducePartition {
                    partition: 0,
                    records,
                }],
            }],
        },
    );
    let p = &resp.topics[0].partitions[0];
    (p.status.clone(), p.base_offset)
}

#[test]
fn compressed_bombs_and_corrupt_codecs_are_refused_and_good_ones_stored_as_sent() {
    use strom::record::Compression;
    let broker = start_broker();
    let mut c = Client::connect(&broker.addr);
    assert!(create_topic(&mut c, "z").is_ok());
    let now = now_ms();

    // 200 MiB of zeros is a few KiB of zstd: far past what a 1 MiB
    // max.message.bytes may inflate to (64x), so it is refused unread.
    let mut bomb = BatchBuilder::new(now);
    bomb.push(now, None, Some(&vec![0u8; 200 << 20]), &[])
        .expect("push");
    let bomb = bomb.finish_compressed(Compression::Zstd).expect("zstd");
    assert!(bomb.len() < 64 << 10, "bomb is {} bytes", bomb.len());
    let (status, _) = produce_batch(&mut c, "z", bomb);
    assert_eq!(status.error_code(), ErrorCode::MessageTooLarge, "{status}");
    assert!(status.to_string().contains("inflate"), "{status}");

    // Records that do not decode under their codec: corrupt, with a CRC
    // that matches, so only a look inside can tell.
    let mut good = BatchBuilder::new(now);
    for i in 0..100 {
        good.push(now, None, Some(format!("record {i}").as_bytes()), &[])
            .expect("push");
    }
    let gz = good.finish_compressed(Compression::Gzip).expect("gzip");
    let mut bad = gz.clone();
    let mid = bad.len() - 20;
    bad[mid] ^= 0xff;
    let crc = crc32c::crc32c(&bad[21..]);
    bad[17..21].copy_from_slice(&crc.to_be_bytes());
    let (status, _) = produce_batch(&mut c, "z", bad);
    assert_eq!(status.error_code(), ErrorCode::CorruptMessage, "{status}");

    // A good compressed batch is stored and served byte for byte as sent
    // (apart from the offset the broker stamps).
    let (status, base) = produce_batch(&mut c, "z", gz.clone());
    assert!(status.is_ok(), "{status}");
    assert_eq!(base, 0);
    let resp: FetchResponse = c.call(
        ApiKey::Fetch,
        &FetchRequest {
            max_wait_ms: 0,
            min_bytes: 1,
            max_bytes: 1 << 20,
            topics: vec![FetchTopic {
                name: "z".into(),
                partitions: vec![FetchPartition {
                    partition: 0,
                    fetch_offset: 0,
                    max_bytes: 1 << 20,
                }],
            }],
        },
    );
    let served = &resp.topics[0].partitions[0].records;
    assert_eq!(served.len(), gz.len());
    assert_eq!(
        &served[21..],
        &gz[21..],
        "attributes, records and CRC unchanged"
    );
    let decoded = strom::record::decode_records(served).expect("decodes");
    assert_eq!(decoded.len(), 100);
    assert_eq!(decoded[99].value.as_deref(), Some(&b"record 99"[..]));
    // The broker still serves everyone.
    assert_eq!(produce_one(&mut c, "z", b"after"), 100);
}
