//! Per-partition traffic and replication counters: plain relaxed atomics
//! bumped once per batch (never per record), summed per topic by the state
//! collector at scrape time. They cost the same with metrics off, which is
//! next to nothing, so the hot path has no branch and no lookup.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::histogram::Histogram;

use crate::broker::partition::Partition;

#[derive(Debug, Default)]
pub struct PartitionCounters {
    pub bytes_in: AtomicU64,
    pub records_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub records_out: AtomicU64,
    pub isr_shrinks: AtomicU64,
    pub isr_expands: AtomicU64,
    /// Times this broker became the partition's leader.
    pub leader_elections: AtomicU64,
}

impl PartitionCounters {
    pub fn produced(&self, bytes: usize, records: i64) {
        self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
        self.records_in
            .fetch_add(records.max(0) as u64, Ordering::Relaxed);
    }

    /// Counts an ISR change from `old` to `new` as a shrink (someone
    /// left), an expand (someone joined), or both.
    pub fn isr_changed(&self, old: &[i32], new: &[i32]) {
        if old.iter().any(|r| !new.contains(r)) {
            self.isr_shrinks.fetch_add(1, Ordering::Relaxed);
        }
        if new.iter().any(|r| !old.contains(r)) {
            self.isr_expands.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

/// What one fetch response carries, counted only once the response is
/// really sent (a long-poll fetch may read several times and send once).
#[derive(Default)]
pub struct FetchTally(Vec<(Arc<Partition>, u64, u64)>);

impl FetchTally {
    pub fn add(&mut self, part: Arc<Partition>, bytes: usize, fetch_offset: i64, next: i64) {
        if bytes > 0 {
            let records = (next - fetch_offset).max(0) as u64;
            self.0.push((part, bytes as u64, records));
        }
    }

    /// The response goes out: count it.
    pub fn sent(self) {
        for (part, bytes, records) in self.0 {
            part.counters.bytes_out.fetch_add(bytes, Ordering::Relaxed);
            part.counters
                .records_out
                .fetch_add(records, Ordering::Relaxed);
        }
    }
}

/// fdatasync latency, shared by every partition of a broker.
#[derive(Debug, Clone)]
pub struct FsyncHistogram(pub Histogram);

impl Default for FsyncHistogram {
    fn default() -> Self {
        // 50 µs to ~3.3 s: SSDs sync in well under a millisecond, disks
        // and busy machines take tens of milliseconds.
        FsyncHistogram(Histogram::new(
            prometheus_client::metrics::histogram::exponential_buckets(0.00005, 2.0, 17),
        ))
    }
}

impl FsyncHistogram {
    pub fn observe(&self, took: Duration) {
        self.0.observe(took.as_secs_f64());
    }
}
