//! The group consumer's heartbeat: a background task on a connection of its
//! own, so heartbeats keep flowing while the caller processes records and
//! never wait behind a blocked JoinGroup.
//!
//! The task only reports; it never rejoins by itself. When the coordinator
//! says the member must rejoin, it raises a flag and wakes the consumer,
//! whose next `poll` commits what the caller processed and then rejoins.
//! That keeps "what was handed to the caller" and "what is committed" in
//! one place, which is what makes rebalances lose and skip nothing.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::connection::Connection;
use super::error::ClientError;
use super::group_admin::{connect_coordinator, Coordinator};
use super::metadata::Client;
use crate::proto::messages::groups::{HeartbeatRequest, HeartbeatResponse};
use crate::proto::{ApiKey, ErrorCode};

/// Whom to heartbeat for: set once a generation's assignment is in hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub coordinator: Coordinator,
    pub generation: i32,
    pub member_id: String,
}

/// Why the consumer must rejoin, as seen by the heartbeat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Rejoin {
    pub requested: bool,
    /// The coordinator forgot our member id: join as a new member.
    pub reset_member: bool,
    /// The coordinator moved or went away: find it again.
    pub lost_coordinator: bool,
}

/// State shared between the consumer and its heartbeat task.
#[derive(Default)]
pub(crate) struct Shared {
    target: Mutex<Option<Target>>,
    rejoin: Mutex<Rejoin>,
    pending: AtomicBool,
    fatal: Mutex<Option<ClientError>>,
    /// Woken whenever `pending` is raised.
    pub wake: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain data behind the lock; a panic elsewhere does not corrupt it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub fn set_target(&self, t: Option<Target>) {
        *lock(&self.target) = t;
    }

    fn target(&self) -> Option<Target> {
        lock(&self.target).clone()
    }

    /// Asks the consumer to rejoin. `generation` guards against a stale
    /// report about a generation the consumer already left.
    pub fn request_rejoin(&self, generation: Option<i32>, why: Rejoin) {
        {
            let mut t = lock(&self.target);
            // A report about a generation the consumer no longer holds
            // (it is already rejoining, or joined a newer one) is stale.
            if let Some(g) = generation {
                if t.as_ref().map(|cur| cur.generation) != Some(g) {
                    return;
                }
            }
            // No more heartbeats for a generation we are leaving.
            *t = None;
        }
        {
            let mut r = lock(&self.rejoin);
            r.requested = true;
            r.reset_member |= why.reset_member;
            r.lost_coordinator |= why.lost_coordinator;
        }
        self.pending.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    pub fn rejoin_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Takes (and clears) the pending rejoin request.
    pub fn take_rejoin(&self) -> Rejoin {
        self.pending.store(false, Ordering::Release);
        std::mem::take(&mut *lock(&self.rejoin))
    }

    fn set_fatal(&self, e: ClientError) {
        *lock(&self.fatal) = Some(e);
        self.pending.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    pub fn take_fatal(&self) -> Option<ClientError> {
        lock(&self.fatal).take()
    }
}

/// Starts the heartbeat task; it runs until aborted.
pub(crate) fn spawn(
    client: Client,
    group_id: String,
    interval: Duration,
    session_timeout: Duration,
    shared: Arc<Shared>,
) -> JoinHandle<()> {
    tokio::spawn(run(client, group_id, interval, session_timeout, shared))
}

async fn run(
    client: Client,
    group_id: String,
    interval: Duration,
    session_timeout: Duration,
    shared: Arc<Shared>,
) {
    let mut conn: Option<(Coordinator, Arc<Connection>)> = None;
    let mut last_ok = Instant::now();
    let mut current: Option<i32> = None;
    loop {
        tokio::time::sleep(interval).await;
        let Some(target) = shared.target() else {
            current = None;
            continue;
        };
        if current != Some(target.generation) {
            // A new generation starts its session now.
            current = Some(target.generation);
            last_ok = Instant::now();
        }
        let c = match &conn {
            Some((coord, c)) if *coord == target.coordinator && !c.is_closed() => c.clone(),
            _ => match connect_coordinator(&client, &target.coordinator).await {
                Ok(c) => {
                    conn = Some((target.coordinator.clone(), c.clone()));
                    c
                }
                Err(e) => {
                    tracing::debug!(error = %e, "heartbeat: cannot reach the coordinator");
                    lost_if_expired(&shared, &target, last_ok, session_timeout);
                    continue;
                }
            },
        };
        let req = HeartbeatRequest {
            group_id: group_id.clone(),
            generation_id: target.generation,
            member_id: target.member_id.clone(),
        };
        // A heartbeat answered after the session ended is useless anyway.
        let resp: Result<HeartbeatResponse, _> =
            c.call(ApiKey::Heartbeat, &req, session_timeout).await;
        let code = match resp {
            Ok(r) => r.status.error_code(),
            Err(e) => {
                tracing::debug!(error = %e, "heartbeat failed");
                conn = None;
                lost_if_expired(&shared, &target, last_ok, session_timeout);
                continue;
            }
        };
        let g = Some(target.generation);
        match code {
            ErrorCode::None => last_ok = Instant::now(),
            ErrorCode::RebalanceInProgress | ErrorCode::IllegalGeneration => {
                tracing::debug!(%code, "heartbeat: rejoining the group");
                shared.request_rejoin(g, Rejoin::default());
            }
            ErrorCode::UnknownMemberId => {
                tracing::info!("heartbeat: the coordinator dropped this member; joining again");
                shared.request_rejoin(
                    g,
                    Rejoin {
                        reset_member: true,
                        ..Rejoin::default()
                    },
                );
            }
            ErrorCode::CoordinatorNotAvailable
            | ErrorCode::NotCoordinator
            | ErrorCode::CoordinatorLoadInProgress => {
                conn = None;
                shared.request_rejoin(
                    g,
                    Rejoin {
                        lost_coordinator: true,
                        ..Rejoin::default()
                    },
                );
            }
            ErrorCode::FencedInstanceId => {
                shared.set_fatal(ClientError::broker(
                    code,
                    Some("another consumer with the same group.instance.id took this one's place"),
                ));
            }
            other => {
                tracing::warn!(code = %other, "heartbeat failed");
            }
        }
    }
}

/// Without a successful heartbeat for a whole session the coordinator has
/// dropped us: rejoin (finding the coordinator again) rather than keep
/// handing out records of partitions someone else may own by now.
fn lost_if_expired(shared: &Shared, target: &Target, last_ok: Instant, session: Duration) {
    if last_ok.elapsed() >= session {
        shared.request_rejoin(
            Some(target.generation),
            Rejoin {
                requested: true,
                reset_member: false,
                lost_coordinator: true,
            },
        );
    }
}
