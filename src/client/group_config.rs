//! Settings of a group consumer, named and defaulted like Kafka's consumer
//! configs so `--consumer-property KEY=VALUE` means what Kafka users expect.
use std::time::Duration;

use super::assignor::STRATEGIES;

/// Where to start a partition the group has no committed offset for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetReset {
    Earliest,
    Latest,
    /// Fail instead of guessing.
    None,
}

#[derive(Debug, Clone)]
pub struct GroupConfig {
    pub group_id: String,
    /// client.id; the broker builds member ids from it.
    pub client_id: String,
    /// group.instance.id (static membership).
    pub group_instance_id: Option<String>,
    /// session.timeout.ms: silence after which the coordinator drops us.
    pub session_timeout: Duration,
    /// heartbeat.interval.ms; `None` takes min(3 s, session / 3).
    pub heartbeat_interval: Option<Duration>,
    /// max.poll.interval.ms, sent as the rebalance timeout: how long the
    /// coordinator waits for members to rejoin.
    pub rebalance_timeout: Duration,
    /// partition.assignment.strategy, most preferred first.
    pub strategies: Vec<String>,
    /// auto.offset.reset.
    pub auto_offset_reset: OffsetReset,
    /// enable.auto.commit: commit on an interval, before a rebalance and on close.
    pub enable_auto_commit: bool,
    /// auto.commit.interval.ms.
    pub auto_commit_interval: Duration,
    /// retry.backoff.ms between failed group requests.
    pub retry_backoff: Duration,
}

impl GroupConfig {
    pub fn new(group_id: impl Into<String>) -> GroupConfig {
        GroupConfig {
            group_id: group_id.into(),
            client_id: "strom-consumer".to_string(),
            group_instance_id: None,
            session_timeout: Duration::from_millis(10_000),
            heartbeat_interval: None,
            rebalance_timeout: Duration::from_millis(300_000),
            strategies: vec![super::assignor::RANGE.to_string()],
            auto_offset_reset: OffsetReset::Latest,
            enable_auto_commit: true,
            auto_commit_interval: Duration::from_millis(5_000),
            retry_backoff: Duration::from_millis(100),
        }
    }

    /// The heartbeat interval in effect.
    pub fn heartbeat(&self) -> Duration {
        self.heartbeat_interval
            .unwrap_or_else(|| Duration::from_millis(3_000).min(self.session_timeout / 3))
    }

    /// Sets one Kafka consumer property. Unknown keys are errors, so a typo
    /// does not silently leave a default in place.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let ms = |v: &str| -> Result<Duration, String> {
            v.parse::<u64>()
                .ok()
                .filter(|&n| n > 0 && n <= i32::MAX as u64)
                .map(Duration::from_millis)
                .ok_or_else(|| format!("{key} must be a positive number of milliseconds"))
        };
        match key {
            "group.id" => self.group_id = value.to_string(),
            "client.id" => self.client_id = value.to_string(),
            "group.instance.id" => {
                self.group_instance_id = (!value.is_empty()).then(|| value.to_string())
            }
            "session.timeout.ms" => self.session_timeout = ms(value)?,
            "heartbeat.interval.ms" => self.heartbeat_interval = Some(ms(value)?),
            "max.poll.interval.ms" => self.rebalance_timeout = ms(value)?,
            "auto.commit.interval.ms" => self.auto_commit_interval = ms(value)?,
            "retry.backoff.ms" => self.retry_backoff = ms(value)?,
            "enable.auto.commit" => {
                self.enable_auto_commit = match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(format!("{key} must be true or false")),
                }
            }
            "auto.offset.reset" => {
                self.auto_offset_reset = match value {
                    "earliest" => OffsetReset::Earliest,
                    "latest" => OffsetReset::Latest,
                    "none" => OffsetReset::None,
                    _ => return Err(format!("{key} must be earliest, latest or none")),
                }
            }
            "partition.assignment.strategy" => {
                let mut list = Vec::new();
                for s in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    // Kafka users write class names; take the simple name.
                    let name = match s.rsplit('.').next().unwrap_or(s) {
                        "RangeAssignor" => "range",
                        "RoundRobinAssignor" => "roundrobin",
                        other => other,
                    };
                    if !STRATEGIES.contains(&name) {
                        return Err(format!(
                            "unknown partition.assignment.strategy '{s}' (known: range, roundrobin)"
                        ));
                    }
                    list.push(name.to_string());
                }
                if list.is_empty() {
                    return Err(format!("{key} needs at least one strategy"));
                }
                self.strategies = list;
            }
            _ => return Err(format!("unknown consumer property '{key}'")),
        }
        Ok(())
    }

    /// Checks combinations a single `set` cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.group_id.is_empty() {
            return Err("the group id must not be empty".into());
        }
        if self.heartbeat() >= self.session_timeout {
            return Err("heartbeat.interval.ms must be lower than session.timeout.ms".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_property_names() {
        let mut c = GroupConfig::new("g");
        c.set("session.timeout.ms", "2000").unwrap();
        c.set(
            "partition.assignment.strategy",
            "org.apache.kafka.clients.consumer.RoundRobinAssignor,range",
        )
        .unwrap();
        c.set("auto.offset.reset", "earliest").unwrap();
        assert_eq!(c.strategies, vec!["roundrobin", "range"]);
        assert_eq!(c.heartbeat().as_millis(), 666);
        assert_eq!(c.auto_offset_reset, OffsetReset::Earliest);
        assert!(c.set("session.timeout.ms", "soon").is_err());
        assert!(c.set("partition.assignment.strategy", "sticky").is_err());
        assert!(c.set("no.such.key", "1").is_err());
        c.set("heartbeat.interval.ms", "5000").unwrap();
        assert!(c.validate().is_err());
    }
}
