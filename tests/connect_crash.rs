//! `sqlite-sink` under SIGKILL: killed at least 20 times at random moments
//! during a 100,000-record load, the table ends with every record exactly
//! once (rows and their offsets are one transaction; the sink resumes at
//! its stored offsets, not the group's commits).
mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{send_signal, wait_exit, Broker};
use rusqlite::Connection;

const N: u64 = 100_000;

fn start_connect(b: &Broker, dir: &std::path::Path, file: &std::path::Path) -> Child {
    common::strom()
        .current_dir(dir)
        .args(["connect", "standalone", "-b", &b.addr])
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn strom connect")
}

/// (rows, distinct ids), or zeros while the table does not exist yet.
fn counts(db: &std::path::Path) -> (u64, u64) {
    let Ok(c) = Connection::open(db) else {
        return (0, 0);
    };
    let _ = c.busy_timeout(Duration::from_secs(5));
    c.query_row("SELECT count(*), count(DISTINCT id) FROM loaded", [], |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
    })
    .unwrap_or((0, 0))
}

#[test]
fn sigkill_during_a_sink_load_leaves_every_record_exactly_once() {
    let b = Broker::start_with(&[
        "--group-initial-rebalance-delay-ms",
        "0",
        "--group-min-session-timeout-ms",
        "500",
    ]);
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
    let file = dir.join("load.toml");
    std::fs::write(
        &file,
        r#"
name = "load"
type = "sqlite-sink"
topic = "load"
batch_max = 300
[consumer]
"session.timeout.ms" = 1000
[config]
path = "load.db"
table = "loaded"
mode = "insert"
key_column = "id"
auto_create = true
"#,
    )
    .unwrap();
    let db = dir.join("load.db");
    // A fixed-seed generator: different moments each kill, same every run.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut kills = 0;
    let mut last = 0;
    let started = Instant::now();
    while kills < 25 {
        let mut child = start_connect(&b, dir, &file);
        // Wait until this life wrote something, then kill it a random
        // moment later: mid-batch, mid-commit, or mid-group-commit.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut done = false;
        loop {
            let (rows, _) = counts(&db);
            if rows > last {
                last = rows;
                break;
            }
            if rows >= N {
                done = true;
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
        if !done && wait_exit(&mut child, Instant::now() + delay).is_none() {
            let _ = child.kill();
            let _ = child.wait();
            kills += 1;
        } else {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        let (rows, distinct) = counts(&db);
        assert_eq!(rows, distinct, "duplicates after kill {kills}");
    }
    assert!(
        kills >= 20,
        "only {kills} kills landed before the load finished"
    );
    let mut child = start_connect(&b, dir, &file);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (rows, distinct) = counts(&db);
        assert_eq!(rows, distinct, "a record was written twice");
        if rows == N {
            break;
        }
        assert!(rows < N, "{rows} rows for {N} records");
        assert!(Instant::now() < deadline, "only {rows} of {N} rows");
        std::thread::sleep(Duration::from_millis(50));
    }
    send_signal(child.id(), "-TERM");
    let status = wait_exit(&mut child, Instant::now() + Duration::from_secs(30));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    let c = Connection::open(&db).unwrap();
    let (min, max, sum): (i64, i64, i64) = c
        .query_row("SELECT min(n), max(n), sum(n) FROM loaded", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!((min, max), (0, N as i64 - 1));
    assert_eq!(sum as u64, N * (N - 1) / 2);
    let offsets: i64 = c
        .query_row(
            "SELECT sum(next_offset) FROM strom_offsets WHERE connector = 'load'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(offsets as u64, N, "stored offsets cover every record");
    eprintln!("{kills} kills, {:?}", started.elapsed());
}

/// Latest offset of partition 0 of `topic` (0 while it does not exist).
fn end_offset(b: &Broker, topic: &str) -> u64 {
    let out = b.run(&["topics", "offsets", topic], None);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.rsplit(':').next()?.trim().parse::<u64>().ok())
        .sum()
}

#[test]
fn sigkill_during_a_source_load_skips_no_row() {
    const ROWS: u64 = 20_000;
    let b = Broker::start();
    b.create_topic("rows", 1);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    {
        let c = Connection::open(dir.join("rows.db")).unwrap();
        c.execute_batch("CREATE TABLE rows (id INTEGER PRIMARY KEY, v TEXT); BEGIN;")
            .unwrap();
        let mut stmt = c.prepare("INSERT INTO rows (v) VALUES (?1)").unwrap();
        for i in 0..ROWS {
            stmt.execute([format!("row-{i}")]).unwrap();
        }
        drop(stmt);
        c.execute_batch("COMMIT").unwrap();
    }
    let file = dir.join("rows.toml");
    std::fs::write(
        &file,
        r#"
name = "rows"
type = "sqlite-source"
topic = "rows"
batch_max = 50
[config]
path = "rows.db"
table = "rows"
mode = "incrementing"
incrementing_column = "id"
poll_interval_ms = 20
"#,
    )
    .unwrap();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut kills = 0;
    let mut last = 0;
    while kills < 12 {
        let mut child = start_connect(&b, dir, &file);
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut done = false;
        loop {
            let n = end_offset(&b, "rows");
            if n >= ROWS {
                done = true;
                break;
            }
            if n > last {
                last = n;
                break;
            }
            assert!(Instant::now() < deadline, "no progress after {kills} kills");
            std::thread::sleep(Duration::from_millis(10));
        }
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let delay = Duration::from_millis((seed >> 33) % 60);
        let exited = wait_exit(&mut child, Instant::now() + delay).is_some();
        let _ = child.kill();
        let _ = child.wait();
        if done || exited {
            break;
        }
        kills += 1;
    }
    assert!(
        kills >= 10,
        "only {kills} kills landed before the load finished"
    );
    let mut child = start_connect(&b, dir, &file);
    let deadline = Instant::now() + Duration::from_secs(60);
    let got = loop {
        let out = b.ok(&["consume", "-t", "rows", "--from-beginning", "-e"], None);
        let ids: std::collections::HashSet<u64> = String::from_utf8_lossy(&out)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()?["id"].as_u64())
            .collect();
        if ids.len() as u64 == ROWS {
            break ids;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {ROWS} rows in the topic",
            ids.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!((1..=ROWS).all(|i| got.contains(&i)), "a row was skipped");
    send_signal(child.id(), "-TERM");
    let status = wait_exit(&mut child, Instant::now() + Duration::from_secs(30));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    eprintln!(
        "{kills} kills; {} records for {ROWS} rows",
        end_offset(&b, "rows")
    );
}

/// Two workers run the same sink connector (one group, one database) and
/// are killed in turn: partitions move between them at every kill, and
/// every record still lands exactly once.
#[test]
fn two_workers_killed_in_turn_still_write_every_record_once() {
    const RECORDS: u64 = 30_000;
    let b = Broker::start_with(&[
        "--group-initial-rebalance-delay-ms",
        "0",
        "--group-min-session-timeout-ms",
        "500",
    ]);
    b.create_topic("load", 4);
    let mut input = Vec::new();
    for i in 0..RECORDS {
        input.extend_from_slice(format!("{i}\t{{\"n\":{i}}}\n").as_bytes());
    }
    b.ok(&["produce", "-t", "load", "-K", "\t"], Some(&input));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let file = dir.join("load.toml");
    std::fs::write(
        &file,
        "name = \"load\"\ntype = \"sqlite-sink\"\ntopic = \"load\"\nbatch_max = 100\n\
         [consumer]\n\"session.timeout.ms\" = 1000\n\
         [config]\npath = \"load.db\"\ntable = \"loaded\"\nmode = \"insert\"\n\
         key_column = \"id\"\nauto_create = true\n",
    )
    .unwrap();
    let db = dir.join("load.db");
    let mut workers = [
        Some(start_connect(&b, dir, &file)),
        Some(start_connect(&b, dir, &file)),
    ];
    let mut last = 0;
    for round in 0..6 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (rows, distinct) = counts(&db);
            assert_eq!(rows, distinct, "duplicates in round {round}");
            if rows > last || rows >= RECORDS {
                last = rows;
                break;
            }
            assert!(Instant::now() < deadline, "no progress in round {round}");
            std::thread::sleep(Duration::from_millis(10));
        }
        let i = round % 2;
        if let Some(mut w) = workers[i].take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        workers[i] = Some(start_connect(&b, dir, &file));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (rows, distinct) = counts(&db);
        assert_eq!(rows, distinct, "a record was written twice");
        if rows == RECORDS {
            break;
        }
        assert!(Instant::now() < deadline, "only {rows} of {RECORDS} rows");
        std::thread::sleep(Duration::from_millis(50));
    }
    for w in workers.iter_mut().filter_map(Option::take) {
        let mut w = w;
        send_signal(w.id(), "-TERM");
        let status = wait_exit(&mut w, Instant::now() + Duration::from_secs(30));
        assert!(status.is_some_and(|s| s.success()), "{status:?}");
    }
}
