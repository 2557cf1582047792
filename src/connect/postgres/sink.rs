//! `postgres-sink`: rows from JSON values, exactly once.
//!
//! Each polled batch is one transaction that also upserts
//! `(connector, topic, partition, next_offset)` into `strom_offsets`; on
//! start and after every rebalance the task seeks to those offsets, so a
//! crash anywhere leaves either the whole batch with its offsets or
//! neither (like `sqlite-sink`).
//!
//! Rows go in as JSON: consecutive records with the same fields become one
//! `INSERT ... SELECT ... FROM json_populate_recordset(NULL::table, $1)`,
//! so PostgreSQL converts each field to its column's type and a batch
//! costs a few statements, not one per record. If such a statement fails
//! because of a record's content, it is rolled back to its savepoint and
//! retried row by row to find the record, which `[errors]` then handles.
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use postgres::{Client, Statement, Transaction};
use serde_json::{Map, Value};

use super::{connect, error_text, parse_url, quote};
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
    pub pg: postgres::Config,
    pub table: String,
    pub mode: Mode,
    pub key_column: Option<String>,
    pub auto_create: bool,
    /// `mode = "insert"` appends with COPY (`copy`, default true).
    pub copy: bool,
}

impl Settings {
    /// `FILE: key 'config.KEY'`, to start an error about that key.
    pub fn key(&self, key: &str) -> String {
        format!("{}: key 'config.{key}'", self.file.display())
    }
}

/// Reads `[config]` of a `postgres-sink`.
pub fn configure(cfg: &ConnectorConfig) -> Result<SinkFactory, ConfigError> {
    let mut k = cfg.keys();
    let url = k.string("url")?;
    let t = TableKeys::read(&mut k)?;
    let copy = k.opt_bool("copy")?;
    k.finish()?;
    let pg = parse_url(cfg, &url)?;
    t.check(cfg)?;
    let settings = Arc::new(Settings {
        file: cfg.file.clone(),
        connector: cfg.name.clone(),
        pg,
        table: t.table,
        mode: t.mode,
        key_column: t.key_column,
        auto_create: t.auto_create,
        copy: copy.unwrap_or(true),
    });
    if copy == Some(true) && settings.mode != Mode::Insert {
        return Err(cfg.error(
            "copy",
            "COPY appends rows: it needs mode = \"insert\" (an upsert updates them)",
        ));
    }
    Ok(Arc::new(move || {
        Ok(Box::new(PostgresSink::open(settings.clone())?) as Box<dyn Sink>)
    }))
}

pub struct PostgresSink {
    s: Arc<Settings>,
    client: Client,
    /// The table's columns; `None` while it does not exist.
    columns: Option<HashSet<String>>,
    /// Prepared statements by SQL (they outlive transactions).
    statements: HashMap<String, Statement>,
}

/// One record, ready to apply.
enum Op {
    /// The row as a JSON object (the key column included), its field
    /// names in order, and the key's text (to keep one upsert statement
    /// from touching a row twice).
    Row {
        names: Vec<String>,
        row: Map<String, Value>,
        key: Option<String>,
    },
    /// A tombstone: the row whose key column holds this key goes.
    Delete(Value),
}

/// Errors a record's content causes (bad data, a broken constraint); the
/// rest are the database's and fail the task.
fn is_record_error(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| {
        let c = c.code();
        c.starts_with("22") || c.starts_with("23")
    })
}

fn columns_of(
    client: &mut impl postgres::GenericClient,
    table: &str,
) -> anyhow::Result<Option<HashSet<String>>> {
    let rows = client.query(
        "SELECT column_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1",
        &[&table],
    )?;
    let cols: HashSet<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
    Ok((!cols.is_empty()).then_some(cols))
}

impl PostgresSink {
    pub fn open(s: Arc<Settings>) -> anyhow::Result<PostgresSink> {
        let mut client = connect(&s.pg, &s.file)?;
        client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {OFFSETS_TABLE} (
                    connector text NOT NULL, topic text NOT NULL, partition integer NOT NULL,
                    next_offset bigint NOT NULL, PRIMARY KEY (connector, topic, partition))"
            ))
            .map_err(|e| anyhow::anyhow!("creating {OFFSETS_TABLE}: {}", error_text(&e)))?;
        let columns = columns_of(&mut client, &s.table)?;
        if columns.is_none() && !s.auto_create {
            anyhow::bail!(
                "{}: table {} does not exist in {} (create it, or set auto_create = true)",
                s.key("table"),
                s.table,
                super::describe(&s.pg)
            );
        }
        Ok(PostgresSink {
            s,
            client,
            columns,
            statements: HashMap::new(),
        })
    }

    fn write(
        &mut self,
        batch: &[ConsumerRecord],
        ranges: &[OffsetRange],
        rejects: &mut dyn Rejects,
    ) -> anyhow::Result<()> {
        let s = self.s.clone();
        let mut ops: Vec<(&ConsumerRecord, Op)> = Vec::with_capacity(batch.len());
        for r in batch {
            match to_op(&s, r) {
                Ok(op) => ops.push((r, op)),
                Err(why) => rejects.reject(r, &why)?,
            }
        }
        let mut tx = self.client.transaction()?;
        // Fencing: strom_offsets must still say what this task last wrote,
        // or another worker wrote these partitions since. The row lock
        // (FOR UPDATE) keeps a second writer out until this commit.
        if !ranges.is_empty() {
            let sql = format!(
                "SELECT next_offset FROM {OFFSETS_TABLE}
                 WHERE connector = $1 AND topic = $2 AND partition = $3 FOR UPDATE"
            );
            let stmt = prepared(&mut tx, &mut self.statements, &sql)?;
            for r in ranges {
                let (topic, partition) = &r.partition;
                let now: Option<i64> = tx
                    .query_opt(&stmt, &[&s.connector, &&**topic, partition])?
                    .map(|row| row.get(0));
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
        let mut i = 0;
        while i < ops.len() {
            let end = chunk_end(&ops, i);
            let chunk = &ops[i..end];
            i = end;
            if let Op::Delete(key) = &chunk[0].1 {
                if self.columns.is_none() {
                    continue;
                }
                let sql = delete_sql(&s);
                let text = key.to_string();
                let stmt = prepared(&mut tx, &mut self.statements, &sql)?;
                let mut sp = tx.savepoint("strom_row")?;
                match sp.execute(&stmt, &[&text]) {
                    Ok(_) => sp.commit()?,
                    Err(e) if is_record_error(&e) => {
                        drop(sp);
                        rejects.reject(chunk[0].0, &RecordError(error_text(&e)))?;
                    }
                    Err(e) => return Err(task_error(&s, chunk[0].0, &e)),
                }
                continue;
            }
            let Op::Row { names, .. } = &chunk[0].1 else {
                continue;
            };
            if let Err(why) = ensure_columns(&mut tx, &s, &mut self.columns, names, chunk) {
                match why {
                    Failure::Record(why) => {
                        for (r, _) in chunk {
                            rejects.reject(r, &why)?;
                        }
                        continue;
                    }
                    Failure::Task(e) => return Err(e),
                }
            }
            let rows: Vec<&Map<String, Value>> = chunk
                .iter()
                .filter_map(|(_, op)| match op {
                    Op::Row { row, .. } => Some(row),
                    Op::Delete(_) => None,
                })
                .collect();
            if s.mode == Mode::Insert && s.copy {
                // Appends: COPY streams the chunk in one round trip and no
                // statement to plan. A row it refuses sends the chunk down
                // the INSERT path below, which finds the rows at fault.
                let mut sp = tx.savepoint("strom_copy")?;
                match copy_rows(&mut sp, &s.table, names, &rows) {
                    Ok(()) => {
                        sp.commit()?;
                        continue;
                    }
                    Err(e) if is_record_error(&e) => drop(sp),
                    Err(e) => return Err(task_error(&s, chunk[0].0, &e)),
                }
            }
            let sql = insert_sql(&s, names);
            let stmt = prepared(&mut tx, &mut self.statements, &sql)?;
            let json = serde_json::to_string(&rows)?;
            let mut sp = tx.savepoint("strom_chunk")?;
            match sp.execute(&stmt, &[&json]) {
                Ok(_) => {
                    sp.commit()?;
                    continue;
                }
                Err(e) if is_record_error(&e) && chunk.len() > 1 => drop(sp),
                Err(e) if is_record_error(&e) => {
                    drop(sp);
                    rejects.reject(chunk[0].0, &RecordError(error_text(&e)))?;
                    continue;
                }
                Err(e) => return Err(task_error(&s, chunk[0].0, &e)),
            }
            // Row by row, to find the records at fault.
            for ((r, _), row) in chunk.iter().zip(&rows) {
                let json = serde_json::to_string(&[row])?;
                let mut sp = tx.savepoint("strom_row")?;
                match sp.execute(&stmt, &[&json]) {
                    Ok(_) => sp.commit()?,
                    Err(e) if is_record_error(&e) => {
                        drop(sp);
                        rejects.reject(r, &RecordError(error_text(&e)))?;
                    }
                    Err(e) => return Err(task_error(&s, r, &e)),
                }
            }
        }
        let sql = format!(
            "INSERT INTO {OFFSETS_TABLE} (connector, topic, partition, next_offset)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (connector, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset"
        );
        let stmt = prepared(&mut tx, &mut self.statements, &sql)?;
        for r in ranges {
            let (topic, partition) = &r.partition;
            tx.execute(&stmt, &[&s.connector, &&**topic, partition, &r.next])?;
        }
        tx.commit()?;
        Ok(())
    }
}

fn task_error(s: &Settings, r: &ConsumerRecord, e: &postgres::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "writing record {}:{} offset {} to table {} of {}: {}",
        r.topic,
        r.partition,
        r.offset,
        s.table,
        super::describe(&s.pg),
        error_text(e)
    )
}

fn prepared(
    tx: &mut Transaction<'_>,
    cache: &mut HashMap<String, Statement>,
    sql: &str,
) -> anyhow::Result<Statement> {
    if let Some(stmt) = cache.get(sql) {
        return Ok(stmt.clone());
    }
    let stmt = tx
        .prepare(sql)
        .map_err(|e| anyhow::anyhow!("preparing {sql:?}: {}", error_text(&e)))?;
    cache.insert(sql.to_string(), stmt.clone());
    Ok(stmt)
}

/// Where the chunk starting at `i` ends: a tombstone alone; rows while
/// they have the same fields (and, for upserts, distinct keys).
fn chunk_end(ops: &[(&ConsumerRecord, Op)], i: usize) -> usize {
    let Op::Row { names, key, .. } = &ops[i].1 else {
        return i + 1;
    };
    let mut keys: HashSet<&str> = HashSet::new();
    if let Some(k) = key {
        keys.insert(k);
    }
    let mut end = i + 1;
    while let Some((
        _,
        Op::Row {
            names: n, key: k, ..
        },
    )) = ops.get(end)
    {
        if n != names {
            break;
        }
        if let Some(k) = k {
            if !keys.insert(k) {
                break;
            }
        }
        end += 1;
    }
    end
}

impl Sink for PostgresSink {
    fn stored_offsets(
        &mut self,
        partitions: &[TopicPartition],
    ) -> anyhow::Result<HashMap<TopicPartition, i64>> {
        let rows = self.client.query(
            &format!(
                "SELECT topic, partition, next_offset FROM {OFFSETS_TABLE} WHERE connector = $1"
            ),
            &[&self.s.connector],
        )?;
        let mut out = HashMap::new();
        for row in rows {
            let (topic, partition, offset): (String, i32, i64) =
                (row.get(0), row.get(1), row.get(2));
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
        if self.client.is_closed() {
            // The server went away: a retry of the batch reconnects.
            *self = PostgresSink::open(self.s.clone())?;
        }
        let result = self.write(batch, ranges, rejects);
        if result.is_err() {
            // Statements prepared in the rolled-back transaction are not
            // trusted again.
            self.statements.clear();
            if !self.client.is_closed() {
                // The rollback took back any CREATE or ALTER of the batch.
                self.columns = columns_of(&mut self.client, &self.s.table)?;
            }
        }
        result
    }
}

/// Why a chunk could not be applied.
enum Failure {
    Record(RecordError),
    Task(anyhow::Error),
}

/// A record key as a JSON value: a JSON integer stays a number, other
/// UTF-8 is a string.
fn key_value(key: &[u8]) -> Result<Value, RecordError> {
    let s =
        std::str::from_utf8(key).map_err(|_| RecordError("the record key is not UTF-8".into()))?;
    Ok(match serde_json::from_str::<Value>(s) {
        Ok(Value::Number(n)) if n.is_i64() => Value::Number(n),
        _ => Value::String(s.to_string()),
    })
}

fn to_op(s: &Settings, r: &ConsumerRecord) -> Result<Op, RecordError> {
    let key = r.key.as_deref().map(key_value).transpose()?;
    let Some(value) = r.value.as_deref() else {
        if s.key_column.is_none() {
            return Err(RecordError(
                "a tombstone (null value) needs key_column to find the row to delete".into(),
            ));
        }
        return key
            .map(Op::Delete)
            .ok_or_else(|| RecordError("a tombstone without a key".into()));
    };
    let object: Map<String, Value> = serde_json::from_slice(value)
        .map_err(|e| RecordError(format!("the value is not a JSON object: {e}")))?;
    let mut names = Vec::with_capacity(object.len() + 1);
    let mut row = Map::new();
    let mut key_text = None;
    if let Some(kc) = &s.key_column {
        match key {
            Some(k) => {
                key_text = Some(k.to_string());
                row.insert(kc.clone(), k);
            }
            None if s.mode == Mode::Upsert => {
                return Err(RecordError("mode = \"upsert\" needs a record key".into()))
            }
            None => {
                row.insert(kc.clone(), Value::Null);
            }
        }
        names.push(kc.clone());
    }
    for (k, v) in object {
        if Some(&k) == s.key_column.as_ref() {
            continue; // the record key wins
        }
        if k.is_empty() {
            return Err(RecordError("the value has an empty field name".into()));
        }
        names.push(k.clone());
        row.insert(k, v);
    }
    if names.is_empty() {
        return Err(RecordError("the value has no fields".into()));
    }
    Ok(Op::Row {
        names,
        row,
        key: key_text,
    })
}

/// `COPY table (names) FROM STDIN` of the rows, in COPY's text format.
fn copy_rows(
    tx: &mut Transaction<'_>,
    table: &str,
    names: &[String],
    rows: &[&Map<String, Value>],
) -> Result<(), postgres::Error> {
    let cols: Vec<String> = names.iter().map(|n| quote(n)).collect();
    let sql = format!("COPY {} ({}) FROM STDIN", quote(table), cols.join(", "));
    let mut data = String::with_capacity(rows.len() * 64);
    for row in rows {
        copy_line(&mut data, names, row);
    }
    let mut w = tx.copy_in(sql.as_str())?;
    // A write error is the server's refusal; `finish` reports it.
    let _ = std::io::Write::write_all(&mut w, data.as_bytes());
    w.finish().map(|_| ())
}

/// One row as a line of COPY's text format: fields by tab, `\N` for null
/// (or a missing field), strings as they are, other JSON values as JSON
/// text (numbers and booleans cast by PostgreSQL as INSERT would), with
/// backslash, tab, newline and carriage return escaped.
fn copy_line(out: &mut String, names: &[String], row: &Map<String, Value>) {
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        let text = match row.get(n) {
            None | Some(Value::Null) => {
                out.push_str("\\N");
                continue;
            }
            Some(Value::String(v)) => std::borrow::Cow::Borrowed(v.as_str()),
            Some(v) => std::borrow::Cow::Owned(v.to_string()),
        };
        for c in text.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
    }
    out.push('\n');
}

/// The INSERT (or upsert) of a JSON array of rows with these columns.
fn insert_sql(s: &Settings, names: &[String]) -> String {
    let cols: Vec<String> = names.iter().map(|n| quote(n)).collect();
    let table = quote(&s.table);
    let mut sql = format!(
        "INSERT INTO {table} ({cols}) SELECT {cols} FROM json_populate_recordset(NULL::{table}, $1::text::json)",
        cols = cols.join(", "),
    );
    if let (Mode::Upsert, Some(kc)) = (s.mode, &s.key_column) {
        let sets: Vec<String> = cols
            .iter()
            .filter(|c| **c != quote(kc))
            .map(|c| format!("{c} = EXCLUDED.{c}"))
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

/// The DELETE of a tombstone's row; `$1` is the key as JSON text, cast
/// to the key column's type by PostgreSQL.
fn delete_sql(s: &Settings) -> String {
    let table = quote(&s.table);
    let kc = quote(s.key_column.as_deref().unwrap_or_default());
    format!(
        "DELETE FROM {table} WHERE {kc} = (json_populate_record(NULL::{table}, json_build_object('{k}', $1::text::json))).{kc}",
        k = s.key_column.as_deref().unwrap_or_default().replace('\'', "''"),
    )
}

/// The column type `auto_create` gives a field, from its first non-null
/// value in the chunk.
fn column_type(values: impl Iterator<Item = Value>) -> &'static str {
    for v in values {
        match v {
            Value::Null => continue,
            Value::Bool(_) => return "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => return "bigint",
            Value::Number(_) => return "double precision",
            Value::String(_) => return "text",
            Value::Array(_) | Value::Object(_) => return "jsonb",
        }
    }
    "text"
}

/// Creates the table or adds columns (with `auto_create`), or refuses the
/// chunk.
fn ensure_columns(
    tx: &mut Transaction<'_>,
    s: &Settings,
    columns: &mut Option<HashSet<String>>,
    names: &[String],
    chunk: &[(&ConsumerRecord, Op)],
) -> Result<(), Failure> {
    let type_of = |name: &str| {
        column_type(chunk.iter().filter_map(|(_, op)| match op {
            Op::Row { row, .. } => row.get(name).cloned(),
            Op::Delete(_) => None,
        }))
    };
    let table = quote(&s.table);
    let ddl = |tx: &mut Transaction<'_>, sql: String| {
        tx.batch_execute(&sql)
            .map_err(|e| Failure::Task(anyhow::anyhow!("{sql}: {}", error_text(&e))))
    };
    let Some(have) = columns else {
        if !s.auto_create {
            return Err(Failure::Task(anyhow::anyhow!(
                "{}: table {} does not exist (auto_create is false)",
                s.key("table"),
                s.table
            )));
        }
        let defs: Vec<String> = names
            .iter()
            .map(|n| match (&s.key_column, s.mode) {
                (Some(kc), Mode::Upsert) if kc == n => {
                    format!("{} {} NOT NULL PRIMARY KEY", quote(n), type_of(n))
                }
                _ => format!("{} {}", quote(n), type_of(n)),
            })
            .collect();
        ddl(
            tx,
            format!("CREATE TABLE IF NOT EXISTS {table} ({})", defs.join(", ")),
        )?;
        *columns = Some(names.iter().cloned().collect());
        return Ok(());
    };
    for n in names {
        if have.contains(n) {
            continue;
        }
        if !s.auto_create {
            return Err(Failure::Record(RecordError(format!(
                "table {} has no column {n:?} (auto_create is false)",
                s.table
            ))));
        }
        ddl(
            tx,
            format!(
                "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {} {}",
                quote(n),
                type_of(n)
            ),
        )?;
        have.insert(n.clone());
    }
    Ok(())
}

#[cfg(test)]
mod copy_tests {
    use super::*;

    #[test]
    fn copy_lines_escape_text_and_mark_nulls() {
        let row: Map<String, Value> = serde_json::from_str(
            r#"{"id": 7, "note": "a\tb\\c\nd", "ok": true, "gone": null, "tags": ["x"]}"#,
        )
        .unwrap();
        let names: Vec<String> = ["id", "note", "ok", "gone", "missing", "tags"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut out = String::new();
        copy_line(&mut out, &names, &row);
        assert_eq!(out, "7\ta\\tb\\\\c\\nd\ttrue\t\\N\t\\N\t[\"x\"]\n");
    }
}
