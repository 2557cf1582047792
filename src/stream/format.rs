//! How records are framed on a child's stdin and stdout.
//!
//! `lines`: one value per line (`KEY<TAB>VALUE` with keep_key); `json`: the
//! envelope of `consume --output json` / `produce --input json` (see
//! `client::envelope`), so keys, headers and timestamps survive.
use bytes::Bytes;

use super::Record;
use crate::client::envelope;
use crate::record::Header;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Lines { keep_key: bool },
    Json { keep_partition: bool },
}

impl Format {
    /// Appends one framed line (with newline) for `r`.
    pub fn encode(&self, r: &Record, out: &mut Vec<u8>) -> Result<(), String> {
        match self {
            Format::Lines { keep_key } => {
                if *keep_key {
                    let key = r.key.as_deref().unwrap_or_default();
                    if key.contains(&b'\n') || key.contains(&b'\t') {
                        return Err("a key contains a newline or tab; use --format json".into());
                    }
                    out.extend_from_slice(key);
                    out.push(b'\t');
                }
                let value = r.value.as_deref().unwrap_or_default();
                if value.contains(&b'\n') {
                    return Err("a value contains a newline; use --format json".into());
                }
                out.extend_from_slice(value);
                out.push(b'\n');
                Ok(())
            }
            Format::Json { .. } => {
                let (topic, partition, offset) = match &r.source {
                    Some(s) => (s.topic.clone(), s.partition, s.offset),
                    None => ("".into(), r.partition.unwrap_or(-1), -1),
                };
                let rec = crate::client::ConsumerRecord {
                    topic,
                    partition,
                    offset,
                    timestamp: r.timestamp.unwrap_or(-1),
                    key: r.key.clone(),
                    value: r.value.clone(),
                    headers: r.headers.clone(),
                };
                envelope::write_record(&rec, out).map_err(|e| e.to_string())
            }
        }
    }

    /// Parses one output line (without its newline).
    pub fn decode(&self, line: &[u8]) -> Result<Record, String> {
        match self {
            Format::Lines { keep_key } => {
                let (key, value) = match (keep_key, line.iter().position(|&b| b == b'\t')) {
                    (true, Some(i)) => (Some(&line[..i]), &line[i + 1..]),
                    _ => (None, line),
                };
                Ok(Record {
                    key: key.map(Bytes::copy_from_slice),
                    value: Some(Bytes::copy_from_slice(value)),
                    ..Record::default()
                })
            }
            Format::Json { keep_partition } => {
                let p = envelope::parse_record(line)?;
                Ok(Record {
                    key: p.key.map(Bytes::from),
                    value: p.value.map(Bytes::from),
                    headers: p
                        .headers
                        .into_iter()
                        .map(|(key, v)| Header {
                            key,
                            value: v.map(Bytes::from),
                        })
                        .collect(),
                    timestamp: p.timestamp,
                    partition: if *keep_partition { p.partition } else { None },
                    source: None,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_with_and_without_key() {
        let f = Format::Lines { keep_key: true };
        let r = Record {
            key: Some(Bytes::from_static(b"k")),
            value: Some(Bytes::from_static(b"v")),
            ..Record::default()
        };
        let mut out = Vec::new();
        f.encode(&r, &mut out).unwrap();
        assert_eq!(out, b"k\tv\n");
        assert_eq!(f.decode(b"k\tv").unwrap(), r);
        let plain = Format::Lines { keep_key: false };
        assert_eq!(
            plain.decode(b"a\tb").unwrap().value.as_deref(),
            Some(&b"a\tb"[..])
        );
        let bad = Record {
            value: Some(Bytes::from_static(b"a\nb")),
            ..Record::default()
        };
        assert!(plain.encode(&bad, &mut Vec::new()).is_err());
    }

    #[test]
    fn json_round_trip_keeps_headers() {
        let f = Format::Json {
            keep_partition: false,
        };
        let r = Record {
            key: Some(Bytes::from_static(b"k")),
            value: Some(Bytes::from_static(b"\xff")),
            headers: vec![Header {
                key: "h".into(),
                value: Some(Bytes::from_static(b"x")),
            }],
            timestamp: Some(5),
            ..Record::default()
        };
        let mut out = Vec::new();
        f.encode(&r, &mut out).unwrap();
        assert_eq!(f.decode(&out[..out.len() - 1]).unwrap(), r);
    }
}
