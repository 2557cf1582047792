//! The cluster: a metadata quorum (openraft) among the controller voters,
//! and what brokers need to know from it. `metadata` is the replicated
//! state itself, pure data so both the controller and the data plane
//! (partition replication in the broker) share one definition.
pub mod metadata;
