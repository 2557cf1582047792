//! Built-in jq expressions over records (the jaq crates, in process).
//!
//! An expression sees a record as the envelope of `consume --output json`
//! (see `client::envelope`): `{"topic", "partition", "offset",
//! "timestamp", "key", "value", "headers": [{"key", "value"}]}`, with
//! key, value and header values as strings (or `{"base64": ..}` for
//! bytes that are not UTF-8). Each output is read back as an envelope, so
//! `--jq EXPR` does what `--format json -- jq -c EXPR` does, without a
//! child process. Pure (it depends on `record` only), so the CLI's
//! `consume`, `produce` and `stream` and the broker's web console all use
//! it; the client re-exports it as `client::jq`.
mod convert;
mod pipeline;

pub use convert::{to_bytes, Envelope, Output};
pub use pipeline::{Pipeline, PipelineError};

use jaq_core::load::{self, Arena, File, Loader};
use jaq_core::{data::JustLut, Ctx, Vars};
use jaq_json::Val;

type Filter = jaq_core::Filter<JustLut<Val>>;

/// A compiled expression; compile once, run on every record.
#[derive(Clone)]
pub struct Expr {
    filter: std::sync::Arc<Filter>,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Expr")
    }
}

impl Expr {
    /// Compiles `code`. The error names `flag` (e.g. `--jq`) and says
    /// what is wrong where, with the expression and a caret under the spot.
    pub fn compile(flag: &str, code: &str) -> Result<Expr, String> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let arena = Arena::default();
        let loader = Loader::new(defs);
        let modules = loader
            .load(&arena, File { code, path: () })
            .map_err(|errs| {
                let mut found = Vec::new();
                for (file, e) in errs {
                    match e {
                        load::Error::Io(list) => {
                            for (path, why) in list {
                                found.push((None, format!("cannot load {path}: {why}")));
                            }
                        }
                        load::Error::Lex(list) => {
                            for (expect, at) in list {
                                // An unclosed delimiter is shown at its opening
                                // (as_str panics on delimiters it does not know).
                                let (what, at) = match expect {
                                    load::lex::Expect::Delim(open) => {
                                        (format!("unclosed {}", expect_delim(open)), open)
                                    }
                                    other => (format!("expected {}", other.as_str()), at),
                                };
                                found.push((offset_in(file.code, at), what));
                            }
                        }
                        load::Error::Parse(list) => {
                            for (expect, at) in list {
                                let got = if at.is_empty() {
                                    "the end".to_string()
                                } else {
                                    format!("{at:?}")
                                };
                                found.push((
                                    offset_in(file.code, at),
                                    format!("expected {}, found {got}", expect.as_str()),
                                ));
                            }
                        }
                    }
                }
                describe(flag, code, found)
            })?;
        let filter = jaq_core::Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| {
                let mut found = Vec::new();
                for (file, list) in errs {
                    for (name, undefined) in list {
                        let what = match undefined {
                            jaq_core::compile::Undefined::Filter(arity) => {
                                format!("undefined filter {name}/{arity}")
                            }
                            other => format!("undefined {} {name}", other.as_str()),
                        };
                        found.push((offset_in(file.code, name), what));
                    }
                }
                describe(flag, code, found)
            })?;
        Ok(Expr {
            filter: std::sync::Arc::new(filter),
        })
    }

    /// Runs the expression on `input`, calling `each` with every output
    /// (or the error that ended the run) until it returns false.
    pub fn run(&self, input: Val, mut each: impl FnMut(Result<Val, String>) -> bool) {
        let ctx = Ctx::<JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        for out in self.filter.id.run((ctx, input)) {
            let out = out.map_err(|e| match e.get_err() {
                // error("text") reads as text, not as a JSON string.
                Ok(err) => match err.into_val() {
                    Val::TStr(b) => String::from_utf8_lossy(&b).into_owned(),
                    other => other.to_string(),
                },
                // `halt` must not end the whole process.
                Err(exn) => match exn.get_halt() {
                    Ok(code) => format!("halt({code}) called"),
                    Err(_) => "uncaught exception".to_string(),
                },
            });
            let failed = out.is_err();
            if !each(out) || failed {
                return;
            }
        }
    }
}

/// What an unclosed delimiter is called.
fn expect_delim(at: &str) -> &'static str {
    match at.chars().next() {
        Some('(') => "parenthesis",
        Some('[') => "bracket",
        Some('{') => "brace",
        Some('"') => "string",
        _ => "delimiter",
    }
}

/// The byte offset of `part` inside `whole`, if it is a slice of it.
fn offset_in(whole: &str, part: &str) -> Option<usize> {
    let (w, p) = (whole.as_ptr() as usize, part.as_ptr() as usize);
    (p >= w && p + part.len() <= w + whole.len()).then(|| p - w)
}

/// `invalid --jq expression: expected ..., found ... at column N of
/// "EXPR"`, on one line (the CLI prints errors on one line).
fn describe(flag: &str, code: &str, found: Vec<(Option<usize>, String)>) -> String {
    let Some((at, what)) = found.first() else {
        return format!("invalid {flag} expression {code:?}");
    };
    let mut msg = format!("invalid {flag} expression: {what}");
    match at {
        // Columns count characters.
        Some(at) => msg.push_str(&format!(
            " at column {} of {code:?}",
            code[..*at].chars().count() + 1
        )),
        None => msg.push_str(&format!(" in {code:?}")),
    }
    for (_, more) in found.iter().skip(1) {
        msg.push_str(&format!("; also {more}"));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs(code: &str, input: &str) -> Vec<Result<String, String>> {
        let e = Expr::compile("--jq", code).unwrap();
        let input = jaq_json::read::parse_single(input.as_bytes()).unwrap();
        let mut out = Vec::new();
        e.run(input, |r| {
            out.push(r.map(|v| v.to_string()));
            true
        });
        out
    }

    #[test]
    fn runs_std_filters() {
        assert_eq!(
            outputs(".a[] | ascii_upcase", r#"{"a":["x","y"]}"#),
            vec![Ok(r#""X""#.to_string()), Ok(r#""Y""#.to_string())]
        );
        assert_eq!(outputs("empty", "1"), vec![]);
        assert_eq!(
            outputs(".value | fromjson | .n + 1", r#"{"value":"{\"n\":2}"}"#),
            vec![Ok("3".to_string())]
        );
    }

    #[test]
    fn runtime_error_and_halt_are_errors() {
        let out = outputs("1, error(\"boom\"), 2", "null");
        assert_eq!(out.len(), 2);
        assert_eq!(out[1], Err("boom".to_string()));
        let out = outputs("halt", "null");
        assert!(out[0].as_ref().unwrap_err().contains("halt"), "{out:?}");
    }

    #[test]
    fn compile_errors_say_where() {
        let e = Expr::compile("--jq", ".a | ").unwrap_err();
        assert!(
            e.starts_with("invalid --jq expression: expected term"),
            "{e}"
        );
        assert!(e.contains("column 6"), "{e}");
        let e = Expr::compile("--filter", ".a | nosuch(1)").unwrap_err();
        assert_eq!(
            e,
            r#"invalid --filter expression: undefined filter nosuch/1 at column 6 of ".a | nosuch(1)""#
        );
        let e = Expr::compile("--jq", "(.a").unwrap_err();
        assert!(e.contains("unclosed parenthesis at column 1"), "{e}");
        let e = Expr::compile("--jq", "$x").unwrap_err();
        assert!(e.contains("undefined variable"), "{e}");
    }

    #[test]
    fn expressions_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Expr>();
    }
}
