//! strom: a Kafka-class streaming platform in one binary.
//!
//! Layers run one way:
//! `cli → commands → {stream, connect} → client → proto → record` and
//! `broker → {log, proto, record}`. `record`, `log` and `proto` never touch
//! tokio or sockets, so they can be tested, fuzzed and benchmarked alone.
pub mod broker;
pub mod cli;
pub mod client;
pub mod cluster;
pub mod commands;
pub mod connect;
pub mod jq;
pub mod log;
pub mod proto;
pub mod record;
pub mod stream;
