//! How `produce` splits a plain input line into headers, key and value:
//! the Kafka console producer's `parse.headers`, `parse.key` and
//! `null.marker` properties (and strom's `-K`, `--null-marker`), resolved
//! once into [`LineRules`].
use super::UsageError;
use crate::cli::args::ProduceArgs;

/// What the plain-line parser needs, resolved once from flags/properties.
pub struct LineRules {
    key_separator: Option<Vec<u8>>,
    null_marker: Option<Vec<u8>>,
    /// Kafka's `ignore.error`: a line without the key separator is all value.
    ignore_error: bool,
    headers: Option<HeaderRules>,
}

/// `parse.headers=true`: `k1:v1,k2:v2<TAB>[key<TAB>]value`.
struct HeaderRules {
    delimiter: Vec<u8>,
    separator: Vec<u8>,
    key_separator: Vec<u8>,
}

/// One plain line, split.
#[derive(Debug)]
pub struct PlainRecord<'a> {
    pub headers: Vec<(&'a str, Option<&'a [u8]>)>,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
}

fn flag(k: &str, v: &str) -> Result<bool, UsageError> {
    v.parse()
        .map_err(|_| UsageError::new(format!("{k} must be true or false, got {v:?}")))
}

fn non_empty(k: &str, v: Option<String>, default: &str) -> Result<Vec<u8>, UsageError> {
    let v = v.unwrap_or_else(|| default.to_string());
    if v.is_empty() {
        return Err(UsageError::new(format!("{k} cannot be empty")));
    }
    Ok(v.into_bytes())
}

pub fn line_rules(args: &ProduceArgs) -> anyhow::Result<LineRules> {
    let mut parse_key = false;
    let mut parse_headers = false;
    let mut ignore_error = false;
    let mut sep: Option<String> = None;
    let (mut h_delim, mut h_sep, mut h_key_sep) = (None, None, None);
    let mut null_marker = args.null_marker.clone();
    for (k, v) in &args.properties {
        match k.as_str() {
            "parse.key" => parse_key = flag(k, v)?,
            "key.separator" => sep = Some(v.clone()),
            "null.marker" => null_marker = Some(v.clone()),
            "ignore.error" => ignore_error = flag(k, v)?,
            "parse.headers" => parse_headers = flag(k, v)?,
            "headers.delimiter" => h_delim = Some(v.clone()),
            "headers.separator" => h_sep = Some(v.clone()),
            "headers.key.separator" => h_key_sep = Some(v.clone()),
            other => {
                return Err(UsageError::new(format!("unknown producer property {other}")).into())
            }
        }
    }
    let key_separator = match (&args.key_separator, parse_key) {
        (Some(s), _) => Some(s.clone()),
        (None, true) => Some(sep.unwrap_or_else(|| "\t".into())),
        (None, false) => None,
    };
    if key_separator.as_deref() == Some("") {
        return Err(UsageError::new("the key separator cannot be empty").into());
    }
    let headers = if parse_headers {
        Some(HeaderRules {
            delimiter: non_empty("headers.delimiter", h_delim, "\t")?,
            separator: non_empty("headers.separator", h_sep, ",")?,
            key_separator: non_empty("headers.key.separator", h_key_sep, ":")?,
        })
    } else {
        None
    };
    Ok(LineRules {
        key_separator: key_separator.map(String::into_bytes),
        null_marker: null_marker.map(String::into_bytes),
        ignore_error,
        headers,
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Splits at the first `sep`.
fn split<'a>(s: &'a [u8], sep: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    find(s, sep).map(|i| (&s[..i], &s[i + sep.len()..]))
}

impl LineRules {
    fn is_null(&self, b: &[u8]) -> bool {
        self.null_marker.as_deref() == Some(b)
    }

    /// Splits one line; the error says what is wrong with it.
    pub fn parse<'a>(&self, line: &'a [u8]) -> Result<PlainRecord<'a>, String> {
        let mut rest = line;
        let mut headers = Vec::new();
        if let Some(h) = &self.headers {
            let Some((list, after)) = split(rest, &h.delimiter) else {
                return Err(format!(
                    "no headers delimiter {:?} (parse.headers=true)",
                    String::from_utf8_lossy(&h.delimiter)
                ));
            };
            rest = after;
            let mut pairs = (!list.is_empty()).then_some(list);
            while let Some(all) = pairs {
                let pair = match split(all, &h.separator) {
                    Some((pair, more)) => {
                        pairs = Some(more);
                        pair
                    }
                    None => {
                        pairs = None;
                        all
                    }
                };
                let Some((k, v)) = split(pair, &h.key_separator) else {
                    return Err(format!(
                        "header {:?} has no key separator {:?}",
                        String::from_utf8_lossy(pair),
                        String::from_utf8_lossy(&h.key_separator)
                    ));
                };
                let k =
                    std::str::from_utf8(k).map_err(|_| "a header key is not UTF-8".to_string())?;
                headers.push((k, (!self.is_null(v)).then_some(v)));
            }
        }
        let (key, value) = match &self.key_separator {
            Some(sep) => match split(rest, sep) {
                Some((k, v)) => (Some(k), v),
                None if self.ignore_error => (None, rest),
                None => {
                    return Err(format!(
                        "no key separator {:?}",
                        String::from_utf8_lossy(sep)
                    ))
                }
            },
            None => (None, rest),
        };
        Ok(PlainRecord {
            headers,
            key: key.filter(|k| !self.is_null(k)),
            value: (!self.is_null(value)).then_some(value),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(props: &[(&str, &str)], key_sep: Option<&str>) -> LineRules {
        use clap::Parser;
        let mut argv = vec!["strom", "produce", "-t", "t"];
        if let Some(s) = key_sep {
            argv.extend(["-K", s]);
        }
        let pairs: Vec<String> = props.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for p in &pairs {
            argv.extend(["--property", p]);
        }
        let cli = crate::cli::args::Cli::try_parse_from(argv).expect("flags");
        let Some(crate::cli::args::Command::Produce(args)) = cli.command else {
            panic!("not produce");
        };
        line_rules(&args).expect("rules")
    }

    #[test]
    fn separator_search() {
        assert_eq!(find(b"k::v", b"::"), Some(1));
        assert_eq!(find(b"kv", b":"), None);
    }

    #[test]
    fn headers_key_and_value() {
        let r = rules(
            &[
                ("parse.headers", "true"),
                ("parse.key", "true"),
                ("null.marker", "NULL"),
            ],
            None,
        );
        let rec = r.parse(b"a:1,b:NULL\tk\tv").unwrap();
        assert_eq!(rec.headers, vec![("a", Some(&b"1"[..])), ("b", None)]);
        assert_eq!((rec.key, rec.value), (Some(&b"k"[..]), Some(&b"v"[..])));
        let rec = r.parse(b"\tk\tNULL").unwrap();
        assert!(rec.headers.is_empty() && rec.value.is_none());
        assert!(r.parse(b"a:1").unwrap_err().contains("headers delimiter"));
        assert!(r
            .parse(b"a\tk\tv")
            .unwrap_err()
            .contains("no key separator"));
    }

    #[test]
    fn ignore_error_keeps_lines_without_a_key() {
        let r = rules(&[("ignore.error", "true")], Some(":"));
        let rec = r.parse(b"just a value").unwrap();
        assert_eq!((rec.key, rec.value), (None, Some(&b"just a value"[..])));
    }
}
