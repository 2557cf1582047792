//! A connector's `transform = '<jq>'` and `route = '<jq giving a topic>'`:
//! strom's jq (the one of `strom stream --jq`) run on every record, for a
//! source before it is produced, for a sink before it is written.
//!
//! `transform` sees the record envelope (`topic`, `partition`, `offset`,
//! `timestamp`, `key`, `value`, `headers`) and gives zero or more
//! envelopes: `select(...)` drops records, `.value |= ...` reshapes them.
//! `route` runs on each output and gives the topic it goes to (sources
//! only: a sink writes one table or file). A failure of either is a
//! record-level error, which `[errors]` handles like any other.
use bytes::Bytes;

use crate::client::jq::{Envelope, Expr, Output};
use crate::record::Header;

/// The compiled `transform` and `route` of one connector.
#[derive(Debug, Clone, Default)]
pub struct Transforms {
    transform: Option<Expr>,
    route: Option<Expr>,
}

/// One record after [`Transforms::apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// What `route` gave; `None` without a `route`.
    pub topic: Option<String>,
    pub record: Output,
}

impl Transforms {
    /// Compiles both expressions; the error names the key.
    pub fn compile(
        transform: Option<&str>,
        route: Option<&str>,
    ) -> Result<Transforms, (&'static str, String)> {
        let compile = |key: &'static str, code: Option<&str>| {
            code.map(|c| Expr::compile(key, c).map_err(|e| (key, e)))
                .transpose()
        };
        Ok(Transforms {
            transform: compile("transform", transform)?,
            route: compile("route", route)?,
        })
    }

    /// Neither key was given: records pass untouched.
    pub fn is_empty(&self) -> bool {
        self.transform.is_none() && self.route.is_none()
    }

    pub fn has_route(&self) -> bool {
        self.route.is_some()
    }

    /// Appends what `input` becomes to `out`; on an error nothing of this
    /// record is appended and the error says which key failed and why.
    pub fn apply(&self, input: &Envelope<'_>, out: &mut Vec<Routed>) -> Result<(), String> {
        let before = out.len();
        let r = self.apply_inner(input, out);
        if r.is_err() {
            out.truncate(before);
        }
        r
    }

    fn apply_inner(&self, input: &Envelope<'_>, out: &mut Vec<Routed>) -> Result<(), String> {
        let Some(t) = &self.transform else {
            let record = Output {
                key: input.key.cloned(),
                value: input.value.cloned(),
                headers: input.headers.to_vec(),
                timestamp: input.timestamp,
                partition: input.partition,
            };
            return self.route(input, record, out);
        };
        let mut outputs = Vec::new();
        let mut err = None;
        t.run(input.to_val(), |r| {
            match r.and_then(|v| Output::from_val(&v)) {
                Ok(o) => {
                    outputs.push(o);
                    true
                }
                Err(e) => {
                    err = Some(e);
                    false
                }
            }
        });
        if let Some(e) = err {
            return Err(format!("transform: {e}"));
        }
        for mut o in outputs {
            // An output that leaves the timestamp out keeps the input's.
            o.timestamp = o.timestamp.or(input.timestamp);
            self.route(input, o, out)?;
        }
        Ok(())
    }

    fn route(
        &self,
        input: &Envelope<'_>,
        record: Output,
        out: &mut Vec<Routed>,
    ) -> Result<(), String> {
        let Some(route) = &self.route else {
            out.push(Routed {
                topic: None,
                record,
            });
            return Ok(());
        };
        let env = Envelope {
            topic: input.topic,
            partition: record.partition,
            offset: input.offset,
            timestamp: record.timestamp,
            key: record.key.as_ref(),
            value: record.value.as_ref(),
            headers: &record.headers,
        };
        let mut topics = Vec::with_capacity(1);
        let mut err = None;
        route.run(env.to_val(), |r| match r {
            Ok(v) => {
                topics.push(v);
                topics.len() < 2
            }
            Err(e) => {
                err = Some(e);
                false
            }
        });
        if let Some(e) = err {
            return Err(format!("route: {e}"));
        }
        let topic = match topics.as_slice() {
            [jaq_json::Val::TStr(b)] => String::from_utf8_lossy(b).into_owned(),
            [other] => {
                return Err(format!(
                    "route: gave {other}; it must give a topic name (a string)"
                ))
            }
            [] => return Err("route: gave no topic; it must give exactly one".into()),
            _ => return Err("route: gave several topics; it must give exactly one".into()),
        };
        super::config::check_user_topic(&topic)
            .map_err(|e| format!("route: topic {topic:?}: {e}"))?;
        out.push(Routed {
            topic: Some(topic),
            record,
        });
        Ok(())
    }
}

/// The envelope of a record a source read, about to go to `topic`.
pub fn source_envelope<'a>(
    topic: &'a str,
    timestamp: Option<i64>,
    key: Option<&'a Bytes>,
    value: Option<&'a Bytes>,
) -> Envelope<'a> {
    const NONE: &[Header] = &[];
    Envelope {
        topic,
        partition: None,
        offset: None,
        timestamp,
        key,
        value,
        headers: NONE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(t: &Transforms, value: &'static str) -> Result<Vec<Routed>, String> {
        let value = Bytes::from_static(value.as_bytes());
        let env = source_envelope("in", Some(7), None, Some(&value));
        let mut out = Vec::new();
        t.apply(&env, &mut out).map(|()| out)
    }

    #[test]
    fn transforms_drops_and_routes() {
        let t = Transforms::compile(
            Some(r#"select(.value | fromjson | .n > 1) | .value |= (fromjson | .n *= 10)"#),
            Some(r#"if (.value | fromjson | .n) > 20 then "big" else "small" end"#),
        )
        .unwrap();
        assert!(run(&t, r#"{"n":1}"#).unwrap().is_empty());
        let out = run(&t, r#"{"n":2}"#).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].topic.as_deref(), Some("small"));
        assert_eq!(out[0].record.value.as_deref(), Some(&br#"{"n":20}"#[..]));
        assert_eq!(out[0].record.timestamp, Some(7));
        assert_eq!(
            run(&t, r#"{"n":3}"#).unwrap()[0].topic.as_deref(),
            Some("big")
        );
    }

    #[test]
    fn errors_name_the_key() {
        let t = Transforms::compile(Some(".value |= fromjson"), None).unwrap();
        assert!(run(&t, "not json").unwrap_err().starts_with("transform: "));
        let t = Transforms::compile(None, Some(".value")).unwrap();
        assert!(run(&t, "no spaces allowed here")
            .unwrap_err()
            .starts_with("route: topic"));
        let t = Transforms::compile(None, Some("1")).unwrap();
        assert!(run(&t, "x").unwrap_err().contains("must give a topic name"));
        let t = Transforms::compile(None, Some(r#""a","b""#)).unwrap();
        assert!(run(&t, "x").unwrap_err().contains("several"));
        let t = Transforms::compile(None, Some(r#""__x""#)).unwrap();
        assert!(run(&t, "x").unwrap_err().contains("internal"));
        let e = Transforms::compile(Some(".a |"), None).unwrap_err();
        assert_eq!(e.0, "transform");
        assert!(e.1.starts_with("invalid transform expression"), "{}", e.1);
        assert!(Transforms::compile(None, None).unwrap().is_empty());
    }
}
