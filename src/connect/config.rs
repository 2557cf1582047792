//! One connector's TOML file, read and checked in one step.
//!
//! Every mistake is a [`ConfigError`] naming the file and the key, so a
//! worker refuses a bad file at start instead of failing later. The
//! type-specific `[config]` table is read through [`Keys`], which also
//! refuses keys nobody asked for (a typo must not leave a default in place).
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::{Table, Value};

/// A bad connector file: which file, which key, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// Dotted path of the key (`config.mode`), if the error is about one.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(k) => write!(f, "{}: key '{k}': {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// `[errors] tolerance`: what a record-level error does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tolerance {
    /// The task fails (and restarts with backoff); nothing of the batch is
    /// written or committed.
    None,
    /// The record is skipped, or written to `dlq` if set.
    All,
}

/// The `[errors]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPolicy {
    pub tolerance: Tolerance,
    /// Dead-letter topic for records skipped under `tolerance = "all"`.
    pub dlq: Option<String>,
    /// Extra attempts for an operation that failed with a retriable
    /// (connection) error before the task counts as failed.
    pub retries: u32,
}

impl Default for ErrorPolicy {
    fn default() -> Self {
        ErrorPolicy {
            tolerance: Tolerance::None,
            dlq: None,
            retries: 3,
        }
    }
}

/// One connector file, with the type-specific `[config]` left as a table
/// for its connector type to read.
#[derive(Debug, Clone)]
pub struct ConnectorConfig {
    pub file: PathBuf,
    pub name: String,
    /// `type`: which connector (see `connect::registry`).
    pub kind: String,
    /// `topic` (one) or `topics` (a list): what a source writes, what a
    /// sink reads.
    pub topics: Vec<String>,
    /// Most records a sink takes per batch (one transaction).
    pub batch_max: usize,
    pub errors: ErrorPolicy,
    /// `[consumer]`: Kafka consumer properties for a sink's group member.
    pub consumer: Vec<(String, String)>,
    /// `transform` and `route`, compiled.
    pub transforms: super::transform::Transforms,
    /// `[config]`, read by the connector type.
    pub config: Table,
}

impl ConnectorConfig {
    /// Reads and checks `path` (everything but `[config]`, which the
    /// connector type checks).
    pub fn load(path: &Path) -> Result<ConnectorConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            key: None,
            message: format!("cannot read it: {e}"),
        })?;
        ConnectorConfig::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<ConnectorConfig, ConfigError> {
        let table: Table = text.parse().map_err(|e: toml::de::Error| ConfigError {
            file: path.to_path_buf(),
            key: None,
            message: format!("not valid TOML: {}", e.message()),
        })?;
        let mut top = Keys::new(path, "", table);
        let name = top.string("name")?;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(top.error("name", "use 1 or more of a-z A-Z 0-9 . _ -"));
        }
        let kind = top.string("type")?;
        let topic = top.opt_string("topic")?;
        let topics = top.opt_string_list("topics")?;
        let topics = match (topic, topics) {
            (Some(_), Some(_)) => return Err(top.error("topics", "give topic or topics, not both")),
            (Some(t), None) => vec![t],
            (None, Some(ts)) if !ts.is_empty() => ts,
            (None, Some(_)) => return Err(top.error("topics", "must name at least one topic")),
            (None, None) => return Err(top.error("topic", "missing (give topic or topics)")),
        };
        for t in &topics {
            let key = if topics.len() == 1 { "topic" } else { "topics" };
            check_user_topic(t).map_err(|e| top.error(key, &format!("{t:?}: {e}")))?;
        }
        let batch_max = top.opt_int("batch_max", 1, 1_000_000)?.unwrap_or(5_000) as usize;
        let errors = match top.opt_table("errors")? {
            Some(t) => parse_errors(Keys::new(path, "errors", t))?,
            None => ErrorPolicy::default(),
        };
        let consumer = match top.opt_table("consumer")? {
            Some(t) => {
                let mut out = Vec::new();
                for (k, v) in t {
                    let v = match v {
                        Value::String(s) => s,
                        Value::Integer(i) => i.to_string(),
                        Value::Boolean(b) => b.to_string(),
                        _ => {
                            return Err(ConfigError {
                                file: path.to_path_buf(),
                                key: Some(format!("consumer.{k}")),
                                message: "must be a string, integer or boolean".into(),
                            })
                        }
                    };
                    let mut probe = crate::client::GroupConfig::new("probe");
                    probe.set(&k, &v).map_err(|e| ConfigError {
                        file: path.to_path_buf(),
                        key: Some(format!("consumer.{k}")),
                        message: e,
                    })?;
                    out.push((k, v));
                }
                out
            }
            None => Vec::new(),
        };
        let transform = top.opt_string("transform")?;
        let route = top.opt_string("route")?;
        let transforms =
            super::transform::Transforms::compile(transform.as_deref(), route.as_deref())
                .map_err(|(key, e)| top.error(key, &e))?;
        let config = top.opt_table("config")?.unwrap_or_default();
        top.finish()?;
        Ok(ConnectorConfig {
            file: path.to_path_buf(),
            name,
            kind,
            topics,
            batch_max,
            errors,
            consumer,
            transforms,
            config,
        })
    }

    /// The `[config]` table, for the connector type to read.
    pub fn keys(&self) -> Keys<'_> {
        Keys::new(&self.file, "config", self.config.clone())
    }

    /// The `table` of a polling SQL source (`sqlite-source`,
    /// `postgres-source`): required unless the mode is `query`, refused
    /// with it; and `query` refused in the other modes. Empty in query mode.
    pub fn polled_table(
        &self,
        query_mode: bool,
        table: Option<String>,
        query_given: bool,
    ) -> Result<String, ConfigError> {
        let table = match (query_mode, table) {
            (true, Some(_)) => {
                return Err(self.error(
                    "table",
                    "not used with mode = \"query\" (the query says what to read)",
                ))
            }
            (true, None) => String::new(),
            (false, t) => t
                .filter(|s| !s.is_empty())
                .ok_or_else(|| self.error("table", "missing (required unless mode = \"query\")"))?,
        };
        if query_given && !query_mode {
            return Err(self.error("query", "only used with mode = \"query\""));
        }
        Ok(table)
    }

    /// An error about `[config]`'s `key`.
    pub fn error(&self, key: &str, message: &str) -> ConfigError {
        self.keys().error(key, message)
    }
}

/// A topic a connector reads or writes: Kafka's name rule, and not one of
/// strom's internal (`__`) topics.
pub(super) fn check_user_topic(name: &str) -> Result<(), String> {
    crate::proto::topic_name::check_topic_name(name)?;
    if crate::proto::is_internal_topic(name) {
        return Err("topics starting with __ are strom's internal topics".into());
    }
    Ok(())
}

fn parse_errors(mut t: Keys<'_>) -> Result<ErrorPolicy, ConfigError> {
    let tolerance = match t.opt_choice("tolerance", &["none", "all"])? {
        Some("all") => Tolerance::All,
        _ => Tolerance::None,
    };
    let dlq = t.opt_string("dlq")?;
    if let Some(d) = &dlq {
        check_user_topic(d).map_err(|e| t.error("dlq", &format!("{d:?}: {e}")))?;
        if tolerance == Tolerance::None {
            return Err(t.error(
                "dlq",
                "needs tolerance = \"all\" (with \"none\" a bad record fails the task)",
            ));
        }
    }
    let retries = t.opt_int("retries", 0, 1_000_000)?.unwrap_or(3) as u32;
    t.finish()?;
    Ok(ErrorPolicy {
        tolerance,
        dlq,
        retries,
    })
}

/// Typed reads from one TOML table that remember what was read, so
/// [`finish`](Keys::finish) can refuse the keys nobody knows.
pub struct Keys<'a> {
    file: &'a Path,
    /// `config`, `errors`, or empty for the top level.
    prefix: &'static str,
    table: Table,
}

impl<'a> Keys<'a> {
    pub fn new(file: &'a Path, prefix: &'static str, table: Table) -> Keys<'a> {
        Keys {
            file,
            prefix,
            table,
        }
    }

    /// An error naming `key` in this table.
    pub fn error(&self, key: &str, message: &str) -> ConfigError {
        ConfigError {
            file: self.file.to_path_buf(),
            key: Some(if self.prefix.is_empty() {
                key.to_string()
            } else {
                format!("{}.{key}", self.prefix)
            }),
            message: message.to_string(),
        }
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        self.table.remove(key)
    }

    /// A required string.
    pub fn string(&mut self, key: &str) -> Result<String, ConfigError> {
        self.opt_string(key)?
            .ok_or_else(|| self.error(key, "missing (required)"))
    }

    pub fn opt_string(&mut self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.error(key, &format!("must be a string, not {}", v.type_str()))),
        }
    }

    pub fn opt_string_list(&mut self, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Array(a)) => a
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    v => Err(self.error(key, &format!("must list strings, not {}", v.type_str()))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(v) => Err(self.error(
                key,
                &format!("must be a list of strings, not {}", v.type_str()),
            )),
        }
    }

    pub fn opt_bool(&mut self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(b)),
            Some(v) => {
                Err(self.error(key, &format!("must be true or false, not {}", v.type_str())))
            }
        }
    }

    /// An integer within `min..=max`.
    pub fn opt_int(&mut self, key: &str, min: i64, max: i64) -> Result<Option<i64>, ConfigError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Integer(i)) if (min..=max).contains(&i) => Ok(Some(i)),
            Some(Value::Integer(i)) => {
                Err(self.error(key, &format!("{i} is out of range {min}..={max}")))
            }
            Some(v) => Err(self.error(key, &format!("must be an integer, not {}", v.type_str()))),
        }
    }

    /// Milliseconds, at least 1.
    pub fn opt_millis(&mut self, key: &str) -> Result<Option<Duration>, ConfigError> {
        Ok(self
            .opt_int(key, 1, i64::from(i32::MAX))?
            .map(|ms| Duration::from_millis(ms as u64)))
    }

    /// One of `choices`.
    pub fn opt_choice(
        &mut self,
        key: &str,
        choices: &[&'static str],
    ) -> Result<Option<&'static str>, ConfigError> {
        match self.opt_string(key)? {
            None => Ok(None),
            Some(s) => match choices.iter().find(|c| **c == s) {
                Some(c) => Ok(Some(*c)),
                None => {
                    Err(self.error(key, &format!("{s:?} is not one of {}", quote_list(choices))))
                }
            },
        }
    }

    pub fn opt_table(&mut self, key: &str) -> Result<Option<Table>, ConfigError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Table(t)) => Ok(Some(t)),
            Some(v) => Err(self.error(key, &format!("must be a table, not {}", v.type_str()))),
        }
    }

    /// Refuses keys that were never read.
    pub fn finish(self) -> Result<(), ConfigError> {
        match self.table.keys().next() {
            None => Ok(()),
            Some(k) => Err(self.error(k, "unknown key")),
        }
    }
}

fn quote_list(choices: &[&str]) -> String {
    choices
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConnectorConfig, ConfigError> {
        ConnectorConfig::parse(Path::new("c.toml"), text)
    }

    #[test]
    fn reads_the_issue_example() {
        let c = parse(
            r#"
name = "orders-to-sqlite"
type = "sqlite-sink"
topics = ["orders"]
[config]
path = "orders.db"
mode = "upsert"
"#,
        )
        .unwrap();
        assert_eq!(c.name, "orders-to-sqlite");
        assert_eq!(c.kind, "sqlite-sink");
        assert_eq!(c.topics, ["orders"]);
        assert_eq!(c.errors, ErrorPolicy::default());
        let mut k = c.keys();
        assert_eq!(k.string("path").unwrap(), "orders.db");
        assert_eq!(
            k.opt_choice("mode", &["insert", "upsert"]).unwrap(),
            Some("upsert")
        );
        k.finish().unwrap();
    }

    #[test]
    fn errors_name_file_and_key() {
        let e = parse("type = \"x\"\ntopic = \"t\"").unwrap_err();
        assert_eq!(e.to_string(), "c.toml: key 'name': missing (required)");
        let e = parse("name = \"n\"\ntype = \"x\"").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("topic"));
        let e = parse("name = \"n\"\ntype = \"x\"\ntopic = \"t\"\nnaem = 1").unwrap_err();
        assert_eq!(e.to_string(), "c.toml: key 'naem': unknown key");
        let e = parse("name = \"n\"\ntype = \"x\"\ntopic = \"t\"\n[errors]\ntolerance = \"some\"")
            .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("errors.tolerance"));
        let e =
            parse("name = \"n\"\ntype = \"x\"\ntopic = \"t\"\n[errors]\ndlq = \"d\"").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("errors.dlq"));
        let e = parse(
            "name = \"n\"\ntype = \"x\"\ntopic = \"t\"\n[consumer]\n\"session.timeout.ms\" = \"x\"",
        )
        .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("consumer.session.timeout.ms"));
        let e = parse("name = \"n\"\ntype = 3\ntopic = \"t\"").unwrap_err();
        assert!(e.message.contains("must be a string"), "{e}");
    }
}
