//! The coordinator's storage: ordinary partitions of `__consumer_offsets`.
//! Each append is one record batch, fdatasync'ed before it returns, because
//! a commit that was answered must survive a crash.
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use super::group::{GroupStore, StoreError, StoreRecord};
use super::server::now_ms;
use super::state::OFFSETS_TOPIC;
use super::topics::TopicManager;
use crate::proto::ErrorCode;
use crate::record::{self, BatchBuilder};

/// How long a commit waits for the in-sync replicas before it is refused
/// (the client retries it).
const COMMIT_REPLICATION_TIMEOUT: Duration = Duration::from_secs(5);

pub struct LogGroupStore {
    topics: Arc<TopicManager>,
    /// `__consumer_offsets`, or another coordinator's internal topic
    /// stored the same way (`__transaction_state`).
    topic: &'static str,
}

impl LogGroupStore {
    pub fn new(topics: Arc<TopicManager>) -> Self {
        Self::for_topic(topics, OFFSETS_TOPIC)
    }

    /// The same store over another internal topic.
    pub fn for_topic(topics: Arc<TopicManager>, topic: &'static str) -> Self {
        LogGroupStore { topics, topic }
    }
}

fn unavailable(partition: i32, e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable {
        partition,
        reason: e.to_string(),
    }
}

impl GroupStore for LogGroupStore {
    fn append(
        &self,
        partition: i32,
        records: Vec<StoreRecord>,
    ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + '_>> {
        Box::pin(async move {
            if records.is_empty() {
                return Ok(());
            }
            let part = self
                .topics
                .partition(self.topic, partition)
                .map_err(|e| unavailable(partition, e))?;
            let now = now_ms();
            let mut builder = BatchBuilder::new(now);
            for (key, value) in &records {
                builder
                    .push(now, Some(key), value.as_deref(), &[])
                    .map_err(|e| unavailable(partition, e))?;
            }
            let mut batch: BytesMut = builder.finish();
            // Right after a leadership gain the partition may still be
            // rebuilding its producer state: wait for it rather than fail.
            let info = part
                .append_when_ready(&mut batch)
                .await
                .map_err(|e| unavailable(partition, e))?;
            let end = info.last_offset + 1;
            part.wait_durable(end)
                .await
                .map_err(|e| StoreError::Io(e.to_string()))?;
            if part.is_replicated() {
                // A commit that was answered must survive the loss of this
                // broker: wait until the in-sync replicas have it, as an
                // acks=all produce would.
                let min_insync = self
                    .topics
                    .get(self.topic)
                    .map(|t| t.config().min_insync_replicas)
                    .unwrap_or(1);
                part.wait_replicated(end, COMMIT_REPLICATION_TIMEOUT, min_insync)
                    .await
                    .map_err(|e| match e.code() {
                        ErrorCode::NotLeaderOrFollower => StoreError::NotLeader(partition),
                        _ => unavailable(partition, e),
                    })?;
            }
            Ok(())
        })
    }

    fn replay(&self, partition: i32) -> Result<Vec<StoreRecord>, StoreError> {
        let part = self
            .topics
            .partition(self.topic, partition)
            .map_err(|e| unavailable(partition, e))?;
        let (start, _, end) = part.offsets();
        let mut out = Vec::new();
        let mut offset = start;
        while offset < end {
            let mut buf = BytesMut::new();
            part.read_into(offset, 1 << 20, &mut buf)
                .map_err(|e| StoreError::Io(e.to_string()))?;
            if buf.is_empty() {
                break;
            }
            let buf: Bytes = buf.freeze();
            let mut pos = 0usize;
            for batch in record::batches(&buf) {
                let batch = batch.map_err(|e| StoreError::Io(e.to_string()))?;
                let len = batch.len();
                let bytes = buf.slice(pos..pos + len);
                pos += len;
                for rec in
                    record::decode_records(&bytes).map_err(|e| StoreError::Io(e.to_string()))?
                {
                    if rec.offset < offset {
                        continue;
                    }
                    if let Some(key) = rec.key {
                        out.push((key, rec.value));
                    }
                    offset = rec.offset + 1;
                }
                let header = record::BatchHeader::parse(&bytes)
                    .map_err(|e| StoreError::Io(e.to_string()))?;
                offset = offset.max(header.next_offset());
            }
        }
        Ok(out)
    }
}
