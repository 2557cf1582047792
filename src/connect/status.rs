//! What every connector's task is doing, for logs now and for the
//! control socket (`strom connect status`) later.
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::SystemTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Running,
    /// Failed; waiting out the backoff before the next start.
    Failed,
    Stopped,
    /// Paused from the control socket; resumes on `resume`.
    Paused,
    /// Stopping to start again (`restart`).
    Restarting,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Running => "RUNNING",
            State::Failed => "FAILED",
            State::Stopped => "STOPPED",
            State::Paused => "PAUSED",
            State::Restarting => "RESTARTING",
        }
    }
}

#[derive(Debug, Clone)]
pub struct TaskStatus {
    pub state: State,
    /// Starts after a failure so far.
    pub restarts: u32,
    /// The last failure, kept while running again so it stays visible.
    pub last_error: Option<String>,
    pub since: SystemTime,
}

/// Every connector's status, by name.
#[derive(Debug, Default)]
pub struct StatusBoard {
    tasks: Mutex<BTreeMap<String, TaskStatus>>,
}

impl StatusBoard {
    fn update(&self, name: &str, f: impl FnOnce(&mut TaskStatus)) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        let s = tasks.entry(name.to_string()).or_insert(TaskStatus {
            state: State::Running,
            restarts: 0,
            last_error: None,
            since: SystemTime::now(),
        });
        f(s);
        s.since = SystemTime::now();
    }

    pub fn running(&self, name: &str) {
        self.update(name, |s| s.state = State::Running);
    }

    pub fn failed(&self, name: &str, error: String) {
        self.update(name, |s| {
            s.state = State::Failed;
            s.restarts += 1;
            s.last_error = Some(error);
        });
    }

    pub fn set(&self, name: &str, state: State) {
        self.update(name, |s| s.state = state);
    }

    pub fn stopped(&self, name: &str) {
        self.update(name, |s| s.state = State::Stopped);
    }

    pub fn snapshot(&self) -> BTreeMap<String, TaskStatus> {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
