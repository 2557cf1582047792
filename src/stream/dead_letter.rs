//! What happens to records whose processing failed for good, and the
//! dead-letter record that keeps them.
use bytes::Bytes;

use super::Record;
use crate::record::Header;

/// Header names added to a dead-letter record.
pub const HEADER_ERROR: &str = "strom.error";
pub const HEADER_EXIT_CODE: &str = "strom.error.exit.code";
pub const HEADER_STDERR: &str = "strom.error.stderr";
pub const HEADER_TOPIC: &str = "strom.source.topic";
pub const HEADER_PARTITION: &str = "strom.source.partition";
pub const HEADER_OFFSET: &str = "strom.source.offset";

/// `--on-error`: after the retries are spent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnError {
    /// Stop the stream without committing the failed batch.
    Fail,
    /// Drop the batch's records and go on.
    Skip,
    /// Write each record of the batch to this topic and go on.
    DeadLetter(String),
}

impl std::str::FromStr for OnError {
    type Err = String;
    fn from_str(s: &str) -> Result<OnError, String> {
        match s {
            "fail" => Ok(OnError::Fail),
            "skip" => Ok(OnError::Skip),
            _ => match s.strip_prefix("dlq:") {
                Some(t) if !t.is_empty() => Ok(OnError::DeadLetter(t.to_string())),
                _ => Err(format!("expected fail, skip or dlq:TOPIC, got {s:?}")),
            },
        }
    }
}

/// Why a batch failed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Failure {
    pub error: String,
    /// The child's exit code, if it exited by itself.
    pub exit_code: Option<i32>,
    /// The end of what the child wrote to stderr.
    pub stderr_tail: Vec<u8>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error)
    }
}

/// The dead letter for `input`: its key, value, headers and timestamp,
/// plus headers naming the failure and where the record was read.
pub fn dead_letter(input: &Record, failure: &Failure) -> Record {
    let mut headers = input.headers.clone();
    let mut add = |k: &str, v: Vec<u8>| {
        headers.push(Header {
            key: k.to_string(),
            value: Some(Bytes::from(v)),
        })
    };
    add(HEADER_ERROR, failure.error.clone().into_bytes());
    if let Some(c) = failure.exit_code {
        add(HEADER_EXIT_CODE, c.to_string().into_bytes());
    }
    add(HEADER_STDERR, failure.stderr_tail.clone());
    if let Some(s) = &input.source {
        add(HEADER_TOPIC, s.topic.as_bytes().to_vec());
        add(HEADER_PARTITION, s.partition.to_string().into_bytes());
        add(HEADER_OFFSET, s.offset.to_string().into_bytes());
    }
    Record {
        key: input.key.clone(),
        value: input.value.clone(),
        headers,
        timestamp: input.timestamp,
        partition: None,
        source: input.source.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_policies() {
        assert_eq!("fail".parse(), Ok(OnError::Fail));
        assert_eq!("dlq:dead".parse(), Ok(OnError::DeadLetter("dead".into())));
        assert!("dlq:".parse::<OnError>().is_err());
        assert!("ignore".parse::<OnError>().is_err());
    }
}
