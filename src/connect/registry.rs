//! Connector types by name. Adding one is one arm in [`build`]: its
//! `configure` reads `[config]` (all errors at load time, naming the key)
//! and returns a factory that makes a fresh instance for every task start.
use std::sync::Arc;

use super::api::{Sink, Source};
use super::config::{ConfigError, ConnectorConfig};

pub type SinkFactory = Arc<dyn Fn() -> anyhow::Result<Box<dyn Sink>> + Send + Sync>;
pub type SourceFactory = Arc<dyn Fn() -> anyhow::Result<Box<dyn Source>> + Send + Sync>;

/// What a configured connector does.
#[derive(Clone)]
pub enum Role {
    /// Reads `topics` as consumer group `connect-<name>` and writes out.
    Sink(SinkFactory),
    /// Reads from outside and writes `topic`.
    Source(SourceFactory),
}

/// Every connector type this binary knows.
pub const TYPES: &[&str] = &[
    "file-sink",
    "file-source",
    "sqlite-sink",
    "sqlite-source",
    "postgres-sink",
    "postgres-source",
];

/// Checks a connector's type-specific settings and makes its factory.
pub fn build(cfg: &ConnectorConfig) -> Result<Role, ConfigError> {
    let role = match cfg.kind.as_str() {
        "file-sink" => Role::Sink(super::file::sink::configure(cfg)?),
        "file-source" => Role::Source(super::file::source::configure(cfg)?),
        "sqlite-sink" => Role::Sink(super::sqlite::sink::configure(cfg)?),
        "sqlite-source" => Role::Source(super::sqlite::source::configure(cfg)?),
        "postgres-sink" => Role::Sink(super::postgres::sink::configure(cfg)?),
        "postgres-source" => Role::Source(super::postgres::source::configure(cfg)?),
        other => {
            return Err(ConfigError {
                file: cfg.file.clone(),
                key: Some("type".into()),
                message: format!(
                    "unknown connector type {other:?} (known: {})",
                    TYPES.join(", ")
                ),
            })
        }
    };
    if matches!(role, Role::Source(_)) && cfg.topics.len() != 1 {
        return Err(ConfigError {
            file: cfg.file.clone(),
            key: Some("topics".into()),
            message: "a source writes one topic: give topic = \"NAME\"".into(),
        });
    }
    if matches!(role, Role::Source(_)) && cfg.errors.dlq.is_some() && cfg.transforms.is_empty() {
        return Err(ConfigError {
            file: cfg.file.clone(),
            key: Some("errors.dlq".into()),
            message: "a source dead-letters only the records its transform or route fails on, \
                      and this one has neither (a record the source cannot read is skipped and \
                      logged under tolerance = \"all\")"
                .into(),
        });
    }
    if matches!(role, Role::Sink(_)) && cfg.transforms.has_route() {
        return Err(ConfigError {
            file: cfg.file.clone(),
            key: Some("route".into()),
            message: "route picks the topic a source writes; a sink writes its one table or file \
                      (drop or reshape its records with transform)"
                .into(),
        });
    }
    Ok(role)
}
