//! What the SQL sinks (`sqlite-sink`, `postgres-sink`) read from `[config]`
//! beside their database: the table, insert or upsert, the key column and
//! `auto_create`, checked the same way for both.
use super::config::{ConfigError, ConnectorConfig, Keys};

/// The table of a SQL sink's own offsets, in the sink's database.
pub const OFFSETS_TABLE: &str = "strom_offsets";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Insert,
    Upsert,
}

/// The table keys of a SQL sink.
#[derive(Debug, Clone)]
pub struct TableKeys {
    pub table: String,
    pub mode: Mode,
    pub key_column: Option<String>,
    pub auto_create: bool,
}

impl TableKeys {
    /// Reads `table`, `mode`, `key_column` and `auto_create`; the caller
    /// reads its own keys, finishes `k`, then calls [`TableKeys::check`].
    pub fn read(k: &mut Keys<'_>) -> Result<TableKeys, ConfigError> {
        let table = k.string("table")?;
        let mode = match k.opt_choice("mode", &["insert", "upsert"])? {
            Some("upsert") => Mode::Upsert,
            _ => Mode::Insert,
        };
        let key_column = k.opt_string("key_column")?;
        let auto_create = k.opt_bool("auto_create")?.unwrap_or(false);
        Ok(TableKeys {
            table,
            mode,
            key_column,
            auto_create,
        })
    }

    /// The rules that involve more than one key.
    pub fn check(&self, cfg: &ConnectorConfig) -> Result<(), ConfigError> {
        if self.table.is_empty() || self.table.eq_ignore_ascii_case(OFFSETS_TABLE) {
            return Err(cfg.error(
                "table",
                &format!("must be a table name other than {OFFSETS_TABLE}"),
            ));
        }
        if self.key_column.as_deref() == Some("") {
            return Err(cfg.error("key_column", "must not be empty"));
        }
        if self.mode == Mode::Upsert && self.key_column.is_none() {
            return Err(cfg.error("key_column", "missing (required with mode = \"upsert\")"));
        }
        Ok(())
    }
}
