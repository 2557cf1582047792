//! `strom generate man|completions DIR` (hidden): documentation derived
//! from the one clap definition, so it cannot drift from `--help`.
//! `scripts/gen-docs.sh` runs it into `man/` and `completions/`, and
//! `tests/docs_generated.rs` fails when the checked-in copies are stale.
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use clap_complete::Shell;

use crate::cli::args::GenerateCommand;

pub fn run(command: GenerateCommand) -> anyhow::Result<()> {
    match command {
        GenerateCommand::Man { dir } => man(&dir),
        GenerateCommand::Completions { dir } => completions(&dir),
    }
}

fn create_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// `strom.1` plus one page per (nested) subcommand: `strom-topics-create.1`.
fn man(dir: &Path) -> anyhow::Result<()> {
    create_dir(dir)?;
    clap_mangen::generate_to(crate::cli::command(), dir)
        .with_context(|| format!("cannot write man pages to {}", dir.display()))?;
    note(dir)
}

fn completions(dir: &Path) -> anyhow::Result<()> {
    create_dir(dir)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let mut cmd = crate::cli::command();
        clap_complete::generate_to(shell, &mut cmd, "strom", dir)
            .with_context(|| format!("cannot write {shell} completions to {}", dir.display()))?;
    }
    note(dir)
}

/// Says where the files went; on stderr, since it is a log, not data.
fn note(dir: &Path) -> anyhow::Result<()> {
    let _ = writeln!(std::io::stderr().lock(), "wrote {}", dir.display());
    Ok(())
}
