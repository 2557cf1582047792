//! Small durable-file helpers shared by the log store and the state
//! machine: whole-file replace that survives a crash at any point.
use std::fs;
use std::io::Write;
use std::path::Path;

/// Writes `body` to `path` atomically: temp file, fsync, rename, fsync dir.
/// A crash leaves either the old or the new content, never a mix.
pub fn replace(path: &Path, body: &[u8], durable: bool) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(body)?;
        if durable {
            f.sync_all()?;
        }
    }
    fs::rename(&tmp, path)?;
    if durable {
        sync_dir(path)?;
    }
    Ok(())
}

/// fsyncs the directory holding `path`, so a create/rename/unlink in it is durable.
pub fn sync_dir(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) => fs::File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

/// Reads a file, `None` when it does not exist.
pub fn read_opt(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
