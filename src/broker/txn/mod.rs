//! Transactions (KIP-98, Kafka's exactly-once): the transaction
//! coordinator, a domain module like the group coordinator. It never sees
//! wire types: the Kafka adapter (`kafka::transactions`) calls
//! [`TransactionCoordinator`] with plain values and maps [`TxnError`].
//! The partitions' side (markers, last stable offset, aborted index) is in
//! `log::transactions` and `Partition`. See `docs/transactions.md`.
//!
//! - `types`: states, metadata, errors; `codec`: `__transaction_state`
//!   records; `coordinator`: the state machine; `env`: what it needs from
//!   the broker, `broker_env`: that over the broker.
pub mod broker_env;
mod codec;
mod coordinator;
pub mod env;
pub mod partition_ops;
mod types;

#[cfg(test)]
mod tests;

pub use coordinator::{LoadTicket, TransactionCoordinator, TxnConfig, DEFAULT_MAX_TIMEOUT_MS};
pub use types::{PendingOffset, TxnError, TxnListing, TxnMetadata, TxnState, ALL_STATES};
