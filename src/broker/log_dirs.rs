//! What this broker stores in its log directory (`--data-dir`): each
//! partition replica's size on disk and log end, and the file system's
//! total and usable bytes. Kafka's DescribeLogDirs and the native API of
//! the same name both answer from here.
use std::path::PathBuf;

use super::disk_space::disk_space;
use super::state::Broker;

/// One partition replica held here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaUsage {
    pub topic: String,
    pub partition: i32,
    pub size_bytes: i64,
    pub log_end_offset: i64,
    pub high_watermark: i64,
    /// This broker leads the partition.
    pub leader: bool,
}

#[derive(Debug, Clone)]
pub struct LogDirUsage {
    pub dir: PathBuf,
    /// -1 when the file system cannot be asked.
    pub total_bytes: i64,
    pub usable_bytes: i64,
    /// Sorted by topic, then partition.
    pub replicas: Vec<ReplicaUsage>,
}

impl Broker {
    /// The replicas `keep` selects (topic, partition), with the directory's
    /// disk space.
    pub fn log_dir_usage(&self, keep: impl Fn(&str, i32) -> bool) -> LogDirUsage {
        let mut replicas = Vec::new();
        for t in self.topics.list() {
            for p in t.partitions() {
                if !keep(&t.name, p.index) {
                    continue;
                }
                let log = p.log();
                replicas.push(ReplicaUsage {
                    topic: t.name.to_string(),
                    partition: p.index,
                    size_bytes: i64::try_from(log.size_bytes()).unwrap_or(i64::MAX),
                    log_end_offset: log.log_end_offset(),
                    high_watermark: log.high_watermark(),
                    leader: p.replica.role().is_leader(),
                });
            }
        }
        replicas.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        let dir = self.config.data_dir.clone();
        let (total_bytes, usable_bytes) = disk_space(&dir).unwrap_or((-1, -1));
        LogDirUsage {
            dir,
            total_bytes,
            usable_bytes,
            replicas,
        }
    }
}
