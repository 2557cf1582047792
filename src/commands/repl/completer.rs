//! Tab completion and prompt colour for the interactive REPL. Commands,
//! subcommands, flags and enum values come from the clap definition
//! (`cli::command()`), so completion knows every command the CLI knows;
//! topic and group names come from the broker via [`Names`].
use std::borrow::Cow;
use std::sync::Arc;

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use super::names::Names;
use super::words::{split_partial, Partial};
use super::BUILTINS;

/// Where a value comes from the broker rather than from clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dynamic {
    Topics,
    Groups,
}

/// Commands whose positional NAME is an existing topic.
const TOPIC_POSITIONALS: [&[&str]; 3] = [
    &["topics", "describe"],
    &["topics", "alter"],
    &["topics", "delete"],
];

/// What to offer for the word being typed.
#[derive(Debug, PartialEq, Eq)]
pub enum Offer {
    Words(Vec<String>),
    Names(Dynamic),
}

/// Decides what completes `partial`, from the command tree alone.
pub fn offer(tree: &clap::Command, partial: &Partial) -> Offer {
    let words = &partial.words;
    let Some(first) = words.first() else {
        let mut all: Vec<String> = BUILTINS.iter().map(|s| s.to_string()).collect();
        all.extend(subcommand_names(tree));
        return Offer::Words(all);
    };
    match first.as_str() {
        "help" => {
            let cmd = words[1..]
                .iter()
                .try_fold(tree, |c, w| c.find_subcommand(w));
            return Offer::Words(cmd.map(subcommand_names).unwrap_or_default());
        }
        "connect" | "exit" | "quit" => return Offer::Words(Vec::new()),
        _ => {}
    }
    let mut cmd = tree;
    let mut path: Vec<&str> = Vec::new();
    let mut pending: Option<&clap::Arg> = None;
    for w in words {
        if pending.take().is_some() {
            continue;
        }
        if w == "--" {
            continue;
        }
        if let Some(long) = w.strip_prefix("--") {
            if !long.contains('=') {
                pending = cmd
                    .get_arguments()
                    .find(|a| a.get_long() == Some(long))
                    .filter(|a| takes_value(a));
            }
        } else if let Some(shorts) = w.strip_prefix('-').filter(|s| !s.is_empty()) {
            // In `-pv` only the last flag may take the next word.
            if let Some(last) = shorts.chars().last() {
                let arg = cmd.get_arguments().find(|a| a.get_short() == Some(last));
                pending = arg.filter(|a| takes_value(a) && shorts.chars().count() == 1);
            }
        } else if let Some(sub) = cmd.find_subcommand(w) {
            cmd = sub;
            path.push(sub.get_name());
        }
    }
    if let Some(arg) = pending {
        return value_offer(arg);
    }
    if partial.current.starts_with('-') {
        return Offer::Words(flags(cmd, &partial.current));
    }
    if cmd.has_subcommands() {
        return Offer::Words(subcommand_names(cmd));
    }
    if TOPIC_POSITIONALS.contains(&path.as_slice()) {
        return Offer::Names(Dynamic::Topics);
    }
    Offer::Words(Vec::new())
}

fn takes_value(a: &clap::Arg) -> bool {
    a.get_num_args().is_some_and(|n| n.takes_values())
}

fn value_offer(arg: &clap::Arg) -> Offer {
    match arg.get_id().as_str() {
        "topic" => Offer::Names(Dynamic::Topics),
        "group" => Offer::Names(Dynamic::Groups),
        _ => Offer::Words(
            arg.get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect(),
        ),
    }
}

fn subcommand_names(cmd: &clap::Command) -> Vec<String> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect()
}

/// `--long` flags, plus `-s` ones when only `-` is typed.
fn flags(cmd: &clap::Command, current: &str) -> Vec<String> {
    let mut out = Vec::new();
    for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        if let Some(l) = a.get_long() {
            out.push(format!("--{l}"));
        }
        if current == "-" {
            if let Some(s) = a.get_short() {
                out.push(format!("-{s}"));
            }
        }
    }
    out
}

/// Cheap to clone: the REPL makes a new editor (and helper) per prompt.
#[derive(Clone)]
pub struct ReplHelper {
    tree: Arc<clap::Command>,
    names: Arc<Names>,
    color: bool,
}

impl ReplHelper {
    pub fn new(names: Arc<Names>, color: bool) -> ReplHelper {
        let mut tree = crate::cli::command();
        // Propagates global flags (-v, --profile) into every subcommand.
        tree.build();
        ReplHelper {
            tree: Arc::new(tree),
            names,
            color,
        }
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let partial = split_partial(&line[..pos]);
        let candidates = match offer(&self.tree, &partial) {
            Offer::Words(w) => w,
            Offer::Names(Dynamic::Topics) => self.names.topics(),
            Offer::Names(Dynamic::Groups) => self.names.groups(),
        };
        let mut pairs: Vec<Pair> = candidates
            .into_iter()
            .filter(|c| c.starts_with(&partial.current))
            .map(|c| Pair {
                replacement: format!("{} ", quote(&c)),
                display: c,
            })
            .collect();
        pairs.sort_by(|a, b| a.display.cmp(&b.display));
        pairs.dedup_by(|a, b| a.display == b.display);
        Ok((partial.start, pairs))
    }
}

/// Quotes a completed word when the shell-style splitter would cut it.
fn quote(word: &str) -> Cow<'_, str> {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,:=/@%+".contains(c))
    {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(format!("'{}'", word.replace('\'', r"'\''")))
    }
}

impl Highlighter for ReplHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        default: bool,
    ) -> Cow<'b, str> {
        if self.color && default {
            Cow::Owned(format!("\x1b[1;32m{prompt}\x1b[0m"))
        } else {
            Cow::Borrowed(prompt)
        }
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        false
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Validator for ReplHelper {}

impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer_for(line: &str) -> Offer {
        let mut tree = crate::cli::command();
        tree.build();
        offer(&tree, &split_partial(line))
    }

    fn words(o: Offer) -> Vec<String> {
        match o {
            Offer::Words(w) => w,
            Offer::Names(d) => panic!("expected words, got {d:?}"),
        }
    }

    #[test]
    fn commands_subcommands_and_flags() {
        let first = words(offer_for("to"));
        assert!(first.contains(&"topics".to_string()) && first.contains(&"connect".to_string()));
        assert!(
            !first.contains(&"generate".to_string()),
            "hidden stays hidden"
        );
        assert!(words(offer_for("topics ")).contains(&"describe".to_string()));
        let f = words(offer_for("consume --fr"));
        assert!(f.contains(&"--from-beginning".to_string()));
        assert!(f.contains(&"--profile".to_string()), "globals are offered");
        assert!(words(offer_for("topics list --output ")).contains(&"table".to_string()));
        assert!(words(offer_for("help topics ")).contains(&"create".to_string()));
    }

    #[test]
    fn broker_names_where_a_topic_or_group_goes() {
        assert_eq!(offer_for("consume -t "), Offer::Names(Dynamic::Topics));
        assert_eq!(
            offer_for("consume --topic or"),
            Offer::Names(Dynamic::Topics)
        );
        assert_eq!(offer_for("topics describe "), Offer::Names(Dynamic::Topics));
        assert_eq!(
            offer_for("topics delete --topic "),
            Offer::Names(Dynamic::Topics)
        );
        assert_eq!(
            offer_for("consume -t t --group "),
            Offer::Names(Dynamic::Groups)
        );
        assert_eq!(words(offer_for("topics create ")), Vec::<String>::new());
        assert_eq!(words(offer_for("consume -t x ")), Vec::<String>::new());
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("orders.v1"), "orders.v1");
        assert_eq!(quote("a b"), "'a b'");
    }
}
