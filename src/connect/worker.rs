//! The standalone worker: every connector on its own thread, supervised.
//!
//! A task that fails (its sink or source returned an error, the group
//! failed, a record broke `tolerance = "none"`) is logged, marked FAILED
//! on the [`StatusBoard`], and started again after a jittered backoff
//! that doubles per failure up to [`RESTART_BACKOFF_MAX`] (reset once a
//! task ran for [`HEALTHY_AFTER`]). One connector failing never stops the
//! others; only the stop signal ends the worker.
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::config::{ConfigError, ConnectorConfig};
use super::control::TaskControl;
use super::offsets::OffsetStore;
use super::registry::{self, Role};
use super::status::{State, StatusBoard};
use super::{sink_task, source_task};
use crate::client::backoff::jittered;
use crate::client::blocking::{BlockingClient, StopSignal};

pub const RESTART_BACKOFF: Duration = Duration::from_millis(500);
pub const RESTART_BACKOFF_MAX: Duration = Duration::from_secs(30);
pub const HEALTHY_AFTER: Duration = Duration::from_secs(60);

/// A checked connector file and what it does.
#[derive(Clone)]
pub struct Connector {
    pub config: Arc<ConnectorConfig>,
    pub role: Role,
}

/// Loads and checks every file; all errors at once (duplicate names too).
pub fn load(paths: &[PathBuf]) -> Result<Vec<Connector>, Vec<ConfigError>> {
    let mut out: Vec<Connector> = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let loaded = ConnectorConfig::load(p).and_then(|c| {
            let role = registry::build(&c)?;
            Ok(Connector {
                config: Arc::new(c),
                role,
            })
        });
        match loaded {
            Ok(c) => {
                if let Some(other) = out.iter().find(|o| o.config.name == c.config.name) {
                    errors.push(ConfigError {
                        file: p.clone(),
                        key: Some("name".into()),
                        message: format!(
                            "{:?} is also the name in {}",
                            c.config.name,
                            other.config.file.display()
                        ),
                    });
                } else {
                    out.push(c);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

pub struct WorkerConfig {
    /// Where sources keep their offsets.
    pub offsets_topic: String,
    /// Per connector (by name), what the control socket asks.
    pub controls: std::collections::BTreeMap<String, Arc<TaskControl>>,
}

/// Runs every connector until `stop` fires.
pub fn run(
    client: &BlockingClient,
    connectors: Vec<Connector>,
    worker: WorkerConfig,
    stop: &Arc<StopSignal>,
    board: &Arc<StatusBoard>,
) {
    let offsets = Arc::new(OffsetStore::new(worker.offsets_topic));
    std::thread::scope(|s| {
        // The worker's stop reaches every running task.
        let all: Vec<Arc<TaskControl>> = worker.controls.values().cloned().collect();
        let global = Arc::clone(stop);
        client.runtime().handle().spawn(async move {
            global.wait().await;
            for c in all {
                c.stop();
            }
        });
        for c in connectors {
            let offsets = offsets.clone();
            let name = c.config.name.clone();
            let control = worker.controls.get(&name).cloned().unwrap_or_default();
            let spawned = std::thread::Builder::new()
                .name(format!("connect-{name}"))
                .spawn_scoped(s, move || {
                    supervise(client, &c, &offsets, stop, board, &control)
                });
            if let Err(e) = spawned {
                tracing::error!(connector = %name, error = %e, "cannot start a thread for the connector");
            }
        }
    });
    offsets.close(client);
}

/// Runs one connector's task, restarting it after failures.
fn supervise(
    client: &BlockingClient,
    c: &Connector,
    offsets: &OffsetStore,
    stop: &StopSignal,
    board: &StatusBoard,
    control: &TaskControl,
) {
    let name = &c.config.name;
    let mut failures = 0u32;
    while !stop.is_set() {
        if control.paused() {
            board.set(name, State::Paused);
            tracing::info!(connector = %name, "paused");
            client.runtime().block_on(async {
                tokio::select! {
                    _ = control.wake.notified() => {}
                    _ = stop.wait() => {}
                }
            });
            continue;
        }
        let task_stop = control.new_run();
        if stop.is_set() {
            break;
        }
        board.running(name);
        tracing::info!(connector = %name, kind = %c.config.kind, "task running");
        let started = Instant::now();
        let result = match &c.role {
            Role::Sink(f) => sink_task::run(client, &c.config, f, &task_stop),
            Role::Source(f) => source_task::run(client, &c.config, f, offsets, &task_stop),
        };
        if stop.is_set() {
            break;
        }
        if control.paused() {
            continue;
        }
        if control.take_restart() || task_stop.is_set() {
            board.set(name, State::Restarting);
            tracing::info!(connector = %name, "restarting on request");
            failures = 0;
            continue;
        }
        match result {
            Ok(()) => break,
            Err(e) => {
                if started.elapsed() >= HEALTHY_AFTER {
                    failures = 0;
                }
                let wait = jittered(RESTART_BACKOFF, RESTART_BACKOFF_MAX, failures);
                failures = failures.saturating_add(1);
                let error = format!("{e:#}");
                tracing::error!(
                    connector = %name,
                    restart_in_ms = wait.as_millis() as u64,
                    "task FAILED: {error}"
                );
                board.failed(name, error);
                // A restart or pause asked meanwhile cuts the wait short.
                client.runtime().block_on(async {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.wait() => {}
                        _ = control.wake.notified() => {}
                    }
                });
            }
        }
    }
    board.stopped(name);
    tracing::info!(connector = %name, "task stopped");
}
