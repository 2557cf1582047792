//! The broker: accepts connections, tells the native protocol from Kafka's
//! by the first frame, and turns requests into calls on the topic manager,
//! the partition logs and the group coordinator. Those domain modules never
//! see wire types; the handlers under `native/` (and `kafka/`) translate.
pub mod broker_config;
pub mod cluster_view;
pub mod config;
pub mod connection;
pub mod console;
pub mod disk_space;
pub mod dynamic_configs;
pub mod elect_leaders;
pub mod error;
pub mod group;
pub mod group_store;
pub mod http;
pub mod kafka;
pub mod limits;
pub mod log_cleaner;
pub mod log_dirs;
pub mod metrics;
pub mod native;
pub mod net;
pub mod partition;
pub mod partition_producers;
pub mod producer_ids;
pub mod recompress;
pub mod replication;
pub mod server;
pub mod shutdown;
pub mod state;
pub mod timestamps;
pub mod topic_config;
pub mod topic_config_keys;
pub mod topics;
pub mod transactional;
pub mod txn;

pub use config::BrokerConfig;
pub use server::{run, run_blocking};
pub use state::Broker;
