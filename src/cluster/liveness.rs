//! Broker liveness as the controller leader sees it: when each broker last
//! heartbeated, on tokio's clock. In memory only: a new leader cannot know
//! when brokers last spoke to the old one, so one it has not heard from
//! yet gets a grace period from the moment it took over. Brokers heartbeat
//! the moment they see a new leader (`heartbeat::run`), so the grace can
//! be shorter than a full session: it is what a failover that also loses
//! the controller leader waits on top of the election.
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
    /// When this node started acting as leader of `term`.
    term_started: Option<Instant>,
    last_seen: HashMap<i32, Instant>,
}

impl Liveness {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a fresh table when this node leads a new term.
    pub fn begin_term(&self, term: u64) {
        let mut inner = self.lock();
        if inner.term != term || inner.term_started.is_none() {
            inner.term = term;
            inner.term_started = Some(Instant::now());
            inner.last_seen.clear();
        }
    }

    pub fn record(&self, node_id: i32) {
        self.lock().last_seen.insert(node_id, Instant::now());
    }

    /// Whether `node_id` heartbeated this leader within `within`: a broker
    /// that asks to move its controller address while its id is still
    /// heartbeating is probably a second process with the same id.
    pub fn seen_within(&self, node_id: i32, within: Duration) -> bool {
        let now = Instant::now();
        self.lock()
            .last_seen
            .get(&node_id)
            .is_some_and(|seen| now.duration_since(*seen) <= within)
    }

    /// Registered, unfenced brokers whose last heartbeat is older than
    /// `session`, or, not heard from at all this term, that stayed silent
    /// for `grace` (at most `session`) since it began.
    pub fn expired(&self, md: &ClusterMetadata, session: Duration, grace: Duration) -> Vec<i32> {
        let now = Instant::now();
        let inner = self.lock();
        let started = inner.term_started.unwrap_or(now);
        let grace = grace.min(session);
        md.live_brokers()
            .filter(|b| match inner.last_seen.get(&b.node_id) {
                Some(seen) => now.duration_since(*seen) > session,
                None => now.duration_since(started) > grace,
            })
            .map(|b| b.node_id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::metadata::BrokerRegistration;

    /// Metadata with these brokers registered and unfenced.
    fn live_brokers(ids: &[i32]) -> ClusterMetadata {
        let mut md = ClusterMetadata::default();
        for &id in ids {
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
        md
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_broker_expires_after_its_session() {
        let md = live_brokers(&[1, 2]);
        let l = Liveness::default();
        l.begin_term(1);
        let session = Duration::from_secs(3);
        let grace = Duration::from_secs(3);
        assert!(l.expired(&md, session, grace).is_empty());
        tokio::time::advance(Duration::from_secs(2)).await;
        l.record(1);
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(l.expired(&md, session, grace), vec![2]);
        l.begin_term(2);
        assert!(l.expired(&md, session, grace).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn seen_within_reports_recent_heartbeats_only() {
        let l = Liveness::default();
        l.begin_term(1);
        assert!(!l.seen_within(4, Duration::from_secs(3)), "never heard");
        l.record(4);
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(l.seen_within(4, Duration::from_secs(3)));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(!l.seen_within(4, Duration::from_secs(3)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_leader_fences_the_unheard_after_the_grace_only() {
        let md = live_brokers(&[1, 2, 3]);
        let l = Liveness::default();
        l.begin_term(7);
        let session = Duration::from_secs(9);
        let grace = Duration::from_millis(1500);
        tokio::time::advance(Duration::from_millis(100)).await;
        l.record(1);
        l.record(2);
        tokio::time::advance(Duration::from_millis(1000)).await;
        assert!(
            l.expired(&md, session, grace).is_empty(),
            "within the grace"
        );
        tokio::time::advance(Duration::from_millis(500)).await;
        // Broker 3 never spoke to this leader; 1 and 2 have a full session.
        assert_eq!(l.expired(&md, session, grace), vec![3]);
        tokio::time::advance(Duration::from_secs(8)).await;
        assert_eq!(l.expired(&md, session, grace), vec![1, 2, 3]);
    }
}
