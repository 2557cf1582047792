//! Everything `strom serve` can be told. The CLI fills it from flags, the
//! environment and a config file; tests build it directly.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::log::FlushPolicy;

#[derive(Debug, Clone)]
pub struct BrokerConfig {
    pub data_dir: PathBuf,
    /// Where clients connect (native and Kafka protocol, told apart per connection).
    pub listen: String,
    /// The address put in metadata responses; defaults to the bound address.
    pub advertised_listener: Option<String>,
    /// An optional second listener (same protocols), e.g. a dedicated Kafka port.
    pub kafka_listen: Option<String>,
    /// Where `/metrics` is served over HTTP; `None`: metrics off.
    pub metrics_listen: Option<String>,
    /// Where the web console is served over HTTP; `None`: off.
    pub console_listen: Option<String>,
    pub node_id: i32,
    pub defaults: TopicDefaults,
    pub auto_create_topics: bool,
    pub max_frame_bytes: usize,
    pub max_connections: usize,
    pub offsets_partitions: i32,
    pub group_initial_rebalance_delay: Duration,
    pub group_min_session_timeout_ms: i32,
    pub group_max_session_timeout_ms: i32,
    /// How often retention and time-based segment rolls are checked.
    pub retention_check_interval: Duration,
    /// The log cleaner's I/O cap in bytes per second (`None`: no cap).
    pub log_cleaner_io_max_bytes_per_second: Option<u64>,
    /// Pause between log cleaner passes (Kafka's `log.cleaner.backoff.ms`).
    pub log_cleaner_backoff: Duration,
    /// Where this node's controller listens for the other voters; defaults
    /// to this node's entry in `voters`.
    pub controller_listen: Option<String>,
    /// The metadata quorum (node id, controller address). Empty: a single
    /// node without Raft, as before.
    pub voters: Vec<(i32, String)>,
    /// A broker that has not heartbeated the controller for this long is
    /// fenced (out of every ISR, leads nothing).
    pub broker_session_timeout: Duration,
    /// A follower not caught up with its leader for this long leaves the
    /// ISR (Kafka's `replica.lag.time.max.ms`).
    pub replica_lag_time_max: Duration,
    /// An idempotent producer that has not appended for this long is
    /// forgotten (Kafka's `producer.id.expiration.ms`).
    pub producer_id_expiration: Duration,
    /// How often the controller hands leadership back to preferred
    /// replicas (Kafka's `leader.imbalance.check.interval.seconds`); `None`
    /// turns it off (`auto.leader.rebalance.enable=false`).
    pub leader_imbalance_check_interval: Option<Duration>,
    /// Most partitions one topic may have (`--max-partitions-per-topic`).
    pub max_partitions_per_topic: i32,
    /// Most partitions (replicas) this broker holds (`--max-partitions`),
    /// and where the number came from, for the refusal message.
    pub max_partitions: usize,
    pub max_partitions_origin: String,
    /// The longest transaction timeout a producer may ask for (Kafka's
    /// `transaction.max.timeout.ms`).
    pub transaction_max_timeout_ms: i32,
    /// Partitions of `__transaction_state` (Kafka's
    /// `transaction.state.log.num.partitions`), used when it is created.
    pub transaction_state_partitions: i32,
    /// How often transactions open past their timeout are aborted (Kafka's
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`).
    pub transaction_abort_check_interval: Duration,
}

/// Broker-wide defaults for topic configs a topic does not override.
#[derive(Debug, Clone)]
pub struct TopicDefaults {
    pub partitions: i32,
    pub replication_factor: i16,
    /// -1 keeps records forever.
    pub retention_ms: i64,
    /// -1 means no size limit.
    pub retention_bytes: i64,
    pub segment_bytes: u64,
    pub segment_ms: i64,
    pub max_message_bytes: u32,
    pub flush_policy: FlushPolicy,
    pub min_insync_replicas: i32,
    /// The dynamic broker defaults in effect on this broker (topic key →
    /// value; see `broker_config`), applied before a topic's overrides.
    pub dynamic: BTreeMap<String, String>,
}

impl Default for TopicDefaults {
    fn default() -> Self {
        TopicDefaults {
            partitions: 1,
            replication_factor: 1,
            retention_ms: 7 * 24 * 3600 * 1000,
            retention_bytes: -1,
            segment_bytes: 1 << 30,
            segment_ms: 7 * 24 * 3600 * 1000,
            // Kafka's default message.max.bytes (1 MiB plus batch overhead).
            max_message_bytes: 1_048_588,
            flush_policy: FlushPolicy::EveryAppend,
            min_insync_replicas: 1,
            dynamic: BTreeMap::new(),
        }
    }
}

impl BrokerConfig {
    /// A single node on 127.0.0.1:9092 with everything at its default.
    pub fn new(data_dir: PathBuf) -> Self {
        BrokerConfig {
            data_dir,
            listen: "127.0.0.1:9092".into(),
            advertised_listener: None,
            kafka_listen: None,
            metrics_listen: None,
            console_listen: None,
            node_id: 1,
            defaults: TopicDefaults::default(),
            auto_create_topics: true,
            max_frame_bytes: 100 * 1024 * 1024,
            max_connections: 10_000,
            offsets_partitions: 8,
            group_initial_rebalance_delay: Duration::from_millis(3000),
            group_min_session_timeout_ms: 6000,
            group_max_session_timeout_ms: 1_800_000,
            // Kafka's log.retention.check.interval.ms default.
            retention_check_interval: Duration::from_secs(60),
            log_cleaner_io_max_bytes_per_second: None,
            log_cleaner_backoff: Duration::from_secs(15),
            controller_listen: None,
            voters: Vec::new(),
            broker_session_timeout: Duration::from_millis(3000),
            replica_lag_time_max: crate::broker::replication::DEFAULT_REPLICA_LAG_TIME_MAX,
            producer_id_expiration:
                crate::broker::replication::producers::DEFAULT_PRODUCER_ID_EXPIRATION,
            // Kafka's default: five minutes.
            leader_imbalance_check_interval: Some(Duration::from_secs(300)),
            max_partitions_per_topic: crate::broker::limits::DEFAULT_MAX_PARTITIONS_PER_TOPIC,
            // `strom serve` sets it from the open-file limit.
            max_partitions: usize::MAX,
            max_partitions_origin: "no limit set".into(),
            transaction_max_timeout_ms: crate::broker::txn::DEFAULT_MAX_TIMEOUT_MS,
            transaction_state_partitions: 8,
            // Kafka's default: ten seconds.
            transaction_abort_check_interval: Duration::from_secs(10),
        }
    }

    /// `$XDG_DATA_HOME/strom`, else `~/.local/share/strom`, else `./strom-data`.
    pub fn default_data_dir() -> PathBuf {
        if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
            return PathBuf::from(x).join("strom");
        }
        if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            return PathBuf::from(home).join(".local/share/strom");
        }
        PathBuf::from("strom-data")
    }
}
