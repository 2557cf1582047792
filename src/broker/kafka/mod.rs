//! The Kafka wire protocol: the same thin translation onto topics,
//! partitions and the group coordinator as `native/`, with Kafka's wire
//! types from the `kafka-protocol` crate.
//!
//! As in the native adapter, the reader decodes frames in order and starts
//! each request at once (so appends from one connection keep their order);
//! what a request then waits for becomes a [`Reply::Later`] that the writer
//! awaits in order, so answers come back in request order.
mod api_versions;
mod configs;
mod connection;
mod describe_cluster;
mod dispatch;
mod elect_leaders;
mod fetch;
mod group_admin;
mod groups;
mod guard;
mod init_producer_id;
mod list_offsets;
mod log_dirs;
mod metadata;
mod offset_for_leader_epoch;
mod produce;
mod producers;
mod records;
mod request;
mod topics;
mod transactions;
mod unsupported;
pub(crate) mod versions;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::pin::Pin;

use bytes::BytesMut;

pub use connection::serve;

/// What the writer sends back for one request.
pub enum Reply {
    /// A whole response frame, ready now.
    Now(BytesMut),
    /// A frame that needs waiting for (fdatasync, long-poll, rebalance);
    /// `None` closes the connection.
    Later(Pin<Box<dyn Future<Output = Option<BytesMut>> + Send>>),
    /// acks=0 produce: Kafka sends nothing back.
    None,
    /// The request cannot be answered in a form the client could read
    /// (unknown API, undecodable header): Kafka closes the connection.
    Close,
}
