//! `sqlite-sink`: rows from JSON values, exactly once.
//!
//! Each polled batch is one transaction that also upserts
//! `(connector, topic, partition, next_offset)` into `strom_offsets`; on
//! start and after every rebalance the task seeks to those offsets. A
//! crash anywhere leaves either the whole batch with its offsets or
//! neither, so every record lands exactly once, whatever the consumer
//! group had committed.
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, ErrorCode, OptionalExtension, TransactionBehavior};

use super::values::{from_json, from_key};
use super::{open, quote};
use crate::client::ConsumerRecord;
use crate::connect::api::{Fenced, OffsetRange, RecordError, Rejects, Sink, TopicPartition};
use crate::connect::config::{ConfigError, ConnectorConfig};
use crate::connect::registry::SinkFactory;

use crate::connect::table_sink::TableKeys;
pub use crate::connect::table_sink::{Mode, OFFSETS_TABLE};

#[derive(Debug, Clone)]
pub struct Settings {
    /// The connector file, named in errors about the database.
    pub file: PathBuf,
    pub connector: String,
    pub path: PathBuf,
    pub table: String,
    pub mode: Mode,
    pub key_column: Option<String>,
    pub auto_create: bool,
}

impl Settings {
    /// `FILE: key 'config.KEY'`, to start an error about that key.
    pub fn key(&self, key: &str) -> String {
        format!("{}: key 'config.{key}'", self.file.display())
    }
}

/// Reads `[config]` of a `sqlite-sink`.
pub fn configure(cfg: &ConnectorConfig) -> Result<SinkFactory, ConfigError> {
    let mut k = cfg.keys();
    let path = PathBuf::from(k.string("path")?);
    let t = TableKeys::read(&mut k)?;
    k.finish()?;
    t.check(cfg)?;
    let settings = Arc::new(Settings {
        file: cfg.file.clone(),
        connector: cfg.name.clone(),
        path,
        table: t.table,
        mode: t.mode,
        key_column: t.key_column,
        auto_create: t.auto_create,
    });
    Ok(Arc::new(move || {
        Ok(Box::new(SqliteSink::open(settings.clone())?) as Box<dyn Sink>)
    }))
}

pub struct SqliteSink {
    s: Arc<Settings>,
    conn: Connection,
    /// The table's columns; `None` while it does not exist.
    columns: Option<HashSet<String>>,
    /// The last value's column list and its INSERT: records of one topic
    /// mostly share a shape, so the SQL is built (and the columns checked)
    /// once per shape, not per record.
    shape: Option<(Vec<String>, String)>,
}

/// Why one record could not be applied.
enum Failure {
    /// This record only: `[errors]` decides.
    Record(RecordError),
    /// The database: the task fails.
    Task(anyhow::Error),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Failure {
        // Errors the record's content causes; the rest are the database's.
        match e.sqlite_error_code() {
            Some(ErrorCode::ConstraintViolation | ErrorCode::TypeMismatch | ErrorCode::TooBig) => {
                Failure::Record(RecordError(e.to_string()))
            }
            _ => Failure::Task(e.into()),
        }
    }
}

fn columns_of(conn: &Connection, table: &str) -> rusqlite::Result<Option<HashSet<String>>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quote(table)))?;
    let cols: HashSet<String> = stmt
        .query_map([], |row| {
            row.get::<_, String>(1).map(|c| c.to_ascii_lowercase())
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok((!cols.is_empty()).then_some(cols))
}

impl SqliteSink {
    pub fn open(s: Arc<Settings>) -> anyhow::Result<SqliteSink> {
        let conn = open(&s.path).map_err(|e| e.context(s.key("path")))?;
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {OFFSETS_TABLE} (
                connector TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
                next_offset INTEGER NOT NULL, PRIMARY KEY (connector, topic, partition))"
        ))?;
        let columns = columns_of(&conn, &s.table)?;
        if columns.is_none() && !s.auto_create {
            anyhow::bail!(
                "{}: table {} does not exist in {} (create it, or set auto_create = true)",
                s.key("table"),
                s.table,
                s.path.display()
            );
        }
        Ok(SqliteSink {
            s,
            conn,
            columns,
            shape: None,
        })
    }

    fn write(
        &mut self,
        batch: &[ConsumerRecord],
        ranges: &[OffsetRange],
        rejects: &mut dyn Rejects,
    ) -> anyhow::Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Fencing: the stored offsets must be where this task left them,
        // or another worker wrote these partitions since.
        {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT next_offset FROM {OFFSETS_TABLE}
                 WHERE connector = ?1 AND topic = ?2 AND partition = ?3"
            ))?;
            for r in ranges {
                let (topic, partition) = &r.partition;
                let now: Option<i64> = stmt
                    .query_row(
                        rusqlite::params![self.s.connector, &**topic, partition],
                        |row| row.get(0),
                    )
                    .optional()?;
                if now != r.start {
                    return Err(Fenced(format!(
                        "{topic}:{partition}: strom_offsets says {now:?}, this task expected {:?}: \
                         another worker wrote the partition (it moved in a rebalance); \
                         the batch was rolled back",
                        r.start
                    ))
                    .into());
                }
            }
        }
        for r in batch {
            match apply(&tx, &self.s, &mut self.columns, &mut self.shape, r) {
                Ok(()) => {}
                // An Err from reject drops `tx`: the batch rolls back.
                Err(Failure::Record(why)) => rejects.reject(r, &why)?,
                Err(Failure::Task(e)) => {
                    return Err(e.context(format!(
                        "writing record {}:{} offset {} to {}",
                        r.topic,
                        r.partition,
                        r.offset,
                        self.s.path.display()
                    )))
                }
            }
        }
        {
            let mut stmt = tx.prepare_cached(&format!(
                "INSERT INTO {OFFSETS_TABLE} (connector, topic, partition, next_offset)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (connector, topic, partition) DO UPDATE SET next_offset = excluded.next_offset"
            ))?;
            for r in ranges {
                let (topic, partition) = &r.partition;
                stmt.execute(rusqlite::params![
                    self.s.connector,
                    &**topic,
                    partition,
                    r.next
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

impl Sink for SqliteSink {
    fn stored_offsets(
        &mut self,
        partitions: &[TopicPartition],
    ) -> anyhow::Result<HashMap<TopicPartition, i64>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT topic, partition, next_offset FROM {OFFSETS_TABLE} WHERE connector = ?1"
        ))?;
        let rows = stmt.query_map([&self.s.connector], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i32>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (topic, partition, offset) = row?;
            if let Some(tp) = partitions
                .iter()
                .find(|(t, p)| **t == *topic && *p == partition)
            {
                out.insert(tp.clone(), offset);
            }
        }
        Ok(out)
    }

    fn put(
        &mut self,
        batch: &[ConsumerRecord],
        ranges: &[OffsetRange],
        rejects: &mut dyn Rejects,
    ) -> anyhow::Result<()> {
        let result = self.write(batch, ranges, rejects);
        if result.is_err() {
            // The rollback took back any CREATE or ALTER of the batch.
            self.columns = columns_of(&self.conn, &self.s.table)?;
            self.shape = None;
        }
        result
    }
}

/// Applies one record inside the batch's transaction.
fn apply(
    tx: &Connection,
    s: &Settings,
    columns: &mut Option<HashSet<String>>,
    shape: &mut Option<(Vec<String>, String)>,
    r: &ConsumerRecord,
) -> Result<(), Failure> {
    let key = r.key.as_deref().map(from_key);
    let Some(value) = r.value.as_deref() else {
        // A tombstone: the row of this key goes.
        let Some(kc) = &s.key_column else {
            return Err(Failure::Record(RecordError(
                "a tombstone (null value) needs key_column to find the row to delete".into(),
            )));
        };
        let Some(key) = key else {
            return Err(Failure::Record(RecordError(
                "a tombstone without a key".into(),
            )));
        };
        if columns.is_none() {
            return Ok(());
        }
        tx.prepare_cached(&format!(
            "DELETE FROM {} WHERE {} = ?1",
            quote(&s.table),
            quote(kc)
        ))?
        .execute([key])?;
        return Ok(());
    };
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(value)
        .map_err(|e| {
            Failure::Record(RecordError(format!("the value is not a JSON object: {e}")))
        })?;
    let mut names: Vec<&str> = Vec::with_capacity(object.len() + 1);
    let mut values: Vec<Value> = Vec::with_capacity(object.len() + 1);
    if let Some(kc) = &s.key_column {
        match key {
            Some(k) => values.push(k),
            None if s.mode == Mode::Upsert => {
                return Err(Failure::Record(RecordError(
                    "mode = \"upsert\" needs a record key".into(),
                )))
            }
            None => values.push(Value::Null),
        }
        names.push(kc);
    }
    for (k, v) in &object {
        if Some(k) == s.key_column.as_ref() {
            continue; // the record key wins
        }
        if k.is_empty() {
            return Err(Failure::Record(RecordError(
                "the value has an empty field name".into(),
            )));
        }
        names.push(k);
        values.push(from_json(v));
    }
    if values.is_empty() {
        return Err(Failure::Record(RecordError(
            "the value has no fields".into(),
        )));
    }
    let same = shape
        .as_ref()
        .is_some_and(|(n, _)| n.len() == names.len() && n.iter().zip(&names).all(|(a, b)| a == b));
    if !same {
        ensure_columns(tx, s, columns, &names)?;
        *shape = Some((
            names.iter().map(|n| n.to_string()).collect(),
            insert_sql(s, &names),
        ));
    }
    let sql = shape
        .as_ref()
        .map(|(_, sql)| sql.as_str())
        .unwrap_or_default();
    tx.prepare_cached(sql)?.execute(params_from_iter(values))?;
    Ok(())
}

/// The INSERT (or upsert) of one row with these columns, key column first.
fn insert_sql(s: &Settings, names: &[&str]) -> String {
    let cols: Vec<String> = names.iter().map(|n| quote(n)).collect();
    let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        quote(&s.table),
        cols.join(", "),
        marks.join(", ")
    );
    if let (Mode::Upsert, Some(kc)) = (s.mode, &s.key_column) {
        let sets: Vec<String> = cols[1..]
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        if sets.is_empty() {
            sql.push_str(&format!(" ON CONFLICT ({}) DO NOTHING", quote(kc)));
        } else {
            sql.push_str(&format!(
                " ON CONFLICT ({}) DO UPDATE SET {}",
                quote(kc),
                sets.join(", ")
            ));
        }
    }
    sql
}

/// Creates the table or adds columns (with `auto_create`), or refuses the
/// record.
fn ensure_columns(
    tx: &Connection,
    s: &Settings,
    columns: &mut Option<HashSet<String>>,
    names: &[&str],
) -> Result<(), Failure> {
    let table = quote(&s.table);
    let Some(have) = columns else {
        if !s.auto_create {
            return Err(Failure::Task(anyhow::anyhow!(
                "table {} does not exist (auto_create is false)",
                s.table
            )));
        }
        let defs: Vec<String> = names
            .iter()
            .map(|n| match (&s.key_column, s.mode) {
                (Some(kc), Mode::Upsert) if kc == n => format!("{} NOT NULL PRIMARY KEY", quote(n)),
                _ => quote(n),
            })
            .collect();
        tx.execute_batch(&format!("CREATE TABLE {table} ({})", defs.join(", ")))?;
        *columns = Some(names.iter().map(|n| n.to_ascii_lowercase()).collect());
        return Ok(());
    };
    for n in names {
        // SQLite's column names are case-insensitive.
        if have.contains(&n.to_ascii_lowercase()) {
            continue;
        }
        if !s.auto_create {
            return Err(Failure::Record(RecordError(format!(
                "table {} has no column {n:?} (auto_create is false)",
                s.table
            ))));
        }
        tx.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {}", quote(n)))?;
        have.insert(n.to_ascii_lowercase());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Refuse;
    impl Rejects for Refuse {
        fn reject(&mut self, _: &ConsumerRecord, why: &RecordError) -> anyhow::Result<()> {
            anyhow::bail!("rejected: {why}")
        }
    }

    fn record(offset: i64, key: &str, value: &str) -> ConsumerRecord {
        ConsumerRecord {
            topic: Arc::from("t"),
            partition: 0,
            offset,
            timestamp: 0,
            key: Some(bytes::Bytes::from(key.to_string())),
            value: Some(bytes::Bytes::from(value.to_string())),
            headers: vec![],
        }
    }

    fn range(start: Option<i64>, next: i64) -> Vec<OffsetRange> {
        vec![OffsetRange {
            partition: (Arc::from("t"), 0),
            start,
            next,
        }]
    }

    #[test]
    fn a_batch_is_refused_when_another_worker_moved_the_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Arc::new(Settings {
            file: "c.toml".into(),
            connector: "c".into(),
            path: dir.path().join("db"),
            table: "rows".into(),
            mode: Mode::Insert,
            key_column: Some("id".into()),
            auto_create: true,
        });
        let mut a = SqliteSink::open(settings.clone()).unwrap();
        let mut b = SqliteSink::open(settings).unwrap();
        a.put(
            &[record(0, "1", r#"{"v":1}"#)],
            &range(None, 1),
            &mut Refuse,
        )
        .unwrap();
        // b took the partition over before a's write and saw nothing stored.
        let e = b
            .put(
                &[record(0, "1", r#"{"v":1}"#)],
                &range(None, 1),
                &mut Refuse,
            )
            .unwrap_err();
        assert!(e.downcast_ref::<Fenced>().is_some(), "{e:#}");
        // a, stalled, writes on from where it was after b moved on.
        b.put(
            &[record(1, "2", r#"{"v":2}"#)],
            &range(Some(1), 2),
            &mut Refuse,
        )
        .unwrap();
        let e = a
            .put(
                &[record(1, "2", r#"{"v":2}"#)],
                &range(Some(1), 2),
                &mut Refuse,
            )
            .unwrap_err();
        assert!(e.downcast_ref::<Fenced>().is_some(), "{e:#}");
        let n: i64 = b
            .conn
            .query_row("SELECT count(*) FROM rows", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2, "every record once");
    }
}
