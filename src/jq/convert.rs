//! Records to jq values and back, in the envelope's shape, without going
//! through JSON text: values are shared `Bytes` both ways when they are
//! UTF-8, so `.` costs no copy of a value.
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use jaq_json::{Map, Val};

use crate::record::Header;

/// A record as an expression sees it. `None` fields are `null` (a record
/// about to be produced has no offset yet).
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    pub topic: &'a str,
    pub partition: Option<i32>,
    pub offset: Option<i64>,
    pub timestamp: Option<i64>,
    pub key: Option<&'a Bytes>,
    pub value: Option<&'a Bytes>,
    pub headers: &'a [Header],
}

/// A record an expression produced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Output {
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<Header>,
    pub timestamp: Option<i64>,
    /// The envelope's `"partition"`; callers decide whether to honour it.
    pub partition: Option<i32>,
}

fn name(s: &'static str) -> Val {
    Val::utf8_str(Bytes::from_static(s.as_bytes()))
}

fn int(n: Option<i64>) -> Val {
    match n.and_then(|n| isize::try_from(n).ok()) {
        Some(n) => Val::from(n),
        None => Val::Null,
    }
}

/// Bytes as the envelope writes them: a string when UTF-8, else
/// `{"base64": ..}`.
fn data(b: Option<&Bytes>) -> Val {
    match b {
        None => Val::Null,
        Some(b) if std::str::from_utf8(b).is_ok() => Val::utf8_str(b.clone()),
        Some(b) => {
            let mut m = Map::default();
            m.insert(name("base64"), Val::from(B64.encode(b)));
            Val::obj(m)
        }
    }
}

impl Envelope<'_> {
    /// The envelope as a jq value, fields in `consume --output json` order.
    pub fn to_val(&self) -> Val {
        let mut m = Map::default();
        m.reserve(7);
        m.insert(
            name("topic"),
            Val::utf8_str(Bytes::copy_from_slice(self.topic.as_bytes())),
        );
        m.insert(name("partition"), int(self.partition.map(i64::from)));
        m.insert(name("offset"), int(self.offset));
        m.insert(name("timestamp"), int(self.timestamp));
        m.insert(name("key"), data(self.key));
        m.insert(name("value"), data(self.value));
        let headers: Val = self
            .headers
            .iter()
            .map(|h| {
                let mut hm = Map::default();
                hm.insert(name("key"), Val::from(h.key.clone()));
                hm.insert(name("value"), data(h.value.as_ref()));
                Val::obj(hm)
            })
            .collect();
        m.insert(name("headers"), headers);
        Val::obj(m)
    }
}

fn get<'v>(m: &'v Map, field: &'static str) -> Option<&'v Val> {
    m.get(&name(field)).filter(|v| !matches!(v, Val::Null))
}

/// The envelope fields of an output object, found in one pass over its
/// entries (no key value to build per lookup: this runs per record).
#[derive(Default)]
struct Fields<'v> {
    key: Option<&'v Val>,
    value: Option<&'v Val>,
    headers: Option<&'v Val>,
    timestamp: Option<&'v Val>,
    partition: Option<&'v Val>,
}

impl<'v> Fields<'v> {
    fn of(m: &'v Map) -> Fields<'v> {
        let mut f = Fields::default();
        for (k, v) in m.iter() {
            let Val::TStr(k) = k else { continue };
            let slot = match &***k {
                b"key" => &mut f.key,
                b"value" => &mut f.value,
                b"headers" => &mut f.headers,
                b"timestamp" => &mut f.timestamp,
                b"partition" => &mut f.partition,
                _ => continue,
            };
            *slot = Some(v).filter(|v| !matches!(v, Val::Null));
        }
        f
    }
}

/// A key, value or header value: a string is its bytes, `null` is null,
/// `{"base64": ..}` is decoded, and any other value is written as compact
/// JSON text (so `.value |= (fromjson | .n += 1)` needs no `tojson`).
pub fn to_bytes(v: &Val) -> Result<Option<Bytes>, String> {
    Ok(match v {
        Val::Null => None,
        Val::TStr(b) | Val::BStr(b) => Some((**b).clone()),
        Val::Obj(m) if m.len() == 1 => match get(m, "base64") {
            Some(Val::TStr(b)) => Some(Bytes::from(
                B64.decode(&***b).map_err(|e| format!("bad base64: {e}"))?,
            )),
            _ => Some(Bytes::from(v.to_string())),
        },
        other => Some(Bytes::from(other.to_string())),
    })
}

fn to_int(field: &str, v: Option<&Val>) -> Result<Option<i64>, String> {
    match v {
        None => Ok(None),
        Some(Val::Num(n)) => match n.as_isize() {
            Some(i) => Ok(Some(i as i64)),
            None => Err(format!("\"{field}\" must be an integer, got {v:?}")),
        },
        Some(other) => Err(format!("\"{field}\" must be an integer, got {other}")),
    }
}

fn short(v: &Val) -> String {
    let mut s = v.to_string();
    if s.len() > 80 {
        let mut cut = 77;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

impl Output {
    /// Reads an expression's output as an envelope. Fields other than key,
    /// value, headers, timestamp and partition (topic, offset) are ignored.
    pub fn from_val(v: &Val) -> Result<Output, String> {
        let Val::Obj(m) = v else {
            return Err(format!(
                "an output must be a record envelope object, got {}; \
                 to change the value write `.value = (...)` or `.value |= ...`",
                short(v)
            ));
        };
        let f = Fields::of(m);
        let headers = match f.headers {
            None => Vec::new(),
            Some(Val::Arr(list)) => list
                .iter()
                .map(|h| {
                    let Val::Obj(hm) = h else {
                        return Err(format!(
                            "a header must be {{\"key\": .., \"value\": ..}}, got {}",
                            short(h)
                        ));
                    };
                    let hf = Fields::of(hm);
                    let key = match hf.key {
                        Some(Val::TStr(k)) => String::from_utf8_lossy(k).into_owned(),
                        _ => return Err(format!("a header key must be a string in {}", short(h))),
                    };
                    let value = hf.value.map_or(Ok(None), to_bytes)?;
                    Ok(Header { key, value })
                })
                .collect::<Result<_, String>>()?,
            Some(Val::Obj(hm)) => hm
                .iter()
                .map(|(k, v)| {
                    let Val::TStr(k) = k else {
                        return Err(format!("a header key must be a string, got {}", short(k)));
                    };
                    Ok(Header {
                        key: String::from_utf8_lossy(k).into_owned(),
                        value: to_bytes(v)?,
                    })
                })
                .collect::<Result<_, String>>()?,
            Some(other) => {
                return Err(format!(
                    "\"headers\" must be a list or an object, got {}",
                    short(other)
                ))
            }
        };
        let partition = to_int("partition", f.partition)?
            .map(|p| i32::try_from(p).map_err(|_| format!("partition {p} is out of range")))
            .transpose()?;
        Ok(Output {
            key: f.key.map_or(Ok(None), to_bytes)?,
            value: f.value.map_or(Ok(None), to_bytes)?,
            headers,
            timestamp: to_int("timestamp", f.timestamp)?,
            partition,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Val {
        jaq_json::read::parse_single(s.as_bytes()).unwrap()
    }

    #[test]
    fn outputs_accept_json_values_and_header_maps() {
        let out = Output::from_val(&parse(r#"{"value":{"n":1},"headers":{"a":"b"}}"#)).unwrap();
        assert_eq!(out.value.as_deref(), Some(&br#"{"n":1}"#[..]));
        assert_eq!(out.key, None);
        assert_eq!(out.headers[0].key, "a");
        let out = Output::from_val(&parse(r#"{"value":{"base64":"/w=="},"key":7}"#)).unwrap();
        assert_eq!(out.value.as_deref(), Some(&b"\xff"[..]));
        assert_eq!(out.key.as_deref(), Some(&b"7"[..]));
    }

    #[test]
    fn bad_outputs_say_why() {
        let e = Output::from_val(&parse(r#""text""#)).unwrap_err();
        assert!(e.contains("must be a record envelope object"), "{e}");
        let e = Output::from_val(&parse(r#"{"timestamp":"x"}"#)).unwrap_err();
        assert!(e.contains("timestamp"), "{e}");
        let e = Output::from_val(&parse(r#"{"headers":3}"#)).unwrap_err();
        assert!(e.contains("headers"), "{e}");
    }
}
