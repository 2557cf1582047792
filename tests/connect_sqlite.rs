//! `strom connect standalone` with the SQLite connectors: a trigger-CDC
//! source into a topic and an upsert sink out of it (updates and deletes
//! included), insert/upsert/tombstones, `[errors]` (dead letters, a failed
//! task that does not stop the others), and source offsets across
//! restarts. Bad connector files: tests/connect_config.rs.
mod common;

use std::time::{Duration, Instant};

use common::connect::{
    broker, log, sqlite as db, sqlite_rows as rows, start_connect, stop_connect, wait_log,
    wait_sqlite_rows as wait_rows, write,
};

#[test]
fn trigger_cdc_source_to_upsert_sink_round_trip() {
    let b = broker();
    b.create_topic("items", 2);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let src = dir.join("src.db");
    {
        let c = db(&src);
        c.execute_batch(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER);
             INSERT INTO items VALUES (1, 'apple', 1), (2, 'pear', 2), (3, 'plum', 3);",
        )
        .unwrap();
    }
    let source = write(
        dir,
        "source.toml",
        r#"
name = "items-cdc"
type = "sqlite-source"
topic = "items"
[config]
path = "src.db"
table = "items"
cdc = "triggers"
poll_interval_ms = 50
"#,
    );
    let sink = write(
        dir,
        "sink.toml",
        r#"
name = "items-copy"
type = "sqlite-sink"
topics = ["items"]
[consumer]
"session.timeout.ms" = 1000
[config]
path = "copy.db"
table = "items"
mode = "upsert"
key_column = "id"
auto_create = true
"#,
    );
    let child = start_connect(&b, dir, &[&source, &sink]);
    let copy = dir.join("copy.db");
    let sql = "SELECT id, name, qty FROM items ORDER BY id";
    // The rows that were there before the triggers: the snapshot.
    wait_rows(&copy, sql, &["1|apple|1", "2|pear|2", "3|plum|3"], dir);
    {
        let c = db(&src);
        c.execute_batch(
            "UPDATE items SET qty = 10 WHERE id = 1;
             DELETE FROM items WHERE id = 2;
             INSERT INTO items VALUES (4, 'fig', 4);
             UPDATE items SET id = 5 WHERE id = 3;",
        )
        .unwrap();
    }
    wait_rows(&copy, sql, &["1|apple|10", "4|fig|4", "5|plum|3"], dir);
    // Stopped and started again, it goes on where it was.
    stop_connect(child, dir);
    db(&src)
        .execute("INSERT INTO items VALUES (6, 'kiwi', 6)", [])
        .unwrap();
    let child = start_connect(&b, dir, &[&source, &sink]);
    wait_rows(
        &copy,
        sql,
        &["1|apple|10", "4|fig|4", "5|plum|3", "6|kiwi|6"],
        dir,
    );
    stop_connect(child, dir);
    // Every change reached the topic once: a clean stop stores what was sent.
    let out = b.ok(&["consume", "-t", "items", "--from-beginning", "-e"], None);
    let n = String::from_utf8_lossy(&out).lines().count();
    // 3 snapshot rows, 1 update, the delete (a tombstone prints as an
    // empty line), 1 insert, the key change (delete + update), 1 insert.
    assert_eq!(
        n,
        9,
        "records in the topic:\n{}",
        String::from_utf8_lossy(&out)
    );
}

#[test]
fn insert_upsert_and_tombstones() {
    let b = broker();
    b.create_topic("orders", 1);
    let input = "1\t{\"name\":\"a\",\"amount\":3}\n\
                 2\t{\"name\":\"b\",\"amount\":4}\n\
                 1\t{\"name\":\"a2\",\"amount\":5,\"note\":\"new column\"}\n\
                 2\tNULL\n\
                 x\t{\"name\":\"c\"}\n";
    b.ok(
        &[
            "produce",
            "-t",
            "orders",
            "-K",
            "\t",
            "--null-marker",
            "NULL",
        ],
        Some(input.as_bytes()),
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let upsert = write(
        dir,
        "upsert.toml",
        r#"
name = "orders-upsert"
type = "sqlite-sink"
topics = ["orders"]
[config]
path = "orders.db"
table = "latest"
mode = "upsert"
key_column = "id"
auto_create = true
"#,
    );
    let insert = write(
        dir,
        "insert.toml",
        r#"
name = "orders-insert"
type = "sqlite-sink"
topic = "orders"
[config]
path = "orders.db"
table = "history"
mode = "insert"
key_column = "id"
auto_create = true
"#,
    );
    let child = start_connect(&b, dir, &[&upsert, &insert]);
    let orders = dir.join("orders.db");
    // Upsert: one row per key, the last value; the tombstone deleted key 2.
    wait_rows(
        &orders,
        "SELECT id, name, amount, note FROM latest ORDER BY id",
        &["1|a2|5|new column", "x|c|NULL|NULL"],
        dir,
    );
    // Insert: every record is a row (a tombstone still deletes its key).
    wait_rows(
        &orders,
        "SELECT id, name, amount FROM history ORDER BY rowid",
        &["1|a|3", "1|a2|5", "x|c|NULL"],
        dir,
    );
    // Both sinks' offsets, written with their rows.
    wait_rows(
        &orders,
        "SELECT connector, topic, partition, next_offset FROM strom_offsets ORDER BY connector",
        &["orders-insert|orders|0|5", "orders-upsert|orders|0|5"],
        dir,
    );
    stop_connect(child, dir);
    // A clean stop committed the group and left it.
    let out = b.ok(
        &["groups", "describe", "--group", "connect-orders-upsert"],
        None,
    );
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.lines()
            .any(|l| l.contains("orders") && l.contains(" 5 ")),
        "committed offsets:\n{text}"
    );
}

#[test]
fn bad_records_are_dead_lettered_or_fail_only_their_task() {
    let b = broker();
    b.create_topic("in", 1);
    b.create_topic("in-dlq", 1);
    b.ok(
        &["produce", "-t", "in", "-K", "\t"],
        Some(b"1\t{\"v\":1}\n2\tnot json\n3\t{\"v\":3}\n"),
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let tolerant = write(
        dir,
        "tolerant.toml",
        r#"
name = "tolerant"
type = "sqlite-sink"
topic = "in"
[config]
path = "out.db"
table = "tolerant"
mode = "upsert"
key_column = "k"
auto_create = true
[errors]
tolerance = "all"
dlq = "in-dlq"
"#,
    );
    let strict = write(
        dir,
        "strict.toml",
        r#"
name = "strict"
type = "sqlite-sink"
topic = "in"
[config]
path = "strict.db"
table = "strict"
mode = "insert"
auto_create = true
"#,
    );
    let child = start_connect(&b, dir, &[&strict, &tolerant]);
    let out = dir.join("out.db");
    wait_rows(
        &out,
        "SELECT k, v FROM tolerant ORDER BY k",
        &["1|1", "3|3"],
        dir,
    );
    // The strict one failed on the same record and says where and why.
    wait_log(
        dir,
        "task FAILED: record in:0 offset 1: the value is not a JSON object",
    );
    assert!(
        rows(&dir.join("strict.db"), "SELECT * FROM strict").is_none(),
        "the strict sink wrote part of the failed batch"
    );
    stop_connect(child, dir);
    let dlq = b.ok(
        &[
            "consume",
            "-t",
            "in-dlq",
            "--from-beginning",
            "-e",
            "--output",
            "json",
        ],
        None,
    );
    let dlq = String::from_utf8_lossy(&dlq);
    let letters: Vec<serde_json::Value> = dlq
        .lines()
        .map(|l| serde_json::from_str(l).expect("json envelope"))
        .collect();
    assert_eq!(letters.len(), 1, "{dlq}");
    let l = &letters[0];
    assert_eq!(l["key"], "2");
    assert_eq!(l["value"], "not json");
    let header = |k: &str| {
        l["headers"]
            .as_array()
            .and_then(|hs| hs.iter().find(|h| h["key"] == k))
            .map(|h| h["value"].clone())
    };
    assert_eq!(header("strom.source.topic"), Some("in".into()));
    assert_eq!(header("strom.source.partition"), Some("0".into()));
    assert_eq!(header("strom.source.offset"), Some("1".into()));
    assert_eq!(header("strom.connector"), Some("tolerant".into()));
    let why = header("strom.error").and_then(|v| v.as_str().map(String::from));
    assert!(
        why.as_deref()
            .is_some_and(|w| w.contains("not a JSON object")),
        "{why:?}"
    );
}

#[test]
fn incrementing_source_resumes_from_stored_offsets() {
    let b = broker();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let src = dir.join("events.db");
    db(&src)
        .execute_batch(
            "CREATE TABLE events (seq INTEGER PRIMARY KEY, what TEXT);
             INSERT INTO events (what) VALUES ('a'), ('b'), ('c');",
        )
        .unwrap();
    let source = write(
        dir,
        "events.toml",
        r#"
name = "events"
type = "sqlite-source"
topic = "events"
batch_max = 2
[config]
path = "events.db"
table = "events"
mode = "incrementing"
incrementing_column = "seq"
poll_interval_ms = 50
"#,
    );
    let read = |want: usize| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = b.run(&["consume", "-t", "events", "--from-beginning", "-e"], None);
            let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(String::from)
                .collect();
            if lines.len() >= want {
                return lines;
            }
            assert!(Instant::now() < deadline, "only {lines:?}:\n{}", log(dir));
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let child = start_connect(&b, dir, &[&source]);
    assert_eq!(read(3).len(), 3);
    stop_connect(child, dir);
    // The offsets live in the internal topic the connect runtime alone
    // may write; a plain client is refused.
    let stored = b.ok(
        &[
            "consume",
            "-t",
            "__strom_connect_offsets",
            "--from-beginning",
            "-e",
            "-f",
            "%k %s\\n",
        ],
        None,
    );
    let stored = String::from_utf8_lossy(&stored).to_string();
    assert_eq!(
        stored.lines().last(),
        Some(r#"["events","table:events"] {"inc":3}"#),
        "{stored}"
    );
    let refused = b.run(
        &["produce", "-t", "__strom_connect_offsets"],
        Some(b"[\"events\",\"table:events\"]\t{\"inc\":0}\n"),
    );
    assert!(
        !refused.status.success(),
        "a client wrote the offsets topic"
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("internal"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    db(&src)
        .execute("INSERT INTO events (what) VALUES ('d')", [])
        .unwrap();
    let child = start_connect(&b, dir, &[&source]);
    let lines = read(4);
    stop_connect(child, dir);
    assert_eq!(
        lines,
        [
            r#"{"seq":1,"what":"a"}"#,
            r#"{"seq":2,"what":"b"}"#,
            r#"{"seq":3,"what":"c"}"#,
            r#"{"seq":4,"what":"d"}"#
        ],
        "records were read again or skipped after the restart"
    );
}

#[test]
fn a_database_that_cannot_be_opened_fails_only_its_task() {
    let b = broker();
    b.create_topic("in", 1);
    b.ok(
        &["produce", "-t", "in", "-K", "\t"],
        Some(b"1\t{\"v\":1}\n"),
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let down = write(
        dir,
        "down.toml",
        "name = \"down\"\ntype = \"sqlite-sink\"\ntopic = \"in\"\n[config]\npath = \"no/such/dir/x.db\"\ntable = \"t\"\nauto_create = true\n",
    );
    let up = write(
        dir,
        "up.toml",
        "name = \"up\"\ntype = \"sqlite-sink\"\ntopic = \"in\"\n[config]\npath = \"up.db\"\ntable = \"t\"\nauto_create = true\n",
    );
    let child = start_connect(&b, dir, &[&down, &up]);
    wait_rows(&dir.join("up.db"), "SELECT v FROM t", &["1"], dir);
    wait_log(
        dir,
        "down.toml: key 'config.path': opening SQLite database no/such/dir/x.db",
    );
    // It keeps trying (capped backoff) while the other one runs.
    let deadline = Instant::now() + Duration::from_secs(30);
    while log(dir).matches("connector=down").count() < 2 {
        assert!(Instant::now() < deadline, "no restart:\n{}", log(dir));
        std::thread::sleep(Duration::from_millis(50));
    }
    stop_connect(child, dir);
}

#[test]
fn a_sink_started_before_its_topic_exists_reads_it_once_created() {
    let b = broker();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sink = write(
        dir,
        "late.toml",
        "name = \"late\"\ntype = \"sqlite-sink\"\ntopic = \"late\"\n[config]\npath = \"late.db\"\ntable = \"t\"\nauto_create = true\n",
    );
    let child = start_connect(&b, dir, &[&sink]);
    wait_log(dir, "waiting for the topic to exist");
    b.create_topic("late", 1);
    b.ok(&["produce", "-t", "late"], Some(b"{\"a\":1}\n"));
    wait_rows(&dir.join("late.db"), "SELECT a FROM t", &["1"], dir);
    stop_connect(child, dir);
}
