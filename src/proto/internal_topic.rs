//! Topics strom writes itself: the group coordinator's `__consumer_offsets`
//! now, transaction state, connector offsets and stream changelogs later.
//! Every check of "is this topic internal" (produce, create, alter, delete,
//! metadata) asks [`is_internal_topic`], so a new internal topic is
//! protected the day it is named.

/// The group coordinator's log of committed offsets and group metadata.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";

/// The transaction coordinator's log of transactions' states.
pub const TRANSACTION_STATE_TOPIC: &str = "__transaction_state";

/// Source connectors' offsets (`strom connect`), keyed by connector and
/// source partition.
pub const CONNECT_OFFSETS_TOPIC: &str = "__strom_connect_offsets";

/// The internal topics a client may write, and create, when its connection
/// is marked [`crate::proto::frame::FLAG_INTERNAL_WRITER`] (strom's connect
/// runtime does that). Everything else internal stays the broker's alone.
pub const INTERNAL_WRITER_TOPICS: &[&str] = &[CONNECT_OFFSETS_TOPIC];

/// Whether a connection marked as an internal writer may write `name`.
pub fn internal_writer_may_write(name: &str) -> bool {
    INTERNAL_WRITER_TOPICS.contains(&name)
}

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
        assert!(is_internal_topic(CONNECT_OFFSETS_TOPIC));
        assert!(internal_writer_may_write(CONNECT_OFFSETS_TOPIC));
        assert!(!internal_writer_may_write(OFFSETS_TOPIC));
    }
}
