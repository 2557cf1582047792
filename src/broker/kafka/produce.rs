//! Produce: append each partition's batches as they came (RecordBatch v2,
//! validated and stamped by the log); with acks=-1 on a topic whose flush
//! policy is every-append, answer only after the fdatasync.
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ApiKey, ProduceRequest, ProduceResponse};

use super::dispatch::decode;
use super::request::{msg, Ctx};
use super::Reply;
use crate::broker::error::BrokerError;
use crate::broker::partition::Partition;
use crate::broker::state::Broker;
use crate::log::FlushPolicy;

const ACKS_NONE: i16 = 0;
const ACKS_ALL: i16 = -1;

pub async fn handle(broker: &Arc<Broker>, ctx: &Ctx, req: ProduceRequest) -> Reply {
    let v = ctx.version;
    let acks_ok = matches!(req.acks, -1..=1);
    let mut resp = ProduceResponse::default();
    // Partitions whose answer waits for an fdatasync: (partition, offset
    // that must be durable, topic index, partition index in `resp`).
    let mut waits: Vec<(Arc<Partition>, i64, usize, usize, i32)> = Vec::new();
    for (ti, topic) in req.topic_data.into_iter().enumerate() {
        let name = topic.name.0.to_string();
        let mut out = TopicProduceResponse::default()
            .with_name(topic.name)
            .with_topic_id(topic.topic_id);
        for (pi, p) in topic.partition_data.into_iter().enumerate() {
            let result = if acks_ok {
                append(broker, &name, p.index, p.records, req.acks).await
            } else {
                Err(BrokerError::InvalidAcks(req.acks))
            };
            let mut slot = PartitionProduceResponse::default().with_index(p.index);
            match result {
                Ok((part, base, last, append_time)) => {
                    if req.acks == ACKS_ALL
                        && (part.flush_policy() == FlushPolicy::EveryAppend || part.is_replicated())
                    {
                        waits.push((part.clone(), last + 1, ti, pi, min_isr(broker, &name)));
                    }
                    slot.base_offset = base;
                    slot.log_append_time_ms = append_time;
                    slot.log_start_offset = part.offsets().0;
                }
                Err(e) => {
                    tracing::debug!(topic = %name, partition = p.index, error = %e, "produce refused");
                    fail(&mut slot, e.code().code(), &e, v);
                }
            }
            out.partition_responses.push(slot);
        }
        resp.responses.push(out);
    }
    if req.acks == ACKS_NONE {
        return Reply::None;
    }
    if waits.is_empty() {
        return ctx.respond(&resp);
    }
    let ctx = ctx.clone();
    let timeout = std::time::Duration::from_millis(req.timeout_ms.max(1) as u64);
    Reply::Later(Box::pin(async move {
        for (part, offset, ti, pi, min_isr) in waits {
            let mut result = Ok(());
            if part.flush_policy() == FlushPolicy::EveryAppend {
                result = part.wait_durable(offset).await;
            }
            if result.is_ok() && part.is_replicated() {
                result = part.wait_replicated(offset, timeout, min_isr).await;
            }
            if let Err(e) = result {
                tracing::debug!(topic = %part.topic, partition = part.index, error = %e, "acks=all produce failed");
                if let Some(slot) = resp
                    .responses
                    .get_mut(ti)
                    .and_then(|t| t.partition_responses.get_mut(pi))
                {
                    fail(slot, e.code().code(), &e, ctx.version);
                }
            }
        }
        ctx.frame(&resp)
    }))
}

async fn append(
    broker: &Broker,
    topic: &str,
    partition: i32,
    records: Option<Bytes>,
    acks: i16,
) -> Result<(Arc<Partition>, i64, i64, i64), BrokerError> {
    // Only strom's own coordinators write internal topics, never a client.
    BrokerError::refuse_internal(topic, "produce to internal topic")?;
    let part = broker.topics.partition(topic, partition)?;
    crate::broker::transactional::check_batches(
        broker,
        &part,
        records.as_deref().unwrap_or_default(),
    )?;
    if acks == ACKS_ALL {
        part.check_min_isr(min_isr(broker, topic))?;
    }
    // The log stamps offsets into the batches in place, so it needs its
    // own mutable copy of the bytes.
    let mut batches = BytesMut::from(records.as_deref().unwrap_or_default());
    let info = part.append_when_ready(&mut batches).await?;
    // Under LogAppendTime the broker's time, stamped into the batches.
    let append_time = if part.log().config().timestamps.log_append_time {
        info.max_timestamp
    } else {
        -1
    };
    Ok((part, info.base_offset, info.last_offset, append_time))
}

fn min_isr(broker: &Broker, topic: &str) -> i32 {
    broker
        .topics
        .get(topic)
        .map(|t| t.config().min_insync_replicas)
        .unwrap_or(1)
}

fn fail(slot: &mut PartitionProduceResponse, code: i16, e: &impl std::fmt::Display, version: i16) {
    slot.error_code = code;
    slot.base_offset = -1;
    slot.log_start_offset = -1;
    // The message field exists from v8 (KIP-467).
    if version >= 8 {
        slot.error_message = msg(e);
    }
}

/// Produce v0-2 carry message formats v0/v1, which strom does not store.
/// They are advertised only for librdkafka's sake (see `versions.rs`);
/// anyone actually sending them gets UNSUPPORTED_FOR_MESSAGE_FORMAT on
/// every partition, in the v0-2 response layout the crate cannot encode.
pub fn refuse_legacy(ctx: &Ctx, body: Bytes) -> Reply {
    // v3 is v2 preceded by a nullable transactional id: prefix a null one
    // and let the crate parse it.
    let mut v3 = BytesMut::with_capacity(body.len() + 2);
    v3.put_i16(-1);
    v3.put_slice(&body);
    let req = match decode::<ProduceRequest>(ApiKey::Produce, 3, &mut v3.freeze()) {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(peer = %ctx.peer, version = ctx.version, error = %e, "closing Kafka connection: malformed produce request");
            return Reply::Close;
        }
    };
    tracing::info!(peer = %ctx.peer, version = ctx.version, "refusing produce with a pre-0.11 message format");
    if req.acks == ACKS_NONE {
        return Reply::None;
    }
    const UNSUPPORTED_FOR_MESSAGE_FORMAT: i16 = 43;
    let mut out = BytesMut::with_capacity(64);
    out.put_i32(0);
    out.put_i32(ctx.correlation_id);
    out.put_i32(req.topic_data.len() as i32);
    for t in &req.topic_data {
        let name = t.name.0.as_bytes();
        let Ok(len) = i16::try_from(name.len()) else {
            return Reply::Close;
        };
        out.put_i16(len);
        out.put_slice(name);
        out.put_i32(t.partition_data.len() as i32);
        for p in &t.partition_data {
            out.put_i32(p.index);
            out.put_i16(UNSUPPORTED_FOR_MESSAGE_FORMAT);
            out.put_i64(-1); // base offset
            if ctx.version >= 2 {
                out.put_i64(-1); // log append time
            }
        }
    }
    if ctx.version >= 1 {
        out.put_i32(0); // throttle time
    }
    let size = (out.len() - 4) as i32;
    out[..4].copy_from_slice(&size.to_be_bytes());
    Reply::Now(out)
}
