//! `--filter`, `--jq` and `--key-jq` together: what one record becomes.
//!
//! Order: `--filter EXPR` is `select(EXPR)` on the input envelope; `--jq
//! EXPR` maps what passes to zero or more envelopes; `--key-jq EXPR`
//! runs on each of those and its one output is the record's key.
use super::convert::{to_bytes, Envelope, Output};
use super::Expr;
use jaq_json::Val;

/// Why one record could not be processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineError {
    /// The flag whose expression failed (`--jq`, ...).
    pub flag: &'static str,
    pub message: String,
}

impl std::fmt::Display for PipelineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.flag, self.message)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Pipeline {
    filter: Option<Expr>,
    map: Option<Expr>,
    key: Option<Expr>,
}

fn truthy(v: &Val) -> bool {
    !matches!(v, Val::Null | Val::Bool(false))
}

impl Pipeline {
    /// Compiles the given expressions; `None` when none is given.
    pub fn new(
        filter: Option<&str>,
        jq: Option<&str>,
        key_jq: Option<&str>,
    ) -> Result<Option<Pipeline>, String> {
        if filter.is_none() && jq.is_none() && key_jq.is_none() {
            return Ok(None);
        }
        let compile = |flag, code: Option<&str>| code.map(|c| Expr::compile(flag, c)).transpose();
        Ok(Some(Pipeline {
            filter: compile("--filter", filter)?,
            map: compile("--jq", jq)?,
            key: compile("--key-jq", key_jq)?,
        }))
    }

    /// Replaces the key expression (`stream --count-by` sets the key).
    pub fn set_key(&mut self, key: Expr) {
        self.key = Some(key);
    }

    /// Appends what `input` becomes to `out`. On an error nothing of this
    /// record is appended.
    pub fn apply(&self, input: &Envelope<'_>, out: &mut Vec<Output>) -> Result<(), PipelineError> {
        let before = out.len();
        let r = self.apply_inner(input, out);
        if r.is_err() {
            out.truncate(before);
        }
        r
    }

    fn apply_inner(
        &self,
        input: &Envelope<'_>,
        out: &mut Vec<Output>,
    ) -> Result<(), PipelineError> {
        let v = input.to_val();
        let mut passes = 1usize;
        if let Some(f) = &self.filter {
            // select(f) yields `.` once per truthy output of f.
            passes = 0;
            let mut err = None;
            f.run(v.clone(), |r| match r {
                Ok(b) => {
                    passes += usize::from(truthy(&b));
                    true
                }
                Err(e) => {
                    err = Some(e);
                    false
                }
            });
            if let Some(message) = err {
                return Err(PipelineError {
                    flag: "--filter",
                    message,
                });
            }
        }
        for _ in 0..passes {
            match &self.map {
                None => self.emit(v.clone(), out)?,
                Some(m) => {
                    let mut res = Ok(());
                    m.run(v.clone(), |r| {
                        res = match r {
                            Ok(o) => self.emit(o, out),
                            Err(message) => Err(PipelineError {
                                flag: "--jq",
                                message,
                            }),
                        };
                        res.is_ok()
                    });
                    res?;
                }
            }
        }
        Ok(())
    }

    /// One output envelope: read it back, then give it its `--key-jq` key.
    fn emit(&self, v: Val, out: &mut Vec<Output>) -> Result<(), PipelineError> {
        let mut o = Output::from_val(&v).map_err(|message| PipelineError {
            flag: if self.map.is_some() {
                "--jq"
            } else {
                "--filter"
            },
            message,
        })?;
        if let Some(k) = &self.key {
            let fail = |message: String| PipelineError {
                flag: "--key-jq",
                message,
            };
            let mut keys = Vec::with_capacity(1);
            let mut err = None;
            k.run(v, |r| match r {
                Ok(key) => {
                    keys.push(key);
                    keys.len() < 2
                }
                Err(e) => {
                    err = Some(e);
                    false
                }
            });
            if let Some(e) = err {
                return Err(fail(e));
            }
            let [key] = keys.as_slice() else {
                return Err(fail(format!(
                    "gave {} keys for one record; it must give exactly one",
                    if keys.is_empty() { "no" } else { "several" }
                )));
            };
            o.key = to_bytes(key).map_err(fail)?;
        }
        out.push(o);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn run(p: &Pipeline, value: &'static str) -> Result<Vec<Output>, PipelineError> {
        let value = Bytes::from_static(value.as_bytes());
        let env = Envelope {
            topic: "t",
            partition: Some(0),
            offset: Some(1),
            timestamp: Some(5),
            key: None,
            value: Some(&value),
            headers: &[],
        };
        let mut out = Vec::new();
        p.apply(&env, &mut out).map(|()| out)
    }

    fn values(out: &[Output]) -> Vec<&[u8]> {
        out.iter().map(|o| o.value.as_deref().unwrap()).collect()
    }

    #[test]
    fn filter_map_and_key() {
        let p = Pipeline::new(
            Some(r#".value | test("a")"#),
            Some(".value |= ascii_upcase, .value += \"!\""),
            Some(".value | length"),
        )
        .unwrap()
        .unwrap();
        let out = run(&p, "abc").unwrap();
        assert_eq!(values(&out), vec![&b"ABC"[..], b"abc!"]);
        assert_eq!(out[0].key.as_deref(), Some(&b"3"[..]));
        assert_eq!(out[1].key.as_deref(), Some(&b"4"[..]));
        assert_eq!(out[0].timestamp, Some(5));
        assert!(run(&p, "xyz").unwrap().is_empty());
        assert!(Pipeline::new(None, None, None).unwrap().is_none());
    }

    #[test]
    fn errors_name_the_flag_and_keep_nothing() {
        let p = Pipeline::new(None, Some(".value, (.value | fromjson)"), None)
            .unwrap()
            .unwrap();
        let e = run(&p, "not json").unwrap_err();
        assert_eq!(e.flag, "--jq");
        let p = Pipeline::new(None, None, Some("empty")).unwrap().unwrap();
        let e = run(&p, "v").unwrap_err();
        assert_eq!(e.flag, "--key-jq");
        assert!(e.message.contains("no keys"), "{e}");
        let p = Pipeline::new(Some(".value | fromjson"), None, None)
            .unwrap()
            .unwrap();
        assert_eq!(run(&p, "{").unwrap_err().flag, "--filter");
        assert_eq!(run(&p, "true").unwrap().len(), 1);
        assert_eq!(run(&p, "false").unwrap().len(), 0);
    }
}
