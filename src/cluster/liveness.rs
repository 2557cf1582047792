//! Broker liveness as the controller leader sees it: when each broker last
//! heartbeated, on tokio's clock. In memory only: a new leader gives every
//! broker a full session from the moment it took over, so a leader change
//! never fences brokers that were heartbeating to the old leader.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::metadata::ClusterMetadata;

#[derive(Default)]
pub struct Liveness {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The Raft term this table belongs to; a new term starts it afresh.
    term: u64,
    last_seen: HashMap<i32, Instant>,
}

impl Liveness {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a fresh table when this node leads a new term.
    pub fn begin_term(&self, term: u64) {
        let mut inner = self.lock();
        if inner.term != term {
            inner.term = term;
            inner.last_seen.clear();
        }
    }

    pub fn record(&self, node_id: i32) {
        self.lock().last_seen.insert(node_id, Instant::now());
    }

    /// Registered, unfenced brokers whose last heartbeat is older than
    /// `session`. A broker not seen yet this term counts as seen now.
    pub fn expired(&self, md: &ClusterMetadata, session: Duration) -> Vec<i32> {
        let now = Instant::now();
        let mut inner = self.lock();
        md.live_brokers()
            .filter_map(|b| {
                let seen = *inner.last_seen.entry(b.node_id).or_insert(now);
                (now.duration_since(seen) > session).then_some(b.node_id)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::metadata::BrokerRegistration;

    #[tokio::test(start_paused = true)]
    async fn a_silent_broker_expires_after_its_session() {
        let mut md = ClusterMetadata::default();
        for id in [1, 2] {
            md.brokers.insert(
                id,
                BrokerRegistration {
                    node_id: id,
                    host: "h".into(),
                    port: 1,
                    fenced: false,
                    epoch: 1,
                    in_controlled_shutdown: false,
                },
            );
        }
        let l = Liveness::default();
        l.begin_term(1);
        let session = Duration::from_secs(3);
        assert!(l.expired(&md, session).is_empty());
        tokio::time::advance(Duration::from_secs(2)).await;
        l.record(1);
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(l.expired(&md, session), vec![2]);
        l.begin_term(2);
        assert!(l.expired(&md, session).is_empty());
    }
}
