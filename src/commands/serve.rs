//! `strom serve`: resolves the broker settings (flag > env > config file >
//! default) and hands them to the broker.
//!
//! clap already applied flag > env (every `ServeArgs` field is an `Option`
//! with no clap default), so here the file fills what is still `None`, and
//! then the built-in defaults fill the rest.
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use super::UsageError;
use crate::cli::args::{flush_policy, ServeArgs};

mod checks;
use checks::check_values;

/// The `--config` TOML file: keys are the long flag names.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct FileSettings {
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    advertised_listener: Option<String>,
    kafka_listen: Option<String>,
    metrics: Option<String>,
    ui: Option<String>,
    node_id: Option<i32>,
    default_partitions: Option<i32>,
    default_replication_factor: Option<i16>,
    retention_ms: Option<i64>,
    retention_bytes: Option<i64>,
    segment_bytes: Option<u64>,
    flush_policy: Option<String>,
    auto_create_topics: Option<bool>,
    max_frame_bytes: Option<usize>,
    max_connections: Option<usize>,
    offsets_partitions: Option<i32>,
    group_initial_rebalance_delay_ms: Option<u64>,
    group_min_session_timeout_ms: Option<i32>,
    controller_listen: Option<String>,
    voters: Option<String>,
    broker_session_timeout_ms: Option<u64>,
    replica_lag_time_max_ms: Option<u64>,
    producer_id_expiration_ms: Option<u64>,
    log_retention_check_interval_ms: Option<u64>,
    log_cleaner_io_max_bytes_per_second: Option<u64>,
    log_cleaner_backoff_ms: Option<u64>,
    transaction_max_timeout_ms: Option<u64>,
    transaction_abort_check_interval_ms: Option<u64>,
    leader_imbalance_check_interval_ms: Option<u64>,
    max_partitions_per_topic: Option<i32>,
    max_partitions: Option<usize>,
}

/// Every serve setting with its final value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeSettings {
    pub data_dir: PathBuf,
    pub listen: String,
    pub advertised_listener: Option<String>,
    pub kafka_listen: Option<String>,
    /// Where `/metrics` is served; `None`: no metrics.
    pub metrics: Option<String>,
    /// Where the web console is served; `None`: no console.
    pub ui: Option<String>,
    pub node_id: i32,
    pub default_partitions: i32,
    pub default_replication_factor: i16,
    pub retention_ms: i64,
    pub retention_bytes: i64,
    pub segment_bytes: u64,
    /// `every-append`, `interval:MS` or `os` (syntax already checked).
    pub flush_policy: String,
    pub auto_create_topics: bool,
    pub max_frame_bytes: usize,
    pub max_connections: usize,
    pub offsets_partitions: i32,
    pub group_initial_rebalance_delay_ms: u64,
    pub group_min_session_timeout_ms: i32,
    pub controller_listen: Option<String>,
    /// Parsed and checked `--voters`; empty without it.
    pub voters: Vec<(i32, String)>,
    pub broker_session_timeout_ms: u64,
    pub replica_lag_time_max_ms: u64,
    pub producer_id_expiration_ms: u64,
    pub log_retention_check_interval_ms: u64,
    /// 0: the cleaner's I/O is not capped.
    pub log_cleaner_io_max_bytes_per_second: u64,
    pub log_cleaner_backoff_ms: u64,
    pub transaction_max_timeout_ms: u64,
    pub transaction_abort_check_interval_ms: u64,
    /// 0: automatic leader rebalancing off.
    pub leader_imbalance_check_interval_ms: u64,
    pub max_partitions_per_topic: i32,
    /// `None`: computed from the open-file limit at start.
    pub max_partitions: Option<usize>,
}

/// A bare port (`9644` or `:9644`) listens on loopback only: metrics and
/// the console are opt-in and stay off the network unless a host is named.
fn metrics_address(m: &str) -> String {
    let port = m.strip_prefix(':').unwrap_or(m);
    if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
        format!("127.0.0.1:{port}")
    } else {
        m.to_string()
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

fn read_file(path: &Path) -> anyhow::Result<FileSettings> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        UsageError::new(format!("config file {}: {}", path.display(), e.message())).into()
    })
}

/// Applies flag > env > file > default.
pub fn resolve(args: &ServeArgs) -> anyhow::Result<ServeSettings> {
    let file = match &args.config {
        Some(p) => read_file(p)?,
        None => FileSettings::default(),
    };
    let flush = args
        .flush_policy
        .clone()
        .or(file.flush_policy)
        .unwrap_or_else(|| "every-append".into());
    flush_policy(&flush).map_err(|e| UsageError::new(format!("flush-policy {flush:?}: {e}")))?;
    let node_id = args.node_id.or(file.node_id).unwrap_or(1);
    let controller_listen = args.controller_listen.clone().or(file.controller_listen);
    let voters = cluster_flags(
        node_id,
        args.voters.clone().or(file.voters).as_deref(),
        controller_listen.as_deref(),
    )?;
    let broker_session_timeout_ms = args
        .broker_session_timeout_ms
        .or(file.broker_session_timeout_ms)
        .unwrap_or(3000);
    if broker_session_timeout_ms == 0 {
        return Err(UsageError::new("--broker-session-timeout-ms must be positive").into());
    }
    let replica_lag_time_max_ms = args
        .replica_lag_time_max_ms
        .or(file.replica_lag_time_max_ms)
        .unwrap_or(10_000);
    if replica_lag_time_max_ms == 0 {
        // Zero would drop every follower from the ISR on each check.
        return Err(UsageError::new("--replica-lag-time-max-ms must be positive").into());
    }
    let producer_id_expiration_ms = args
        .producer_id_expiration_ms
        .or(file.producer_id_expiration_ms)
        .unwrap_or(86_400_000);
    if producer_id_expiration_ms == 0 {
        // Kafka requires at least 1 ms too: zero would forget every
        // producer at once, so no retry would ever be recognised.
        return Err(UsageError::new("--producer-id-expiration-ms must be positive").into());
    }
    let log_retention_check_interval_ms = args
        .log_retention_check_interval_ms
        .or(file.log_retention_check_interval_ms)
        .unwrap_or(60_000);
    if log_retention_check_interval_ms == 0 {
        // A zero-period timer would spin the housekeeping task.
        return Err(UsageError::new("--log-retention-check-interval-ms must be positive").into());
    }
    let log_cleaner_backoff_ms = args
        .log_cleaner_backoff_ms
        .or(file.log_cleaner_backoff_ms)
        .unwrap_or(15_000);
    if log_cleaner_backoff_ms == 0 {
        return Err(UsageError::new("--log-cleaner-backoff-ms must be positive").into());
    }
    let transaction_max_timeout_ms = args
        .transaction_max_timeout_ms
        .or(file.transaction_max_timeout_ms)
        .unwrap_or(900_000);
    if !(1..=i32::MAX as u64).contains(&transaction_max_timeout_ms) {
        return Err(UsageError::new(format!(
            "--transaction-max-timeout-ms must be in 1..={}",
            i32::MAX
        ))
        .into());
    }
    let transaction_abort_check_interval_ms = args
        .transaction_abort_check_interval_ms
        .or(file.transaction_abort_check_interval_ms)
        .unwrap_or(10_000);
    if transaction_abort_check_interval_ms == 0 {
        return Err(
            UsageError::new("--transaction-abort-check-interval-ms must be positive").into(),
        );
    }
    let max_partitions_per_topic = args
        .max_partitions_per_topic
        .or(file.max_partitions_per_topic)
        .unwrap_or(crate::broker::limits::DEFAULT_MAX_PARTITIONS_PER_TOPIC);
    if !(1..=crate::broker::topics::MAX_PARTITIONS).contains(&max_partitions_per_topic) {
        return Err(UsageError::new(format!(
            "--max-partitions-per-topic {max_partitions_per_topic}: must be between 1 and {}",
            crate::broker::topics::MAX_PARTITIONS
        ))
        .into());
    }
    let max_partitions = args.max_partitions.or(file.max_partitions);
    if max_partitions == Some(0) {
        return Err(UsageError::new("--max-partitions must be positive").into());
    }
    let auto_create = if args.no_auto_create_topics {
        Some(false)
    } else {
        args.auto_create_topics
    };
    let settings = ServeSettings {
        data_dir: args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(default_data_dir),
        listen: args
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:9092".into()),
        advertised_listener: args
            .advertised_listener
            .clone()
            .or(file.advertised_listener),
        kafka_listen: args.kafka_listen.clone().or(file.kafka_listen),
        metrics: args
            .metrics
            .clone()
            .or(file.metrics)
            .map(|m| metrics_address(&m)),
        ui: args.ui.clone().or(file.ui).map(|m| metrics_address(&m)),
        node_id,
        default_partitions: args
            .default_partitions
            .or(file.default_partitions)
            .unwrap_or(1),
        default_replication_factor: args
            .default_replication_factor
            .or(file.default_replication_factor)
            .unwrap_or(1),
        retention_ms: args
            .retention_ms
            .or(file.retention_ms)
            .unwrap_or(604_800_000),
        retention_bytes: args.retention_bytes.or(file.retention_bytes).unwrap_or(-1),
        segment_bytes: args.segment_bytes.or(file.segment_bytes).unwrap_or(1 << 30),
        flush_policy: flush,
        auto_create_topics: auto_create.or(file.auto_create_topics).unwrap_or(true),
        max_frame_bytes: args
            .max_frame_bytes
            .or(file.max_frame_bytes)
            .unwrap_or(104_857_600),
        max_connections: args
            .max_connections
            .or(file.max_connections)
            .unwrap_or(10_000),
        offsets_partitions: args
            .offsets_partitions
            .or(file.offsets_partitions)
            .unwrap_or(8),
        group_initial_rebalance_delay_ms: args
            .group_initial_rebalance_delay_ms
            .or(file.group_initial_rebalance_delay_ms)
            .unwrap_or(3000),
        group_min_session_timeout_ms: args
            .group_min_session_timeout_ms
            .or(file.group_min_session_timeout_ms)
            .unwrap_or(6000),
        controller_listen,
        voters,
        broker_session_timeout_ms,
        replica_lag_time_max_ms,
        producer_id_expiration_ms,
        log_retention_check_interval_ms,
        log_cleaner_io_max_bytes_per_second: args
            .log_cleaner_io_max_bytes_per_second
            .or(file.log_cleaner_io_max_bytes_per_second)
            .unwrap_or(0),
        log_cleaner_backoff_ms,
        transaction_max_timeout_ms,
        transaction_abort_check_interval_ms,
        leader_imbalance_check_interval_ms: args
            .leader_imbalance_check_interval_ms
            .or(file.leader_imbalance_check_interval_ms)
            .unwrap_or(300_000),
        max_partitions_per_topic,
        max_partitions,
    };
    check_values(&settings)?;
    Ok(settings)
}

/// Checks the cluster flags together: `--voters` parses, and
/// `--controller-listen` is only given with `--voters`. A `--node-id`
/// among the voters is a voter; any other is a broker without a vote (a
/// Raft learner), which needs a non-negative id (ids are Raft ids too) and
/// `--controller-listen`, since it has no `--voters` entry to default
/// from. No node may claim a voter's controller address but that voter.
fn cluster_flags(
    node_id: i32,
    voters: Option<&str>,
    controller_listen: Option<&str>,
) -> anyhow::Result<Vec<(i32, String)>> {
    let Some(voters) = voters else {
        if controller_listen.is_some() {
            return Err(UsageError::new("--controller-listen needs --voters").into());
        }
        return Ok(Vec::new());
    };
    let voters = crate::cluster::voters::parse_voters(voters)
        .map_err(|e| UsageError::new(format!("--voters: {e}")))?;
    if let Some(listen) = controller_listen {
        if let Some((owner, _)) = voters
            .iter()
            .find(|(id, addr)| *id != node_id && addr == listen)
        {
            return Err(UsageError::new(format!(
                "--controller-listen {listen} is voter {owner}'s address in --voters; \
                 node ids and controller addresses must be unique"
            ))
            .into());
        }
    }
    if voters.iter().any(|(id, _)| *id == node_id) {
        return Ok(voters);
    }
    let ids: Vec<String> = voters.iter().map(|(id, _)| id.to_string()).collect();
    if node_id < 0 {
        return Err(UsageError::new(format!(
            "--node-id {node_id}: node ids are 0 or more (voters: {})",
            ids.join(", ")
        ))
        .into());
    }
    if controller_listen.is_none() {
        return Err(UsageError::new(format!(
            "--node-id {node_id} is not among --voters ({}), so this broker joins the metadata \
             quorum as a non-voting learner and needs --controller-listen HOST:PORT for the \
             controllers to reach it",
            ids.join(", ")
        ))
        .into());
    }
    Ok(voters)
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let settings = resolve(&args)?;
    start(settings).map_err(|e| {
        // The quorum refusing a learner (its id is a voter's, its address
        // another node's) is a mistake in the flags, found only at run
        // time: exit 2 like the ones found here.
        match e.downcast_ref::<crate::cluster::JoinRefused>() {
            Some(why) => UsageError::new(why.to_string()).into(),
            None => e,
        }
    })
}

/// Hands the settings to the broker and runs it until SIGINT/SIGTERM.
fn start(settings: ServeSettings) -> anyhow::Result<()> {
    tracing::debug!(?settings, "serve settings");
    let mut config = crate::broker::BrokerConfig::new(settings.data_dir);
    config.listen = settings.listen;
    config.advertised_listener = settings.advertised_listener;
    config.kafka_listen = settings.kafka_listen;
    config.metrics_listen = settings.metrics;
    config.console_listen = settings.ui;
    config.node_id = settings.node_id;
    config.defaults.partitions = settings.default_partitions;
    config.defaults.replication_factor = settings.default_replication_factor;
    config.defaults.retention_ms = settings.retention_ms;
    config.defaults.retention_bytes = settings.retention_bytes;
    config.defaults.segment_bytes = settings.segment_bytes;
    config.defaults.flush_policy = settings
        .flush_policy
        .parse()
        .map_err(|e| UsageError::new(format!("flush-policy: {e}")))?;
    config.auto_create_topics = settings.auto_create_topics;
    config.max_frame_bytes = settings.max_frame_bytes;
    config.max_connections = settings.max_connections;
    config.offsets_partitions = settings.offsets_partitions;
    config.group_initial_rebalance_delay =
        std::time::Duration::from_millis(settings.group_initial_rebalance_delay_ms);
    config.group_min_session_timeout_ms = settings.group_min_session_timeout_ms;
    config.controller_listen = settings.controller_listen;
    config.voters = settings.voters;
    config.broker_session_timeout =
        std::time::Duration::from_millis(settings.broker_session_timeout_ms);
    config.replica_lag_time_max =
        std::time::Duration::from_millis(settings.replica_lag_time_max_ms);
    config.producer_id_expiration =
        std::time::Duration::from_millis(settings.producer_id_expiration_ms);
    config.retention_check_interval =
        std::time::Duration::from_millis(settings.log_retention_check_interval_ms);
    config.log_cleaner_io_max_bytes_per_second = (settings.log_cleaner_io_max_bytes_per_second > 0)
        .then_some(settings.log_cleaner_io_max_bytes_per_second);
    config.log_cleaner_backoff = std::time::Duration::from_millis(settings.log_cleaner_backoff_ms);
    config.transaction_max_timeout_ms =
        i32::try_from(settings.transaction_max_timeout_ms).unwrap_or(i32::MAX);
    config.transaction_abort_check_interval =
        std::time::Duration::from_millis(settings.transaction_abort_check_interval_ms);
    config.leader_imbalance_check_interval = (settings.leader_imbalance_check_interval_ms > 0)
        .then(|| std::time::Duration::from_millis(settings.leader_imbalance_check_interval_ms));
    config.max_partitions_per_topic = settings.max_partitions_per_topic;
    let open_files = crate::broker::limits::raise_open_file_limit();
    (config.max_partitions, config.max_partitions_origin) = match settings.max_partitions {
        Some(n) => (n, "set with --max-partitions".to_string()),
        None => {
            let (n, why) = crate::broker::limits::default_max_partitions(open_files);
            (n, format!("the default, {why}"))
        }
    };
    tracing::info!(
        max_partitions = config.max_partitions,
        open_files = open_files.unwrap_or(0),
        "partition limit"
    );
    crate::broker::run_blocking(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn serve_args(argv: &[&str]) -> ServeArgs {
        let mut full = vec!["strom", "serve"];
        full.extend_from_slice(argv);
        match crate::cli::Cli::try_parse_from(full).map(|c| c.command) {
            Ok(Some(crate::cli::args::Command::Serve(a))) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn flag_beats_file_beats_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("strom.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:1\"\nnode-id = 7\nauto-create-topics = false\nretention-ms = 5\n",
        )
        .unwrap();
        let p = path.to_str().unwrap();
        let s = resolve(&serve_args(&["--config", p, "--node-id", "3"])).unwrap();
        assert_eq!(s.node_id, 3);
        assert_eq!(s.listen, "0.0.0.0:1");
        assert!(!s.auto_create_topics);
        assert_eq!(s.retention_ms, 5);
        assert_eq!(s.segment_bytes, 1 << 30);
        assert_eq!(s.flush_policy, "every-append");
        let s = resolve(&serve_args(&["--config", p, "--auto-create-topics"])).unwrap();
        assert!(s.auto_create_topics);
    }

    #[test]
    fn cluster_flags_are_checked() {
        let v = "1@127.0.0.1:9192,2@127.0.0.1:9193";
        let s = resolve(&serve_args(&["--node-id", "2", "--voters", v])).unwrap();
        assert_eq!(s.voters.len(), 2);
        // Not a voter: a learner, with a controller address of its own.
        let s = resolve(&serve_args(&[
            "--node-id",
            "3",
            "--voters",
            v,
            "--controller-listen",
            "127.0.0.1:9194",
        ]))
        .unwrap();
        assert_eq!((s.node_id, s.voters.len()), (3, 2));
        for bad in [
            // A learner without --controller-listen.
            vec!["--node-id", "3", "--voters", v],
            // A learner at a voter's controller address.
            vec![
                "--node-id",
                "3",
                "--voters",
                v,
                "--controller-listen",
                "127.0.0.1:9193",
            ],
            // A voter at another voter's controller address.
            vec![
                "--node-id",
                "1",
                "--voters",
                v,
                "--controller-listen",
                "127.0.0.1:9193",
            ],
            // Negative ids cannot be Raft ids.
            vec![
                "--node-id=-1",
                "--voters",
                v,
                "--controller-listen",
                "127.0.0.1:9194",
            ],
            vec!["--voters", "1@nohost"],
            vec!["--controller-listen", "127.0.0.1:1"],
        ] {
            let err = resolve(&serve_args(&bad)).unwrap_err();
            assert!(err.downcast_ref::<UsageError>().is_some(), "{bad:?}");
        }
    }

    #[test]
    fn leader_imbalance_interval_comes_from_flag_file_or_default() {
        let interval = |args: &[&str]| {
            resolve(&serve_args(args))
                .unwrap()
                .leader_imbalance_check_interval_ms
        };
        assert_eq!(interval(&[]), 300_000);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("strom.toml");
        std::fs::write(&path, "leader-imbalance-check-interval-ms = 0\n").unwrap();
        let p = path.to_str().unwrap();
        assert_eq!(interval(&["--config", p]), 0);
        let flag = ["--config", p, "--leader-imbalance-check-interval-ms", "900"];
        assert_eq!(interval(&flag), 900);
    }

    #[test]
    fn replica_lag_comes_from_flag_file_or_default() {
        assert_eq!(
            resolve(&serve_args(&[])).unwrap().replica_lag_time_max_ms,
            10_000
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("strom.toml");
        std::fs::write(&path, "replica-lag-time-max-ms = 2500\n").unwrap();
        let p = path.to_str().unwrap();
        let s = resolve(&serve_args(&["--config", p])).unwrap();
        assert_eq!(s.replica_lag_time_max_ms, 2500);
        let s = resolve(&serve_args(&[
            "--config",
            p,
            "--replica-lag-time-max-ms",
            "700",
        ]))
        .unwrap();
        assert_eq!(s.replica_lag_time_max_ms, 700);
        let err = resolve(&serve_args(&["--replica-lag-time-max-ms", "0"])).unwrap_err();
        assert!(err.downcast_ref::<UsageError>().is_some());
    }

    #[test]
    fn producer_id_expiration_comes_from_flag_file_or_default() {
        assert_eq!(
            resolve(&serve_args(&[])).unwrap().producer_id_expiration_ms,
            86_400_000
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("strom.toml");
        std::fs::write(&path, "producer-id-expiration-ms = 60000\n").unwrap();
        let p = path.to_str().unwrap();
        let s = resolve(&serve_args(&["--config", p])).unwrap();
        assert_eq!(s.producer_id_expiration_ms, 60_000);
        let s = resolve(&serve_args(&[
            "--config",
            p,
            "--producer-id-expiration-ms",
            "5000",
        ]))
        .unwrap();
        assert_eq!(s.producer_id_expiration_ms, 5000);
        let err = resolve(&serve_args(&["--producer-id-expiration-ms", "0"])).unwrap_err();
        assert!(err.downcast_ref::<UsageError>().is_some());
    }

    #[test]
    fn partition_caps_come_from_flag_file_or_default() {
        let s = resolve(&serve_args(&[])).unwrap();
        assert_eq!(
            (s.max_partitions_per_topic, s.max_partitions),
            (10_000, None)
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("strom.toml");
        std::fs::write(
            &path,
            "max-partitions-per-topic = 50\nmax-partitions = 900\n",
        )
        .unwrap();
        let p = path.to_str().unwrap();
        let s = resolve(&serve_args(&["--config", p])).unwrap();
        assert_eq!(
            (s.max_partitions_per_topic, s.max_partitions),
            (50, Some(900))
        );
        let s = resolve(&serve_args(&[
            "--config",
            p,
            "--max-partitions-per-topic",
            "7",
        ]))
        .unwrap();
        assert_eq!(s.max_partitions_per_topic, 7);
        for bad in [
            &["--max-partitions-per-topic", "0"][..],
            &["--max-partitions-per-topic", "100001"],
            &["--max-partitions", "0"],
            &[
                "--default-partitions",
                "20",
                "--max-partitions-per-topic",
                "10",
            ],
        ] {
            let err = resolve(&serve_args(bad)).unwrap_err();
            assert!(err.downcast_ref::<UsageError>().is_some(), "{bad:?}");
        }
    }

    #[test]
    fn unknown_file_keys_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "lisen = \"x\"\n").unwrap();
        let err = resolve(&serve_args(&["--config", path.to_str().unwrap()])).unwrap_err();
        assert!(err.downcast_ref::<UsageError>().is_some());
    }
}
