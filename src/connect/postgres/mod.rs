//! The PostgreSQL connectors, over the `postgres` crate (the blocking
//! client built on tokio-postgres; each connection runs its own small
//! runtime, so connector threads stay plain blocking code like SQLite's).
//!
//! Connections are plain TCP without TLS (`NoTls`): the connectors are
//! meant for a database on loopback or a trusted network; TLS is not
//! available yet.
pub mod sink;
pub mod source;

use std::str::FromStr;
use std::time::Duration;

use crate::connect::config::{ConfigError, ConnectorConfig};

/// How long connecting may take before the attempt counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// `config.url`, checked at load time: `postgres://user[:password]@host:port/db`
/// (or libpq's `key=value` form).
pub fn parse_url(cfg: &ConnectorConfig, url: &str) -> Result<postgres::Config, ConfigError> {
    let mut c = postgres::Config::from_str(url)
        .map_err(|e| cfg.error("url", &format!("not a PostgreSQL connection URL: {e}")))?;
    if c.get_user().is_none() {
        return Err(cfg.error("url", "names no user (postgres://USER@HOST:PORT/DB)"));
    }
    if c.get_hosts().is_empty() {
        return Err(cfg.error("url", "names no host (postgres://USER@HOST:PORT/DB)"));
    }
    if c.get_connect_timeout().is_none() {
        c.connect_timeout(CONNECT_TIMEOUT);
    }
    c.application_name(&format!("strom-connect-{}", cfg.name));
    Ok(c)
}

/// Where a config points, for errors (no password).
pub fn describe(c: &postgres::Config) -> String {
    let host = match c.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => String::new(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{}@{host}:{port}/{}",
        c.get_user().unwrap_or_default(),
        c.get_dbname().unwrap_or_default()
    )
}

/// Connects, with an error naming the database and the key.
pub fn connect(c: &postgres::Config, file: &std::path::Path) -> anyhow::Result<postgres::Client> {
    c.connect(postgres::NoTls).map_err(|e| {
        anyhow::anyhow!(
            "{}: key 'config.url': connecting to PostgreSQL at {}: {}",
            file.display(),
            describe(c),
            error_text(&e)
        )
    })
}

/// A PostgreSQL error with its server message, when there is one.
pub fn error_text(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                s.push_str(": ");
                s.push_str(&inner.to_string());
                src = inner.source();
            }
            s
        }
    }
}

/// `name` as an SQL identifier.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
