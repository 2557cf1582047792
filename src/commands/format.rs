//! How `consume` lays out a record as text: kcat `-f` format strings and
//! Kafka console-consumer `--property print.*` settings compile to the
//! same token list, rendered into a reused buffer with no allocation per
//! record.
use std::fmt::Write as _;

use crate::client::ConsumerRecord;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(Vec<u8>),
    Topic,
    Partition,
    Offset,
    Key,
    Value,
    Timestamp,
    Headers,
    KeyLen,
    ValueLen,
}

#[derive(Debug, Clone)]
pub struct Layout {
    toks: Vec<Tok>,
    /// Printed for a null key or value.
    null: Vec<u8>,
    /// Between a header's key and value.
    header_kv: Vec<u8>,
    /// Between headers.
    header_sep: Vec<u8>,
    /// Printed when a record has no headers.
    no_headers: Vec<u8>,
}

impl Layout {
    /// The default: the value, then a newline.
    pub fn value_only() -> Layout {
        Layout::kafka(&[]).unwrap_or_else(|_| Layout {
            toks: vec![Tok::Value, Tok::Lit(b"\n".to_vec())],
            null: b"null".to_vec(),
            header_kv: b":".to_vec(),
            header_sep: b",".to_vec(),
            no_headers: b"NO_HEADERS".to_vec(),
        })
    }

    /// Compiles a kcat format string.
    /// Prints `null` for a null key, value or header value (kcat's `-Z`).
    pub fn with_null(mut self, null: &[u8]) -> Layout {
        self.null = null.to_vec();
        self
    }

    pub fn kcat(fmt: &str) -> Result<Layout, String> {
        let mut toks = Vec::new();
        let mut lit = Vec::new();
        let mut chars = fmt.chars();
        let flush = |lit: &mut Vec<u8>, toks: &mut Vec<Tok>| {
            if !lit.is_empty() {
                toks.push(Tok::Lit(std::mem::take(lit)));
            }
        };
        while let Some(c) = chars.next() {
            match c {
                '%' => {
                    let tok = match chars.next() {
                        Some('t') => Tok::Topic,
                        Some('p') => Tok::Partition,
                        Some('o') => Tok::Offset,
                        Some('k') => Tok::Key,
                        Some('s') => Tok::Value,
                        Some('T') => Tok::Timestamp,
                        Some('h') => Tok::Headers,
                        Some('K') => Tok::KeyLen,
                        Some('S') => Tok::ValueLen,
                        Some('%') => {
                            lit.push(b'%');
                            continue;
                        }
                        Some(other) => return Err(format!("unknown format token %{other}")),
                        None => return Err("format ends with a lone %".into()),
                    };
                    flush(&mut lit, &mut toks);
                    toks.push(tok);
                }
                '\\' => match chars.next() {
                    Some('n') => lit.push(b'\n'),
                    Some('t') => lit.push(b'\t'),
                    Some('r') => lit.push(b'\r'),
                    Some('\\') => lit.push(b'\\'),
                    Some(other) => {
                        lit.push(b'\\');
                        let mut b = [0; 4];
                        lit.extend_from_slice(other.encode_utf8(&mut b).as_bytes());
                    }
                    None => lit.push(b'\\'),
                },
                other => {
                    let mut b = [0; 4];
                    lit.extend_from_slice(other.encode_utf8(&mut b).as_bytes());
                }
            }
        }
        flush(&mut lit, &mut toks);
        Ok(Layout {
            toks,
            null: Vec::new(),
            header_kv: b"=".to_vec(),
            header_sep: b",".to_vec(),
            no_headers: Vec::new(),
        })
    }

    /// Kafka console-consumer layout from `--property` settings:
    /// `[CreateTime:T SEP][Partition:P SEP][Offset:O SEP][headers SEP][key SEP]value LINESEP`.
    pub fn kafka(props: &[(String, String)]) -> Result<Layout, String> {
        let print = |name: &str, default: bool| -> Result<bool, String> {
            match props.iter().rev().find(|(k, _)| k == name) {
                None => Ok(default),
                Some((_, v)) => v
                    .parse::<bool>()
                    .map_err(|_| format!("{name} must be true or false, got {v:?}")),
            }
        };
        let (ts, part, off, hdr, key, val) = (
            print("print.timestamp", false)?,
            print("print.partition", false)?,
            print("print.offset", false)?,
            print("print.headers", false)?,
            print("print.key", false)?,
            print("print.value", true)?,
        );
        let get = |name: &str, default: &str| -> Vec<u8> {
            props
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map_or(default, |(_, v)| v.as_str())
                .replace("\\t", "\t")
                .replace("\\n", "\n")
                .into_bytes()
        };
        for (k, _) in props {
            let known = [
                "print.timestamp",
                "print.partition",
                "print.offset",
                "print.headers",
                "print.key",
                "print.value",
                "key.separator",
                "line.separator",
                "headers.separator",
                "headers.key.separator",
                "null.literal",
            ];
            if !known.contains(&k.as_str()) {
                return Err(format!("unknown consumer property {k}"));
            }
        }
        let sep = get("key.separator", "\t");
        let mut toks = Vec::new();
        if ts {
            toks.push(Tok::Lit(b"CreateTime:".to_vec()));
            toks.push(Tok::Timestamp);
            toks.push(Tok::Lit(sep.clone()));
        }
        if part {
            toks.push(Tok::Lit(b"Partition:".to_vec()));
            toks.push(Tok::Partition);
            toks.push(Tok::Lit(sep.clone()));
        }
        if off {
            toks.push(Tok::Lit(b"Offset:".to_vec()));
            toks.push(Tok::Offset);
            toks.push(Tok::Lit(sep.clone()));
        }
        if hdr {
            toks.push(Tok::Headers);
            toks.push(Tok::Lit(sep.clone()));
        }
        if key {
            toks.push(Tok::Key);
            toks.push(Tok::Lit(sep.clone()));
        }
        if val {
            toks.push(Tok::Value);
        }
        toks.push(Tok::Lit(get("line.separator", "\n")));
        Ok(Layout {
            toks,
            null: get("null.literal", "null"),
            header_kv: get("headers.key.separator", ":"),
            header_sep: get("headers.separator", ","),
            no_headers: b"NO_HEADERS".to_vec(),
        })
    }

    /// Appends the record's text to `out`.
    pub fn render(&self, rec: &ConsumerRecord, out: &mut Vec<u8>) {
        let mut num = String::new();
        let mut put_num = |out: &mut Vec<u8>, n: i64| {
            num.clear();
            let _ = write!(num, "{n}");
            out.extend_from_slice(num.as_bytes());
        };
        for t in &self.toks {
            match t {
                Tok::Lit(b) => out.extend_from_slice(b),
                Tok::Topic => out.extend_from_slice(rec.topic.as_bytes()),
                Tok::Partition => put_num(out, i64::from(rec.partition)),
                Tok::Offset => put_num(out, rec.offset),
                Tok::Timestamp => put_num(out, rec.timestamp),
                Tok::Key => out.extend_from_slice(rec.key.as_deref().unwrap_or(&self.null)),
                Tok::Value => out.extend_from_slice(rec.value.as_deref().unwrap_or(&self.null)),
                Tok::KeyLen => put_num(out, rec.key.as_ref().map_or(-1, |k| k.len() as i64)),
                Tok::ValueLen => put_num(out, rec.value.as_ref().map_or(-1, |v| v.len() as i64)),
                Tok::Headers => {
                    if rec.headers.is_empty() {
                        out.extend_from_slice(&self.no_headers);
                    }
                    for (i, h) in rec.headers.iter().enumerate() {
                        if i > 0 {
                            out.extend_from_slice(&self.header_sep);
                        }
                        out.extend_from_slice(h.key.as_bytes());
                        out.extend_from_slice(&self.header_kv);
                        out.extend_from_slice(h.value.as_deref().unwrap_or(&self.null));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Header;
    use bytes::Bytes;
    use std::sync::Arc;

    fn rec() -> ConsumerRecord {
        ConsumerRecord {
            topic: Arc::from("t"),
            partition: 1,
            offset: 42,
            timestamp: 1000,
            key: Some(Bytes::from_static(b"k")),
            value: None,
            headers: vec![Header {
                key: "h".into(),
                value: Some(Bytes::from_static(b"v")),
            }],
        }
    }

    fn show(l: &Layout) -> String {
        let mut out = Vec::new();
        l.render(&rec(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn kcat_tokens() {
        let l = Layout::kcat(r"%t/%p@%o %k=%s (%K,%S) %T [%h] 100%%\n").unwrap();
        assert_eq!(show(&l), "t/1@42 k= (1,-1) 1000 [h=v] 100%\n");
        assert!(Layout::kcat("%x").is_err());
    }

    #[test]
    fn kafka_properties() {
        let props = vec![
            ("print.key".to_string(), "true".to_string()),
            ("print.offset".into(), "true".into()),
            ("print.headers".into(), "true".into()),
            ("key.separator".into(), "|".into()),
        ];
        let l = Layout::kafka(&props).unwrap();
        assert_eq!(show(&l), "Offset:42|h:v|k|null\n");
        assert_eq!(show(&Layout::value_only()), "null\n");
        assert!(Layout::kafka(&[("print.key".into(), "yes".into())]).is_err());
    }
}
