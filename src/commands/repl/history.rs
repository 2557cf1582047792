//! REPL history in `$XDG_STATE_HOME/strom/history` (default
//! `~/.local/state/strom/history`). Each line is appended as soon as it is
//! entered, so history survives a crash or a second Ctrl-C. Problems with
//! the file are reported once and never stop the REPL.
use std::io::Write;
use std::path::PathBuf;

use rustyline::history::FileHistory;
use rustyline::{Editor, Helper};

pub fn path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local").join("state"))
        })?;
    Some(base.join("strom").join("history"))
}

pub struct History {
    path: Option<PathBuf>,
    warned: bool,
}

impl History {
    pub fn load<H: Helper>(editor: &mut Editor<H, FileHistory>) -> History {
        let mut h = History {
            path: path(),
            warned: false,
        };
        if let Some(p) = h.path.clone() {
            if let Some(dir) = p.parent() {
                if let Err(e) = std::fs::create_dir_all(dir) {
                    h.warn(&format!("cannot create {}: {e}", dir.display()));
                    return h;
                }
            }
            if p.exists() {
                if let Err(e) = editor.load_history(&p) {
                    h.warn(&format!("cannot read history {}: {e}", p.display()));
                }
            }
        }
        h
    }

    /// Adds a line to memory and to the file.
    pub fn add<H: Helper>(&mut self, editor: &mut Editor<H, FileHistory>, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        let _ = editor.add_history_entry(line);
        if let Some(p) = self.path.clone() {
            if let Err(e) = editor.append_history(&p) {
                self.warn(&format!("cannot write history {}: {e}", p.display()));
            }
        }
    }

    fn warn(&mut self, msg: &str) {
        if !self.warned {
            self.warned = true;
            let _ = writeln!(std::io::stderr().lock(), "warning: {msg}");
        }
    }
}
