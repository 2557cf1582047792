//! One module per command; each takes its parsed arguments from
//! `cli::args` and returns `anyhow::Result`. Exit codes are decided in
//! `cli` from the error: [`UsageError`] is 2, anything else 1, and a closed
//! stdout pipe is a quiet 0.
pub mod broker_configs;
pub mod brokers;
pub mod config;
pub mod connect;
pub mod consume;
pub mod delete_records;
pub mod elect_leaders;
pub mod envelope;
pub mod format;
pub mod generate;
pub mod groups;
pub mod interrupt;
pub mod line_reader;
pub mod output;
pub mod perf;
pub mod produce;
pub mod produce_jq;
pub mod produce_lines;
pub mod producer_props;
pub mod progress;
pub mod repl;
pub mod serve;
pub mod stream;
pub mod stream_stateful;
pub mod top;
pub mod topics;
pub mod topics_log_dirs;
pub mod topics_offsets;
pub mod transactions;

use std::sync::Arc;

use crate::cli::args::ConnectArgs;
use crate::client::blocking::{BlockingClient, Runtime};
use crate::client::ClientConfig;

/// A mistake in how the command was called, found after parsing (exit 2).
#[derive(Debug)]
pub struct UsageError {
    pub message: String,
    pub hint: Option<&'static str>,
}

impl UsageError {
    pub fn new(message: impl Into<String>) -> UsageError {
        UsageError {
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(message: impl Into<String>, hint: &'static str) -> UsageError {
        UsageError {
            message: message.into(),
            hint: Some(hint),
        }
    }
}

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UsageError {}

/// Starts a runtime and connects to the bootstrap servers.
pub fn connect(args: &ConnectArgs) -> anyhow::Result<BlockingClient> {
    let rt: Arc<Runtime> = Runtime::new()?;
    Ok(BlockingClient::connect(
        rt,
        ClientConfig::new(args.bootstrap_server.clone()),
    )?)
}
