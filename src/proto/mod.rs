//! The native wire protocol: framing, a bounds-checked codec and one file per
//! message family. Pure: no tokio, no sockets. The spec is `docs/protocol.md`.
//!
//! The Kafka wire protocol is handled by the `kafka-protocol` crate inside the
//! broker; both share [`ErrorCode`] so a failure means the same on either.
pub mod api;
pub mod codec;
pub mod consumer_protocol;
pub mod error_code;
pub mod frame;
pub mod internal_topic;
pub mod messages;
pub mod topic_name;

pub use api::ApiKey;
pub use codec::{Decoder, ProtoError, Wire};
pub use error_code::ErrorCode;
pub use frame::{FrameHeader, ResponseHeader, PREAMBLE, PREAMBLE_LEN, PROTOCOL_VERSION};
pub use internal_topic::{is_internal_topic, OFFSETS_TOPIC};
