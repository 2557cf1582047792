//! Runs the log cleaner (`log::CleanTask`) over every compacted partition:
//! one pass every `log.cleaner.backoff.ms`, on a blocking thread, under one
//! broker-wide I/O cap. The log's lock is taken only to plan a pass and to
//! swap its output in, so appends and fetches go on while it cleans.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::server::now_ms;
use super::shutdown::Shutdown;
use super::state::Broker;
use super::topics::TopicManager;
use crate::log::CleanerThrottle;

/// Cleaned segments swapped in per acquisition of a log's lock.
const SEGMENTS_PER_SWAP: usize = 2;

/// What one pass did, over every partition.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CleanStats {
    pub segments: usize,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

impl TopicManager {
    /// Cleans every compacted partition that is due (see
    /// `PartitionLog::cleaning_task`). Errors are logged per partition.
    pub fn clean_logs(&self, now_ms: i64, throttle: &mut CleanerThrottle) -> CleanStats {
        let mut stats = CleanStats::default();
        for topic in self.list() {
            for p in topic.partitions() {
                let task = match p.log().cleaning_task(now_ms) {
                    Ok(Some(t)) => t,
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::warn!(topic = %topic.name, partition = p.index, error = %e, "planning log cleaning failed");
                        continue;
                    }
                };
                let result = task.run(throttle).and_then(|mut outcome| {
                    let (before, after) = (outcome.bytes_before, outcome.bytes_after);
                    let mut n = 0;
                    // A few segments per turn of the lock: producers to this
                    // partition wait for each turn (fsyncs of the directory).
                    while !outcome.is_installed() {
                        n += p
                            .log()
                            .install_cleaned_part(&mut outcome, SEGMENTS_PER_SWAP)?;
                    }
                    Ok((n, before, after))
                });
                match result {
                    Ok((0, _, _)) => {}
                    Ok((n, before, after)) => {
                        stats.segments += n;
                        stats.bytes_before += before;
                        stats.bytes_after += after;
                        tracing::info!(topic = %topic.name, partition = p.index, segments = n, bytes_before = before, bytes_after = after, "compacted log segments");
                    }
                    Err(crate::log::LogError::Io(e))
                        if e.kind() == std::io::ErrorKind::Interrupted =>
                    {
                        return stats;
                    }
                    Err(e) => {
                        tracing::warn!(topic = %topic.name, partition = p.index, error = %e, "log cleaning failed");
                    }
                }
            }
        }
        stats
    }
}

/// The cleaner task: a pass, then `log_cleaner_backoff`, until shutdown
/// (which cancels a pass in progress: its output is discarded, the logs
/// are as before it).
pub async fn run(broker: Arc<Broker>, mut shutdown: Shutdown, _done: mpsc::Sender<()>) {
    let backoff = broker.config.log_cleaner_backoff;
    let rate = broker.config.log_cleaner_io_max_bytes_per_second;
    loop {
        tokio::select! {
            _ = shutdown.recv() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        let cancel = Arc::new(AtomicBool::new(false));
        let topics = broker.topics.clone();
        let flag = cancel.clone();
        let mut job = tokio::task::spawn_blocking(move || {
            let mut throttle = CleanerThrottle::new(rate).with_cancel(flag);
            topics.clean_logs(now_ms(), &mut throttle)
        });
        tokio::select! {
            _ = shutdown.recv() => {
                cancel.store(true, Ordering::Relaxed);
                let _ = job.await;
                return;
            }
            _ = &mut job => {}
        }
    }
}
