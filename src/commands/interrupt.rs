//! Ctrl-C for commands that run inside the REPL or a script.
//!
//! Standalone, a command that stops cleanly on Ctrl-C (consume, perf)
//! asks its own runtime to catch SIGINT, and every other command simply
//! dies of it. Inside the REPL the process must survive Ctrl-C, so
//! [`install`] catches SIGINT for the rest of the process and hands each
//! press to the command that is running: one that listens (it called
//! [`stop_signal`]) stops and returns to the prompt; for one that does
//! not, a second press quits strom, so nothing can hang the shell.
use std::io::{self, Write};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, OnceLock};

use crate::client::blocking::{Runtime, StopSignal};

/// Exit status of a process ended by Ctrl-C (128 + SIGINT), as shells report it.
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Ctrl-C stops the running command; the prompt comes back.
    Interactive,
    /// Ctrl-C stops the running command and the script.
    Script,
}

struct Hub {
    mode: Mode,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The running command's signal; None between commands.
    current: Option<Arc<StopSignal>>,
    /// Whether the running command listens for the signal.
    claimed: bool,
    presses: u32,
    /// Any Ctrl-C since the last [`take_interrupted`].
    interrupted: bool,
}

static HUB: OnceLock<Hub> = OnceLock::new();

/// The SIGINT action in place once [`install`] returned (the runtime's
/// handler that feeds [`on_sigint`]), for [`reclaim_sigint`].
static HANDLER: OnceLock<libc::sigaction> = OnceLock::new();

fn state(hub: &Hub) -> MutexGuard<'_, State> {
    hub.state.lock().unwrap_or_else(|p| p.into_inner())
}

/// Catches SIGINT from now on. Returns once the handler is in place, so a
/// Ctrl-C right after start cannot kill the process.
pub fn install(mode: Mode) -> io::Result<()> {
    if HUB.get().is_some() {
        return Ok(());
    }
    let _ = HUB.set(Hub {
        mode,
        state: Mutex::new(State::default()),
    });
    let (tx, rx) = mpsc::channel::<io::Result<()>>();
    std::thread::Builder::new()
        .name("strom-sigint".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            rt.block_on(async move {
                use tokio::signal::unix::{signal, SignalKind};
                let mut sigint = match signal(SignalKind::interrupt()) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                let _ = tx.send(Ok(()));
                while sigint.recv().await.is_some() {
                    on_sigint();
                }
            });
        })?;
    rx.recv()
        .unwrap_or_else(|_| Err(io::Error::other("the Ctrl-C handler did not start")))?;
    // SAFETY: a null new action only reads the current one into `current`.
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    if unsafe { libc::sigaction(libc::SIGINT, std::ptr::null(), &mut current) } == 0 {
        let _ = HANDLER.set(current);
    }
    Ok(())
}

/// Puts our SIGINT handler back after someone else took SIGINT over.
///
/// The REPL's line editor installs a SIGINT handler of its own for as long
/// as it exists, and the REPL keeps one editor for the whole session (its
/// read-ahead buffer holds typed-ahead and pasted lines). At the prompt the
/// terminal is raw, so Ctrl-C is a key there and the editor never needs
/// the signal; while a command runs, the signal must reach [`on_sigint`].
pub fn reclaim_sigint() -> io::Result<()> {
    let Some(action) = HANDLER.get() else {
        return Ok(());
    };
    // SAFETY: `action` is the complete action read back by `install`.
    if unsafe { libc::sigaction(libc::SIGINT, action, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn on_sigint() {
    let Some(hub) = HUB.get() else { return };
    let mut st = state(hub);
    st.interrupted = true;
    let Some(stop) = st.current.clone() else {
        // Between commands (the prompt reads Ctrl-C as a key): the script
        // loop sees `interrupted`.
        return;
    };
    st.presses += 1;
    let listens = st.claimed;
    if st.presses >= 2 || (hub.mode == Mode::Script && !listens) {
        drop(st);
        let _ = writeln!(io::stderr().lock());
        std::process::exit(EXIT_INTERRUPTED);
    }
    stop.trigger();
    if listens {
        // The terminal echoed ^C; the command's summary gets its own line.
        let _ = writeln!(io::stderr().lock());
    } else {
        let _ = writeln!(
            io::stderr().lock(),
            "\nstrom: this command does not stop on Ctrl-C (Ctrl-D ends typed input); \
             press Ctrl-C again to quit strom"
        );
    }
}

/// Marks a command as running until the guard is dropped.
pub struct Running(());

pub fn begin() -> Running {
    if let Some(hub) = HUB.get() {
        let mut st = state(hub);
        st.current = Some(Arc::new(StopSignal::default()));
        st.claimed = false;
        st.presses = 0;
    }
    Running(())
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(hub) = HUB.get() {
            state(hub).current = None;
        }
    }
}

/// The signal a command that stops cleanly on Ctrl-C should watch: the
/// REPL's when running inside it, else the runtime's own SIGINT listener.
pub fn stop_signal(rt: &Runtime) -> Arc<StopSignal> {
    let Some(hub) = HUB.get() else {
        return rt.stop_on_signal();
    };
    let mut st = state(hub);
    st.claimed = true;
    st.current.clone().unwrap_or_default()
}

/// Whether Ctrl-C was pressed since the last call.
pub fn take_interrupted() -> bool {
    HUB.get()
        .map(|hub| std::mem::take(&mut state(hub).interrupted))
        .unwrap_or(false)
}
