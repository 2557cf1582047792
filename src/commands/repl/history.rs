//! REPL history in `$XDG_STATE_HOME/strom/history` (default
//! `~/.local/state/strom/history`). Each line is appended as soon as it is
//! entered, so history survives a crash or a second Ctrl-C. Problems with
//! the file are reported once and never stop the REPL.
use std::io::Write;
use std::path::PathBuf;

use rustyline::history::{FileHistory, History as _};

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
    /// Reads the file (if any) into `lines`.
    pub fn load(lines: &mut FileHistory) -> History {
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
                if let Err(e) = lines.load(&p) {
                    h.warn(&format!("cannot read history {}: {e}", p.display()));
                }
            }
        }
        h
    }

    /// Adds a line to memory and to the file.
    pub fn add(&mut self, lines: &mut FileHistory, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        let _ = lines.add(line);
        if let Some(p) = self.path.clone() {
            if let Err(e) = lines.append(&p) {
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
