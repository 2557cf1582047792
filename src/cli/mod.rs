//! The command line: parse, set up logging, dispatch, and turn the outcome
//! into an exit code and at most one line on stderr.
//!
//! Exit codes: 0 success (also `--help`, `--version`, and a closed stdout
//! pipe), 1 runtime failure, 2 usage error.
pub mod args;

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};

use clap::{CommandFactory, Parser};

pub use args::Cli;
use args::{Command, PerfCommand, TopicsCommand};

use crate::client::ClientError;
use crate::commands::{self, UsageError};

pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

/// The full command definition, for man pages, completions and the REPL.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Entry point of the `strom` binary.
pub fn main() -> i32 {
    run(std::env::args_os())
}

/// Runs one command line given as words after `strom` (e.g. a REPL line
/// split into `["topics", "list"]`). Returns the exit code.
pub fn run_args(args: Vec<String>) -> i32 {
    run(std::iter::once(OsString::from("strom")).chain(args.into_iter().map(OsString::from)))
}

fn run<I: IntoIterator<Item = OsString>>(argv: I) -> i32 {
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout and exit 0; mistakes exit 2.
            // A closed pipe while printing help is not worth reporting.
            let _ = e.print();
            return e.exit_code();
        }
    };
    init_tracing(cli.verbose, matches!(cli.command, Command::Serve(_)));
    match dispatch(cli.command) {
        Ok(()) => EXIT_OK,
        Err(err) => report(&err),
    }
}

fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(a) => commands::serve::run(a),
        Command::Produce(a) => commands::produce::run(a),
        Command::Consume(a) => commands::consume::run(a),
        Command::Topics(t) => match t {
            TopicsCommand::Create(a) => commands::topics::create(a),
            TopicsCommand::List(a) => commands::topics::list(a),
            TopicsCommand::Describe(a) => commands::topics::describe(a),
            TopicsCommand::Alter(a) => commands::topics::alter(a),
            TopicsCommand::Delete(a) => commands::topics::delete(a),
        },
        Command::Perf(p) => match p {
            PerfCommand::Produce(a) => commands::perf::produce(a),
            PerfCommand::Consume(a) => commands::perf::consume(a),
        },
    }
}

/// Whether stderr may be coloured: a terminal, and NO_COLOR unset or empty.
pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        && io::stderr().is_terminal()
}

fn init_tracing(verbose: u8, serving: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (verbose, serving) {
        (0, false) => "warn",
        (0, true) | (1, _) => "info",
        (2, _) => "debug",
        _ => "trace",
    };
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => EnvFilter::try_new(v).unwrap_or_else(|_| EnvFilter::new(default)),
        _ => EnvFilter::new(default),
    };
    // try_init: a REPL runs many commands in one process; the first wins.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(color_enabled())
        .with_target(false)
        .try_init();
}

/// Prints the error as one line and picks the exit code.
fn report(err: &anyhow::Error) -> i32 {
    if commands::output::is_broken_pipe(err) {
        return EXIT_OK;
    }
    let code = if err.downcast_ref::<UsageError>().is_some() {
        EXIT_USAGE
    } else {
        EXIT_FAILURE
    };
    let line = render(err);
    let prefix = if color_enabled() {
        "\x1b[1;31merror:\x1b[0m"
    } else {
        "error:"
    };
    let _ = writeln!(io::stderr().lock(), "{prefix} {line}");
    code
}

/// `cause[: deeper cause...][. hint]` on one line, without repeating a
/// cause that a message already includes.
pub fn render(err: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || msg.contains(&text) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    let hint = err
        .chain()
        .find_map(|c| c.downcast_ref::<ClientError>())
        .and_then(ClientError::hint)
        .or_else(|| err.downcast_ref::<UsageError>().and_then(|u| u.hint));
    if let Some(h) = hint {
        msg.push_str(". ");
        msg.push_str(h);
    }
    // One line, whatever a broker message contained.
    msg.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_renders_as_one_line_with_hint() {
        let e = anyhow::Error::new(ClientError::Unreachable {
            addr: "localhost:9092".into(),
            cause: "connection refused".into(),
        });
        assert_eq!(
            render(&e),
            "cannot reach broker at localhost:9092 (connection refused). Is strom serve running?"
        );
    }

    #[test]
    fn usage_errors_exit_2_and_help_exits_0() {
        assert_eq!(
            run_args(vec!["topics".into(), "create".into(), "a/b".into()]),
            2
        );
        assert_eq!(run_args(vec!["no-such-command".into()]), 2);
    }
}
