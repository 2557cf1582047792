//! The coordinator's state machine over a memory environment.
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::env::{BoxFuture, TxnEnv};
use super::*;
use crate::record::Marker;

type Records = Vec<(Bytes, Option<Bytes>)>;
/// (topic, partition, producer id, epoch, marker) as written.
type WrittenMarker = (String, i32, i64, i16, Marker);

#[derive(Default)]
struct MemEnv {
    log: Mutex<HashMap<i32, Records>>,
    markers: Mutex<Vec<WrittenMarker>>,
    /// (topic, partition, producer id, epoch) each leave given.
    allowed: Mutex<Vec<(String, i32, i64, i16)>>,
    offsets: Mutex<Vec<(String, PendingOffset)>>,
    next_id: AtomicI64,
    now: AtomicI64,
}

impl TxnEnv for MemEnv {
    fn persist(
        &self,
        partition: i32,
        key: Bytes,
        value: Bytes,
    ) -> BoxFuture<'_, Result<(), String>> {
        self.log
            .lock()
            .unwrap()
            .entry(partition)
            .or_default()
            .push((key, Some(value)));
        Box::pin(async { Ok(()) })
    }
    fn replay(&self, partition: i32) -> Result<Records, String> {
        Ok(self
            .log
            .lock()
            .unwrap()
            .get(&partition)
            .cloned()
            .unwrap_or_default())
    }
    fn new_producer_id(&self) -> BoxFuture<'_, Result<i64, String>> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst) + 1000;
        Box::pin(async move { Ok(id) })
    }
    fn observe_producer_id(&self, id: i64) {
        self.next_id.fetch_max(id + 1 - 1000, Ordering::SeqCst);
    }
    fn partition_exists(&self, topic: &str, _partition: i32) -> bool {
        topic != "missing"
    }
    fn write_markers(
        &self,
        partitions: Vec<(String, i32)>,
        producer_id: i64,
        producer_epoch: i16,
        marker: Marker,
    ) -> BoxFuture<'_, Result<(), String>> {
        let mut m = self.markers.lock().unwrap();
        for (topic, partition) in partitions {
            m.push((topic, partition, producer_id, producer_epoch, marker));
        }
        Box::pin(async { Ok(()) })
    }
    fn allow_writes(
        &self,
        partitions: Vec<(String, i32)>,
        producer_id: i64,
        producer_epoch: i16,
    ) -> BoxFuture<'_, Vec<Result<(), String>>> {
        let mut a = self.allowed.lock().unwrap();
        let out = partitions
            .into_iter()
            .map(|(t, p)| {
                a.push((t, p, producer_id, producer_epoch));
                Ok(())
            })
            .collect();
        Box::pin(async move { out })
    }
    fn commit_offsets<'a>(
        &'a self,
        group: &'a str,
        offsets: Vec<PendingOffset>,
    ) -> BoxFuture<'a, Result<(), String>> {
        let mut o = self.offsets.lock().unwrap();
        for x in offsets {
            o.push((group.to_string(), x));
        }
        Box::pin(async { Ok(()) })
    }
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
}

/// A single node's coordinator: every partition loaded from `env`.
async fn coordinator(env: &Arc<MemEnv>) -> Arc<TransactionCoordinator> {
    let c = TransactionCoordinator::new(
        TxnConfig {
            partitions: 4,
            max_timeout_ms: 60_000,
        },
        env.clone(),
    );
    c.load().await.unwrap();
    c
}

fn offset(o: i64) -> PendingOffset {
    PendingOffset {
        group: "g".into(),
        topic: "in".into(),
        partition: 0,
        offset: o,
        leader_epoch: -1,
        metadata: None,
    }
}

#[tokio::test]
async fn commit_writes_markers_and_offsets_abort_drops_offsets() {
    let env = Arc::new(MemEnv::default());
    let c = coordinator(&env).await;
    assert!(matches!(
        c.init_producer_id("t", 60_001, None).await,
        Err(TxnError::InvalidTimeout { .. })
    ));
    let (pid, epoch) = c.init_producer_id("t", 10_000, None).await.unwrap();
    assert_eq!(epoch, 0);
    let r = c
        .add_partitions("t", pid, epoch, vec![("out".into(), 1)])
        .await
        .unwrap();
    assert!(r[0].1.is_ok());
    c.add_offsets("t", pid, epoch, "g").await.unwrap();
    c.txn_offset_commit("t", pid, epoch, "g", vec![offset(5)])
        .await
        .unwrap();
    assert!(
        env.offsets.lock().unwrap().is_empty(),
        "offsets wait for the commit"
    );
    c.end_txn("t", pid, epoch, true).await.unwrap();
    assert_eq!(env.markers.lock().unwrap().len(), 1);
    assert_eq!(env.offsets.lock().unwrap()[0].1.offset, 5);
    // A retried EndTxn is answered again; the other decision is refused.
    c.end_txn("t", pid, epoch, true).await.unwrap();
    assert!(matches!(
        c.end_txn("t", pid, epoch, false).await,
        Err(TxnError::InvalidState(_))
    ));
    // An aborted transaction's offsets never reach the group.
    c.add_partitions("t", pid, epoch, vec![("out".into(), 1)])
        .await
        .unwrap();
    c.add_offsets("t", pid, epoch, "g").await.unwrap();
    c.txn_offset_commit("t", pid, epoch, "g", vec![offset(9)])
        .await
        .unwrap();
    c.end_txn("t", pid, epoch, false).await.unwrap();
    assert_eq!(env.offsets.lock().unwrap().len(), 1);
    assert_eq!(env.markers.lock().unwrap()[1].4, Marker::Abort);
    // Unknown partitions: nothing added.
    let r = c
        .add_partitions(
            "t",
            pid,
            epoch,
            vec![("missing".into(), 0), ("out".into(), 0)],
        )
        .await
        .unwrap();
    assert!(matches!(r[0].1, Err(TxnError::UnknownPartition(..))));
    assert!(matches!(r[1].1, Err(TxnError::NotAttempted)));
}

#[tokio::test]
async fn a_new_instance_fences_the_old_and_aborts_its_transaction() {
    let env = Arc::new(MemEnv::default());
    let c = coordinator(&env).await;
    let (pid, e0) = c.init_producer_id("t", 10_000, None).await.unwrap();
    c.add_partitions("t", pid, e0, vec![("out".into(), 0)])
        .await
        .unwrap();
    let (pid2, e1) = c.init_producer_id("t", 10_000, None).await.unwrap();
    assert_eq!((pid2, e1), (pid, e0 + 1));
    let markers = env.markers.lock().unwrap().clone();
    assert_eq!(markers, vec![("out".into(), 0, pid, e1, Marker::Abort)]);
    assert!(matches!(
        c.end_txn("t", pid, e0, true).await,
        Err(TxnError::Fenced { .. })
    ));
    assert!(matches!(
        c.add_partitions("t", pid, e0, vec![("out".into(), 0)])
            .await,
        Err(TxnError::Fenced { .. })
    ));
    assert!(matches!(
        c.add_partitions("t", pid + 1, e1, vec![("out".into(), 0)])
            .await,
        Err(TxnError::ProducerIdMapping { .. })
    ));
}

#[tokio::test]
async fn expired_transactions_are_aborted_and_state_survives_a_reload() {
    let env = Arc::new(MemEnv::default());
    let c = coordinator(&env).await;
    let (pid, e0) = c.init_producer_id("t", 1_000, None).await.unwrap();
    c.add_partitions("t", pid, e0, vec![("out".into(), 0)])
        .await
        .unwrap();
    env.now.store(500, Ordering::SeqCst);
    assert_eq!(c.tick().await, 0);
    env.now.store(1_001, Ordering::SeqCst);
    assert_eq!(c.tick().await, 1);
    let m = c.describe("t").await.unwrap();
    assert_eq!(
        (m.state, m.producer_epoch),
        (TxnState::CompleteAbort, e0 + 1)
    );
    assert!(matches!(
        c.end_txn("t", pid, e0, true).await,
        Err(TxnError::Fenced { .. })
    ));
    // A second coordinator over the same log sees the same state.
    let c2 = coordinator(&env).await;
    assert_eq!(c2.load().await.unwrap(), 1);
    assert_eq!(c2.describe("t").await.unwrap(), m);
    let listed = c2.list(&[TxnState::CompleteAbort], &[]);
    assert_eq!(listed.len(), 1);
    assert!(c2.list(&[TxnState::Ongoing], &[]).is_empty());
    let (_, e2) = c2.init_producer_id("t", 1_000, None).await.unwrap();
    assert_eq!(e2, e0 + 2);
}

#[tokio::test]
async fn a_prepared_commit_is_finished_after_a_restart() {
    let env = Arc::new(MemEnv::default());
    let c = coordinator(&env).await;
    let (pid, e0) = c.init_producer_id("t", 10_000, None).await.unwrap();
    c.add_partitions("t", pid, e0, vec![("out".into(), 3)])
        .await
        .unwrap();
    // As if the broker died right after persisting PrepareCommit: append
    // that record by hand.
    let mut m = c.describe("t").await.unwrap();
    m.state = TxnState::PrepareCommit;
    let part = c.partition_for("t");
    env.persist(
        part,
        super::codec::encode_key("t"),
        super::codec::encode_value(&m),
    )
    .await
    .unwrap();
    let c2 = coordinator(&env).await;
    c2.load().await.unwrap();
    assert_eq!(
        c2.describe("t").await.unwrap().state,
        TxnState::CompleteCommit
    );
    assert_eq!(env.markers.lock().unwrap()[0].4, Marker::Commit);
}

#[tokio::test]
async fn a_cluster_coordinator_serves_only_the_partitions_it_loaded() {
    let env = Arc::new(MemEnv::default());
    let single = coordinator(&env).await;
    let (pid, epoch) = single.init_producer_id("t", 10_000, None).await.unwrap();
    // A broker of a cluster: nothing is served until its partition loads.
    let c = TransactionCoordinator::new(
        TxnConfig {
            partitions: 4,
            max_timeout_ms: 60_000,
        },
        env.clone(),
    );
    let p = c.partition_for("t");
    assert!(matches!(
        c.init_producer_id("t", 10_000, None).await,
        Err(TxnError::NotCoordinator { partition, .. }) if partition == p
    ));
    let ticket = c.begin_load(p);
    assert!(matches!(
        c.end_txn("t", pid, epoch, true).await,
        Err(TxnError::LoadInProgress { .. })
    ));
    assert!(c.finish_load(ticket).await.unwrap());
    // The state written by the other instance is there: the bump fences it.
    let (pid2, epoch2) = c.init_producer_id("t", 10_000, None).await.unwrap();
    assert_eq!((pid2, epoch2), (pid, epoch + 1));
    // Leadership moved on: the partition's ids are forgotten.
    c.unload_partition(p);
    assert!(matches!(
        c.describe("t").await,
        Err(TxnError::NotCoordinator { .. })
    ));
    // A load overtaken by a newer leadership change installs nothing.
    let old = c.begin_load(p);
    let _new = c.begin_load(p);
    assert!(!c.finish_load(old).await.unwrap());
}

#[tokio::test]
async fn added_partitions_are_allowed_and_told_again_after_a_reload() {
    let env = Arc::new(MemEnv::default());
    let c = coordinator(&env).await;
    let (pid, epoch) = c.init_producer_id("t", 10_000, None).await.unwrap();
    let added = c
        .add_partitions("t", pid, epoch, vec![("a".into(), 0), ("b".into(), 1)])
        .await
        .unwrap();
    assert!(added.iter().all(|(_, r)| r.is_ok()));
    assert_eq!(
        *env.allowed.lock().unwrap(),
        vec![("a".into(), 0, pid, epoch), ("b".into(), 1, pid, epoch)]
    );
    // A new coordinator (restart or failover) tells the leaders again,
    // since they forget leaves when their role changes.
    env.allowed.lock().unwrap().clear();
    let c2 = coordinator(&env).await;
    let mut again = env.allowed.lock().unwrap().clone();
    again.sort();
    assert_eq!(
        again,
        vec![("a".into(), 0, pid, epoch), ("b".into(), 1, pid, epoch)]
    );
    c2.end_txn("t", pid, epoch, true).await.unwrap();
    let markers = env.markers.lock().unwrap().clone();
    assert_eq!(markers.len(), 2);
}
