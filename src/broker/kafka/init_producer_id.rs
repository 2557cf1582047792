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
use crate::broker::transactional::{init_producer_id, InitError};
use crate::proto::ErrorCode;

/// PRODUCER_FENCED from this version (KIP-588), INVALID_PRODUCER_EPOCH before.
const FENCED_FROM: i16 = 4;

pub async fn handle(broker: &Arc<Broker>, ctx: &Ctx, req: InitProducerIdRequest) -> Reply {
    let mut resp = InitProducerIdResponse::default();
    resp.producer_id = ProducerId(-1);
    resp.producer_epoch = -1;
    // Idempotent producers send a null id; some send an empty one.
    let id = req.transactional_id.as_ref().map(|t| t.0.as_str());
    // v3+ producers that hold an id send it to bump their own epoch. A
    // producer without a transactional id that does so (after a fatal
    // send error) simply gets a fresh id: nothing is fenced then.
    let expected = (ctx.version >= 3 && req.producer_id.0 >= 0)
        .then_some((req.producer_id.0, req.producer_epoch));
    match init_producer_id(broker, id, req.transaction_timeout_ms, expected).await {
        Ok((pid, epoch)) => {
            resp.producer_id = ProducerId(pid);
            resp.producer_epoch = epoch;
        }
        Err(InitError::Txn(e)) => {
            tracing::debug!(peer = %ctx.peer, error = %e, "InitProducerId refused");
            resp.error_code = e.code(ctx.version >= FENCED_FROM).code();
        }
        Err(e @ InitError::NoProducerId(_)) => {
            tracing::debug!(error = %e, "no producer id from the controller");
            resp.error_code = ErrorCode::CoordinatorNotAvailable.code();
        }
    }
    ctx.respond(&resp)
}
