//! InitProducerId: idempotent producers (the default in kafka-python 3 and
//! librdkafka's `enable.idempotence`) need a producer id before their first
//! produce. Ids come from `broker::producer_ids` (a cluster's controller
//! in a cluster). Transactional producers are refused: strom has no
//! transactions.
use std::sync::Arc;

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

use super::request::Ctx;
use super::Reply;
use crate::broker::state::Broker;
use crate::proto::ErrorCode;

pub async fn handle(broker: &Arc<Broker>, ctx: &Ctx, req: InitProducerIdRequest) -> Reply {
    let mut resp = InitProducerIdResponse::default();
    // Idempotent producers send a null id; some send an empty one.
    if req
        .transactional_id
        .as_ref()
        .is_some_and(|t| !t.0.is_empty())
    {
        tracing::debug!(peer = %ctx.peer, "refusing a transactional producer");
        resp.error_code = ErrorCode::InvalidRequest.code();
        resp.producer_id = ProducerId(-1);
        resp.producer_epoch = -1;
        return ctx.respond(&resp);
    }
    // A producer that bumps its epoch (v3+, after a fatal send error)
    // simply gets a fresh id: with no transactions there is nothing to fence.
    // In a cluster, ids come from the controller so no two brokers hand
    // out the same one (leaders deduplicate batches by producer id).
    let id = match crate::broker::replication::ReplicaManager::for_topics(&broker.topics) {
        Some(mgr) => match mgr.next_producer_id().await {
            Ok(id) => id,
            Err(e) => {
                resp.error_code = ErrorCode::CoordinatorNotAvailable.code();
                resp.producer_id = ProducerId(-1);
                resp.producer_epoch = -1;
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
