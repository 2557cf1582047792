//! What the transaction coordinator needs from the broker, as plain calls:
//! its state topic, producer ids, the partitions' markers and the group
//! coordinator's offsets. `broker_env` implements it over the broker; the
//! coordinator's tests use a memory one.
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;

use super::types::PendingOffset;
use crate::record::Marker;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub trait TxnEnv: Send + Sync + 'static {
    /// Durably appends one record to a partition of `__transaction_state`.
    fn persist(
        &self,
        partition: i32,
        key: Bytes,
        value: Bytes,
    ) -> BoxFuture<'_, Result<(), String>>;
    /// Every record of that partition, oldest first.
    fn replay(&self, partition: i32) -> Result<Vec<(Bytes, Option<Bytes>)>, String>;
    /// A producer id no other producer has or had.
    fn new_producer_id(&self) -> BoxFuture<'_, Result<i64, String>>;
    /// Records that `id` was handed out (so no new producer gets it).
    fn observe_producer_id(&self, id: i64);
    fn partition_exists(&self, topic: &str, partition: i32) -> bool;
    /// Writes the marker to every partition, each durable on its leader
    /// and in-sync replicas before this returns Ok. A partition deleted
    /// since counts as done.
    fn write_markers(
        &self,
        partitions: Vec<(String, i32)>,
        producer_id: i64,
        producer_epoch: i16,
        marker: Marker,
    ) -> BoxFuture<'_, Result<(), String>>;
    /// Tells each partition's leader that the producer may write
    /// transactional batches there (they joined its transaction). One
    /// result per partition, in order.
    fn allow_writes(
        &self,
        partitions: Vec<(String, i32)>,
        producer_id: i64,
        producer_epoch: i16,
    ) -> BoxFuture<'_, Vec<Result<(), String>>>;
    /// Commits a committed transaction's offsets for one group.
    fn commit_offsets<'a>(
        &'a self,
        group: &'a str,
        offsets: Vec<PendingOffset>,
    ) -> BoxFuture<'a, Result<(), String>>;
    fn now_ms(&self) -> i64;
}
