//! In-process clusters: real brokers on loopback sockets replicating
//! through [`LocalControlPlane`], which elects and fences like the
//! controller does. Process-level fault tests are in `tests/cluster_faults.rs`.
use std::collections::BTreeMap;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::peer::Peer;
use super::*;
use crate::broker::config::BrokerConfig;
use crate::broker::shutdown::Shutdown;
use crate::broker::state::Broker;
use crate::proto::messages::produce::*;
use crate::proto::{ApiKey, ErrorCode};
use crate::record::BatchBuilder;

struct Node {
    id: i32,
    broker: Arc<Broker>,
    addr: String,
    listener: Option<JoinHandle<()>>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    mgr: Option<Arc<ReplicaManager>>,
    _tmp: tempfile::TempDir,
    _shutdown: broadcast::Sender<()>,
}

fn config() -> ReplicationConfig {
    ReplicationConfig {
        replica_lag_time_max: Duration::from_millis(1000),
        fetch_max_wait: Duration::from_millis(200),
        ..ReplicationConfig::default()
    }
}

impl Node {
    async fn start(id: i32, control: &Arc<LocalControlPlane>) -> Node {
        let tmp = tempfile::tempdir().unwrap();
        let mut cfg = BrokerConfig::new(tmp.path().to_path_buf());
        cfg.node_id = id;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let broker = Broker::open(cfg, ("127.0.0.1".into(), port as i32))
            .await
            .unwrap();
        let (tx, _) = broadcast::channel(1);
        let mut node = Node {
            id,
            broker,
            addr: format!("127.0.0.1:{port}"),
            listener: None,
            conns: Default::default(),
            mgr: None,
            _tmp: tmp,
            _shutdown: tx,
        };
        node.listen(listener);
        control.register_broker(id, "127.0.0.1", port as i32);
        node
    }

    fn listen(&mut self, listener: TcpListener) {
        let broker = self.broker.clone();
        let conns = self.conns.clone();
        let tx = self._shutdown.clone();
        self.listener = Some(tokio::spawn(async move {
            while let Ok((s, peer)) = listener.accept().await {
                let h = tokio::spawn(crate::broker::connection::handle(
                    broker.clone(),
                    s,
                    peer,
                    Shutdown::new(tx.subscribe()),
                ));
                conns.lock().unwrap().push(h);
            }
        }));
    }

    fn replicate(&mut self, control: &Arc<LocalControlPlane>) {
        let ctl: Arc<dyn ControlPlane> = control.clone();
        self.mgr = Some(ReplicaManager::start(
            self.id,
            self._tmp.path(),
            self.broker.topics.clone(),
            ctl,
            control.subscribe(),
            config(),
            Vec::new(),
        ));
    }

    /// Cuts the node off: no connections in or out, no metadata.
    fn isolate(&mut self) {
        if let Some(l) = self.listener.take() {
            l.abort();
        }
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
        if let Some(m) = self.mgr.take() {
            m.stop();
        }
    }

    async fn rejoin(&mut self, control: &Arc<LocalControlPlane>) {
        let listener = TcpListener::bind(&self.addr).await.unwrap();
        self.listen(listener);
        self.replicate(control);
    }

    fn create_topic(&self, name: &str, partitions: i32, configs: &[(&str, &str)]) {
        let cfg: BTreeMap<String, String> = configs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.broker
            .topics
            .create(name, partitions, 1, cfg, false)
            .unwrap();
    }

    fn log_bytes(&self, topic: &str, p: i32, below: i64) -> Vec<u8> {
        let part = self.broker.topics.partition(topic, p).unwrap();
        let log = part.log();
        let r = log.read_bounded(0, usize::MAX / 2, below).unwrap();
        let mut out = Vec::new();
        for s in r.slices {
            let mut b = vec![0u8; s.len];
            s.file.read_exact_at(&mut b, s.position).unwrap();
            out.extend(b);
        }
        out
    }

    /// Stored batches from the one holding `from` to the log end.
    fn log_bytes_from(&self, topic: &str, p: i32, from: i64) -> Vec<u8> {
        let part = self.broker.topics.partition(topic, p).unwrap();
        let log = part.log();
        let r = log.read(from, usize::MAX / 2).unwrap();
        let mut out = Vec::new();
        for s in r.slices {
            let mut b = vec![0u8; s.len];
            s.file.read_exact_at(&mut b, s.position).unwrap();
            out.extend(b);
        }
        out
    }

    fn offsets(&self, topic: &str, p: i32) -> (i64, i64, i64) {
        self.broker.topics.partition(topic, p).unwrap().offsets()
    }
}

fn batch(n: usize, producer: Option<(i64, i32)>) -> BytesMut {
    let mut b = BatchBuilder::new(1);
    if let Some((pid, seq)) = producer {
        b.set_producer(pid, 0, seq);
    }
    for i in 0..n {
        b.push(1, None, Some(format!("v{i}").as_bytes()), &[])
            .unwrap();
    }
    b.finish()
}

async fn produce(
    addr: &str,
    topic: &str,
    acks: i16,
    records: BytesMut,
) -> ProducePartitionResponse {
    let mut peer = Peer::connect(addr, Duration::from_secs(2)).await.unwrap();
    let req = ProduceRequest {
        acks,
        timeout_ms: 5000,
        topics: vec![ProduceTopic {
            name: topic.into(),
            partitions: vec![ProducePartition {
                partition: 0,
                records,
            }],
        }],
    };
    let resp: ProduceResponse = peer
        .call(ApiKey::Produce, &req, Duration::from_secs(10))
        .await
        .unwrap();
    resp.topics[0].partitions[0].clone()
}

async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn cluster(
    n: i32,
    topic: &str,
    configs: &[(&str, &str)],
) -> (Arc<LocalControlPlane>, Vec<Node>) {
    let control = LocalControlPlane::new(Default::default());
    let mut nodes = Vec::new();
    for id in 1..=n {
        nodes.push(Node::start(id, &control).await);
    }
    control.create_topic(topic, vec![(1..=n).collect()]);
    for node in &mut nodes {
        node.create_topic(topic, 1, configs);
        node.replicate(&control);
    }
    let first = nodes[0].broker.topics.partition(topic, 0).unwrap();
    eventually("leader", || matches!(first.role(), Role::Leader(_))).await;
    (control, nodes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicates_fails_over_and_truncates_divergence() {
    let (control, mut nodes) = cluster(3, "t", &[]).await;
    for _ in 0..10 {
        let r = produce(&nodes[0].addr, "t", ACKS_ALL, batch(3, None)).await;
        assert!(r.status.is_ok(), "{}", r.status);
    }
    // acks=all answered: every ISR member has all 30 records.
    for n in &nodes {
        assert!(
            n.offsets("t", 0).2 >= 30,
            "node {} lacks acked records",
            n.id
        );
    }
    eventually("followers learn the hw", || {
        nodes.iter().all(|n| n.offsets("t", 0).1 == 30)
    })
    .await;
    let reference = nodes[0].log_bytes("t", 0, 30);
    for n in &nodes[1..] {
        assert_eq!(n.log_bytes("t", 0, 30), reference, "node {} differs", n.id);
    }

    // A follower refuses clients.
    let r = produce(&nodes[1].addr, "t", ACKS_LEADER, batch(1, None)).await;
    assert_eq!(r.status.error_code(), ErrorCode::NotLeaderOrFollower);

    // Node 1 is cut off while it still thinks it leads; it appends
    // records nobody else gets (never acknowledged with acks=all).
    nodes[0].isolate();
    let stale = nodes[0].broker.topics.partition("t", 0).unwrap();
    stale.append(&mut batch(2, None)).unwrap();
    control.fence(1);
    let new_leader = nodes[1].broker.topics.partition("t", 0).unwrap();
    eventually(
        "new leader",
        || matches!(new_leader.role(), Role::Leader(l) if l.epoch == 1),
    )
    .await;
    for _ in 0..5 {
        let r = produce(&nodes[1].addr, "t", ACKS_ALL, batch(2, None)).await;
        assert!(r.status.is_ok(), "{}", r.status);
    }
    assert_eq!(nodes[1].offsets("t", 0).1, 40);

    // It comes back: follows the new leader, drops its divergent tail,
    // catches up and rejoins the ISR.
    nodes[0].rejoin(&control).await;
    control.unfence(1);
    eventually("node 1 back in the ISR", || {
        control
            .metadata()
            .partition("t", 0)
            .is_some_and(|p| p.isr.contains(&1))
    })
    .await;
    eventually("node 1 caught up", || nodes[0].offsets("t", 0).2 == 40).await;
    let reference = nodes[1].log_bytes("t", 0, 40);
    for n in [&nodes[0], &nodes[2]] {
        assert_eq!(n.log_bytes("t", 0, 40), reference, "node {} differs", n.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_all_needs_min_insync_replicas() {
    let (control, mut nodes) = cluster(2, "m", &[("min.insync.replicas", "2")]).await;
    let r = produce(&nodes[0].addr, "m", ACKS_ALL, batch(1, None)).await;
    assert!(r.status.is_ok(), "{}", r.status);
    nodes[1].isolate();
    // The leader drops the silent follower from the ISR after the lag time.
    eventually("isr shrink", || {
        control
            .metadata()
            .partition("m", 0)
            .is_some_and(|p| p.isr == vec![1])
    })
    .await;
    let leader = nodes[0].broker.topics.partition("m", 0).unwrap();
    eventually(
        "leader sees the shrink",
        || matches!(leader.role(), Role::Leader(l) if l.isr == vec![1]),
    )
    .await;
    let r = produce(&nodes[0].addr, "m", ACKS_ALL, batch(1, None)).await;
    assert_eq!(
        r.status.error_code(),
        ErrorCode::NotEnoughReplicas,
        "{}",
        r.status
    );
    let r = produce(&nodes[0].addr, "m", ACKS_LEADER, batch(1, None)).await;
    assert!(r.status.is_ok(), "{}", r.status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_retry_across_failover_is_not_duplicated() {
    let (control, nodes) = cluster(3, "i", &[]).await;
    let first = produce(&nodes[0].addr, "i", ACKS_ALL, batch(2, Some((77, 0)))).await;
    assert!(first.status.is_ok(), "{}", first.status);
    let again = produce(&nodes[0].addr, "i", ACKS_ALL, batch(2, Some((77, 0)))).await;
    assert_eq!(
        again.base_offset, first.base_offset,
        "retry on the same leader"
    );
    control.fence(1);
    let l2 = nodes[1].broker.topics.partition("i", 0).unwrap();
    eventually("new leader", || matches!(l2.role(), Role::Leader(_))).await;
    // The producer did not see the answer and retries on the new leader.
    let retry = produce(&nodes[1].addr, "i", ACKS_ALL, batch(2, Some((77, 0)))).await;
    assert!(retry.status.is_ok(), "{}", retry.status);
    assert_eq!(retry.base_offset, first.base_offset);
    let gap = produce(&nodes[1].addr, "i", ACKS_ALL, batch(1, Some((77, 5)))).await;
    assert_eq!(gap.status.error_code(), ErrorCode::OutOfOrderSequenceNumber);
    let next = produce(&nodes[1].addr, "i", ACKS_ALL, batch(1, Some((77, 2)))).await;
    assert!(next.status.is_ok(), "{}", next.status);
    assert_eq!(next.base_offset, 2);
}

/// Cuts node `id` off and out of the ISR, and waits until the leader
/// (node 1) no longer counts it, so acks=all goes on without it.
async fn take_down(control: &Arc<LocalControlPlane>, nodes: &mut [Node], id: i32, topic: &str) {
    nodes[(id - 1) as usize].isolate();
    control.fence(id);
    let leader = nodes[0].broker.topics.partition(topic, 0).unwrap();
    eventually(
        "the leader drops the fenced follower",
        || matches!(leader.role(), Role::Leader(l) if !l.isr.contains(&id)),
    )
    .await;
}

/// Brings node `id` back and waits until it is in the ISR with the
/// leader's whole log.
async fn bring_back(control: &Arc<LocalControlPlane>, nodes: &mut [Node], id: i32, topic: &str) {
    nodes[(id - 1) as usize].rejoin(control).await;
    control.unfence(id);
    eventually("the follower back in the ISR", || {
        control
            .metadata()
            .partition(topic, 0)
            .is_some_and(|p| p.isr.contains(&id))
    })
    .await;
    let leo = nodes[0].offsets(topic, 0).2;
    eventually("the follower caught up", || {
        nodes[(id - 1) as usize].offsets(topic, 0).2 == leo
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_behind_the_leader_log_start_restarts_there() {
    let (control, mut nodes) = cluster(3, "r", &[("segment.bytes", "1024")]).await;
    for _ in 0..3 {
        let r = produce(&nodes[0].addr, "r", ACKS_ALL, batch(20, None)).await;
        assert!(r.status.is_ok(), "{}", r.status);
    }
    assert_eq!(nodes[2].offsets("r", 0).2, 60);
    take_down(&control, &mut nodes, 3, "r").await;
    for _ in 0..30 {
        let r = produce(&nodes[0].addr, "r", ACKS_ALL, batch(20, None)).await;
        assert!(r.status.is_ok(), "{}", r.status);
    }
    // Retention on the leader deletes everything node 3 has and more.
    let start = {
        let part = nodes[0].broker.topics.partition("r", 0).unwrap();
        let mut log = part.log();
        let cfg = crate::log::LogConfig {
            retention_bytes: Some(2048),
            ..log.config().clone()
        };
        log.set_config(cfg);
        assert!(log.apply_retention(0).unwrap() > 0);
        log.log_start_offset()
    };
    assert!(start > 60, "the leader's log start {start}");
    bring_back(&control, &mut nodes, 3, "r").await;
    let (s3, _, e3) = nodes[2].offsets("r", 0);
    assert_eq!(
        (s3, e3),
        (start, 660),
        "node 3 restarted at the leader's start"
    );
    assert_eq!(
        nodes[2].log_bytes_from("r", 0, start),
        nodes[0].log_bytes_from("r", 0, start)
    );
    {
        let part = nodes[2].broker.topics.partition("r", 0).unwrap();
        let log = part.log();
        assert_eq!(log.latest_epoch(), Some(0), "epochs learned anew");
        assert!(log.read(start - 1, 100).is_err());
    }

    // DeleteRecords may put the leader's start inside a batch (660..680
    // is one): the follower then starts its log at that batch.
    take_down(&control, &mut nodes, 3, "r").await;
    for _ in 0..10 {
        let r = produce(&nodes[0].addr, "r", ACKS_ALL, batch(20, None)).await;
        assert!(r.status.is_ok(), "{}", r.status);
    }
    let mid = 790;
    nodes[0]
        .broker
        .topics
        .partition("r", 0)
        .unwrap()
        .log()
        .delete_records_before(mid)
        .unwrap();
    assert!(nodes[0].offsets("r", 0).0 == mid);
    bring_back(&control, &mut nodes, 3, "r").await;
    assert_eq!(nodes[2].offsets("r", 0), (mid, 860, 860));
    let ours = nodes[2].log_bytes_from("r", 0, mid);
    assert_eq!(ours, nodes[0].log_bytes_from("r", 0, mid));
    // The first stored batch is the one holding the start.
    assert_eq!(i64::from_be_bytes(ours[..8].try_into().unwrap()), 780);
}
