//! `sqlite-source`: rows of a table (or a query) as JSON records.
//!
//! Polling modes, each resuming after the last row it returned:
//! - `incrementing`: rows whose `incrementing_column` is above the last one;
//! - `timestamp+incrementing`: rows after the last (`timestamp_column`,
//!   `incrementing_column`) pair, so updated rows come again;
//! - `query`: the rows of `query` whose `incrementing_column` is above the
//!   last one.
//!
//! `cdc = "triggers"` instead installs triggers that record every insert,
//! update and delete into `strom_changes_<table>` (the rows already there
//! first, as a snapshot, in the same transaction) and reads that change
//! table in order: a delete becomes a tombstone keyed by the primary key.
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::Connection;

use super::values::{from_json, to_json, to_key};
use super::{open, quote};
use crate::connect::api::{Source, SourceRecord};
use crate::connect::config::{ConfigError, ConnectorConfig};
use crate::connect::registry::SourceFactory;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Incrementing { column: String },
    TimestampIncrementing { timestamp: String, column: String },
    Query { query: String, column: String },
    Triggers,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The connector file, named in errors about the database.
    pub file: PathBuf,
    pub path: PathBuf,
    /// Empty in query mode.
    pub table: String,
    pub mode: Mode,
    pub batch_max: usize,
    pub poll_interval: Duration,
}

/// The change table `cdc = "triggers"` fills.
pub fn change_table(table: &str) -> String {
    format!("strom_changes_{table}")
}

impl Settings {
    /// `FILE: key 'config.KEY'`, to start an error about that key.
    pub fn key(&self, key: &str) -> String {
        format!("{}: key 'config.{key}'", self.file.display())
    }
}

/// Reads `[config]` of a `sqlite-source`.
pub fn configure(cfg: &ConnectorConfig) -> Result<SourceFactory, ConfigError> {
    let mut k = cfg.keys();
    let path = PathBuf::from(k.string("path")?);
    let cdc = k.opt_choice("cdc", &["triggers"])?;
    let mode = k.opt_choice("mode", &["incrementing", "timestamp+incrementing", "query"])?;
    let table = k.opt_string("table")?;
    let column = k.opt_string("incrementing_column")?;
    let timestamp = k.opt_string("timestamp_column")?;
    let query = k.opt_string("query")?;
    let poll_interval = k
        .opt_millis("poll_interval_ms")?
        .unwrap_or(Duration::from_millis(1000));
    k.finish()?;
    let need = |v: Option<String>, key: &str, why: &str| {
        v.filter(|s| !s.is_empty())
            .ok_or_else(|| cfg.error(key, &format!("missing (required {why})")))
    };
    let mode = match (cdc, mode) {
        (Some(_), Some(_)) => return Err(cfg.error("mode", "give mode or cdc, not both")),
        (Some(_), None) => Mode::Triggers,
        (None, Some("incrementing")) => Mode::Incrementing {
            column: need(
                column,
                "incrementing_column",
                "with mode = \"incrementing\"",
            )?,
        },
        (None, Some("timestamp+incrementing")) => Mode::TimestampIncrementing {
            timestamp: need(
                timestamp,
                "timestamp_column",
                "with mode = \"timestamp+incrementing\"",
            )?,
            column: need(
                column,
                "incrementing_column",
                "with mode = \"timestamp+incrementing\"",
            )?,
        },
        (None, Some(_)) => Mode::Query {
            query: need(query.clone(), "query", "with mode = \"query\"")?,
            column: need(column, "incrementing_column", "with mode = \"query\"")?,
        },
        (None, None) => return Err(cfg.error("mode", "missing (give mode or cdc = \"triggers\")")),
    };
    let table = cfg.polled_table(matches!(mode, Mode::Query { .. }), table, query.is_some())?;
    let settings = Arc::new(Settings {
        file: cfg.file.clone(),
        path,
        table,
        mode,
        batch_max: cfg.batch_max,
        poll_interval,
    });
    Ok(Arc::new(move || {
        Ok(Box::new(SqliteSource::open(settings.clone())?) as Box<dyn Source>)
    }))
}

pub struct SqliteSource {
    s: Arc<Settings>,
    conn: Connection,
    /// Primary key columns (empty: none; rowid for triggers).
    key_columns: Vec<String>,
    /// Where the next poll resumes (the last row's position).
    last: Option<serde_json::Value>,
    /// Changes up to this `seq` are deleted from the change table.
    pruned: i64,
    source_partition: String,
}

impl SqliteSource {
    pub fn open(s: Arc<Settings>) -> anyhow::Result<SqliteSource> {
        let conn = open(&s.path).map_err(|e| e.context(s.key("path")))?;
        let mut key_columns = Vec::new();
        if !s.table.is_empty() {
            let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quote(&s.table)))?;
            let mut cols: Vec<(i64, String)> = Vec::new();
            let mut any = false;
            for row in stmt.query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, i64>(5)?)))? {
                let (name, pk) = row?;
                any = true;
                if pk > 0 {
                    cols.push((pk, name));
                }
            }
            if !any {
                anyhow::bail!(
                    "{}: table {} does not exist in {}",
                    s.key("table"),
                    s.table,
                    s.path.display()
                );
            }
            cols.sort();
            key_columns = cols.into_iter().map(|(_, n)| n).collect();
        }
        let source_partition = match &s.mode {
            Mode::Query { .. } => "query".to_string(),
            Mode::Triggers => format!("changes:{}", s.table),
            _ => format!("table:{}", s.table),
        };
        Ok(SqliteSource {
            s,
            conn,
            key_columns,
            last: None,
            pruned: 0,
            source_partition,
        })
    }

    /// Installs the change table and triggers, unless there, with a
    /// snapshot of the rows already in the table.
    fn install_triggers(&mut self) -> anyhow::Result<()> {
        let table = &self.s.table;
        let changes = change_table(table);
        let insert_trigger = format!("strom_cdc_{table}_insert");
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let installed: i64 = tx.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
            [&insert_trigger],
            |r| r.get(0),
        )?;
        if installed > 0 {
            return Ok(());
        }
        let columns: Vec<String> = {
            let mut stmt = tx.prepare(&format!("PRAGMA table_info({})", quote(table)))?;
            let cols = stmt
                .query_map([], |r| r.get::<_, String>(1))?
                .collect::<rusqlite::Result<_>>()?;
            cols
        };
        let row = |prefix: &str| {
            let pairs: Vec<String> = columns
                .iter()
                .map(|c| format!("'{}', {prefix}{}", c.replace('\'', "''"), quote(c)))
                .collect();
            format!("json_object({})", pairs.join(", "))
        };
        let key = |prefix: &str| match self.key_columns.as_slice() {
            [] => format!("{prefix}rowid"),
            [one] => format!("{prefix}{}", quote(one)),
            many => {
                let pairs: Vec<String> = many
                    .iter()
                    .map(|c| format!("'{}', {prefix}{}", c.replace('\'', "''"), quote(c)))
                    .collect();
                format!("json_object({})", pairs.join(", "))
            }
        };
        let (t, ch) = (quote(table), quote(&changes));
        let trig = |what: &str| quote(&format!("strom_cdc_{table}_{what}"));
        tx.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {ch} (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL, key, row TEXT);
             CREATE TRIGGER {ins} AFTER INSERT ON {t} BEGIN
                INSERT INTO {ch} (op, key, row) VALUES ('insert', {nk}, {nr}); END;
             CREATE TRIGGER {upd} AFTER UPDATE ON {t} BEGIN
                INSERT INTO {ch} (op, key, row) SELECT 'delete', {ok}, NULL WHERE {ok} IS NOT {nk};
                INSERT INTO {ch} (op, key, row) VALUES ('update', {nk}, {nr}); END;
             CREATE TRIGGER {del} AFTER DELETE ON {t} BEGIN
                INSERT INTO {ch} (op, key, row) VALUES ('delete', {ok}, NULL); END;
             INSERT INTO {ch} (op, key, row) SELECT 'snapshot', {sk}, {sr} FROM {t} ORDER BY rowid;",
            ins = trig("insert"),
            upd = trig("update"),
            del = trig("delete"),
            nk = key("NEW."),
            nr = row("NEW."),
            ok = key("OLD."),
            sk = key(""),
            sr = row(""),
        ))?;
        tx.commit()?;
        Ok(())
    }

    fn poll_changes(&mut self) -> anyhow::Result<Vec<SourceRecord>> {
        let ch = quote(&change_table(&self.s.table));
        let after = self
            .last
            .as_ref()
            .and_then(|v| v.get("seq"))
            .and_then(|v| v.as_i64())
            .unwrap_or(0);
        // The worker polls again only once the last batch and its offsets
        // are stored: what it returned before is no longer needed.
        if after > self.pruned {
            self.conn
                .execute(&format!("DELETE FROM {ch} WHERE seq <= ?1"), [after])?;
            self.pruned = after;
        }
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT seq, op, key, row FROM {ch} WHERE seq > ?1 ORDER BY seq LIMIT ?2"
        ))?;
        let mut rows = stmt.query(rusqlite::params![after, self.s.batch_max as i64])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let op: String = r.get(1)?;
            let key = to_key(r.get_ref(2)?);
            let value = match op.as_str() {
                "delete" => None,
                _ => Some(r.get::<_, String>(3)?.into_bytes()),
            };
            out.push(SourceRecord {
                key: Some(key),
                value,
                timestamp: None,
                source_partition: self.source_partition.clone(),
                source_offset: serde_json::json!({ "seq": seq }),
            });
        }
        drop(rows);
        drop(stmt);
        if let Some(last) = out.last() {
            self.last = Some(last.source_offset.clone());
        }
        Ok(out)
    }

    fn poll_rows(&mut self) -> anyhow::Result<Vec<SourceRecord>> {
        let limit = self.s.batch_max as i64;
        let (sql, ts_col, inc_col) = match &self.s.mode {
            Mode::Incrementing { column } => (
                format!(
                    "SELECT * FROM {t} WHERE ?1 IS NULL OR {c} > ?1 ORDER BY {c} LIMIT {limit}",
                    t = quote(&self.s.table),
                    c = quote(column)
                ),
                None,
                column.clone(),
            ),
            Mode::TimestampIncrementing { timestamp, column } => (
                format!(
                    "SELECT * FROM {t} WHERE ?1 IS NULL OR {ts} > ?1 OR ({ts} = ?1 AND {c} > ?2)
                     ORDER BY {ts}, {c} LIMIT {limit}",
                    t = quote(&self.s.table),
                    ts = quote(timestamp),
                    c = quote(column)
                ),
                Some(timestamp.clone()),
                column.clone(),
            ),
            Mode::Query { query, column } => (
                format!(
                    "SELECT * FROM ({query}) WHERE ?1 IS NULL OR {c} > ?1 ORDER BY {c} LIMIT {limit}",
                    c = quote(column)
                ),
                None,
                column.clone(),
            ),
            Mode::Triggers => unreachable!("handled by poll_changes"),
        };
        let last = self.last.clone().unwrap_or(serde_json::Value::Null);
        let (p1, p2) = match &ts_col {
            Some(_) => (
                from_json(last.get("ts").unwrap_or(&serde_json::Value::Null)),
                from_json(last.get("inc").unwrap_or(&serde_json::Value::Null)),
            ),
            None => (
                from_json(last.get("inc").unwrap_or(&serde_json::Value::Null)),
                Value::Null,
            ),
        };
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
        let find = |c: &str| names.iter().position(|n| n.eq_ignore_ascii_case(c));
        let inc_at =
            find(&inc_col).ok_or_else(|| anyhow::anyhow!("the rows have no column {inc_col}"))?;
        let ts_at = match &ts_col {
            Some(c) => Some(find(c).ok_or_else(|| anyhow::anyhow!("the rows have no column {c}"))?),
            None => None,
        };
        let key_at: Vec<usize> = self.key_columns.iter().filter_map(|c| find(c)).collect();
        let mut rows = match ts_at {
            Some(_) => stmt.query(rusqlite::params![p1, p2])?,
            None => stmt.query([p1])?,
        };
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut obj = serde_json::Map::with_capacity(names.len());
            for (i, n) in names.iter().enumerate() {
                obj.insert(n.clone(), to_json(r.get_ref(i)?));
            }
            let key = match key_at.as_slice() {
                [] => to_key(r.get_ref(inc_at)?),
                [one] => to_key(r.get_ref(*one)?),
                many => {
                    let mut k = serde_json::Map::new();
                    for &i in many {
                        k.insert(names[i].clone(), to_json(r.get_ref(i)?));
                    }
                    serde_json::to_vec(&k)?
                }
            };
            let inc = to_json(r.get_ref(inc_at)?);
            let offset = match ts_at {
                Some(t) => serde_json::json!({ "ts": to_json(r.get_ref(t)?), "inc": inc }),
                None => serde_json::json!({ "inc": inc }),
            };
            out.push(SourceRecord {
                key: Some(key),
                value: Some(serde_json::to_vec(&obj)?),
                timestamp: None,
                source_partition: self.source_partition.clone(),
                source_offset: offset,
            });
        }
        if let Some(last) = out.last() {
            self.last = Some(last.source_offset.clone());
        }
        Ok(out)
    }
}

impl Source for SqliteSource {
    fn start(&mut self, offsets: &HashMap<String, serde_json::Value>) -> anyhow::Result<()> {
        self.last = offsets.get(&self.source_partition).cloned();
        if self.s.mode == Mode::Triggers {
            self.install_triggers()?;
        }
        Ok(())
    }

    fn poll(&mut self) -> anyhow::Result<Vec<SourceRecord>> {
        match self.s.mode {
            Mode::Triggers => self.poll_changes(),
            _ => self.poll_rows(),
        }
    }

    fn poll_interval(&self) -> Duration {
        self.s.poll_interval
    }
}
