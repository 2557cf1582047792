//! The metadata quorum's Raft plumbing over openraft: durable log, state
//! machine, TCP transport between controllers, and the controller server.
pub mod files;
pub mod log_store;
pub mod network;
pub mod server;
pub mod state_machine;
pub mod types;
pub mod wire;
