//! The file connectors: `file-source` tails a file (across rotation and
//! truncation), `file-sink` appends records to one (fsynced per batch,
//! rotated by size). Both read `format = "lines" | "json"`.
pub mod sink;
pub mod source;

use crate::connect::config::{ConfigError, ConnectorConfig, Keys};

/// How records and lines map onto each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One record value per line, the bytes as they are.
    Lines,
    /// Source: each line one JSON value (the record value). Sink: each
    /// record as its `consume --output json` envelope.
    Json,
}

/// Reads the `format` key (default `"lines"`).
pub fn format(k: &mut Keys<'_>) -> Result<Format, ConfigError> {
    Ok(match k.opt_choice("format", &["lines", "json"])? {
        Some("json") => Format::Json,
        _ => Format::Lines,
    })
}

/// The required `path`, not empty.
pub fn path(cfg: &ConnectorConfig, k: &mut Keys<'_>) -> Result<std::path::PathBuf, ConfigError> {
    let p = k.string("path")?;
    if p.is_empty() {
        return Err(cfg.error("path", "must not be empty"));
    }
    Ok(p.into())
}

/// fsyncs the directory holding `path`, so a created or renamed entry in
/// it survives a crash of the machine.
pub fn sync_dir(path: &std::path::Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    std::fs::File::open(dir)?.sync_all()
}
