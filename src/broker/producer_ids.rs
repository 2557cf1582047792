//! Producer ids on a single node (in a cluster the controller hands out
//! blocks, see `replication::manager`). One counter for both protocols,
//! seeded from the wall clock so ids handed out after a restart do not
//! repeat earlier ones, and raised past every producer id found in the
//! logs when their idempotent-producer state is loaded: a new producer
//! must never take the id of one whose batches are still remembered, or
//! its first batches would be taken for that producer's retries.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::OnceLock;

fn counter() -> &'static AtomicI64 {
    static NEXT: OnceLock<AtomicI64> = OnceLock::new();
    NEXT.get_or_init(|| AtomicI64::new(crate::broker::server::now_ms().max(0)))
}

/// A producer id no other producer of this node had or has.
pub fn next() -> i64 {
    counter().fetch_add(1, Ordering::Relaxed)
}

/// Records that `id` is in a log: later ids are above it.
pub fn observe(id: i64) {
    if id >= 0 {
        counter().fetch_max(id.saturating_add(1), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_after_an_observed_one_are_above_it() {
        let a = next();
        let b = next();
        assert!(b > a);
        let far = a + 1_000_000_000_000;
        observe(far);
        assert!(next() > far);
        observe(-1);
        observe(a);
        assert!(
            next() > far,
            "observing a lower id never moves the counter back"
        );
    }
}
