//! The command line: parse, set up logging, dispatch, and turn the outcome
//! into an exit code and at most one line on stderr.
//!
//! Exit codes: 0 success (also `--help`, `--version`, and a closed stdout
//! pipe), 1 runtime failure, 2 usage error.
pub mod args;
pub mod brokers_args;
pub mod connect_args;
pub mod elect_leaders_args;
pub mod groups_args;
pub mod profile;
pub mod stream_args;
pub mod top_args;
pub mod transactions_args;

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};

use clap::CommandFactory;

pub use args::Cli;
use args::{Command, ConfigCommand, PerfCommand, TopicsCommand};

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
    run_line(args, &profile::Session::default(), None)
}

/// Like [`run_args`], with a REPL session's defaults (`connect`, profile);
/// `context` (e.g. "line 3" in a script) prefixes an error line.
pub fn run_line(args: Vec<String>, session: &profile::Session, context: Option<&str>) -> i32 {
    let argv = std::iter::once(OsString::from("strom")).chain(args.into_iter().map(OsString::from));
    run_in(argv, session, context)
}

fn run<I: IntoIterator<Item = OsString>>(argv: I) -> i32 {
    run_in(argv, &profile::Session::default(), None)
}

fn run_in<I: IntoIterator<Item = OsString>>(
    argv: I,
    session: &profile::Session,
    context: Option<&str>,
) -> i32 {
    let (cli, settings) = match profile::parse(argv.into_iter().collect(), session) {
        Ok(parsed) => parsed,
        Err(profile::ParseError::Clap(e)) => return print_clap_error(&e, context),
        Err(profile::ParseError::Config(e)) => return report(&e, context),
    };
    init_tracing(cli.verbose, matches!(cli.command, Some(Command::Serve(_))));
    match dispatch(cli, &settings) {
        Ok(()) => EXIT_OK,
        Err(err) => report(&err, context),
    }
}

/// Help and version go to stdout and exit 0; mistakes exit 2. A closed
/// pipe while printing help is not worth reporting. In a script, a mistake
/// is one line naming the script line instead of clap's usage block.
fn print_clap_error(e: &clap::Error, context: Option<&str>) -> i32 {
    match context {
        Some(c) if e.use_stderr() => {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or_default();
            let first = first.strip_prefix("error: ").unwrap_or(first);
            let _ = writeln!(io::stderr().lock(), "{} {c}: {first}", error_prefix());
        }
        _ => {
            let _ = e.print();
        }
    }
    e.exit_code()
}

fn dispatch(cli: Cli, settings: &profile::Settings) -> anyhow::Result<()> {
    let Some(command) = cli.command else {
        return commands::repl::run(None, cli.profile, settings);
    };
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
            TopicsCommand::Offsets(a) => commands::topics_offsets::offsets(a),
            TopicsCommand::DeleteRecords(a) => commands::delete_records::run(a),
            TopicsCommand::ElectLeaders(a) => commands::elect_leaders::run(a),
        },
        Command::Perf(p) => match p {
            PerfCommand::Produce(a) => commands::perf::produce(a),
            PerfCommand::Consume(a) => commands::perf::consume(a),
        },
        Command::Repl(a) => commands::repl::run(Some(a), cli.profile, settings),
        Command::Config(ConfigCommand::Show(a)) => commands::config::show(a, settings),
        Command::Generate(g) => commands::generate::run(g),
        Command::Groups(g) => commands::groups::run(g),
        Command::Brokers(b) => commands::brokers::run(b),
        Command::Transactions(t) => commands::transactions::run(t),
        Command::Stream(a) => commands::stream::run(a),
        Command::Connect(c) => commands::connect::run(c),
        Command::Top(a) => commands::top::run(a),
    }
}

/// Whether stderr may be coloured: a terminal, and NO_COLOR unset or empty.
pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        && io::stderr().is_terminal()
        && !commands::repl::script_mode()
}

fn init_tracing(verbose: u8, serving: bool) {
    use tracing_subscriber::EnvFilter;
    // openraft reports every failed heartbeat to a down peer at info/warn;
    // at the default level that drowns the broker's own log, so it speaks
    // only from -vv on (or through RUST_LOG).
    let default = match (verbose, serving) {
        (0, false) => "warn",
        (0, true) | (1, _) => "info,openraft=error",
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
fn report(err: &anyhow::Error, context: Option<&str>) -> i32 {
    if commands::output::is_broken_pipe(err) {
        return EXIT_OK;
    }
    let code = if err.downcast_ref::<UsageError>().is_some() {
        EXIT_USAGE
    } else {
        EXIT_FAILURE
    };
    let line = match context {
        Some(c) => format!("{c}: {}", render(err)),
        None => render(err),
    };
    let _ = writeln!(io::stderr().lock(), "{} {line}", error_prefix());
    code
}

/// `error:`, in bold red when stderr may be coloured.
pub fn error_prefix() -> &'static str {
    if color_enabled() {
        "\x1b[1;31merror:\x1b[0m"
    } else {
        "error:"
    }
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
