//! The interactive REPL's one line editor, for command lines and for the
//! records an interactive `produce` reads from the terminal.
//!
//! Why one editor for the whole session, shared with `produce`: the editor
//! reads the terminal in chunks, so when several lines arrive at once (a
//! paste, or lines typed while a command ran) the later ones sit in its
//! read-ahead buffer. A new editor per prompt threw that buffer away, and a
//! `produce` reading stdin beside the editor saw the lines in the wrong
//! order. Here every line the user enters goes through this editor and is
//! handed out in the order it was typed: first to the command prompt, then
//! to a `produce` that asks for records, then back to the prompt.
//!
//! Ctrl-C and Ctrl-D are bound to keys that end the line normally (and
//! set a flag), not to the editor's own interrupt and end-of-file errors:
//! those errors drop the read-ahead buffer, and the lines typed after the
//! key with it.
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::history::FileHistory;
use rustyline::{
    Cmd, CompletionType, ConditionalEventHandler, Editor, Event, EventContext, EventHandler,
    KeyEvent, RepeatCount,
};

use super::completer::ReplHelper;
use super::history::History;
use crate::client::blocking::StopSignal;
use crate::commands::interrupt;
use crate::commands::line_reader::Next;

/// What the user entered.
pub enum Input {
    Line(String),
    /// Ctrl-C: the line typed so far is dropped.
    Interrupted,
    /// Ctrl-D on an empty line, or the terminal went away.
    Eof,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Command,
    Record,
}

/// Which of the bound keys ended the last line.
#[derive(Default)]
struct Keys {
    eof: AtomicBool,
    interrupt: AtomicBool,
}

/// Ctrl-D on an empty line ends the input; elsewhere it keeps its usual
/// meaning (delete the character under the cursor).
struct CtrlD(Arc<Keys>);

impl ConditionalEventHandler for CtrlD {
    fn handle(&self, _: &Event, _: RepeatCount, _: bool, ctx: &EventContext) -> Option<Cmd> {
        if !ctx.line().is_empty() {
            return None;
        }
        self.0.eof.store(true, Ordering::Relaxed);
        Some(Cmd::AcceptLine)
    }
}

struct CtrlC(Arc<Keys>);

impl ConditionalEventHandler for CtrlC {
    fn handle(&self, _: &Event, _: RepeatCount, _: bool, _: &EventContext) -> Option<Cmd> {
        self.0.interrupt.store(true, Ordering::Relaxed);
        Some(Cmd::AcceptLine)
    }
}

pub struct Terminal {
    editor: Editor<ReplHelper, FileHistory>,
    helper: ReplHelper,
    history: History,
    /// Records typed for `produce` have a history of their own (in memory
    /// only), so Up recalls records while typing records.
    records: FileHistory,
    keys: Arc<Keys>,
    /// Lines of a multi-line paste not handed out yet.
    pending: VecDeque<String>,
}

impl Terminal {
    pub fn new(helper: ReplHelper) -> anyhow::Result<Terminal> {
        let config = rustyline::Config::builder()
            .completion_type(CompletionType::List)
            .max_history_size(10_000)?
            .history_ignore_dups(true)?
            .build();
        let mut lines = FileHistory::with_config(&config);
        let history = History::load(&mut lines);
        let mut editor = Editor::with_history(config.clone(), lines)?;
        // The editor took SIGINT over; Ctrl-C is a key to it anyway (see
        // interrupt::reclaim_sigint).
        interrupt::reclaim_sigint()?;
        let keys = Arc::new(Keys::default());
        editor.bind_sequence(
            KeyEvent::ctrl('D'),
            EventHandler::Conditional(Box::new(CtrlD(keys.clone()))),
        );
        editor.bind_sequence(
            KeyEvent::ctrl('C'),
            EventHandler::Conditional(Box::new(CtrlC(keys.clone()))),
        );
        Ok(Terminal {
            editor,
            helper,
            history,
            records: FileHistory::with_config(&config),
            keys,
            pending: VecDeque::new(),
        })
    }

    fn read(&mut self, prompt: &str, kind: Kind) -> Result<Input, ReadlineError> {
        if let Some(line) = self.pending.pop_front() {
            if kind == Kind::Command {
                self.echo(prompt, &line);
                self.history.add(self.editor.history_mut(), &line);
            }
            return Ok(Input::Line(line));
        }
        let read = match kind {
            Kind::Command => {
                self.editor.set_helper(Some(self.helper.clone()));
                self.editor.readline(prompt)
            }
            Kind::Record => {
                // No command completion in records.
                self.editor.set_helper(None);
                std::mem::swap(self.editor.history_mut(), &mut self.records);
                let read = self.editor.readline(prompt);
                std::mem::swap(self.editor.history_mut(), &mut self.records);
                read
            }
        };
        let eof = self.keys.eof.swap(false, Ordering::Relaxed);
        let interrupted = self.keys.interrupt.swap(false, Ordering::Relaxed);
        let text = match read {
            Ok(_) if interrupted => return Ok(Input::Interrupted),
            Ok(_) if eof => return Ok(Input::Eof),
            Ok(text) => text,
            Err(ReadlineError::Interrupted) => return Ok(Input::Interrupted),
            Err(ReadlineError::Eof) => return Ok(Input::Eof),
            Err(e) => return Err(e),
        };
        // A bracketed paste arrives as one edit holding newlines: each of
        // its lines is a line of its own, run in order.
        let mut lines: VecDeque<String> = text.split('\n').map(str::to_string).collect();
        if lines.len() > 1 && lines.back().is_some_and(String::is_empty) {
            lines.pop_back();
        }
        let first = lines.pop_front().unwrap_or_default();
        self.pending.extend(lines);
        match kind {
            Kind::Command => self.history.add(self.editor.history_mut(), &first),
            Kind::Record => {
                use rustyline::history::History as _;
                let _ = self.records.add(&first);
            }
        }
        Ok(Input::Line(first))
    }

    /// Shows a line that runs without being typed at this prompt (a later
    /// line of a paste) as if it had been, so the output can be told apart.
    fn echo(&self, prompt: &str, line: &str) {
        let mut out = io::stdout().lock();
        if out.is_terminal() {
            let prompt = self.helper.highlight_prompt(prompt, true);
            let _ = writeln!(out, "{prompt}{line}").and_then(|()| out.flush());
        }
    }
}

thread_local! {
    /// The REPL's terminal, on the thread that runs the REPL (and the
    /// commands it starts); none outside the interactive REPL.
    static TERMINAL: RefCell<Option<Terminal>> = const { RefCell::new(None) };
}

pub fn install(t: Terminal) {
    TERMINAL.with(|cell| *cell.borrow_mut() = Some(t));
}

/// Drops the editor: the terminal mode and signal handlers it changed are
/// restored.
pub fn uninstall() {
    TERMINAL.with(|cell| drop(cell.borrow_mut().take()));
}

fn with<T>(f: impl FnOnce(&mut Terminal) -> T) -> Option<T> {
    TERMINAL.with(|cell| cell.try_borrow_mut().ok()?.as_mut().map(f))
}

/// The next command line at `prompt`.
pub fn read_command(prompt: &str) -> Result<Input, ReadlineError> {
    with(|t| t.read(prompt, Kind::Command)).unwrap_or(Ok(Input::Eof))
}

/// Record lines for an interactive `produce` inside the REPL, read with
/// the REPL's editor at the record prompt.
pub struct RecordLines {
    prompt: String,
    line: Vec<u8>,
    line_no: u64,
}

/// Some when this thread runs the interactive REPL, so a `produce` that
/// reads the terminal must read it through the REPL's editor.
pub fn record_lines(topic: &str) -> Option<RecordLines> {
    with(|_| RecordLines {
        prompt: super::record_prompt(topic),
        line: Vec::new(),
        line_no: 0,
    })
}

impl RecordLines {
    /// Like `LineReader::next_line`: Ctrl-C (or the REPL's stop signal)
    /// is `Stopped`, Ctrl-D on an empty line `Eof`.
    pub fn next_line(&mut self, stop: &StopSignal) -> io::Result<Next<'_>> {
        if stop.is_set() {
            return Ok(Next::Stopped);
        }
        let read = with(|t| t.read(&self.prompt, Kind::Record)).unwrap_or(Ok(Input::Eof));
        match read {
            Ok(Input::Line(l)) => {
                self.line = l.into_bytes();
                self.line_no += 1;
                Ok(Next::Line(&self.line, self.line_no))
            }
            Ok(Input::Interrupted) => Ok(Next::Stopped),
            Ok(Input::Eof) => Ok(Next::Eof),
            Err(ReadlineError::Io(e)) => Err(e),
            Err(e) => Err(io::Error::other(e.to_string())),
        }
    }
}
