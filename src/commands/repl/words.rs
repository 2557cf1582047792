//! Splits a REPL line into words the way a POSIX shell does for simple
//! commands: whitespace separates, 'single quotes' keep everything,
//! "double quotes" keep everything but `\"` and `\\`, a backslash outside
//! quotes escapes the next character, and `#` at the start of a word
//! begins a comment. No variables, globs or pipes: one grammar, the CLI's.

/// The words of a complete line.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let scan = scan(line);
    match scan.open {
        Some(q) => Err(format!("unterminated {q} quote")),
        None if scan.trailing_backslash => Err("line ends with a lone backslash".into()),
        None => Ok(scan.words.into_iter().map(|w| w.text).collect()),
    }
}

/// A line cut at the cursor, for completion: the finished words, and the
/// word being typed (possibly empty) with its byte offset in the line.
#[derive(Debug, PartialEq, Eq)]
pub struct Partial {
    pub words: Vec<String>,
    pub current: String,
    pub start: usize,
}

pub fn split_partial(before_cursor: &str) -> Partial {
    let mut scan = scan(before_cursor);
    let ends_in_word = scan.open.is_some()
        || scan.trailing_backslash
        || scan
            .words
            .last()
            .is_some_and(|w| w.end == before_cursor.len());
    let (current, start) = match (ends_in_word, scan.words.pop()) {
        (true, Some(w)) => (w.text, w.start),
        (_, last) => {
            scan.words.extend(last);
            (String::new(), before_cursor.len())
        }
    };
    Partial {
        words: scan.words.into_iter().map(|w| w.text).collect(),
        current,
        start,
    }
}

struct Word {
    text: String,
    start: usize,
    end: usize,
}

struct Scan {
    words: Vec<Word>,
    /// The quote left open at the end, if any.
    open: Option<&'static str>,
    trailing_backslash: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Between,
    Plain,
    Single,
    Double,
}

fn scan(line: &str) -> Scan {
    let mut words: Vec<Word> = Vec::new();
    let mut state = State::Between;
    let mut text = String::new();
    let mut start = 0;
    let mut chars = line.char_indices().peekable();
    let mut trailing_backslash = false;
    while let Some((i, c)) = chars.next() {
        match state {
            State::Between => {
                if c.is_whitespace() {
                    continue;
                }
                if c == '#' {
                    break;
                }
                start = i;
                state = State::Plain;
                match c {
                    '\'' => state = State::Single,
                    '"' => state = State::Double,
                    '\\' => match chars.next() {
                        Some((_, n)) => text.push(n),
                        None => trailing_backslash = true,
                    },
                    _ => text.push(c),
                }
            }
            State::Plain => match c {
                c if c.is_whitespace() => {
                    words.push(Word {
                        text: std::mem::take(&mut text),
                        start,
                        end: i,
                    });
                    state = State::Between;
                }
                '\'' => state = State::Single,
                '"' => state = State::Double,
                '\\' => match chars.next() {
                    Some((_, n)) => text.push(n),
                    None => trailing_backslash = true,
                },
                _ => text.push(c),
            },
            State::Single => match c {
                '\'' => state = State::Plain,
                _ => text.push(c),
            },
            State::Double => match c {
                '"' => state = State::Plain,
                '\\' if matches!(chars.peek(), Some((_, '"' | '\\'))) => {
                    if let Some((_, n)) = chars.next() {
                        text.push(n);
                    }
                }
                _ => text.push(c),
            },
        }
    }
    let open = match state {
        State::Single => Some("single"),
        State::Double => Some("double"),
        _ => None,
    };
    if state != State::Between {
        words.push(Word {
            text,
            start,
            end: line.len(),
        });
    }
    Scan {
        words,
        open,
        trailing_backslash,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words() {
        assert_eq!(
            split(r#"produce -t t -K ':' -H "a=b c" x\ y"#).unwrap(),
            vec!["produce", "-t", "t", "-K", ":", "-H", "a=b c", "x y"]
        );
        assert_eq!(
            split(r#"a "q\"x\\" 'it''s'"#).unwrap(),
            vec!["a", "q\"x\\", "its"]
        );
        assert_eq!(split("  # comment").unwrap(), Vec::<String>::new());
        assert_eq!(split("topics list # all").unwrap(), vec!["topics", "list"]);
        assert_eq!(split("a b#c").unwrap(), vec!["a", "b#c"]);
        assert_eq!(split("''").unwrap(), vec![""]);
        assert!(split("a 'b").is_err());
        assert!(split("a \\").is_err());
    }

    #[test]
    fn partial_words() {
        assert_eq!(
            split_partial("consume -t or"),
            Partial {
                words: vec!["consume".into(), "-t".into()],
                current: "or".into(),
                start: 11
            }
        );
        assert_eq!(
            split_partial("topics "),
            Partial {
                words: vec!["topics".into()],
                current: String::new(),
                start: 7
            }
        );
        assert_eq!(split_partial("-t 'my to").current, "my to");
        assert_eq!(split_partial("-t 'my to").start, 3);
        assert_eq!(split_partial("").start, 0);
    }
}
