//! `strom connect offsets NAME [--reset]` against a running worker: a
//! source's stored source offsets, a sink's group commits and its own
//! stored offsets (SQLite's strom_offsets), and a reset that needs the
//! connector paused and makes the source read again from the beginning.
mod common;

use common::connect::{
    broker, control, log, start_connect_with_control, stop_connect, try_control, wait_sqlite_rows,
    wait_state, wait_topic, write,
};

#[test]
fn offsets_show_source_and_sink_positions_and_reset_a_paused_source() {
    let b = broker();
    b.create_topic("lines", 1);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("app.log"), "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n").unwrap();
    let source = write(
        dir,
        "source.toml",
        "name = \"app-log\"\ntype = \"file-source\"\ntopic = \"lines\"\n[config]\npath = \"app.log\"\npoll_interval_ms = 50\n",
    );
    let sink = write(
        dir,
        "sink.toml",
        "name = \"to-db\"\ntype = \"sqlite-sink\"\ntopic = \"lines\"\n[config]\npath = \"out.db\"\ntable = \"t\"\nauto_create = true\n",
    );
    let child = start_connect_with_control(&b, dir, &[&source, &sink]);
    wait_topic(&b, "lines", 3, dir);
    let db = dir.join("out.db");
    wait_sqlite_rows(&db, "SELECT count(*) FROM t", &["3"], dir);

    // The source: one source partition (the file), at its end.
    let o = control(dir, &["offsets", "app-log"]);
    assert_eq!(o["role"], "source", "{o}");
    let rows = o["offsets"].as_array().expect("offsets");
    assert_eq!(rows.len(), 1, "{o}");
    assert!(
        rows[0]["offset"].to_string().contains("24"),
        "the stored position is the file's end (24 bytes): {o}"
    );

    // The sink: what it stored beside its rows (the group commit follows it).
    let o = control(dir, &["offsets", "to-db"]);
    assert_eq!(o["role"], "sink", "{o}");
    assert_eq!(o["offsets"][0]["topic"], "lines", "{o}");
    assert_eq!(o["offsets"][0]["partition"], 0, "{o}");
    assert_eq!(o["offsets"][0]["stored"], 3, "{o}");

    // A running connector is not reset; a sink is not reset here.
    let out = try_control(dir, &["offsets", "app-log", "--reset"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pause it first"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unknown = try_control(dir, &["offsets", "nosuch"]);
    assert_eq!(unknown.status.code(), Some(1));

    control(dir, &["pause", "app-log"]);
    wait_state(dir, "app-log", "PAUSED");
    let o = control(dir, &["offsets", "app-log", "--reset"]);
    assert_eq!(o["offsets"], serde_json::json!([]), "{o}");
    assert_eq!(o["reset"].as_array().map(Vec::len), Some(1), "{o}");
    assert_eq!(
        control(dir, &["offsets", "app-log"])["offsets"],
        serde_json::json!([])
    );
    control(dir, &["resume", "app-log"]);
    // From the beginning again: every line a second time, downstream too.
    let again = wait_topic(&b, "lines", 6, dir);
    assert_eq!(again.len(), 6, "{}", log(dir));
    assert_eq!(again[3]["value"], "{\"n\":1}");
    wait_sqlite_rows(&db, "SELECT count(*) FROM t", &["6"], dir);
    stop_connect(child, dir);
}

#[test]
fn a_paused_connector_stays_paused_after_a_worker_restart() {
    let b = broker();
    b.create_topic("lines", 1);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let app = dir.join("app.log");
    std::fs::write(&app, "one\n").unwrap();
    let source = write(
        dir,
        "source.toml",
        "name = \"app-log\"\ntype = \"file-source\"\ntopic = \"lines\"\n[config]\npath = \"app.log\"\npoll_interval_ms = 50\n",
    );
    let child = start_connect_with_control(&b, dir, &[&source]);
    wait_topic(&b, "lines", 1, dir);
    control(dir, &["pause", "app-log"]);
    wait_state(dir, "app-log", "PAUSED");
    stop_connect(child, dir);
    assert!(dir.join("ctl.sock.state.json").exists());

    std::fs::write(&app, "one\ntwo\n").unwrap();
    let child = start_connect_with_control(&b, dir, &[&source]);
    wait_state(dir, "app-log", "PAUSED");
    assert!(
        log(dir).contains("app-log stays paused (paused before the last stop"),
        "{}",
        log(dir)
    );
    // Nothing new was read while paused...
    assert_eq!(common::connect::topic_envelopes(&b, "lines").len(), 1);
    // ...until it is resumed, which the next restart remembers too.
    control(dir, &["resume", "app-log"]);
    let lines = wait_topic(&b, "lines", 2, dir);
    assert_eq!(lines[1]["value"], "two");
    stop_connect(child, dir);
    let child = start_connect_with_control(&b, dir, &[&source]);
    wait_state(dir, "app-log", "RUNNING");
    stop_connect(child, dir);
}
