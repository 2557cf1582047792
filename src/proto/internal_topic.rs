//! Topics strom writes itself: the group coordinator's `__consumer_offsets`
//! now, transaction state, connector offsets and stream changelogs later.
//! Every check of "is this topic internal" (produce, create, alter, delete,
//! metadata) asks [`is_internal_topic`], so a new internal topic is
//! protected the day it is named.

/// The group coordinator's log of committed offsets and group metadata.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";

/// The prefix that marks a topic as strom's own. Clients may read such
/// topics but never write, grow, reconfigure, create or delete them.
pub const INTERNAL_PREFIX: &str = "__";

/// Whether `name` is reserved for strom's internal topics.
pub fn is_internal_topic(name: &str) -> bool {
    name.starts_with(INTERNAL_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_names() {
        assert!(is_internal_topic(OFFSETS_TOPIC));
        assert!(is_internal_topic("__transaction_state"));
        assert!(is_internal_topic("__strom_connect_offsets"));
        assert!(!is_internal_topic("_orders"));
        assert!(!is_internal_topic("orders__x"));
    }
}
