//! The checked-in man pages and completions must match what the binary
//! generates from its clap definition. When this fails, run
//! `scripts/gen-docs.sh` and commit the result.
mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{run_with_timeout, strom, COMMAND_TIMEOUT};

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        out.insert(name, std::fs::read(e.path()).unwrap_or_default());
    }
    out
}

fn check(kind: &str, checked_in: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cmd = strom();
    cmd.args(["generate", kind]).arg(tmp.path());
    let out = run_with_timeout(cmd, None, COMMAND_TIMEOUT);
    assert!(
        out.status.success(),
        "strom generate {kind} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fresh = files(tmp.path());
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join(checked_in);
    let old = files(&repo);
    assert!(!fresh.is_empty(), "strom generate {kind} wrote nothing");
    let fresh_names: Vec<&String> = fresh.keys().collect();
    let old_names: Vec<&String> = old.keys().collect();
    assert_eq!(
        fresh_names, old_names,
        "{checked_in}/ has a different set of files than `strom generate {kind}` writes; \
         run scripts/gen-docs.sh"
    );
    for (name, body) in &fresh {
        assert!(
            old.get(name) == Some(body),
            "{checked_in}/{name} is out of date; run scripts/gen-docs.sh"
        );
    }
}

#[test]
fn man_pages_are_up_to_date() {
    check("man", "man");
}

#[test]
fn completions_are_up_to_date() {
    check("completions", "completions");
}

#[test]
fn every_subcommand_has_a_page() {
    let man = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    for page in [
        "strom.1",
        "strom-topics-create.1",
        "strom-repl.1",
        "strom-config-show.1",
    ] {
        assert!(man.join(page).exists(), "man/{page} missing");
    }
    assert!(
        !man.join("strom-generate.1").exists(),
        "the hidden generate command gets no page"
    );
}
