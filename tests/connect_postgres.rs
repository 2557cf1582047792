//! `strom connect standalone` with the PostgreSQL connectors against a
//! throwaway server (tests/common/postgres.rs): insert, upsert and
//! tombstones with offsets in the same transaction, exactly once across
//! SIGKILLs during a 100,000-record load, a polling source into a topic,
//! and a database that is down at start failing only its own task.
mod common;

use std::time::{Duration, Instant};

use common::connect::{broker, log, start_connect, stop_connect, wait_log, write};
use common::postgres::Postgres;
use common::{wait_exit, Broker};

/// Rows of `sql` as `a|b|c` text (each column cast to text in the SQL),
/// or None while the query fails (the table does not exist yet).
fn rows(pg: &Postgres, sql: &str) -> Option<Vec<String>> {
    let mut c = postgres::Client::connect(&pg.url, postgres::NoTls).ok()?;
    let rows = c.query(sql, &[]).ok()?;
    Some(
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| r.get::<_, Option<String>>(i).unwrap_or("NULL".into()))
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect(),
    )
}

/// Polls `sql` until it returns `want` (deadline 30 s).
fn wait_rows(pg: &Postgres, sql: &str, want: &[&str], dir: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = rows(pg, sql);
        if got.as_deref().is_some_and(|g| g == want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{sql}: got {got:?}, want {want:?}\nconnect log:\n{}",
            log(dir)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sink_file(name: &str, url: &str, table: &str, mode: &str, extra: &str) -> String {
    format!(
        "name = \"{name}\"\ntype = \"postgres-sink\"\ntopic = \"orders\"\n{extra}\n[config]\n\
         url = \"{url}\"\ntable = \"{table}\"\nmode = \"{mode}\"\nkey_column = \"id\"\nauto_create = true\n"
    )
}

#[test]
fn sink_insert_upsert_and_tombstones() {
    let pg = Postgres::start();
    let b = broker();
    b.create_topic("orders", 1);
    let input = "1\t{\"name\":\"a\",\"amount\":3}\n\
                 2\t{\"name\":\"b\",\"amount\":4}\n\
                 1\t{\"name\":\"a2\",\"amount\":5,\"note\":\"new column\"}\n\
                 2\tNULL\n\
                 3\t{\"name\":\"c\",\"tags\":[\"x\"]}\n";
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
        &sink_file("orders-upsert", &pg.url, "latest", "upsert", ""),
    );
    let insert = write(
        dir,
        "insert.toml",
        &sink_file("orders-insert", &pg.url, "history", "insert", ""),
    );
    let child = start_connect(&b, dir, &[&upsert, &insert]);
    // Upsert: one row per key, the last value; the tombstone deleted key
    // 2; columns typed from the JSON (bigint, text, jsonb).
    wait_rows(
        &pg,
        "SELECT id::text, name, amount::text, note, tags::text FROM latest ORDER BY id",
        &["1|a2|5|new column|NULL", "3|c|NULL|NULL|[\"x\"]"],
        dir,
    );
    // Insert: every record is a row (a tombstone still deletes its key).
    wait_rows(
        &pg,
        "SELECT id::text, name, amount::text FROM history ORDER BY name",
        &["1|a|3", "1|a2|5", "3|c|NULL"],
        dir,
    );
    wait_rows(
        &pg,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
         WHERE attrelid = 'latest'::regclass AND attname IN ('id', 'amount', 'tags') ORDER BY attname",
        &["bigint", "bigint", "jsonb"],
        dir,
    );
    // Both sinks' offsets, written with their rows.
    wait_rows(
        &pg,
        "SELECT connector || '|' || topic || '|' || partition || '|' || next_offset
         FROM strom_offsets ORDER BY connector",
        &["orders-insert|orders|0|5", "orders-upsert|orders|0|5"],
        dir,
    );
    stop_connect(child, dir);
    // The group was committed after the database's commit.
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
fn a_bad_record_is_dead_lettered_and_the_rest_of_its_batch_lands() {
    let pg = Postgres::start();
    pg.client()
        .batch_execute(
            "CREATE TABLE typed (id bigint PRIMARY KEY, n integer NOT NULL);
             CREATE TABLE typed_log (id bigint, n integer NOT NULL)",
        )
        .unwrap();
    let b = broker();
    b.create_topic("orders", 1);
    b.ok(
        &["produce", "-t", "orders", "-K", "\t"],
        Some(b"1\t{\"n\":1}\n2\t{\"n\":\"not a number\"}\n3\t{\"n\":3}\n"),
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let text = format!(
        "name = \"typed\"\ntype = \"postgres-sink\"\ntopic = \"orders\"\n[config]\nurl = \"{}\"\n\
         table = \"typed\"\nmode = \"upsert\"\nkey_column = \"id\"\n[errors]\ntolerance = \"all\"\ndlq = \"dlq\"\n",
        pg.url
    );
    let file = write(dir, "typed.toml", &text);
    // The same in insert mode, whose COPY refuses the chunk and hands it
    // to the INSERT path to find the bad record.
    let appended = format!(
        "name = \"typed-log\"\ntype = \"postgres-sink\"\ntopic = \"orders\"\n[config]\nurl = \"{}\"\n\
         table = \"typed_log\"\nmode = \"insert\"\nkey_column = \"id\"\n[errors]\ntolerance = \"all\"\ndlq = \"dlq-log\"\n",
        pg.url
    );
    let file_log = write(dir, "typed-log.toml", &appended);
    let child = start_connect(&b, dir, &[&file, &file_log]);
    for table in ["typed", "typed_log"] {
        wait_rows(
            &pg,
            &format!("SELECT id::text, n::text FROM {table} ORDER BY id"),
            &["1|1", "3|3"],
            dir,
        );
    }
    for dlq in ["dlq", "dlq-log"] {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = b.run(&["consume", "-t", dlq, "--from-beginning", "-e"], None);
            if String::from_utf8_lossy(&out.stdout).contains("not a number") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no dead letter in {dlq}:\n{}",
                log(dir)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    stop_connect(child, dir);
}

const N: u64 = 100_000;

fn counts(pg: &Postgres) -> (u64, u64) {
    rows(
        pg,
        "SELECT count(*)::text || '|' || count(DISTINCT n)::text FROM loaded",
    )
    .and_then(|r| {
        let (a, b) = r.first()?.split_once('|')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    })
    .unwrap_or((0, 0))
}

fn start_quiet(b: &Broker, dir: &std::path::Path, file: &std::path::Path) -> std::process::Child {
    common::strom()
        .current_dir(dir)
        .args(["connect", "standalone", "-b", &b.addr])
        .arg(file)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn strom connect")
}

#[test]
fn sigkill_during_a_sink_load_leaves_every_record_exactly_once() {
    let pg = Postgres::start();
    let b = broker();
    b.create_topic("load", 3);
    let mut input = Vec::with_capacity(N as usize * 40);
    for i in 0..N {
        input.extend_from_slice(format!("{i}\t{{\"n\":{i},\"pad\":\"xxxxxxxx\"}}\n").as_bytes());
    }
    b.ok(&["produce", "-t", "load", "-K", "\t"], Some(&input));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Insert mode without a unique key: a record written twice would be
    // two rows.
    let file = write(
        dir,
        "load.toml",
        &format!(
            "name = \"load\"\ntype = \"postgres-sink\"\ntopic = \"load\"\nbatch_max = 300\n\
             [consumer]\n\"session.timeout.ms\" = 1000\n[config]\nurl = \"{}\"\ntable = \"loaded\"\n\
             mode = \"insert\"\nkey_column = \"id\"\nauto_create = true\n",
            pg.url
        ),
    );
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut kills = 0;
    let mut last = 0;
    let started = Instant::now();
    while kills < 25 {
        let mut child = start_quiet(&b, dir, &file);
        // Wait until this life wrote something, then kill it a random
        // moment later: mid-batch, mid-commit, or mid-group-commit.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut done = false;
        loop {
            let (rows, _) = counts(&pg);
            if rows >= N {
                done = true;
                break;
            }
            if rows > last {
                last = rows;
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no progress after {kills} kills ({rows} rows)"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let delay = Duration::from_millis((seed >> 33) % 120);
        let exited = wait_exit(&mut child, Instant::now() + delay).is_some();
        let _ = child.kill();
        let _ = child.wait();
        if done || exited {
            break;
        }
        kills += 1;
        let (rows, distinct) = counts(&pg);
        assert_eq!(rows, distinct, "duplicates after kill {kills}");
    }
    assert!(
        kills >= 20,
        "only {kills} kills landed before the load finished"
    );
    let mut child = start_quiet(&b, dir, &file);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (rows, distinct) = counts(&pg);
        assert_eq!(rows, distinct, "a record was written twice");
        if rows == N {
            break;
        }
        assert!(rows < N, "{rows} rows for {N} records");
        assert!(Instant::now() < deadline, "only {rows} of {N} rows");
        std::thread::sleep(Duration::from_millis(50));
    }
    common::send_signal(child.id(), "-TERM");
    let status = wait_exit(&mut child, Instant::now() + Duration::from_secs(30));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    let got = rows(
        &pg,
        "SELECT min(n)::text || '|' || max(n)::text || '|' || sum(n)::text FROM loaded",
    );
    assert_eq!(got, Some(vec![format!("0|{}|{}", N - 1, N * (N - 1) / 2)]));
    let offsets = rows(
        &pg,
        "SELECT sum(next_offset)::text FROM strom_offsets WHERE connector = 'load'",
    );
    assert_eq!(
        offsets,
        Some(vec![N.to_string()]),
        "stored offsets cover every record"
    );
    eprintln!("{kills} kills, {:?}", started.elapsed());
}

/// Every line `consume` prints of `topic` from the start.
fn topic_lines(b: &Broker, topic: &str) -> Vec<String> {
    let out = b.run(&["consume", "-t", topic, "--from-beginning", "-e"], None);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn source_to_topic_round_trip_resumes_after_restart() {
    let pg = Postgres::start();
    pg.client()
        .batch_execute(
            "CREATE TABLE events (seq bigserial PRIMARY KEY, what text, at timestamptz NOT NULL DEFAULT now());
             INSERT INTO events (what) VALUES ('a'), ('b'), ('c');",
        )
        .unwrap();
    let b = broker();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let inc = write(
        dir,
        "events.toml",
        &format!(
            "name = \"events\"\ntype = \"postgres-source\"\ntopic = \"events\"\nbatch_max = 2\n[config]\n\
             url = \"{}\"\ntable = \"events\"\nmode = \"incrementing\"\nincrementing_column = \"seq\"\n\
             poll_interval_ms = 50\n",
            pg.url
        ),
    );
    let ts = write(
        dir,
        "changed.toml",
        &format!(
            "name = \"changed\"\ntype = \"postgres-source\"\ntopic = \"changed\"\n[config]\n\
             url = \"{}\"\ntable = \"events\"\nmode = \"timestamp+incrementing\"\n\
             timestamp_column = \"at\"\nincrementing_column = \"seq\"\npoll_interval_ms = 50\n",
            pg.url
        ),
    );
    let query = write(
        dir,
        "bs.toml",
        &format!(
            "name = \"bs\"\ntype = \"postgres-source\"\ntopic = \"bs\"\n[config]\n\
             url = \"{}\"\nmode = \"query\"\nquery = \"SELECT seq, upper(what) AS up FROM events WHERE what LIKE 'b%'\"\n\
             incrementing_column = \"seq\"\npoll_interval_ms = 50\n",
            pg.url
        ),
    );
    let read = |topic: &str, want: usize| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let lines = topic_lines(&b, topic);
            if lines.len() >= want {
                return lines;
            }
            assert!(
                Instant::now() < deadline,
                "{topic}: {} of {want} records:\n{}",
                lines.len(),
                log(dir)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let child = start_connect(&b, dir, &[&inc, &ts, &query]);
    let first = read("events", 3);
    let whats: Vec<String> = first
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["what"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(whats, ["a", "b", "c"]);
    assert_eq!(read("bs", 1), [r#"{"seq":2,"up":"B"}"#]);
    read("changed", 3);
    stop_connect(child, dir);
    // New rows and an update while it is stopped: the restart resumes at
    // the stored offsets (nothing read twice by `incrementing`), and
    // `timestamp+incrementing` sees the updated row again.
    pg.client()
        .batch_execute(
            "INSERT INTO events (what) VALUES ('d'), ('bb');
             UPDATE events SET what = 'a2', at = now() + interval '1 hour' WHERE seq = 1;",
        )
        .unwrap();
    let child = start_connect(&b, dir, &[&inc, &ts, &query]);
    let all = read("events", 5);
    let seqs: Vec<i64> = all
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5], "each row once, in order");
    assert_eq!(read("bs", 2)[1], r#"{"seq":5,"up":"BB"}"#);
    let changed = read("changed", 6);
    assert!(
        changed.last().is_some_and(|l| l.contains("\"a2\"")),
        "the updated row came again last: {changed:?}"
    );
    // Keys are the primary key.
    let out = b.ok(
        &[
            "consume",
            "-t",
            "events",
            "--from-beginning",
            "-e",
            "--property",
            "print.key=true",
        ],
        None,
    );
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.lines().next().is_some_and(|l| l.starts_with("1\t")),
        "{text}"
    );
    stop_connect(child, dir);
}

#[test]
fn a_database_that_is_down_fails_only_its_task_and_recovers() {
    let mut pg = Postgres::start();
    pg.stop();
    let b = broker();
    b.create_topic("orders", 1);
    b.ok(
        &["produce", "-t", "orders", "-K", "\t"],
        Some(b"1\t{\"v\":1}\n"),
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let down = write(
        dir,
        "down.toml",
        &sink_file("down", &pg.url, "t", "upsert", ""),
    );
    let up = write(
        dir,
        "up.toml",
        "name = \"up\"\ntype = \"sqlite-sink\"\ntopic = \"orders\"\n[config]\npath = \"up.db\"\ntable = \"t\"\nauto_create = true\n",
    );
    let child = start_connect(&b, dir, &[&down, &up]);
    wait_log(
        dir,
        &format!(
            "down.toml: key 'config.url': connecting to PostgreSQL at postgres://strom@127.0.0.1:{}/postgres",
            pg.port
        ),
    );
    // The other connector runs meanwhile.
    let deadline = Instant::now() + Duration::from_secs(30);
    let up_rows = || {
        rusqlite::Connection::open(dir.join("up.db"))
            .and_then(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0)))
            .unwrap_or(0)
    };
    while up_rows() != 1 {
        assert!(
            Instant::now() < deadline,
            "the sqlite sink wrote nothing:\n{}",
            log(dir)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(log(dir).contains("task FAILED"), "{}", log(dir));
    // The database comes back: the restarted task writes the record.
    pg.start_again();
    wait_rows(&pg, "SELECT id::text, v::text FROM t", &["1|1"], dir);
    stop_connect(child, dir);
}

#[test]
fn bad_postgres_files_exit_2_naming_file_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cases: &[(&str, &str, &str)] = &[
        (
            "no-url.toml",
            "name = \"a\"\ntype = \"postgres-sink\"\ntopic = \"t\"\n[config]\ntable = \"t\"\n",
            "no-url.toml: key 'config.url': missing",
        ),
        (
            "bad-url.toml",
            "name = \"b\"\ntype = \"postgres-sink\"\ntopic = \"t\"\n[config]\nurl = \"http//x\"\ntable = \"t\"\n",
            "bad-url.toml: key 'config.url': not a PostgreSQL connection URL",
        ),
        (
            "no-user.toml",
            "name = \"c\"\ntype = \"postgres-sink\"\ntopic = \"t\"\n[config]\nurl = \"postgres://127.0.0.1:5432/db\"\ntable = \"t\"\n",
            "no-user.toml: key 'config.url': names no user",
        ),
        (
            "offsets-table.toml",
            "name = \"d\"\ntype = \"postgres-sink\"\ntopic = \"t\"\n[config]\nurl = \"postgres://u@127.0.0.1/db\"\ntable = \"strom_offsets\"\n",
            "offsets-table.toml: key 'config.table': must be a table name other than strom_offsets",
        ),
        (
            "copy-upsert.toml",
            "name = \"g\"\ntype = \"postgres-sink\"\ntopic = \"t\"\n[config]\nurl = \"postgres://u@127.0.0.1/db\"\ntable = \"t\"\nmode = \"upsert\"\nkey_column = \"id\"\ncopy = true\n",
            "copy-upsert.toml: key 'config.copy': COPY appends rows",
        ),
        (
            "no-mode.toml",
            "name = \"e\"\ntype = \"postgres-source\"\ntopic = \"t\"\n[config]\nurl = \"postgres://u@127.0.0.1/db\"\ntable = \"t\"\n",
            "no-mode.toml: key 'config.mode': missing (incrementing, timestamp+incrementing or query; change capture through logical replication is not available yet)",
        ),
        (
            "no-ts.toml",
            "name = \"f\"\ntype = \"postgres-source\"\ntopic = \"t\"\n[config]\nurl = \"postgres://u@127.0.0.1/db\"\ntable = \"t\"\nmode = \"timestamp+incrementing\"\nincrementing_column = \"id\"\n",
            "no-ts.toml: key 'config.timestamp_column': missing",
        ),
    ];
    for (file, text, want) in cases {
        let bad = write(dir, file, text);
        let out = common::run_with_timeout(
            {
                let mut c = common::strom();
                c.current_dir(dir)
                    .args(["connect", "standalone", "-b", "127.0.0.1:1"])
                    .arg(&bad);
                c
            },
            None,
            Duration::from_secs(30),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(stderr.contains(want), "{file}: want {want:?} in:\n{stderr}");
    }
}
