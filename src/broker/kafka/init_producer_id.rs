//! InitProducerId: idempotent producers (the default in kafka-python 3 and
//! librdkafka's `enable.idempotence`) need a producer id before their first
//! produce; ids come from `broker::producer_ids` (the controller in a
//! cluster). A transactional id goes to the transaction coordinator, which
//! bumps the id's epoch and so fences older producer instances.
use std::sync::Arc;

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

use super::request::Ctx;
use super::Reply;
use crate::broker::state::Broker;
use crate::proto::ErrorCode;

/// PRODUCER_FENCED from this version (KIP-588), INVALID_PRODUCER_EPOCH before.
const FENCED_FROM: i16 = 4;

pub async fn handle(broker: &Arc<Broker>, ctx: &Ctx, req: InitProducerIdRequest) -> Reply {
    let mut resp = InitProducerIdResponse::default();
    resp.producer_id = ProducerId(-1);
    resp.producer_epoch = -1;
    // Idempotent producers send a null id; some send an empty one.
    if let Some(id) = req.transactional_id.as_ref().filter(|t| !t.0.is_empty()) {
        if broker.cluster.is_some() {
            // The coordinator runs on single nodes only so far
            // (docs/transactions.md).
            resp.error_code = ErrorCode::CoordinatorNotAvailable.code();
            tracing::debug!(peer = %ctx.peer, "transactions are not available in a cluster yet");
            return ctx.respond(&resp);
        }
        // v3+ producers that hold an id send it to bump their own epoch.
        let expected = (ctx.version >= 3 && req.producer_id.0 >= 0)
            .then_some((req.producer_id.0, req.producer_epoch));
        match broker
            .txns
            .init_producer_id(&id.0, req.transaction_timeout_ms, expected)
            .await
        {
            Ok((pid, epoch)) => {
                resp.producer_id = ProducerId(pid);
                resp.producer_epoch = epoch;
            }
            Err(e) => {
                tracing::debug!(peer = %ctx.peer, error = %e, "InitProducerId refused");
                resp.error_code = e.code(ctx.version >= FENCED_FROM).code();
            }
        }
        return ctx.respond(&resp);
    }
    // A producer that bumps its epoch (v3+, after a fatal send error)
    // simply gets a fresh id: without a transactional id nothing is fenced.
    // In a cluster, ids come from the controller so no two brokers hand
    // out the same one (leaders deduplicate batches by producer id).
    let id = match crate::broker::replication::ReplicaManager::for_topics(&broker.topics) {
        Some(mgr) => match mgr.next_producer_id().await {
            Ok(id) => id,
            Err(e) => {
                resp.error_code = ErrorCode::CoordinatorNotAvailable.code();
                tracing::debug!(error = %e, "no producer id from the controller");
                return ctx.respond(&resp);
            }
        },
        None => crate::broker::producer_ids::next(),
    };
    resp.producer_id = ProducerId(id);
    resp.producer_epoch = 0;
    ctx.respond(&resp)
}
