//! `strom repl` (and `strom` alone): the commands of the CLI, one per
//! line, run in this process. A line is split like a shell splits words
//! and parsed by the same clap definition as the command line, so there
//! is one grammar; only `help`, `connect`, `exit` and `quit` are extra.
//!
//! On a terminal it is an interactive shell (rustyline: completion,
//! history, Ctrl-C handling; one editor for the session, see `terminal`);
//! otherwise stdin is a script (see `script`). The user-facing rules are in `strom repl --help`
//! (`cli::args::REPL_HELP`).
mod completer;
mod history;
mod names;
mod script;
mod terminal;
mod words;

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::interrupt::{self, Mode};
use super::output::stdout;
use crate::cli::args::ReplArgs;
use crate::cli::profile::{self, Session, Settings, Source};
use crate::cli::{self as cli, EXIT_OK, EXIT_USAGE};
use anyhow::Context;
use completer::ReplHelper;
use names::Names;
pub use terminal::{record_lines, RecordLines};
use terminal::{Input, Terminal};

/// The prompt for commands: one string, whichever broker the session uses
/// (`connect` without an argument names it).
pub const PROMPT: &str = "strom> ";

/// The prompt while an interactive `produce` reads records for `topic`: the
/// REPL's prompt naming what the line is for, so a record is never typed as
/// a command or the other way round.
pub fn record_prompt(topic: &str) -> String {
    format!("strom produce {topic}> ")
}

/// Words the REPL handles itself; everything else goes to the CLI.
pub const BUILTINS: [&str; 4] = ["help", "connect", "exit", "quit"];

static SCRIPT_MODE: AtomicBool = AtomicBool::new(false);

/// True while stdin is a script being run: commands must not read stdin
/// (it holds the next lines) and nothing is coloured.
pub fn script_mode() -> bool {
    SCRIPT_MODE.load(Ordering::Relaxed)
}

pub fn run(
    args: Option<ReplArgs>,
    profile: Option<String>,
    settings: &Settings,
) -> anyhow::Result<()> {
    let mut session = Session {
        bootstrap: None,
        profile,
    };
    // Only an explicit `strom repl -b` pins the broker for the session;
    // env and profile values are looked up again for every line.
    if let Some(a) = args {
        if settings.bootstrap_server.source == Source::Flag {
            session.bootstrap = Some(a.connect.bootstrap_server);
        }
    }
    let interactive = io::stdin().is_terminal();
    let shell = Shell::new(session, interactive);
    if interactive {
        run_interactive(shell)
    } else {
        SCRIPT_MODE.store(true, Ordering::Relaxed);
        script::run(shell)
    }
}

/// What running one line led to.
pub(crate) enum Step {
    Done(i32),
    Exit,
}

pub(crate) struct Shell {
    session: Session,
    names: Arc<Names>,
    interactive: bool,
}

impl Shell {
    fn new(session: Session, interactive: bool) -> Shell {
        let names = Names::new(profile::effective_bootstrap(&session));
        Shell {
            session,
            names,
            interactive,
        }
    }

    /// Runs one non-empty line; `context` names it in error messages.
    pub(crate) fn execute(&mut self, words: Vec<String>, context: Option<&str>) -> Step {
        match words[0].as_str() {
            "exit" | "quit" if words.len() == 1 => Step::Exit,
            "exit" | "quit" => Step::Done(fail(context, "exit takes no arguments")),
            "help" => Step::Done(help(&words[1..], context)),
            "connect" => Step::Done(self.connect(&words[1..], context)),
            "repl" => Step::Done(fail(context, "already in the REPL")),
            _ => {
                let _running = interrupt::begin();
                Step::Done(cli::run_line(words, &self.session, context))
            }
        }
    }

    fn connect(&mut self, args: &[String], context: Option<&str>) -> i32 {
        let addr = match args {
            [] => {
                let current = profile::effective_bootstrap(&self.session);
                let mut out = stdout();
                let _ = writeln!(out, "{current}").and_then(|()| out.flush());
                return EXIT_OK;
            }
            [addr] => addr.clone(),
            _ => return fail(context, "connect takes one HOST:PORT[,HOST:PORT...]"),
        };
        if let Err(e) = crate::client::metadata::parse_bootstrap(&addr) {
            return fail(context, &e.to_string());
        }
        self.session.bootstrap = Some(addr.clone());
        self.names.set_bootstrap(addr.clone());
        // A quick look tells the user at once whether the switch worked
        // (and warms the completion cache); scripts stay quiet.
        if self.interactive {
            let mut err = io::stderr().lock();
            let _ = match self.names.probe(&addr) {
                Ok(n) => writeln!(err, "connected to {addr} ({n} topics)"),
                Err(e) => writeln!(
                    err,
                    "warning: {}; the following commands will still use {addr}",
                    cli::render(&e)
                ),
            };
        }
        EXIT_OK
    }
}

/// Prints a builtin's usage error as one line; returns the exit code.
fn fail(context: Option<&str>, msg: &str) -> i32 {
    let line = match context {
        Some(c) => format!("{c}: {msg}"),
        None => msg.to_string(),
    };
    let _ = writeln!(io::stderr().lock(), "{} {line}", cli::error_prefix());
    EXIT_USAGE
}

/// `help` lists everything; `help topics create` is that command's --help.
fn help(path: &[String], context: Option<&str>) -> i32 {
    let mut root = cli::command();
    root.build();
    let Some(cmd) = path
        .iter()
        .try_fold(&root, |c, name| c.find_subcommand(name))
    else {
        return fail(
            context,
            &format!("no command {:?}; `help` lists them", path.join(" ")),
        );
    };
    let mut text = cmd.clone().render_long_help().to_string();
    if path.is_empty() {
        text.push_str(
            "\nREPL builtins:\n  help [COMMAND...]  Show help for a command\n  \
             connect HOST:PORT  Use this broker for the following commands\n  \
             exit, quit         Leave (Ctrl-D too)\n",
        );
    }
    let mut out = stdout();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    EXIT_OK
}

fn run_interactive(mut shell: Shell) -> anyhow::Result<()> {
    interrupt::install(Mode::Interactive).context("cannot catch Ctrl-C")?;
    let helper = ReplHelper::new(shell.names.clone(), cli::color_enabled());
    terminal::install(Terminal::new(helper).context("cannot start the line editor")?);
    let result = interactive_loop(&mut shell);
    terminal::uninstall();
    result
}

fn interactive_loop(shell: &mut Shell) -> anyhow::Result<()> {
    loop {
        match terminal::read_command(PROMPT) {
            Ok(Input::Line(line)) => {
                match words::split(&line) {
                    Err(e) => {
                        fail(None, &e);
                    }
                    Ok(w) if w.is_empty() => {}
                    Ok(w) => {
                        if let Step::Exit = shell.execute(w, None) {
                            return Ok(());
                        }
                    }
                }
                // A Ctrl-C that stopped the last command is spent.
                interrupt::take_interrupted();
            }
            // Ctrl-C at the prompt drops the line typed so far.
            Ok(Input::Interrupted) => {}
            Ok(Input::Eof) => return Ok(()),
            Err(e) => return Err(anyhow::Error::new(e).context("cannot read the terminal")),
        }
    }
}
