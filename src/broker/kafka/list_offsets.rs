//! ListOffsets: earliest (-2), latest (-1) or the first offset at or after
//! a timestamp, through the native handler's lookup.
use std::sync::Arc;

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use super::request::Ctx;
use super::Reply;
use crate::broker::native::list_offsets::lookup;
use crate::broker::partition::SINGLE_NODE_EPOCH;
use crate::broker::state::Broker;

const LATEST: i64 = -1;

pub async fn handle(broker: &Arc<Broker>, ctx: &Ctx, req: ListOffsetsRequest) -> Reply {
    let mut resp = ListOffsetsResponse::default();
    for t in req.topics {
        let mut out = ListOffsetsTopicResponse::default();
        for p in &t.partitions {
            let mut r =
                ListOffsetsPartitionResponse::default().with_partition_index(p.partition_index);
            let found = lookup(broker, &t.name.0, p.partition_index, p.timestamp).and_then(
                |(timestamp, offset)| {
                    // read_committed (v2+): "latest" is the last stable offset.
                    if req.isolation_level == 1 && p.timestamp == LATEST {
                        let lso = broker
                            .topics
                            .partition(&t.name.0, p.partition_index)?
                            .last_stable_offset();
                        return Ok((timestamp, lso.min(offset)));
                    }
                    Ok((timestamp, offset))
                },
            );
            match found {
                Ok((timestamp, offset)) => {
                    r.timestamp = timestamp;
                    r.offset = offset;
                    // The leader epoch field exists from v4.
                    if ctx.version >= 4 && offset >= 0 {
                        r.leader_epoch = SINGLE_NODE_EPOCH;
                    }
                }
                Err(e) => {
                    r.error_code = e.code().code();
                    r.timestamp = -1;
                    r.offset = -1;
                }
            }
            out.partitions.push(r);
        }
        out.name = t.name;
        resp.topics.push(out);
    }
    ctx.respond(&resp)
}
