//! The replicated state machine: applies committed `MetadataCommand`s to
//! `ClusterMetadata` and publishes every new state on a watch channel.
//!
//! Snapshots are the serde_json of the state plus openraft's snapshot meta,
//! kept in `data_dir/raft/snapshot.json` (replaced atomically). On restart
//! the state starts from that file and openraft re-applies only the log
//! after it, so restart time does not grow with history.
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{EntryPayload, RaftSnapshotBuilder};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::files;
use super::types::{
    Entry, LogId, SnapshotMeta, StorageError, StorageIOError, StoredMembership, TypeConfig,
};
use crate::cluster::apply::apply;
use crate::cluster::command::{ApplyResult, CommandResult};
use crate::cluster::metadata::ClusterMetadata;

/// The latest snapshot: its meta and serialized state.
type Current = Arc<Mutex<Option<(SnapshotMeta, Vec<u8>)>>>;

#[derive(Serialize, Deserialize)]
struct SnapshotFile {
    meta: SnapshotMeta,
    data: ClusterMetadata,
}

pub struct StateMachine {
    path: PathBuf,
    state: ClusterMetadata,
    last_applied: Option<LogId>,
    membership: StoredMembership,
    /// The latest snapshot, shared with the builders openraft runs in the
    /// background.
    snapshot: Current,
    publish: watch::Sender<Arc<ClusterMetadata>>,
    builds: u64,
}

fn read_err(e: &(impl std::error::Error + 'static)) -> StorageError {
    StorageIOError::read_snapshot(None, e).into()
}

impl StateMachine {
    /// Loads the last snapshot under `raft_dir`, if any.
    pub fn open(
        raft_dir: &Path,
        publish: watch::Sender<Arc<ClusterMetadata>>,
    ) -> std::io::Result<StateMachine> {
        let path = raft_dir.join("snapshot.json");
        let mut sm = StateMachine {
            path: path.clone(),
            state: ClusterMetadata::default(),
            last_applied: None,
            membership: StoredMembership::default(),
            snapshot: Arc::new(Mutex::new(None)),
            publish,
            builds: 0,
        };
        if let Some(raw) = files::read_opt(&path)? {
            let file: SnapshotFile = serde_json::from_slice(&raw).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            })?;
            sm.last_applied = file.meta.last_log_id;
            sm.membership = file.meta.last_membership.clone();
            sm.state = file.data;
            let data = raw_data(&sm.state)?;
            *lock(&sm.snapshot) = Some((file.meta, data));
            sm.publish.send_replace(Arc::new(sm.state.clone()));
        }
        Ok(sm)
    }
}

fn lock(c: &Current) -> std::sync::MutexGuard<'_, Option<(SnapshotMeta, Vec<u8>)>> {
    c.lock().unwrap_or_else(|p| p.into_inner())
}

/// Makes `meta`/`state` the current snapshot, on disk first, unless a newer
/// one is already there (a background build may finish after an install).
fn store(
    path: &Path,
    current: &Current,
    meta: &SnapshotMeta,
    state: &ClusterMetadata,
) -> std::io::Result<Vec<u8>> {
    let data = raw_data(state)?;
    let mut cur = lock(current);
    if cur
        .as_ref()
        .is_some_and(|(m, _)| m.last_log_id > meta.last_log_id)
    {
        return Ok(data);
    }
    let body = serde_json::to_vec(&SnapshotFile {
        meta: meta.clone(),
        data: state.clone(),
    })
    .map_err(std::io::Error::other)?;
    files::replace(path, &body, true)?;
    *cur = Some((meta.clone(), data.clone()));
    Ok(data)
}

fn raw_data(state: &ClusterMetadata) -> std::io::Result<Vec<u8>> {
    serde_json::to_vec(state).map_err(std::io::Error::other)
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        Ok((self.last_applied, self.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<ApplyResult>, StorageError>
    where
        I: IntoIterator<Item = Entry> + openraft::OptionalSend,
        I::IntoIter: openraft::OptionalSend,
    {
        let mut results = Vec::new();
        for entry in entries {
            self.last_applied = Some(entry.log_id);
            self.state.applied_index = entry.log_id.index;
            let r = match entry.payload {
                EntryPayload::Blank => Ok(CommandResult::Done),
                EntryPayload::Normal(cmd) => apply(&mut self.state, cmd),
                EntryPayload::Membership(m) => {
                    self.membership = StoredMembership::new(Some(entry.log_id), m);
                    Ok(CommandResult::Done)
                }
            };
            results.push(r);
        }
        self.publish.send_replace(Arc::new(self.state.clone()));
        Ok(results)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.builds += 1;
        SnapshotBuilder {
            path: self.path.clone(),
            state: self.state.clone(),
            last_applied: self.last_applied,
            membership: self.membership.clone(),
            id: self.builds,
            current: self.snapshot.clone(),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let data = snapshot.into_inner();
        let state: ClusterMetadata = serde_json::from_slice(&data).map_err(|e| read_err(&e))?;
        store(&self.path, &self.snapshot, meta, &state)
            .map_err(|e| StorageIOError::write_snapshot(None, &e))?;
        self.state = state;
        self.last_applied = meta.last_log_id;
        self.membership = meta.last_membership.clone();
        self.publish.send_replace(Arc::new(self.state.clone()));
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        Ok(lock(&self.snapshot).as_ref().map(|(meta, data)| Snapshot {
            meta: meta.clone(),
            snapshot: Box::new(Cursor::new(data.clone())),
        }))
    }
}

/// A point-in-time copy of the state, written out by openraft's snapshot
/// task while the state machine keeps applying.
pub struct SnapshotBuilder {
    path: PathBuf,
    state: ClusterMetadata,
    last_applied: Option<LogId>,
    membership: StoredMembership,
    id: u64,
    current: Current,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let snapshot_id = match self.last_applied {
            Some(l) => format!("{}-{}-{}", l.leader_id, l.index, self.id),
            None => format!("none-{}", self.id),
        };
        let meta = SnapshotMeta {
            last_log_id: self.last_applied,
            last_membership: self.membership.clone(),
            snapshot_id,
        };
        let data = store(&self.path, &self.current, &meta, &self.state)
            .map_err(|e| StorageIOError::write_snapshot(None, &e))?;
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}
