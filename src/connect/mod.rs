//! The Connector API, as a client: reusable sources and sinks between
//! topics and other systems, run by a worker (`strom connect standalone`).
//!
//! - [`config`]: one TOML file per connector, checked in one step;
//! - [`api`]: the [`Sink`] and [`Source`] traits a connector type implements;
//! - [`registry`]: connector types by name;
//! - [`worker`]: one supervised thread per connector, restarts with backoff;
//! - [`sink_task`] / [`source_task`]: the client side of each (consumer
//!   group, seeks to a sink's stored offsets, commits after durable writes,
//!   dead letters; producing, source offsets in [`offsets`]);
//! - [`file`], the file connectors: `file-source` (tails a file across
//!   rotation and truncation) and `file-sink` (fsynced appends, rotated by
//!   size);
//! - [`sqlite`]: `sqlite-sink` (exactly once) and `sqlite-source`;
//! - [`postgres`]: `postgres-sink` (exactly once) and `postgres-source`;
//! - [`transform`]: a connector's `transform` and `route` (strom's jq);
//! - [`control`]: the worker's control socket (`strom connect list|status|...`).
//!
//! Layering: `commands → connect → client`; nothing here reaches into the
//! broker. See docs/connect.md.
pub mod api;
pub mod config;
pub mod control;
pub mod file;
pub mod offsets;
pub mod offsets_admin;
pub mod postgres;
pub mod registry;
pub mod sink_task;
pub mod source_task;
pub mod sqlite;
pub mod status;
pub mod table_sink;
pub mod target_state;
pub mod transform;
pub mod worker;

pub use api::{OffsetRange, RecordError, Rejects, Sink, Source, SourceRecord, TopicPartition};
pub use config::{ConfigError, ConnectorConfig, ErrorPolicy, Tolerance};
pub use registry::Role;
pub use status::StatusBoard;
pub use worker::{Connector, WorkerConfig};
