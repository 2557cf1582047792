//! `strom connect standalone` refuses bad connector files before anything
//! starts: exit 2, one line per mistake naming the file and the key.
mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write connector file");
    p
}

#[test]
fn bad_connector_files_exit_2_naming_file_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let good = write(
        dir,
        "good.toml",
        "name = \"g\"\ntype = \"sqlite-sink\"\ntopic = \"t\"\n[config]\npath = \"g.db\"\ntable = \"t\"\n",
    );
    let cases: &[(&str, &str, &str)] = &[
        (
            "unknown-type.toml",
            "name = \"a\"\ntype = \"ftp-sink\"\ntopic = \"t\"\n",
            "unknown-type.toml: key 'type': unknown connector type \"ftp-sink\"",
        ),
        (
            "missing-key.toml",
            "name = \"b\"\ntype = \"sqlite-sink\"\ntopic = \"t\"\n[config]\npath = \"b.db\"\n",
            "missing-key.toml: key 'config.table': missing",
        ),
        (
            "bad-value.toml",
            "name = \"c\"\ntype = \"sqlite-sink\"\ntopic = \"t\"\n[config]\npath = \"c.db\"\ntable = \"t\"\nmode = \"merge\"\n",
            "bad-value.toml: key 'config.mode': \"merge\" is not one of \"insert\", \"upsert\"",
        ),
        (
            "upsert-no-key.toml",
            "name = \"d\"\ntype = \"sqlite-sink\"\ntopic = \"t\"\n[config]\npath = \"d.db\"\ntable = \"t\"\nmode = \"upsert\"\n",
            "upsert-no-key.toml: key 'config.key_column': missing",
        ),
        (
            "typo.toml",
            "name = \"e\"\ntype = \"sqlite-source\"\ntopic = \"t\"\n[config]\npath = \"e.db\"\ntable = \"t\"\nmode = \"incrementing\"\nincrementing_column = \"id\"\npoll_intreval_ms = 5\n",
            "typo.toml: key 'config.poll_intreval_ms': unknown key",
        ),
        (
            "no-topic.toml",
            "name = \"f\"\ntype = \"sqlite-sink\"\n[config]\npath = \"f.db\"\ntable = \"t\"\n",
            "no-topic.toml: key 'topic': missing",
        ),
    ];
    for (file, text, want) in cases {
        let bad = write(dir, file, text);
        // The good file beside it does not start either; no broker is
        // needed to find the mistake.
        let out = common::run_with_timeout(
            {
                let mut c = common::strom();
                c.current_dir(dir)
                    .args(["connect", "standalone", "-b", "127.0.0.1:1"])
                    .arg(&good)
                    .arg(&bad);
                c
            },
            None,
            Duration::from_secs(30),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(stderr.contains(want), "{file}: want {want:?} in:\n{stderr}");
        assert!(stderr.contains("no connector was started"), "{stderr}");
        assert!(!dir.join("g.db").exists(), "the good connector started");
    }
    // Two files with one name.
    let twin = write(
        dir,
        "twin.toml",
        "name = \"g\"\ntype = \"sqlite-sink\"\ntopic = \"t\"\n[config]\npath = \"h.db\"\ntable = \"t\"\n",
    );
    let out = common::run_with_timeout(
        {
            let mut c = common::strom();
            c.current_dir(dir)
                .args(["connect", "standalone", "-b", "127.0.0.1:1"])
                .arg(&good)
                .arg(&twin);
            c
        },
        None,
        Duration::from_secs(30),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("twin.toml: key 'name'"), "{stderr}");
}
