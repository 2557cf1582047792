//! What happens to records whose processing failed for good, and the
//! dead-letter record that keeps them.
use super::Record;
use crate::client::dead_letter::{add_headers, Origin};
pub use crate::client::dead_letter::{HEADER_ERROR, HEADER_OFFSET, HEADER_PARTITION, HEADER_TOPIC};

/// Header names only a stream's dead letters carry (the child's failure).
pub const HEADER_EXIT_CODE: &str = "strom.error.exit.code";
pub const HEADER_STDERR: &str = "strom.error.stderr";

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
    let mut extra = Vec::new();
    if let Some(c) = failure.exit_code {
        extra.push((HEADER_EXIT_CODE, c.to_string().into_bytes()));
    }
    extra.push((HEADER_STDERR, failure.stderr_tail.clone()));
    let origin = input.source.as_ref().map(|s| Origin {
        topic: &s.topic,
        partition: s.partition,
        offset: s.offset,
    });
    add_headers(&mut headers, &failure.error, &extra, origin);
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
