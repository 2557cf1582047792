//! Kafka producer properties (`--producer-property` on produce,
//! `--producer-props` on perf) applied to a [`ProducerConfig`]: one list of
//! the keys both commands understand.
use std::time::Duration;

use super::UsageError;
use crate::client::{Acks, ProducerConfig};
use crate::record::Compression;

pub fn apply(cfg: &mut ProducerConfig, props: &[(String, String)]) -> anyhow::Result<()> {
    fn num<T: std::str::FromStr>(k: &str, v: &str) -> anyhow::Result<T> {
        v.parse()
            .map_err(|_| UsageError::new(format!("{k} must be a number, got {v:?}")).into())
    }
    for (k, v) in props {
        match k.as_str() {
            "acks" => cfg.acks = v.parse::<Acks>().map_err(UsageError::new)?,
            "linger.ms" => cfg.linger = Duration::from_millis(num(k, v)?),
            "batch.size" => cfg.batch_size = num::<usize>(k, v)?.max(1024),
            "max.in.flight.requests.per.connection" => {
                cfg.max_in_flight = num::<usize>(k, v)?.max(1)
            }
            "buffer.memory" => cfg.buffer_memory = num(k, v)?,
            "retries" => cfg.retries = num(k, v)?,
            "request.timeout.ms" => cfg.request_timeout = Duration::from_millis(num(k, v)?),
            "delivery.timeout.ms" => cfg.delivery_timeout = Duration::from_millis(num(k, v)?),
            "max.request.size" => cfg.max_request_size = num(k, v)?,
            "compression.type" => {
                cfg.compression = v.parse::<Compression>().map_err(UsageError::new)?
            }
            // Kafka settings with no meaning here are accepted and ignored,
            // so existing perf-test command lines work unchanged.
            "bootstrap.servers" | "client.id" | "enable.idempotence" | "key.serializer"
            | "value.serializer" => {
                tracing::info!("ignoring producer property {k}")
            }
            other => {
                return Err(UsageError::new(format!("unknown producer property {other}")).into())
            }
        }
    }
    Ok(())
}
