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
use crate::broker::state::Broker;

const LATEST: i64 = -1;

pub async fn handle(broker: &Arc<Broker>, ctx: &Ctx, req: ListOffsetsRequest) -> Reply {
    let mut resp = ListOffsetsResponse::default();
    for t in req.topics {
        let mut out = ListOffsetsTopicResponse::default();
        for p in &t.partitions {
            let mut r =
                ListOffsetsPartitionResponse::default().with_partition_index(p.partition_index);
            // KIP-320: a client at an old leader epoch is told to refresh.
            let fenced = broker
                .topics
                .partition(&t.name.0, p.partition_index)
                .and_then(|part| part.check_leader_epoch(p.current_leader_epoch));
            let found = fenced
                .and_then(|()| lookup(broker, &t.name.0, p.partition_index, p.timestamp))
                .and_then(|(timestamp, offset)| {
                    // read_committed (v2+): "latest" is the last stable offset.
                    if req.isolation_level == 1 && p.timestamp == LATEST {
                        let lso = broker
                            .topics
                            .partition(&t.name.0, p.partition_index)?
                            .last_stable_offset();
                        return Ok((timestamp, lso.min(offset)));
                    }
                    Ok((timestamp, offset))
                });
            match found {
                Ok((timestamp, offset)) => {
                    r.timestamp = timestamp;
                    r.offset = offset;
                    // The leader epoch field exists from v4: the epoch of
                    // the batch at the offset found (the latest epoch for
                    // "latest"), which a consumer keeps as its position's
                    // epoch to validate after a leader change.
                    if ctx.version >= 4 && offset >= 0 {
                        r.leader_epoch = broker
                            .topics
                            .partition(&t.name.0, p.partition_index)
                            .ok()
                            .and_then(|part| {
                                let log = part.log();
                                if p.timestamp == LATEST {
                                    log.latest_epoch()
                                } else {
                                    log.epoch_for_offset(offset)
                                }
                            })
                            .unwrap_or(-1);
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
