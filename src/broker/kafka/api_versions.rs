//! ApiVersions: the table in `versions.rs`.
use std::sync::Arc;

use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};

use super::request::{encode_frame, Ctx};
use super::{versions, Reply};
use crate::broker::state::Broker;
use crate::proto::ErrorCode;

pub async fn handle(_broker: &Arc<Broker>, ctx: &Ctx, _req: ApiVersionsRequest) -> Reply {
    ctx.respond(&response(0))
}

fn response(error_code: i16) -> ApiVersionsResponse {
    let mut resp = ApiVersionsResponse::default();
    resp.error_code = error_code;
    resp.api_keys = versions::SUPPORTED
        .iter()
        .map(|&(api, min, max)| {
            ApiVersion::default()
                .with_api_key(api as i16)
                .with_min_version(min)
                .with_max_version(max)
        })
        .collect();
    resp
}

/// A client asking with a newer ApiVersions than ours gets a v0 response
/// (whose layout every version can read) with UNSUPPORTED_VERSION and our
/// table, and retries with a version from it (KIP-511).
pub fn unsupported(ctx: &Ctx) -> Reply {
    match encode_frame(
        ctx.correlation_id,
        0,
        0,
        &response(ErrorCode::UnsupportedVersion.code()),
    ) {
        Ok(f) => Reply::Now(f),
        Err(e) => {
            tracing::error!(error = %e, "could not encode ApiVersions response");
            Reply::Close
        }
    }
}
