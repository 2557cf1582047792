//! DescribeBroker (api 23): what one broker says about itself, for `strom brokers`
//! (version, listeners, uptime, disk, the partitions it hosts and leads), and
//! DescribeLogDirs (api 34): its partition replicas on disk.
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

wire_struct! {
    /// DescribeLogDirs (api 34): what the broker asked stores.
    pub struct DescribeLogDirsRequest {
        /// None: every topic.
        pub topics: Option<Vec<String>>,
    }
}

wire_struct! {
    pub struct DescribeLogDirsResponse {
        pub status: Status,
        pub log_dir: String,
        /// -1 when unknown.
        pub total_bytes: i64,
        pub usable_bytes: i64,
        pub replicas: Vec<LogDirReplica>,
    }
}

wire_struct! {
    pub struct LogDirReplica {
        pub topic: String,
        pub partition: i32,
        pub size_bytes: i64,
        pub log_end_offset: i64,
        pub high_watermark: i64,
        pub leader: bool,
    }
}
