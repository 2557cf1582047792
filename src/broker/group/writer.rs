//! The per-partition writer task: appends queued records to the store in
//! queue order, batching whatever queued up meanwhile into one append
//! (group commit), then runs each job's `apply` under the groups lock.
use std::sync::{Arc, Weak};

use tokio::sync::mpsc;

use super::coordinator::{GroupCoordinator, Groups};
use super::env::Env;
use super::store::StoreRecord;
use super::{GroupStore, StoreError};

/// Runs after the append, with its outcome, under the groups lock.
pub(super) type Apply = Box<dyn FnOnce(&Env, &mut Groups, Result<(), StoreError>) + Send>;

pub(super) struct WriteJob {
    pub records: Vec<StoreRecord>,
    pub apply: Apply,
}

/// Bounds one append so a burst of commits cannot build an unbounded batch.
const MAX_BATCH_JOBS: usize = 512;

pub(super) async fn run_writer(
    partition: i32,
    store: Arc<dyn GroupStore>,
    me: Weak<GroupCoordinator>,
    mut rx: mpsc::UnboundedReceiver<WriteJob>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH_JOBS {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let records: Vec<StoreRecord> = batch
            .iter_mut()
            .flat_map(|job| std::mem::take(&mut job.records))
            .collect();
        let result = if records.is_empty() {
            Ok(())
        } else {
            store.append(partition, records).await
        };
        let Some(coord) = me.upgrade() else { return };
        let mut groups = coord.lock_groups();
        for job in batch {
            (job.apply)(&coord.env, &mut groups, result.clone());
        }
    }
}
