//! ElectLeaders (native API 31), onto [`Broker::elect_leaders`] as the
//! Kafka handler.
use std::net::SocketAddr;
use std::sync::Arc;

use super::{frame, Reply};
use crate::broker::elect_leaders::{outcome_status, ElectionType};
use crate::broker::state::Broker;
use crate::proto::messages::elect_leaders::*;
use crate::proto::messages::Status;
use crate::proto::ErrorCode;

pub async fn handle(
    broker: &Arc<Broker>,
    cid: i32,
    req: ElectLeadersRequest,
    _peer: SocketAddr,
) -> Reply {
    let kind = match req.election_type {
        ELECTION_PREFERRED => ElectionType::Preferred,
        ELECTION_UNCLEAN => ElectionType::Unclean,
        other => {
            return Reply::Now(frame(
                cid,
                &ElectLeadersResponse {
                    status: Status::error(
                        ErrorCode::InvalidRequest,
                        format!("unknown election type {other}: 0 is preferred, 1 unclean"),
                    ),
                    partitions: Vec::new(),
                },
            ))
        }
    };
    let partitions = req
        .partitions
        .map(|ps| ps.into_iter().map(|p| (p.topic, p.partition)).collect());
    let broker = broker.clone();
    Reply::Later(Box::pin(async move {
        let resp = match broker.elect_leaders(kind, partitions).await {
            Err(e) => ElectLeadersResponse {
                status: e.status(),
                partitions: Vec::new(),
            },
            Ok(results) => ElectLeadersResponse {
                status: Status::ok(),
                partitions: results
                    .into_iter()
                    .map(|(topic, partition, outcome)| {
                        let (code, message) = outcome_status(kind, &topic, partition, outcome);
                        let status = match message {
                            None => Status::ok(),
                            Some(m) => Status::error(code, m),
                        };
                        ElectionResult {
                            topic,
                            partition,
                            status,
                        }
                    })
                    .collect(),
            },
        };
        Reply::Now(frame(cid, &resp))
    }))
}
