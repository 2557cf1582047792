//! `file-source`: tails a file, one record per line.
//!
//! Position: the file's inode and the byte offset after the last line
//! returned (`{"path", "inode", "pos"}`, source partition = the path as
//! configured). A line counts once it ends with `\n`; a partial last line
//! waits for the rest, except at the end of a file that was rotated away
//! or truncated, where it is returned as it is (no byte is dropped).
//!
//! - **Rotation** (the path now names another inode, or nothing): the old
//!   file is read to its end, then the file now at the path is read from 0.
//!   While the path names nothing, the old file is still followed (the
//!   writer may not have reopened yet).
//! - **Truncation** (the file is shorter than the position): read again
//!   from 0.
//! - **Restart**: the stored inode is looked for at the path, else among
//!   the files of its directory (a rotated name such as `app.log.1`): that
//!   file is finished from the stored position first. If it is gone, the
//!   file at the path is read from 0.
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Format;
use crate::connect::api::{Source, SourceRecord};
use crate::connect::config::{ConfigError, ConnectorConfig, Tolerance};
use crate::connect::registry::SourceFactory;

/// Most bytes one poll reads, so a huge backlog goes out in steps.
const POLL_BYTES: usize = 8 << 20;

#[derive(Debug, Clone)]
pub struct Settings {
    /// The connector file, named in errors.
    pub file: PathBuf,
    pub path: PathBuf,
    pub format: Format,
    pub batch_max: usize,
    pub poll_interval: Duration,
    /// A line longer than this is returned in pieces of this size.
    pub max_line_bytes: usize,
    pub tolerance: Tolerance,
}

/// What is stored per source partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    inode: u64,
    pos: u64,
}

/// Reads `[config]` of a `file-source`.
pub fn configure(cfg: &ConnectorConfig) -> Result<SourceFactory, ConfigError> {
    let mut k = cfg.keys();
    let path = super::path(cfg, &mut k)?;
    let format = super::format(&mut k)?;
    let poll_interval = k
        .opt_millis("poll_interval_ms")?
        .unwrap_or(Duration::from_millis(250));
    let max_line_bytes = k.opt_int("max_line_bytes", 1, 64 << 20)?.unwrap_or(1 << 20) as usize;
    k.finish()?;
    let settings = Arc::new(Settings {
        file: cfg.file.clone(),
        path,
        format,
        batch_max: cfg.batch_max,
        poll_interval,
        max_line_bytes,
        tolerance: cfg.errors.tolerance,
    });
    Ok(Arc::new(move || {
        Ok(Box::new(FileSource::new(settings.clone())) as Box<dyn Source>)
    }))
}

/// The file being read.
struct Open {
    reader: BufReader<File>,
    inode: u64,
    /// Where the next line starts (everything before was returned).
    pos: u64,
    /// Bytes read after `pos` that do not end a line yet.
    partial: Vec<u8>,
    /// The path names another file now: read this one to its end, then
    /// switch.
    finishing: bool,
}

pub struct FileSource {
    s: Arc<Settings>,
    partition: String,
    cur: Option<Open>,
    /// Said once while the path does not exist.
    told_missing: bool,
}

fn open_at(path: &Path, pos: u64) -> std::io::Result<Open> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    let pos = if meta.len() < pos { 0 } else { pos };
    file.seek(SeekFrom::Start(pos))?;
    Ok(Open {
        reader: BufReader::with_capacity(256 << 10, file),
        inode: meta.ino(),
        pos,
        partial: Vec::new(),
        finishing: false,
    })
}

/// A regular file in `path`'s directory whose inode is `inode`.
fn find_inode(path: &Path, inode: u64) -> Option<PathBuf> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .find(|e| e.metadata().is_ok_and(|m| m.is_file() && m.ino() == inode))
        .map(|e| e.path())
}

impl FileSource {
    pub fn new(s: Arc<Settings>) -> FileSource {
        FileSource {
            partition: s.path.to_string_lossy().into_owned(),
            s,
            cur: None,
            told_missing: false,
        }
    }

    fn context(&self, what: &str) -> String {
        format!(
            "{}: key 'config.path': {what} {}",
            self.s.file.display(),
            self.s.path.display()
        )
    }

    /// The inode at the path now, or None if nothing is there.
    fn inode_at_path(&self) -> anyhow::Result<Option<u64>> {
        match std::fs::metadata(&self.s.path) {
            Ok(m) => Ok(Some(m.ino())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow::Error::new(e).context(self.context("cannot read"))),
        }
    }

    /// Opens the file at the path from 0, if there is one.
    fn open_path(&mut self) -> anyhow::Result<bool> {
        match open_at(&self.s.path, 0) {
            Ok(o) => {
                tracing::info!(path = %self.s.path.display(), inode = o.inode, "reading from the start");
                self.cur = Some(o);
                self.told_missing = false;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !self.told_missing {
                    tracing::info!(path = %self.s.path.display(), "waiting for the file to exist");
                    self.told_missing = true;
                }
                Ok(false)
            }
            Err(e) => Err(anyhow::Error::new(e).context(self.context("cannot open"))),
        }
    }

    /// Turns one line (without its newline) into a record, or nothing if
    /// it is skipped.
    /// `start`..`end`: where the line (with its newline) lies in the file.
    fn record(
        &self,
        line: &[u8],
        inode: u64,
        start: u64,
        end: u64,
    ) -> anyhow::Result<Option<SourceRecord>> {
        let value = match self.s.format {
            Format::Lines => line.to_vec(),
            Format::Json => {
                let text = line.trim_ascii();
                if text.is_empty() {
                    return Ok(None);
                }
                if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(text) {
                    let why = format!(
                        "the line at byte {start} of {} is not JSON: {e}",
                        self.s.path.display()
                    );
                    if self.s.tolerance == Tolerance::None {
                        anyhow::bail!(
                            "{}: {why} (errors.tolerance = \"none\"; \"all\" skips such lines)",
                            self.s.file.display()
                        );
                    }
                    tracing::warn!(path = %self.s.path.display(), "skipped: {why}");
                    return Ok(None);
                }
                text.to_vec()
            }
        };
        Ok(Some(SourceRecord {
            key: None,
            value: Some(value),
            timestamp: None,
            source_partition: self.partition.clone(),
            source_offset: serde_json::json!({
                "path": self.partition,
                "inode": inode,
                "pos": end,
            }),
        }))
    }

    /// Reads lines of the current file into `out`, up to the limits.
    /// Returns true when the end of the file was reached.
    fn read_lines(
        &mut self,
        out: &mut Vec<SourceRecord>,
        bytes: &mut usize,
    ) -> anyhow::Result<bool> {
        let max_line = self.s.max_line_bytes;
        loop {
            if out.len() >= self.s.batch_max || *bytes >= POLL_BYTES {
                return Ok(false);
            }
            let Some(o) = self.cur.as_mut() else {
                return Ok(true);
            };
            let room = (max_line + 1).saturating_sub(o.partial.len()) as u64;
            let n = (&mut o.reader)
                .take(room)
                .read_until(b'\n', &mut o.partial)
                .map_err(|e| {
                    anyhow::Error::new(e).context(format!("reading {}", self.s.path.display()))
                })?;
            let ended = o.partial.last() == Some(&b'\n');
            if !ended && o.partial.len() <= max_line {
                if n == 0 {
                    return Ok(true);
                }
                // A partial line: more may follow in this read.
                continue;
            }
            let mut line = std::mem::take(&mut o.partial);
            let consumed = line.len() as u64;
            if ended {
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
            } else {
                // Longer than max_line_bytes: this piece goes out as is.
                let rest = line.split_off(max_line);
                o.partial = rest;
                tracing::warn!(path = %self.s.path.display(), at = o.pos, max_line_bytes = max_line, "a line longer than max_line_bytes is split");
            }
            let start = o.pos;
            o.pos += consumed - o.partial.len() as u64;
            let (inode, end) = (o.inode, o.pos);
            *bytes += line.len();
            out.extend(self.record(&line, inode, start, end)?);
        }
    }

    /// The partial last line of a file that is done with, as a record.
    fn flush_partial(&mut self, out: &mut Vec<SourceRecord>) -> anyhow::Result<()> {
        let Some(o) = self.cur.as_mut() else {
            return Ok(());
        };
        if o.partial.is_empty() {
            return Ok(());
        }
        let line = std::mem::take(&mut o.partial);
        let start = o.pos;
        o.pos += line.len() as u64;
        let (inode, end) = (o.inode, o.pos);
        out.extend(self.record(&line, inode, start, end)?);
        Ok(())
    }
}

impl Source for FileSource {
    fn start(&mut self, offsets: &HashMap<String, serde_json::Value>) -> anyhow::Result<()> {
        self.cur = None;
        let stored = match offsets.get(&self.partition) {
            None => None,
            Some(v) => match serde_json::from_value::<Position>(v.clone()) {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::warn!(offset = %v, error = %e, "unreadable stored offset; reading from the start");
                    None
                }
            },
        };
        let Some(stored) = stored else {
            self.open_path()?;
            return Ok(());
        };
        let at_path = self.inode_at_path()?;
        if at_path == Some(stored.inode) {
            let o = open_at(&self.s.path, stored.pos)
                .map_err(|e| anyhow::Error::new(e).context(self.context("cannot open")))?;
            if o.pos != stored.pos {
                tracing::warn!(path = %self.s.path.display(), stored = stored.pos, "the file was truncated while stopped; reading from the start");
            }
            self.cur = Some(o);
            return Ok(());
        }
        // Rotated while stopped: finish the old file first, if it is still
        // in the directory.
        match find_inode(&self.s.path, stored.inode) {
            Some(old) => {
                let mut o = open_at(&old, stored.pos).map_err(|e| {
                    anyhow::Error::new(e).context(format!("cannot open {}", old.display()))
                })?;
                o.finishing = at_path.is_some();
                tracing::info!(path = %self.s.path.display(), rotated_to = %old.display(), pos = o.pos, "finishing the rotated file first");
                self.cur = Some(o);
            }
            None => {
                tracing::warn!(path = %self.s.path.display(), inode = stored.inode, "the file last read is gone; reading the file at the path from the start");
                self.open_path()?;
            }
        }
        Ok(())
    }

    fn poll(&mut self) -> anyhow::Result<Vec<SourceRecord>> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        // A few rounds: finishing a rotated file and starting the next one
        // can happen in one poll.
        for _ in 0..4 {
            if self.cur.is_none() && !self.open_path()? {
                break;
            }
            if !self.read_lines(&mut out, &mut bytes)? {
                break; // limits reached; more next poll
            }
            // At the end of the file: is it still the one at the path?
            let Some(o) = self.cur.as_ref() else { break };
            let (inode, finishing) = (o.inode, o.finishing);
            let len = o
                .reader
                .get_ref()
                .metadata()
                .map_err(|e| {
                    anyhow::Error::new(e).context(format!("reading {}", self.s.path.display()))
                })?
                .len();
            let at_path = self.inode_at_path()?;
            if finishing {
                self.flush_partial(&mut out)?;
                tracing::info!(path = %self.s.path.display(), old_inode = inode, "rotated: the old file is done, reading the new one");
                self.cur = None;
                continue;
            }
            match at_path {
                Some(i) if i != inode => {
                    // Rotated: one more read of the old file to its end
                    // (lines written between the read and the rename).
                    if let Some(o) = self.cur.as_mut() {
                        o.finishing = true;
                    }
                    continue;
                }
                _ => {}
            }
            let read_to = self
                .cur
                .as_ref()
                .map_or(0, |o| o.pos + o.partial.len() as u64);
            if len < read_to {
                // Truncated (copytruncate, `> file`): from the start.
                self.flush_partial(&mut out)?;
                tracing::warn!(path = %self.s.path.display(), len, pos = read_to, "truncated: reading from the start");
                if let Some(o) = self.cur.as_mut() {
                    o.reader.seek(SeekFrom::Start(0)).map_err(|e| {
                        anyhow::Error::new(e).context(format!("reading {}", self.s.path.display()))
                    })?;
                    o.pos = 0;
                    o.partial.clear();
                }
                continue;
            }
            break;
        }
        Ok(out)
    }

    fn poll_interval(&self) -> Duration {
        self.s.poll_interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn source(dir: &Path, format: Format) -> FileSource {
        FileSource::new(Arc::new(Settings {
            file: dir.join("c.toml"),
            path: dir.join("app.log"),
            format,
            batch_max: 1000,
            poll_interval: Duration::from_millis(10),
            max_line_bytes: 16,
            tolerance: Tolerance::None,
        }))
    }

    fn values(rs: &[SourceRecord]) -> Vec<String> {
        rs.iter()
            .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned())
            .collect()
    }

    fn append(path: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn lines_rotation_truncation_and_resume() {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("app.log");
        let mut s = source(tmp.path(), Format::Lines);
        s.start(&HashMap::new()).unwrap();
        assert!(s.poll().unwrap().is_empty(), "no file yet");
        append(&log, "a\nb\r\npart");
        assert_eq!(values(&s.poll().unwrap()), ["a", "b"]);
        append(&log, "ial\n");
        let rs = s.poll().unwrap();
        assert_eq!(values(&rs), ["partial"]);
        // Rotation: a line written before the rename, an unfinished one.
        append(&log, "c\nd-unfinished");
        std::fs::rename(&log, tmp.path().join("app.log.1")).unwrap();
        append(&log, "new1\n");
        assert_eq!(values(&s.poll().unwrap()), ["c", "d-unfinished", "new1"]);
        // Truncation.
        std::fs::write(&log, "").unwrap();
        assert!(s.poll().unwrap().is_empty());
        append(&log, "t1\n");
        let rs = s.poll().unwrap();
        assert_eq!(values(&rs), ["t1"]);
        // A long line comes in pieces.
        append(&log, "0123456789abcdefXYZ\n");
        assert_eq!(values(&s.poll().unwrap()), ["0123456789abcdef", "XYZ"]);
        // Resume from a stored offset: after "t1" (pos 3).
        let stored: HashMap<String, serde_json::Value> =
            [(s.partition.clone(), rs[0].source_offset.clone())].into();
        let mut again = source(tmp.path(), Format::Lines);
        again.start(&stored).unwrap();
        assert_eq!(values(&again.poll().unwrap()), ["0123456789abcdef", "XYZ"]);
    }

    #[test]
    fn resume_finishes_a_file_rotated_while_stopped() {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("app.log");
        append(&log, "1\n2\n");
        let mut s = source(tmp.path(), Format::Lines);
        s.start(&HashMap::new()).unwrap();
        let rs = s.poll().unwrap();
        assert_eq!(values(&rs), ["1", "2"]);
        let stored: HashMap<String, serde_json::Value> =
            [(s.partition.clone(), rs[0].source_offset.clone())].into();
        append(&log, "3\n");
        std::fs::rename(&log, tmp.path().join("app.log.1")).unwrap();
        append(&log, "4\n");
        let mut again = source(tmp.path(), Format::Lines);
        again.start(&stored).unwrap();
        assert_eq!(values(&again.poll().unwrap()), ["2", "3", "4"]);
    }

    #[test]
    fn json_lines_validate_and_skip_blank() {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("app.log");
        append(&log, "{\"a\": 1}\n\n  [2] \n");
        let mut s = source(tmp.path(), Format::Json);
        s.start(&HashMap::new()).unwrap();
        assert_eq!(values(&s.poll().unwrap()), ["{\"a\": 1}", "[2]"]);
        append(&log, "nope\n");
        let e = s.poll().unwrap_err().to_string();
        assert!(e.contains("byte 17") && e.contains("not JSON"), "{e}");
    }
}
