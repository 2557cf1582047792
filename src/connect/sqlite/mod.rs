//! The SQLite connectors (rusqlite, SQLite bundled into the binary).
pub mod sink;
pub mod source;
pub mod values;

use std::path::Path;

/// Opens a database for a connector: WAL (readers never block the
/// writer) and `synchronous = FULL`, so a committed transaction survives
/// a crash of the machine, not only of the process.
pub fn open(path: &Path) -> anyhow::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)
        .map_err(|e| anyhow::anyhow!("opening SQLite database {}: {e}", path.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

/// `name` as an SQL identifier.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
