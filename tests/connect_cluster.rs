//! `strom connect` against a three-broker cluster: the connect runtime
//! creates `__strom_connect_offsets` through the metadata quorum (internal,
//! replicated) and a source resumes from it after a restart.
mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::cluster::{self, partitions, run_client, Cluster, Deadline};
use common::{send_signal, wait_exit};

const CMD: Duration = Duration::from_secs(40);

fn start_connect(bootstrap: &str, dir: &std::path::Path, file: &std::path::Path) -> Child {
    common::strom()
        .current_dir(dir)
        .args(["connect", "standalone", "-b", bootstrap])
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn strom connect")
}

fn stop(mut child: Child) {
    send_signal(child.id(), "-TERM");
    let status = wait_exit(&mut child, Instant::now() + Duration::from_secs(30));
    if status.is_none() {
        let _ = child.kill();
    }
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}

fn records(bootstrap: &str, want: usize, deadline: Instant) -> Vec<String> {
    loop {
        let (_, out, _) = run_client(
            &["consume", "-t", "events", "--from-beginning", "-e"],
            bootstrap,
            None,
            CMD,
        );
        let lines: Vec<String> = out.lines().map(String::from).collect();
        if lines.len() >= want {
            return lines;
        }
        assert!(Instant::now() < deadline, "only {lines:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn source_offsets_live_in_a_replicated_internal_topic() {
    let deadline = Instant::now() + Duration::from_secs(120);
    let rt = cluster::runtime();
    let c = Cluster::new(3, Deadline::At(deadline)).start();
    rt.block_on(cluster::create_topic(&c, "events", 1, &[]));
    let bootstrap = c.bootstrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = rusqlite::Connection::open(dir.join("events.db")).unwrap();
    db.execute_batch(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, what TEXT);
         INSERT INTO events (what) VALUES ('a'), ('b'), ('c');",
    )
    .unwrap();
    let file = dir.join("events.toml");
    std::fs::write(
        &file,
        "name = \"events\"\ntype = \"sqlite-source\"\ntopic = \"events\"\n[config]\n\
         path = \"events.db\"\ntable = \"events\"\nmode = \"incrementing\"\n\
         incrementing_column = \"seq\"\npoll_interval_ms = 50\n",
    )
    .unwrap();
    let child = start_connect(&bootstrap, dir, &file);
    assert_eq!(records(&bootstrap, 3, deadline).len(), 3);
    stop(child);
    let (ok, describe, err) = run_client(
        &["topics", "describe", "__strom_connect_offsets"],
        &bootstrap,
        None,
        CMD,
    );
    assert!(ok, "{err}");
    let parts = partitions(&describe);
    assert_eq!(parts.len(), 1, "{describe}");
    assert_eq!(parts[0].replicas.len(), 3, "not replicated: {describe}");
    db.execute("INSERT INTO events (what) VALUES ('d')", [])
        .unwrap();
    let child = start_connect(&bootstrap, dir, &file);
    let got = records(&bootstrap, 4, deadline);
    stop(child);
    assert_eq!(
        got.len(),
        4,
        "read again or skipped after the restart: {got:?}"
    );
}
