//! DeleteRecords: moves partitions' log start offsets forward (the leader
//! deletes whole segments below it; fetches below it are out of range).
use std::sync::Arc;

use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::*;

use super::request::Ctx;
use super::Reply;
use crate::broker::error::BrokerError;
use crate::broker::state::Broker;

pub async fn delete_records(broker: &Arc<Broker>, ctx: &Ctx, req: DeleteRecordsRequest) -> Reply {
    let mut resp = DeleteRecordsResponse::default();
    for t in req.topics {
        let mut out = DeleteRecordsTopicResult::default().with_name(t.name.clone());
        for p in t.partitions {
            // As in Kafka, internal topics' records are not the user's to delete.
            let result =
                BrokerError::refuse_internal(&t.name.0, "delete records of internal topic")
                    .and_then(|()| broker.topics.partition(&t.name.0, p.partition_index))
                    .and_then(|part| part.delete_records_before(p.offset));
            let mut r = DeleteRecordsPartitionResult::default()
                .with_partition_index(p.partition_index)
                .with_low_watermark(-1);
            match result {
                Ok(start) => r.low_watermark = start,
                Err(e) => {
                    tracing::debug!(topic = %t.name.0, partition = p.partition_index, error = %e, "delete records refused");
                    r.error_code = e.code().code();
                }
            }
            out.partitions.push(r);
        }
        resp.topics.push(out);
    }
    ctx.respond(&resp)
}
