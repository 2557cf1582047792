//! Control of a running worker: pause, resume and restart a connector's
//! task ([`TaskControl`]), and the local Unix socket `strom connect
//! list|status|pause|resume|restart` talks to: one JSON request line, one
//! JSON answer line per connection.
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::offsets_admin::OffsetsAdmin;
use super::status::StatusBoard;
use super::target_state::TargetStateFile;
use crate::client::blocking::StopSignal;

/// What the control socket asked of one connector's supervisor.
#[derive(Default)]
pub struct TaskControl {
    ctl: Mutex<Ctl>,
    /// Wakes the supervisor from a backoff or a pause.
    pub wake: tokio::sync::Notify,
}

#[derive(Default)]
struct Ctl {
    paused: bool,
    restart: bool,
    /// The running task's own stop.
    stop: Arc<StopSignal>,
}

impl TaskControl {
    fn lock(&self) -> std::sync::MutexGuard<'_, Ctl> {
        self.ctl.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh stop for the next run (a restart asked before it is done
    /// by it).
    pub fn new_run(&self) -> Arc<StopSignal> {
        let mut c = self.lock();
        c.restart = false;
        c.stop = Arc::new(StopSignal::default());
        c.stop.clone()
    }

    pub fn paused(&self) -> bool {
        self.lock().paused
    }

    /// Whether a restart was asked (and forgets it).
    pub fn take_restart(&self) -> bool {
        std::mem::take(&mut self.lock().restart)
    }

    pub fn pause(&self) {
        let mut c = self.lock();
        c.paused = true;
        c.stop.trigger();
        drop(c);
        self.wake.notify_one();
    }

    pub fn resume(&self) {
        self.lock().paused = false;
        self.wake.notify_one();
    }

    pub fn restart(&self) {
        let mut c = self.lock();
        c.restart = true;
        c.stop.trigger();
        drop(c);
        self.wake.notify_one();
    }

    /// Stops the running task (the worker is stopping).
    pub fn stop(&self) {
        self.lock().stop.trigger();
        self.wake.notify_one();
    }
}

/// One connector as the control socket sees it.
pub struct Entry {
    pub kind: String,
    pub control: Arc<TaskControl>,
}

/// The default socket: `$XDG_RUNTIME_DIR/strom-connect.sock`, else
/// `strom-connect-<uid>.sock` in the temporary directory.
pub fn default_path() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d).join("strom-connect.sock"),
        _ => {
            // SAFETY: getuid has no preconditions and cannot fail.
            let uid = unsafe { libc::getuid() };
            std::env::temp_dir().join(format!("strom-connect-{uid}.sock"))
        }
    }
}

/// Binds the socket; a stale one (nobody answers) is replaced, a live
/// one is an error (another worker).
pub fn bind(path: &Path) -> anyhow::Result<UnixListener> {
    if path.exists() {
        if UnixStream::connect(path).is_ok() {
            anyhow::bail!(
                "another worker answers on the control socket {} (give --control PATH)",
                path.display()
            );
        }
        let _ = std::fs::remove_file(path);
    }
    UnixListener::bind(path)
        .map_err(|e| anyhow::anyhow!("cannot bind the control socket {}: {e}", path.display()))
}

/// Answers requests until the process ends (a thread of its own).
pub fn serve(
    listener: UnixListener,
    entries: Arc<BTreeMap<String, Entry>>,
    board: Arc<StatusBoard>,
    admin: Option<Arc<OffsetsAdmin>>,
    state: Option<Arc<TargetStateFile>>,
) {
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let entries = entries.clone();
        let board = board.clone();
        let admin = admin.clone();
        let state = state.clone();
        let _ = std::thread::Builder::new()
            .name("connect-control".into())
            .spawn(move || {
                let _ = answer(conn, &entries, &board, admin.as_deref(), state.as_deref());
            });
    }
}

fn answer(
    conn: UnixStream,
    entries: &BTreeMap<String, Entry>,
    board: &StatusBoard,
    admin: Option<&OffsetsAdmin>,
    state: Option<&TargetStateFile>,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut line = String::new();
    BufReader::new(&conn).take_line(&mut line)?;
    let reply = handle(&line, entries, board, admin);
    if let (Some(state), Some(true)) = (state, reply["ok"].as_bool()) {
        let cmd = serde_json::from_str::<Value>(&line).map(|v| v["cmd"].clone());
        if matches!(
            cmd.as_ref().ok().and_then(Value::as_str),
            Some("pause" | "resume")
        ) {
            let paused = entries
                .iter()
                .filter(|(_, e)| e.control.paused())
                .map(|(n, _)| n.clone())
                .collect();
            if let Err(e) = state.save(&paused) {
                tracing::warn!(
                    "{e:#}; after a worker restart the connectors run as before the {line:?}"
                );
            }
        }
    }
    let mut w = &conn;
    let mut text = reply.to_string();
    text.push('\n');
    w.write_all(text.as_bytes())
}

trait TakeLine {
    fn take_line(&mut self, out: &mut String) -> std::io::Result<usize>;
}

impl<R: BufRead> TakeLine for R {
    fn take_line(&mut self, out: &mut String) -> std::io::Result<usize> {
        use std::io::Read;
        self.take(64 << 10).read_line(out)
    }
}

fn status_of(name: &str, e: &Entry, board: &StatusBoard) -> Value {
    let snap = board.snapshot();
    let s = snap.get(name);
    let since = s
        .and_then(|s| s.since.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as u64);
    json!({
        "name": name,
        "type": e.kind,
        "state": s.map_or("STARTING", |s| s.state.as_str()),
        "restarts": s.map_or(0, |s| s.restarts),
        "last_error": s.and_then(|s| s.last_error.clone()),
        "since_ms": since,
    })
}

/// One request (`{"cmd": "...", "name": "..."}`) to its answer.
pub fn handle(
    line: &str,
    entries: &BTreeMap<String, Entry>,
    board: &StatusBoard,
    admin: Option<&OffsetsAdmin>,
) -> Value {
    let req: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return json!({"ok": false, "error": format!("bad request: {e}")}),
    };
    let cmd = req["cmd"].as_str().unwrap_or("");
    let name = req["name"].as_str();
    if cmd == "list" || (cmd == "status" && name.is_none()) {
        let all: Vec<Value> = entries
            .iter()
            .map(|(n, e)| status_of(n, e, board))
            .collect();
        return json!({"ok": true, "connectors": all});
    }
    let Some(name) = name else {
        return json!({"ok": false, "error": format!("{cmd} needs a connector name")});
    };
    let Some(e) = entries.get(name) else {
        let known: Vec<&str> = entries.keys().map(String::as_str).collect();
        return json!({"ok": false, "error": format!("no connector {name:?} in this worker (it runs: {})", known.join(", "))});
    };
    let paused = || {
        e.control.paused()
            && board
                .snapshot()
                .get(name)
                .is_some_and(|s| s.state == super::status::State::Paused)
    };
    let offsets = match (cmd, admin) {
        ("offsets", Some(a)) => Some(a.describe(name)),
        ("reset-offsets", Some(_)) if !paused() => {
            return json!({"ok": false, "error": format!(
                "{name} is running: pause it first (strom connect pause {name}), as Kafka Connect resets offsets only of a stopped connector"
            )})
        }
        ("reset-offsets", Some(a)) => Some(a.reset(name)),
        ("offsets" | "reset-offsets", None) => {
            return json!({"ok": false, "error": "this worker does not serve offsets"})
        }
        _ => None,
    };
    if let Some(o) = offsets {
        return match o {
            Ok(v) => json!({"ok": true, "offsets": v}),
            Err(e) => json!({"ok": false, "error": format!("{e:#}")}),
        };
    }
    match cmd {
        "status" => {}
        "pause" => e.control.pause(),
        "resume" => e.control.resume(),
        "restart" => e.control.restart(),
        other => return json!({"ok": false, "error": format!("unknown command {other:?}")}),
    }
    json!({"ok": true, "connectors": [status_of(name, e, board)]})
}

/// Sends one request to the worker at `path` and returns its answer.
pub fn request(path: &Path, cmd: &str, name: Option<&str>) -> anyhow::Result<Value> {
    let conn = UnixStream::connect(path).map_err(|e| {
        anyhow::anyhow!(
            "no worker answers on the control socket {}: {e} (is `strom connect standalone` running? give --control PATH)",
            path.display()
        )
    })?;
    conn.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    let mut w = &conn;
    let mut text = json!({"cmd": cmd, "name": name}).to_string();
    text.push('\n');
    w.write_all(text.as_bytes())?;
    let mut line = String::new();
    BufReader::new(&conn).take_line(&mut line)?;
    let v: Value = serde_json::from_str(&line)
        .map_err(|e| anyhow::anyhow!("bad answer from the worker: {e}"))?;
    if v["ok"] != json!(true) {
        anyhow::bail!("{}", v["error"].as_str().unwrap_or("the worker refused"));
    }
    Ok(v)
}
