//! `file-sink`: appends records to a file, one line each.
//!
//! Each batch is written and fsynced before `put` returns, so the worker
//! commits the group only after the lines are on disk: at least once (a
//! crash after the fsync and before the commit writes the batch again).
//!
//! Rotation (`rotate_bytes`): before a record would take the file past
//! the limit, the file is fsynced and renamed to `<path>.<N>`, N = 1, 2,
//! 3, ... (one more than the highest already there: the highest is the
//! newest; a rotated file is never renamed again), and a new file is
//! started at the path.
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{sync_dir, Format};
use crate::client::envelope::write_record;
use crate::client::ConsumerRecord;
use crate::connect::api::{OffsetRange, RecordError, Rejects, Sink, TopicPartition};
use crate::connect::config::{ConfigError, ConnectorConfig};
use crate::connect::registry::SinkFactory;

#[derive(Debug, Clone)]
pub struct Settings {
    /// The connector file, named in errors.
    pub file: PathBuf,
    pub path: PathBuf,
    pub format: Format,
    /// Rotate before the file would grow past this many bytes.
    pub rotate_bytes: Option<u64>,
}

/// Reads `[config]` of a `file-sink`.
pub fn configure(cfg: &ConnectorConfig) -> Result<SinkFactory, ConfigError> {
    let mut k = cfg.keys();
    let path = super::path(cfg, &mut k)?;
    let format = super::format(&mut k)?;
    let rotate_bytes = k.opt_int("rotate_bytes", 1, i64::MAX)?.map(|n| n as u64);
    k.finish()?;
    if path.file_name().is_none() {
        return Err(cfg.error("path", "must name a file"));
    }
    let settings = Arc::new(Settings {
        file: cfg.file.clone(),
        path,
        format,
        rotate_bytes,
    });
    Ok(Arc::new(move || {
        Ok(Box::new(FileSink::new(settings.clone())) as Box<dyn Sink>)
    }))
}

/// The rotated name `<path>.<n>`.
pub fn rotated_name(path: &Path, n: u64) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// The highest N of the `<path>.<N>` files there are (0 if none).
fn highest_rotated(path: &Path) -> u64 {
    let (Some(dir), Some(base)) = (path.parent(), path.file_name()) else {
        return 0;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{}.", base.to_string_lossy());
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.strip_prefix(&prefix)?.parse::<u64>().ok()
                })
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

struct Output {
    file: File,
    size: u64,
}

pub struct FileSink {
    s: Arc<Settings>,
    /// None until the first write, and again after a write failed (so
    /// the next attempt starts on a clean line).
    out: Option<Output>,
}

impl FileSink {
    pub fn new(s: Arc<Settings>) -> FileSink {
        FileSink { s, out: None }
    }

    fn context(&self, what: &str) -> String {
        format!(
            "{}: key 'config.path': {what} {}",
            self.s.file.display(),
            self.s.path.display()
        )
    }

    /// Opens the file for appending; a last line torn by a crash is ended
    /// first, so the next line starts clean.
    fn open(&self) -> anyhow::Result<Output> {
        let existed = self.s.path.exists();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&self.s.path)
            .map_err(|e| anyhow::Error::new(e).context(self.context("cannot open")))?;
        let mut size = file.metadata()?.len();
        if size > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(size - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
                file.sync_data()?;
                size += 1;
                tracing::warn!(path = %self.s.path.display(), "the last line was unfinished (a crash while writing); ended it");
            }
        }
        if !existed {
            sync_dir(&self.s.path)?;
        }
        Ok(Output { file, size })
    }

    /// Renames the (fsynced) file to the next `<path>.<N>` and starts a
    /// new one.
    fn rotate(&mut self) -> anyhow::Result<()> {
        let n = highest_rotated(&self.s.path) + 1;
        let to = rotated_name(&self.s.path, n);
        std::fs::rename(&self.s.path, &to).map_err(|e| {
            anyhow::Error::new(e)
                .context(self.context(&format!("cannot rotate to {}:", to.display())))
        })?;
        sync_dir(&self.s.path)?;
        tracing::info!(path = %self.s.path.display(), rotated_to = %to.display(), "rotated");
        self.out = Some(self.open()?);
        Ok(())
    }

    /// Writes the encoded lines, rotating where needed, and fsyncs.
    fn write(&mut self, lines: &[Vec<u8>]) -> anyhow::Result<()> {
        if self.out.is_none() {
            self.out = Some(self.open()?);
        }
        let mut pending: Vec<u8> = Vec::new();
        for line in lines {
            let out = self
                .out
                .as_mut()
                .ok_or_else(|| anyhow::anyhow!("no file open"))?;
            let size = out.size + pending.len() as u64;
            if let Some(limit) = self.s.rotate_bytes {
                if size > 0 && size + line.len() as u64 > limit {
                    out.file.write_all(&pending)?;
                    out.file.sync_data()?;
                    out.size += pending.len() as u64;
                    pending.clear();
                    self.rotate()?;
                }
            }
            pending.extend_from_slice(line);
        }
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("no file open"))?;
        out.file.write_all(&pending)?;
        out.file.sync_data()?;
        out.size += pending.len() as u64;
        Ok(())
    }

    /// One record as its line (with the newline), or why it has none.
    fn encode(&self, r: &ConsumerRecord) -> Result<Vec<u8>, RecordError> {
        match self.s.format {
            Format::Lines => {
                let Some(v) = r.value.as_deref() else {
                    return Err(RecordError(
                        "a tombstone (null value) has no line (format = \"json\" keeps it)".into(),
                    ));
                };
                if v.contains(&b'\n') {
                    return Err(RecordError(
                        "the value holds a newline, so it would not read back as one line (format = \"json\" keeps it)".into(),
                    ));
                }
                let mut line = Vec::with_capacity(v.len() + 1);
                line.extend_from_slice(v);
                line.push(b'\n');
                Ok(line)
            }
            Format::Json => {
                let mut line = Vec::new();
                write_record(r, &mut line).map_err(|e| RecordError(e.to_string()))?;
                Ok(line)
            }
        }
    }
}

impl Sink for FileSink {
    /// Nothing: a file sink resumes at the group's commits.
    fn stored_offsets(
        &mut self,
        _partitions: &[TopicPartition],
    ) -> anyhow::Result<HashMap<TopicPartition, i64>> {
        Ok(HashMap::new())
    }

    fn put(
        &mut self,
        batch: &[ConsumerRecord],
        _ranges: &[OffsetRange],
        rejects: &mut dyn Rejects,
    ) -> anyhow::Result<()> {
        // Every record encoded (or rejected) before a byte is written, so
        // a failing reject writes nothing.
        let mut lines = Vec::with_capacity(batch.len());
        for r in batch {
            match self.encode(r) {
                Ok(line) => lines.push(line),
                Err(why) => rejects.reject(r, &why)?,
            }
        }
        let written = self.write(&lines);
        if written.is_err() {
            // Reopened (and a torn line ended) on the next attempt.
            self.out = None;
        }
        written.map_err(|e| e.context(self.context("writing")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    struct Skip(usize);
    impl Rejects for Skip {
        fn reject(&mut self, _: &ConsumerRecord, _: &RecordError) -> anyhow::Result<()> {
            self.0 += 1;
            Ok(())
        }
    }

    fn rec(offset: i64, value: Option<&'static str>) -> ConsumerRecord {
        ConsumerRecord {
            topic: Arc::from("t"),
            partition: 0,
            offset,
            timestamp: 5,
            key: None,
            value: value.map(|v| Bytes::from_static(v.as_bytes())),
            headers: vec![],
        }
    }

    fn sink(dir: &Path, format: Format, rotate_bytes: Option<u64>) -> FileSink {
        FileSink::new(Arc::new(Settings {
            file: dir.join("c.toml"),
            path: dir.join("out.log"),
            format,
            rotate_bytes,
        }))
    }

    #[test]
    fn lines_rotate_by_size_and_torn_lines_end() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out.log");
        std::fs::write(&out, "torn").unwrap();
        let mut s = sink(tmp.path(), Format::Lines, Some(10));
        let mut skip = Skip(0);
        let batch = [
            rec(0, Some("aaaa")),
            rec(1, None),
            rec(2, Some("bb\nb")),
            rec(3, Some("cccc")),
            rec(4, Some("dd")),
        ];
        s.put(&batch, &[], &mut skip).unwrap();
        assert_eq!(skip.0, 2);
        // "torn\n" (5) + "aaaa\n" (5) = 10; "cccc\n" would pass 10.
        assert_eq!(
            std::fs::read_to_string(rotated_name(&out, 1)).unwrap(),
            "torn\naaaa\n"
        );
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "cccc\ndd\n");
        s.put(&[rec(5, Some("eeee"))], &[], &mut skip).unwrap();
        assert_eq!(
            std::fs::read_to_string(rotated_name(&out, 2)).unwrap(),
            "cccc\ndd\n"
        );
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "eeee\n");
        // A fresh sink goes on numbering after the highest.
        let mut again = sink(tmp.path(), Format::Lines, Some(10));
        again
            .put(&[rec(6, Some("ffffffff"))], &[], &mut skip)
            .unwrap();
        assert!(rotated_name(&out, 3).exists());
    }

    #[test]
    fn json_envelopes() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = sink(tmp.path(), Format::Json, None);
        s.put(&[rec(7, Some("v\n")), rec(8, None)], &[], &mut Skip(0))
            .unwrap();
        let text = std::fs::read_to_string(tmp.path().join("out.log")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].contains(r#""offset":7"#) && lines[0].contains(r#""value":"v\n""#),
            "{text}"
        );
        assert!(lines[1].contains(r#""value":null"#), "{text}");
    }
}
