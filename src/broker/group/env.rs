//! What the group state machine needs from its surroundings: settings, id
//! and nonce generation, timers (`timers.rs`) and ordered writes to the
//! store (`writer.rs`). Owned by the coordinator; background tasks reach it
//! through a weak reference.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use tokio::sync::mpsc;

use super::coordinator::GroupCoordinator;
use super::store::StoreRecord;
use super::writer::{run_writer, Apply, WriteJob};
use super::{GroupConfig, GroupStore};

pub(super) struct Env {
    pub me: Weak<GroupCoordinator>,
    pub config: GroupConfig,
    pub store: Arc<dyn GroupStore>,
    /// One writer per `__consumer_offsets` partition, started on first use
    /// (so the coordinator can be built outside a tokio runtime).
    writers: Vec<OnceLock<mpsc::UnboundedSender<WriteJob>>>,
    counter: AtomicU64,
    seed: u64,
}

impl Env {
    pub fn new(
        me: Weak<GroupCoordinator>,
        config: GroupConfig,
        store: Arc<dyn GroupStore>,
    ) -> Self {
        let partitions = config.offsets_partitions.max(1) as usize;
        let seed = config.member_id_seed.unwrap_or_else(random_seed);
        Env {
            me,
            config,
            store,
            writers: (0..partitions).map(|_| OnceLock::new()).collect(),
            counter: AtomicU64::new(1),
            seed,
        }
    }

    pub fn partitions(&self) -> i32 {
        self.writers.len() as i32
    }

    /// A process-unique number for nonces, incarnations and join order.
    pub fn next_nonce(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    /// `prefix-<uuid>`, like Kafka (`client.id` or `group.instance.id`
    /// followed by a random UUID).
    pub fn new_member_id(&self, prefix: &str) -> String {
        let n = self.next_nonce();
        let hi = splitmix64(self.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let lo = splitmix64(hi ^ self.seed.rotate_left(17));
        format!(
            "{prefix}-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xffff,
            hi & 0xffff,
            lo >> 48,
            lo & 0xffff_ffff_ffff
        )
    }

    pub fn wall_clock_ms(&self) -> i64 {
        (self.config.wall_clock_ms)()
    }

    /// Queues records for `partition`. Writes of one partition reach the
    /// store in the order they were queued, and each `apply` runs under the
    /// groups lock in that same order once the append returned: so the
    /// in-memory state always changes in log order. Call with the groups
    /// lock held to order the write with the state change that caused it.
    pub fn write(&self, partition: i32, records: Vec<StoreRecord>, apply: Apply) {
        let idx = partition.clamp(0, self.partitions() - 1) as usize;
        let Some(slot) = self.writers.get(idx) else {
            return;
        };
        let tx = slot.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(run_writer(
                idx as i32,
                self.store.clone(),
                self.me.clone(),
                rx,
            ));
            tx
        });
        if let Err(mpsc::error::SendError(job)) = tx.send(WriteJob { records, apply }) {
            // The writer only stops when the coordinator is dropped; the
            // apply (and the reply channel inside it) is dropped with it, so
            // the waiting caller sees the coordinator as unavailable.
            drop(job);
        }
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS; no extra dependency needed.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(super::config::system_clock_ms() as u64);
    h.finish()
}
