//! One decoded request's header, and how its response is framed: size,
//! response header (v0, or v1 with tagged fields for flexible versions),
//! then the body encoded at the request's version.
use std::net::SocketAddr;

use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::{ApiKey, ResponseHeader};
use kafka_protocol::protocol::{Encodable, HeaderVersion, StrBytes};

use super::Reply;

#[derive(Clone)]
pub struct Ctx {
    pub api: ApiKey,
    pub version: i16,
    pub correlation_id: i32,
    pub client_id: String,
    pub peer: SocketAddr,
}

impl Ctx {
    /// Encodes a whole response frame. An encoding failure is a bug in a
    /// handler (a field the version cannot carry), never the client's
    /// doing; the connection is closed so the client reconnects rather
    /// than waits forever.
    pub fn frame<R: Encodable + HeaderVersion>(&self, body: &R) -> Option<BytesMut> {
        encode_frame(
            self.correlation_id,
            R::header_version(self.version),
            self.version,
            body,
        )
        .map_err(|e| {
            tracing::error!(
                peer = %self.peer,
                api = ?self.api,
                version = self.version,
                error = %e,
                "could not encode response"
            );
        })
        .ok()
    }

    pub fn respond<R: Encodable + HeaderVersion>(&self, body: &R) -> Reply {
        match self.frame(body) {
            Some(f) => Reply::Now(f),
            None => Reply::Close,
        }
    }
}

pub fn encode_frame<R: Encodable>(
    correlation_id: i32,
    header_version: i16,
    version: i16,
    body: &R,
) -> anyhow::Result<BytesMut> {
    let mut out = BytesMut::with_capacity(256);
    out.put_i32(0);
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(&mut out, header_version)?;
    body.encode(&mut out, version)?;
    let size = i32::try_from(out.len() - 4)?;
    out[..4].copy_from_slice(&size.to_be_bytes());
    Ok(out)
}

pub fn str(s: impl Into<String>) -> StrBytes {
    StrBytes::from_string(s.into())
}

/// An error message for fields that carry one, never empty.
pub fn msg(e: &impl std::fmt::Display) -> Option<StrBytes> {
    Some(str(e.to_string()))
}
