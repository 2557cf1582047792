//! DescribeBroker: what one broker says about itself, for `strom brokers`
//! (version, listeners, uptime, disk, the partitions it hosts and leads).
use crate::proto::messages::Status;
use crate::wire_struct;

wire_struct! {
    /// Asks the broker the connection is to; it has no fields.
    pub struct DescribeBrokerRequest {}
}

wire_struct! {
    pub struct DescribeBrokerResponse {
        pub status: Status,
        pub node_id: i32,
        /// strom's version (the crate version of the binary).
        pub version: String,
        /// Where it listens for clients (native and Kafka protocol).
        pub listener: String,
        /// What it tells clients to connect to.
        pub advertised_host: String,
        pub advertised_port: i32,
        /// A separate Kafka-protocol listener, if any.
        pub kafka_listener: Option<String>,
        /// The metadata-quorum listener of a cluster member.
        pub controller_listener: Option<String>,
        /// Rack of the broker, when one is configured.
        pub rack: Option<String>,
        /// Whether it runs as a cluster member (with voters) or alone.
        pub clustered: bool,
        pub uptime_ms: i64,
        pub data_dir: String,
        pub disk_total_bytes: i64,
        pub disk_free_bytes: i64,
        /// Partition replicas it hosts, and how many of them it leads.
        pub partitions: i32,
        pub leaders: i32,
    }
}
