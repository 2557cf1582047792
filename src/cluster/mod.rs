//! The cluster: a metadata quorum (openraft) among the controller voters,
//! with the other brokers as learners, and what brokers need to know from
//! it. `metadata` is the replicated
//! state itself, pure data so both the controller and the data plane
//! (partition replication in the broker) share one definition.
pub mod apply;
pub mod bootstrap;
pub mod command;
pub mod duties;
pub mod error;
pub mod handle;
pub mod heartbeat;
pub mod learner;
pub mod liveness;
pub mod metadata;
pub mod peers;
pub mod raft;
pub mod sync;
pub mod voters;

pub use command::{CommandResult, ElectionOutcome, MetadataCommand};
pub use error::{ClusterError, JoinRefused};
pub use handle::ClusterHandle;
