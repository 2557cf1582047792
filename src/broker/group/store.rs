//! Where the coordinator persists offsets and group metadata: partitions of
//! the internal topic `__consumer_offsets`. The broker implements the trait
//! over its ordinary partition logs (so the topic replicates like any
//! other); [`MemoryGroupStore`] serves tests.
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use bytes::Bytes;

use super::StoreError;

/// Name of the internal topic that holds committed offsets and groups.
pub use crate::proto::OFFSETS_TOPIC;

/// One key/value record; a `None` value is a tombstone.
pub type StoreRecord = (Bytes, Option<Bytes>);

pub trait GroupStore: Send + Sync + 'static {
    /// Durably appends key/value records (value None = tombstone) to one
    /// partition of __consumer_offsets. Records are appended in order.
    fn append(
        &self,
        partition: i32,
        records: Vec<StoreRecord>,
    ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + '_>>;

    /// Every record of that partition, oldest first (for rebuilding state
    /// on startup).
    fn replay(&self, partition: i32) -> Result<Vec<StoreRecord>, StoreError>;
}

/// An in-memory store for tests: appends are kept per partition; appends can
/// be made to fail to test error paths.
#[derive(Default)]
pub struct MemoryGroupStore {
    partitions: Mutex<HashMap<i32, Vec<StoreRecord>>>,
    fail_appends: AtomicBool,
}

impl MemoryGroupStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every following append fail with `StoreError::Unavailable`.
    pub fn set_fail_appends(&self, fail: bool) {
        self.fail_appends.store(fail, Ordering::SeqCst);
    }

    /// A copy of one partition's records, oldest first.
    pub fn records(&self, partition: i32) -> Vec<StoreRecord> {
        self.lock().get(&partition).cloned().unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, Vec<StoreRecord>>> {
        // A panic while holding this lock cannot leave the map half-updated
        // (each operation is one push or clone), so poisoning is ignored.
        self.partitions.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl GroupStore for MemoryGroupStore {
    fn append(
        &self,
        partition: i32,
        records: Vec<StoreRecord>,
    ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + '_>> {
        let result = if self.fail_appends.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable {
                partition,
                reason: "appends disabled by test".into(),
            })
        } else {
            self.lock().entry(partition).or_default().extend(records);
            Ok(())
        };
        Box::pin(async move { result })
    }

    fn replay(&self, partition: i32) -> Result<Vec<StoreRecord>, StoreError> {
        Ok(self.records(partition))
    }
}
