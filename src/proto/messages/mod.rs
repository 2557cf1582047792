//! Request and response bodies, one file per family. Field order is wire
//! order (see `docs/protocol.md`). Every response carries [`Status`]es so a
//! failure is always a code and a message.
pub mod broker_configs;
pub mod broker_info;
pub mod delete_records;
pub mod elect_leaders;
pub mod fetch;
pub mod groups;
pub mod list_offsets;
pub mod metadata;
pub mod produce;
pub mod replication;
pub mod topics;
pub mod transactions;
pub mod txn_markers;

use crate::proto::ErrorCode;
use crate::wire_struct;

wire_struct! {
    /// An error code and a human-readable message (null when code is 0).
    pub struct Status {
        pub code: i16,
        pub message: Option<String>,
    }
}

impl Status {
    pub fn ok() -> Status {
        Status {
            code: 0,
            message: None,
        }
    }
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Status {
        Status {
            code: code.code(),
            message: Some(message.into()),
        }
    }
    pub fn error_code(&self) -> ErrorCode {
        ErrorCode::from_code(self.code)
    }
    pub fn is_ok(&self) -> bool {
        self.code == 0
    }
    /// `Err` with a printable description when the status is an error.
    pub fn check(&self) -> Result<(), String> {
        if self.is_ok() {
            Ok(())
        } else {
            Err(self.to_string())
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.message {
            Some(m) if !m.is_empty() => write!(f, "{} ({})", m, self.error_code()),
            _ => write!(f, "{}", self.error_code()),
        }
    }
}
