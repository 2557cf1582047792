//! The value checks of `strom serve`'s settings, once resolved.
use super::{ServeSettings, UsageError};

/// Flags that are numbers or addresses get the checks a topic config or
/// a listener would get later, so a mistake exits 2 at once with the flag
/// named, not as a failure at the first create or bind.
pub(super) fn check_values(s: &ServeSettings) -> anyhow::Result<()> {
    use crate::broker::topic_config::{
        find, validate, RETENTION_BYTES, RETENTION_MS, SEGMENT_BYTES,
    };
    let max = crate::broker::topics::MAX_PARTITIONS;
    if !(1..=max).contains(&s.default_partitions) {
        return Err(UsageError::new(format!(
            "--default-partitions {}: must be between 1 and {max}",
            s.default_partitions
        ))
        .into());
    }
    if s.default_partitions > s.max_partitions_per_topic {
        return Err(UsageError::new(format!(
            "--default-partitions {} is more than --max-partitions-per-topic {}",
            s.default_partitions, s.max_partitions_per_topic
        ))
        .into());
    }
    if s.default_replication_factor < 1 {
        return Err(UsageError::new(format!(
            "--default-replication-factor {}: must be 1 or more",
            s.default_replication_factor
        ))
        .into());
    }
    if !(1..=max).contains(&s.offsets_partitions) {
        return Err(UsageError::new(format!(
            "--offsets-partitions {}: must be between 1 and {max}",
            s.offsets_partitions
        ))
        .into());
    }
    // The broker-wide defaults of topic configs: the topic config's rule.
    for (flag, key, value) in [
        ("--retention-ms", RETENTION_MS, s.retention_ms.to_string()),
        (
            "--retention-bytes",
            RETENTION_BYTES,
            s.retention_bytes.to_string(),
        ),
        (
            "--segment-bytes",
            SEGMENT_BYTES,
            s.segment_bytes.to_string(),
        ),
    ] {
        if let Some(spec) = find(key) {
            validate(spec, &value).map_err(|e| UsageError::new(format!("{flag} {value}: {e}")))?;
        }
    }
    for (flag, v) in [
        ("--max-frame-bytes", s.max_frame_bytes),
        ("--max-connections", s.max_connections),
    ] {
        if v == 0 {
            return Err(UsageError::new(format!("{flag} must be positive")).into());
        }
    }
    if s.group_min_session_timeout_ms < 0 {
        return Err(UsageError::new(format!(
            "--group-min-session-timeout-ms {}: must be 0 or more",
            s.group_min_session_timeout_ms
        ))
        .into());
    }
    if s.data_dir.exists() && !s.data_dir.is_dir() {
        return Err(UsageError::new(format!(
            "--data-dir {}: exists and is not a directory",
            s.data_dir.display()
        ))
        .into());
    }
    let addresses = [
        ("--listen", Some(&s.listen)),
        ("--advertised-listener", s.advertised_listener.as_ref()),
        ("--kafka-listen", s.kafka_listen.as_ref()),
        ("--metrics", s.metrics.as_ref()),
        ("--ui", s.ui.as_ref()),
        ("--controller-listen", s.controller_listen.as_ref()),
    ];
    for (flag, addr) in addresses {
        if let Some(addr) = addr {
            host_port(addr).map_err(|why| UsageError::new(format!("{flag} {addr:?}: {why}")))?;
        }
    }
    Ok(())
}

/// `HOST:PORT` (`[v6]:PORT` too), port 0 to 65535.
fn host_port(addr: &str) -> Result<(), String> {
    let Some((host, port)) = addr.rsplit_once(':') else {
        return Err("must be HOST:PORT".into());
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err("must be HOST:PORT with a host name or IP address".into());
    }
    port.parse::<u16>()
        .map(|_| ())
        .map_err(|_| format!("{port:?} is not a port (0 to 65535)"))
}
