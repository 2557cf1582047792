//! A connector's `transform` and `route` (strom's jq): a file-source that
//! reshapes lines, drops some and routes the rest by content; a SQLite
//! sink that reshapes and drops records before writing, with the records
//! its transform fails on dead-lettered; and bad expressions refused at
//! start, naming the file and key.
mod common;

use common::connect::{
    broker, header, log, sqlite_rows, start_connect, stop_connect, wait_log, wait_sqlite_rows,
    wait_topic, write,
};

#[test]
fn source_transform_drops_reshapes_and_routes_by_content() {
    let b = broker();
    for t in ["lines", "errors-only", "src-dlq"] {
        b.create_topic(t, 1);
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("app.log"),
        "INFO start\n# a comment\nERROR disk full\nINFO BAD line\nINFO done\n",
    )
    .unwrap();
    let file = write(
        dir,
        "src.toml",
        r##"
name = "app-log"
type = "file-source"
topic = "lines"
transform = '''
select(.value | startswith("#") | not)
| if (.value | test("BAD")) then error("control character in the line") else . end
| (.value | split(" ")) as [$level, $msg]
| .key = $level
| .value = {level: $level, msg: $msg}
'''
route = 'if .key == "ERROR" then "errors-only" else .topic end'
[config]
path = "app.log"
format = "lines"
[errors]
tolerance = "all"
dlq = "src-dlq"
"##,
    );
    let child = start_connect(&b, dir, &[&file]);
    let info = wait_topic(&b, "lines", 2, dir);
    let errors = wait_topic(&b, "errors-only", 1, dir);
    let dlq = wait_topic(&b, "src-dlq", 1, dir);
    stop_connect(child, dir);
    let values: Vec<&str> = info.iter().map(|e| e["value"].as_str().unwrap()).collect();
    assert_eq!(
        values,
        [
            r#"{"level":"INFO","msg":"start"}"#,
            r#"{"level":"INFO","msg":"done"}"#
        ],
        "{}",
        log(dir)
    );
    assert_eq!(info[0]["key"], "INFO");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["value"], r#"{"level":"ERROR","msg":"disk"}"#);
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0]["value"], "INFO BAD line");
    assert_eq!(
        header(&dlq[0], "strom.connector").as_deref(),
        Some("app-log")
    );
    let why = header(&dlq[0], "strom.error").unwrap_or_default();
    assert!(why.contains("transform: control character"), "{why}");
    assert!(header(&dlq[0], "strom.connect.source.partition").is_some());
}

#[test]
fn sink_transform_reshapes_drops_and_dead_letters_before_writing() {
    let b = broker();
    b.create_topic("orders", 1);
    b.create_topic("orders-dlq", 1);
    b.ok(
        &["produce", "-t", "orders", "-K", "\t"],
        Some(
            b"1\t{\"qty\":2,\"price\":5}\n2\t{\"qty\":0,\"price\":9}\n3\tnot json\n4\t{\"qty\":1,\"price\":7}\n",
        ),
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let file = write(
        dir,
        "sink.toml",
        r#"
name = "orders-to-sqlite"
type = "sqlite-sink"
topics = ["orders"]
transform = 'select(.value | fromjson | .qty > 0) | .value |= (fromjson | {total: (.qty * .price)})'
[config]
path = "orders.db"
table = "orders"
mode = "upsert"
key_column = "id"
auto_create = true
[errors]
tolerance = "all"
dlq = "orders-dlq"
"#,
    );
    let child = start_connect(&b, dir, &[&file]);
    let db = dir.join("orders.db");
    wait_sqlite_rows(
        &db,
        "SELECT id, total FROM orders ORDER BY id",
        &["1|10", "4|7"],
        dir,
    );
    // The dropped record and the failed one still moved the stored offset.
    wait_sqlite_rows(
        &db,
        "SELECT next_offset FROM strom_offsets WHERE connector = 'orders-to-sqlite'",
        &["4"],
        dir,
    );
    let dlq = wait_topic(&b, "orders-dlq", 1, dir);
    stop_connect(child, dir);
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0]["key"], "3");
    assert_eq!(dlq[0]["value"], "not json");
    assert_eq!(header(&dlq[0], "strom.source.offset").as_deref(), Some("2"));
    let why = header(&dlq[0], "strom.error").unwrap_or_default();
    assert!(why.starts_with("transform: "), "{why}");
    assert_eq!(
        sqlite_rows(&db, "SELECT count(*) FROM orders"),
        Some(vec!["2".to_string()])
    );
}

#[test]
fn a_failing_transform_under_tolerance_none_fails_the_task_and_writes_nothing() {
    let b = broker();
    b.create_topic("in", 1);
    b.ok(&["produce", "-t", "in"], Some(b"{\"a\":1}\nnot json\n"));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let file = write(
        dir,
        "strict.toml",
        r#"
name = "strict"
type = "sqlite-sink"
topic = "in"
transform = '.value |= fromjson'
[config]
path = "out.db"
table = "t"
auto_create = true
"#,
    );
    let child = start_connect(&b, dir, &[&file]);
    wait_log(dir, "task FAILED: record in:0 offset 1: transform: ");
    stop_connect(child, dir);
    assert!(
        sqlite_rows(&dir.join("out.db"), "SELECT * FROM t").is_none(),
        "part of the failed batch was written"
    );
}

#[test]
fn bad_transform_or_route_exits_2_naming_file_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cases = [
        (
            "transform = '.value |'\n",
            "file-source",
            "key 'transform': invalid transform expression",
        ),
        (
            "route = 'nosuch(1)'\n",
            "file-source",
            "key 'route': invalid route expression: undefined filter nosuch/1",
        ),
        (
            "route = '\"x\"'\n",
            "file-sink",
            "key 'route': route picks the topic a source writes",
        ),
    ];
    for (i, (line, kind, want)) in cases.iter().enumerate() {
        let f = write(
            dir,
            &format!("c{i}.toml"),
            &format!(
                "name = \"c{i}\"\ntype = \"{kind}\"\ntopic = \"t\"\n{line}[config]\npath = \"x.log\"\n"
            ),
        );
        let out = common::strom()
            .current_dir(dir)
            .args(["connect", "standalone", "-b", "127.0.0.1:1"])
            .arg(&f)
            .output()
            .expect("run strom connect");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(&format!("c{i}.toml: {want}")), "{err}");
    }
}
