//! `postgres-source`: rows of a table (or a query) as JSON records.
//!
//! The polling modes of `sqlite-source`, each resuming after the last row
//! it returned:
//! - `incrementing`: rows whose `incrementing_column` is above the last one;
//! - `timestamp+incrementing`: rows after the last (`timestamp_column`,
//!   `incrementing_column`) pair, so updated rows come again;
//! - `query`: the rows of `query` whose `incrementing_column` is above the
//!   last one.
//!
//! PostgreSQL makes the JSON itself (`row_to_json`), so every column type
//! it has comes out as it would print it. The stored position is the last
//! row's values of those columns, sent back as text and cast to the
//! column's type. Change capture through logical replication is not
//! available yet.
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use postgres::{Client, Statement};
use serde_json::Value;

use super::{connect, describe, error_text, parse_url, quote};
use crate::connect::api::{Source, SourceRecord};
use crate::connect::config::{ConfigError, ConnectorConfig};
use crate::connect::registry::SourceFactory;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Incrementing { column: String },
    TimestampIncrementing { timestamp: String, column: String },
    Query { query: String, column: String },
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The connector file, named in errors about the database.
    pub file: PathBuf,
    pub pg: postgres::Config,
    /// Empty in query mode.
    pub table: String,
    pub mode: Mode,
    pub batch_max: usize,
    pub poll_interval: Duration,
}

impl Settings {
    /// `FILE: key 'config.KEY'`, to start an error about that key.
    pub fn key(&self, key: &str) -> String {
        format!("{}: key 'config.{key}'", self.file.display())
    }
}

/// Reads `[config]` of a `postgres-source`.
pub fn configure(cfg: &ConnectorConfig) -> Result<SourceFactory, ConfigError> {
    let mut k = cfg.keys();
    let url = k.string("url")?;
    let mode = k.opt_choice("mode", &["incrementing", "timestamp+incrementing", "query"])?;
    let table = k.opt_string("table")?;
    let column = k.opt_string("incrementing_column")?;
    let timestamp = k.opt_string("timestamp_column")?;
    let query = k.opt_string("query")?;
    let poll_interval = k
        .opt_millis("poll_interval_ms")?
        .unwrap_or(Duration::from_millis(1000));
    k.finish()?;
    let pg = parse_url(cfg, &url)?;
    let need = |v: Option<String>, key: &str, why: &str| {
        v.filter(|s| !s.is_empty())
            .ok_or_else(|| cfg.error(key, &format!("missing (required {why})")))
    };
    let mode = match mode {
        Some("incrementing") => Mode::Incrementing {
            column: need(
                column,
                "incrementing_column",
                "with mode = \"incrementing\"",
            )?,
        },
        Some("timestamp+incrementing") => Mode::TimestampIncrementing {
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
        Some(_) => Mode::Query {
            query: need(query.clone(), "query", "with mode = \"query\"")?,
            column: need(column, "incrementing_column", "with mode = \"query\"")?,
        },
        None => {
            return Err(cfg.error(
                "mode",
                "missing (incrementing, timestamp+incrementing or query; change capture through logical replication is not available yet)",
            ))
        }
    };
    let table = cfg.polled_table(matches!(mode, Mode::Query { .. }), table, query.is_some())?;
    let settings = Arc::new(Settings {
        file: cfg.file.clone(),
        pg,
        table,
        mode,
        batch_max: cfg.batch_max,
        poll_interval,
    });
    Ok(Arc::new(move || {
        Ok(Box::new(PostgresSource::open(settings.clone())?) as Box<dyn Source>)
    }))
}

pub struct PostgresSource {
    s: Arc<Settings>,
    client: Client,
    /// The poll: `$1` (and `$2`) are the last position as text.
    poll: Statement,
    /// Primary key columns (empty: the incrementing column keys records).
    key_columns: Vec<String>,
    /// Where the next poll resumes (the last row's position).
    last: Option<Value>,
    source_partition: String,
}

impl PostgresSource {
    pub fn open(s: Arc<Settings>) -> anyhow::Result<PostgresSource> {
        let mut client = connect(&s.pg, &s.file)?;
        let db = describe(&s.pg);
        let mut key_columns = Vec::new();
        let from = match &s.mode {
            Mode::Query { query, .. } => format!("({query}) AS src"),
            _ => {
                let exists: bool = client
                    .query_one("SELECT to_regclass($1) IS NOT NULL", &[&quote(&s.table)])
                    .map_err(|e| anyhow::anyhow!("{}: {}", s.key("table"), error_text(&e)))?
                    .get(0);
                if !exists {
                    anyhow::bail!(
                        "{}: table {} does not exist in {db}",
                        s.key("table"),
                        s.table
                    );
                }
                let rows = client.query(
                    "SELECT a.attname::text FROM pg_index i
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                     WHERE i.indrelid = to_regclass($1) AND i.indisprimary
                     ORDER BY array_position(i.indkey::int2[], a.attnum)",
                    &[&quote(&s.table)],
                )?;
                key_columns = rows.iter().map(|r| r.get::<_, String>(0)).collect();
                format!("{} AS src", quote(&s.table))
            }
        };
        // The types of the position columns, to cast the stored text back.
        let (inc, inc_key, ts) = match &s.mode {
            Mode::Incrementing { column } | Mode::Query { column, .. } => {
                (column.clone(), "incrementing_column", None)
            }
            Mode::TimestampIncrementing { timestamp, column } => (
                column.clone(),
                "incrementing_column",
                Some(timestamp.clone()),
            ),
        };
        let shape = client
            .prepare(&format!("SELECT * FROM {from} LIMIT 0"))
            .map_err(|e| {
                let key = if matches!(s.mode, Mode::Query { .. }) {
                    "query"
                } else {
                    "table"
                };
                anyhow::anyhow!("{}: {}", s.key(key), error_text(&e))
            })?;
        let type_of = |col: &str, key: &str| -> anyhow::Result<String> {
            shape
                .columns()
                .iter()
                .find(|c| c.name() == col)
                .map(|c| quote(c.type_().name()))
                .ok_or_else(|| anyhow::anyhow!("{}: the rows have no column {col:?}", s.key(key)))
        };
        let inc_type = type_of(&inc, inc_key)?;
        let limit = s.batch_max;
        let (c, ct) = (quote(&inc), inc_type);
        let sql = match &ts {
            None => format!(
                "SELECT row_to_json(r)::text FROM (SELECT * FROM {from}
                 WHERE $1::text IS NULL OR src.{c} > $1::text::{ct}
                 ORDER BY src.{c} LIMIT {limit}) AS r"
            ),
            Some(t) => {
                let tt = type_of(t, "timestamp_column")?;
                let t = quote(t);
                format!(
                    "SELECT row_to_json(r)::text FROM (SELECT * FROM {from}
                     WHERE $1::text IS NULL OR src.{t} > $1::text::{tt}
                        OR (src.{t} = $1::text::{tt} AND src.{c} > $2::text::{ct})
                     ORDER BY src.{t}, src.{c} LIMIT {limit}) AS r"
                )
            }
        };
        let poll = client
            .prepare(&sql)
            .map_err(|e| anyhow::anyhow!("preparing the poll on {db}: {}", error_text(&e)))?;
        let source_partition = match &s.mode {
            Mode::Query { .. } => "query".to_string(),
            _ => format!("table:{}", s.table),
        };
        Ok(PostgresSource {
            s,
            client,
            poll,
            key_columns,
            last: None,
            source_partition,
        })
    }
}

/// A JSON scalar as the text PostgreSQL casts back (`None` for null).
fn as_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl Source for PostgresSource {
    fn start(&mut self, offsets: &HashMap<String, Value>) -> anyhow::Result<()> {
        self.last = offsets.get(&self.source_partition).cloned();
        Ok(())
    }

    fn poll(&mut self) -> anyhow::Result<Vec<SourceRecord>> {
        let (inc_col, ts_col) = match &self.s.mode {
            Mode::Incrementing { column } | Mode::Query { column, .. } => (column, None),
            Mode::TimestampIncrementing { timestamp, column } => (column, Some(timestamp)),
        };
        let last = self.last.as_ref();
        let rows = match ts_col {
            None => {
                let p1 = as_text(last.and_then(|l| l.get("inc")));
                self.client.query(&self.poll, &[&p1])
            }
            Some(_) => {
                let p1 = as_text(last.and_then(|l| l.get("ts")));
                let p2 = as_text(last.and_then(|l| l.get("inc")));
                self.client.query(&self.poll, &[&p1, &p2])
            }
        }
        .map_err(|e| anyhow::anyhow!("polling {}: {}", describe(&self.s.pg), error_text(&e)))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let text: String = row.get(0);
            let obj: serde_json::Map<String, Value> = serde_json::from_str(&text)?;
            let key = match self.key_columns.as_slice() {
                [] => as_text(obj.get(inc_col)).unwrap_or_default().into_bytes(),
                [one] => as_text(obj.get(one)).unwrap_or_default().into_bytes(),
                many => {
                    let k: serde_json::Map<String, Value> = many
                        .iter()
                        .map(|c| (c.clone(), obj.get(c).cloned().unwrap_or(Value::Null)))
                        .collect();
                    serde_json::to_vec(&k)?
                }
            };
            let inc = obj.get(inc_col).cloned().unwrap_or(Value::Null);
            let offset = match ts_col {
                Some(t) => {
                    serde_json::json!({ "ts": obj.get(t).cloned().unwrap_or(Value::Null), "inc": inc })
                }
                None => serde_json::json!({ "inc": inc }),
            };
            out.push(SourceRecord {
                key: Some(key),
                value: Some(text.into_bytes()),
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

    fn poll_interval(&self) -> Duration {
        self.s.poll_interval
    }
}
