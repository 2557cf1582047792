//! DescribeCluster (KIP-700): the brokers, the controller and the cluster
//! id, as admin clients (`describeCluster`) ask for them instead of
//! Metadata. The same view Metadata answers from.
use std::sync::Arc;

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};

use super::metadata::CLUSTER_ID;
use super::request::{str, Ctx};
use super::Reply;
use crate::broker::state::Broker;

/// Endpoint type 1: brokers (2, controllers, is for KRaft controllers a
/// client cannot talk to here).
const ENDPOINT_BROKERS: i8 = 1;
const UNSUPPORTED_ENDPOINT_TYPE: i16 = 119;
/// Kafka's "authorized operations not requested" sentinel.
const OPERATIONS_OMITTED: i32 = i32::MIN;

pub async fn handle(broker: &Arc<Broker>, ctx: &Ctx, req: DescribeClusterRequest) -> Reply {
    let mut resp = DescribeClusterResponse::default()
        .with_endpoint_type(ENDPOINT_BROKERS)
        .with_cluster_id(str(CLUSTER_ID))
        .with_cluster_authorized_operations(OPERATIONS_OMITTED);
    if ctx.version >= 1 && req.endpoint_type != ENDPOINT_BROKERS {
        resp.error_code = UNSUPPORTED_ENDPOINT_TYPE;
        resp.error_message = Some(str(format!(
            "endpoint type {} is not supported; strom has brokers only (type 1)",
            req.endpoint_type
        )));
        resp.controller_id = BrokerId(-1);
        return ctx.respond(&resp);
    }
    let (brokers, controller) = broker.brokers_view();
    resp.controller_id = BrokerId(controller);
    resp.brokers = brokers
        .into_iter()
        .map(|b| {
            DescribeClusterBroker::default()
                .with_broker_id(BrokerId(b.node_id))
                .with_host(str(b.host))
                .with_port(b.port)
        })
        .collect();
    ctx.respond(&resp)
}
