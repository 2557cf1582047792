//! The JSON record envelope shared by `consume --output json` and
//! `produce --input json`, so one can feed the other.
//!
//! Rule for key, value and header values: a JSON string when the bytes are
//! valid UTF-8, `{"base64": "..."}` otherwise, `null` for null. Decoding
//! accepts both forms anywhere, so binary data round-trips exactly.
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::client::ConsumerRecord;
use crate::jq::Envelope;

/// Bytes in the envelope's encoding.
struct Data<'a>(Option<&'a [u8]>);

impl Serialize for Data<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            None => s.serialize_none(),
            Some(b) => match std::str::from_utf8(b) {
                Ok(text) => s.serialize_str(text),
                Err(_) => {
                    let mut m = s.serialize_map(Some(1))?;
                    m.serialize_entry("base64", &B64.encode(b))?;
                    m.end()
                }
            },
        }
    }
}

#[derive(Serialize)]
struct HeaderOut<'a> {
    key: &'a str,
    value: Data<'a>,
}

#[derive(Serialize)]
struct EnvelopeOut<'a> {
    topic: &'a str,
    partition: i32,
    offset: i64,
    timestamp: i64,
    key: Data<'a>,
    value: Data<'a>,
    headers: Vec<HeaderOut<'a>>,
}

/// Appends one envelope line (with newline) for a record.
pub fn write_record(rec: &ConsumerRecord, out: &mut Vec<u8>) -> serde_json::Result<()> {
    let env = EnvelopeOut {
        topic: &rec.topic,
        partition: rec.partition,
        offset: rec.offset,
        timestamp: rec.timestamp,
        key: Data(rec.key.as_deref()),
        value: Data(rec.value.as_deref()),
        headers: rec
            .headers
            .iter()
            .map(|h| HeaderOut {
                key: &h.key,
                value: Data(h.value.as_deref()),
            })
            .collect(),
    };
    serde_json::to_writer(&mut *out, &env)?;
    out.push(b'\n');
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "a key, value or header must be a string, {\"base64\": \"...\"} or null"
)]
enum DataIn {
    Text(String),
    Binary { base64: String },
}

impl DataIn {
    fn into_bytes(self) -> Result<Vec<u8>, String> {
        match self {
            DataIn::Text(s) => Ok(s.into_bytes()),
            DataIn::Binary { base64 } => B64
                .decode(base64.as_bytes())
                .map_err(|e| format!("bad base64: {e}")),
        }
    }
}

#[derive(Debug, Deserialize)]
struct HeaderIn {
    key: String,
    value: Option<DataIn>,
}

#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "headers must be a list of {\"key\": ..., \"value\": ...} or an object"
)]
enum HeadersIn {
    List(Vec<HeaderIn>),
    /// `{"k": "v"}` is accepted too, for hand-written input.
    Map(serde_json::Map<String, serde_json::Value>),
}

#[derive(Debug, Deserialize)]
struct EnvelopeIn {
    #[serde(default)]
    partition: Option<i32>,
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(default)]
    key: Option<DataIn>,
    #[serde(default)]
    value: Option<DataIn>,
    #[serde(default)]
    headers: Option<HeadersIn>,
    // topic and offset are accepted (and ignored) via serde's default of
    // allowing unknown fields.
}

/// A record read from an envelope line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedRecord {
    pub partition: Option<i32>,
    pub timestamp: Option<i64>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// serde's message without its "at line 1 column N" tail (the input is one
/// line, and the caller names it), the column said once, in plain words.
fn json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let text = e.to_string();
    let text = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(head, _)| head);
    match e.classify() {
        Category::Syntax => format!("invalid JSON at column {}: {text}", e.column()),
        Category::Eof => "incomplete JSON (the line ends inside a value)".to_string(),
        Category::Data => format!("{text} (column {})", e.column()),
        Category::Io => text.to_string(),
    }
}

/// Parses one envelope line.
pub fn parse_record(line: &[u8]) -> Result<ParsedRecord, String> {
    let env: EnvelopeIn = serde_json::from_slice(line).map_err(|e| json_error(&e))?;
    let headers = match env.headers {
        None => Vec::new(),
        Some(HeadersIn::List(list)) => list
            .into_iter()
            .map(|h| Ok((h.key, h.value.map(DataIn::into_bytes).transpose()?)))
            .collect::<Result<_, String>>()?,
        Some(HeadersIn::Map(map)) => map
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::Null => None,
                    other => Some(
                        serde_json::from_value::<DataIn>(other)
                            .map_err(|e| format!("header {k}: {e}"))?
                            .into_bytes()?,
                    ),
                };
                Ok((k, v))
            })
            .collect::<Result<_, String>>()?,
    };
    Ok(ParsedRecord {
        partition: env.partition,
        timestamp: env.timestamp,
        key: env.key.map(DataIn::into_bytes).transpose()?,
        value: env.value.map(DataIn::into_bytes).transpose()?,
        headers,
    })
}

/// A record as it was read, as a jq expression sees it.
impl<'a> From<&'a ConsumerRecord> for Envelope<'a> {
    /// A record as it was read.
    fn from(r: &'a ConsumerRecord) -> Envelope<'a> {
        Envelope {
            topic: &r.topic,
            partition: Some(r.partition),
            offset: Some(r.offset),
            timestamp: Some(r.timestamp),
            key: r.key.as_ref(),
            value: r.value.as_ref(),
            headers: &r.headers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Header;
    use bytes::Bytes;
    use std::sync::Arc;

    #[test]
    fn binary_and_text_round_trip() {
        let rec = ConsumerRecord {
            topic: Arc::from("t"),
            partition: 2,
            offset: 9,
            timestamp: 123,
            key: Some(Bytes::from_static(b"k\xff\x00")),
            value: Some(Bytes::from_static("välue\n\"q\"".as_bytes())),
            headers: vec![
                Header {
                    key: "a".into(),
                    value: Some(Bytes::from_static(b"\x80")),
                },
                Header {
                    key: "n".into(),
                    value: None,
                },
            ],
        };
        let mut line = Vec::new();
        write_record(&rec, &mut line).unwrap();
        assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
        let text = String::from_utf8(line.clone()).unwrap();
        assert!(text.contains(r#""key":{"base64":"a/8A"}"#), "{text}");
        let back = parse_record(&line[..line.len() - 1]).unwrap();
        assert_eq!(back.key.as_deref(), Some(&b"k\xff\x00"[..]));
        assert_eq!(back.value.as_deref(), Some("välue\n\"q\"".as_bytes()));
        assert_eq!(back.timestamp, Some(123));
        assert_eq!(
            back.headers,
            vec![("a".to_string(), Some(vec![0x80])), ("n".to_string(), None)]
        );
    }

    #[test]
    fn minimal_and_map_headers() {
        let r = parse_record(br#"{"value":"v","headers":{"h":"x","z":null}}"#).unwrap();
        assert_eq!(r.key, None);
        assert_eq!(r.value, Some(b"v".to_vec()));
        assert_eq!(r.headers.len(), 2);
        assert!(parse_record(b"not json").is_err());
        assert!(parse_record(br#"{"value":{"base64":"!!"}}"#).is_err());
    }
}

#[cfg(test)]
mod jq_tests {
    use super::*;
    use crate::jq::Output;
    use crate::record::Header;
    use bytes::Bytes;

    #[test]
    fn envelope_matches_consume_output_json() {
        let key = Bytes::from_static(b"k\xff");
        let value = Bytes::from_static(b"v\"1\"");
        let headers = vec![
            Header {
                key: "h".into(),
                value: Some(Bytes::from_static(b"x")),
            },
            Header {
                key: "n".into(),
                value: None,
            },
        ];
        let env = Envelope {
            topic: "t",
            partition: Some(2),
            offset: Some(9),
            timestamp: Some(123),
            key: Some(&key),
            value: Some(&value),
            headers: &headers,
        };
        let rec = ConsumerRecord {
            topic: "t".into(),
            partition: 2,
            offset: 9,
            timestamp: 123,
            key: Some(key.clone()),
            value: Some(value.clone()),
            headers: headers.clone(),
        };
        let mut line = Vec::new();
        write_record(&rec, &mut line).unwrap();
        let printed = String::from_utf8(line).unwrap();
        assert_eq!(env.to_val().to_string(), printed.trim_end());
        // And it reads back as the same record.
        let out = Output::from_val(&env.to_val()).unwrap();
        assert_eq!(out.key, Some(key));
        assert_eq!(out.value, Some(value));
        assert_eq!(out.headers, headers);
        assert_eq!((out.timestamp, out.partition), (Some(123), Some(2)));
    }
}
