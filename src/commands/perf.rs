//! `strom perf produce|consume`: throughput tests printing what Kafka's
//! producer/consumer perf tools print.
//!
//! Produce latency is measured per batch (from its first record to the
//! broker's answer) and attributed to every record of the batch, so there
//! is no per-record timer. Consume counts records from batch headers and
//! never decodes records.
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::output::stdout;

/// Kafka's ThroughputThrottler sleeps only once it is this far ahead.
const MIN_PACING_SLEEP: Duration = Duration::from_millis(2);
use super::produce::acks;
use crate::cli::args::{PerfConsumeArgs, PerfProduceArgs};
use crate::client::{BatchReport, ConsumerConfig, ProducerConfig, ProducerRecord, StartOffset};

/// Latency and volume counters, updated once per batch.
#[derive(Default)]
struct Stats {
    records: u64,
    bytes: u64,
    latency_sum_ms: f64,
    max_ms: f64,
    /// (latency ms, record count) per batch, for percentiles.
    samples: Vec<(u32, u32)>,
    failed: u64,
    first_error: Option<String>,
    window: Window,
}

#[derive(Default, Clone, Copy)]
struct Window {
    records: u64,
    bytes: u64,
    latency_sum_ms: f64,
    max_ms: f64,
}

impl Stats {
    fn add(&mut self, r: &BatchReport<'_>, value_bytes: u64) {
        if let Some(e) = r.error {
            self.failed += r.records as u64;
            if self.first_error.is_none() {
                self.first_error = Some(e.to_string());
            }
            return;
        }
        let ms = r.latency.as_secs_f64() * 1000.0;
        let n = r.records as u64;
        self.records += n;
        self.bytes += n * value_bytes;
        self.latency_sum_ms += ms * n as f64;
        self.max_ms = self.max_ms.max(ms);
        self.samples.push((ms as u32, r.records as u32));
        let w = &mut self.window;
        w.records += n;
        w.bytes += n * value_bytes;
        w.latency_sum_ms += ms * n as f64;
        w.max_ms = w.max_ms.max(ms);
    }

    fn percentiles(&mut self, ps: &[f64]) -> Vec<u32> {
        self.samples.sort_unstable();
        let total: u64 = self.samples.iter().map(|s| u64::from(s.1)).sum();
        ps.iter()
            .map(|p| {
                let target = ((total as f64) * p).ceil().max(1.0) as u64;
                let mut seen = 0u64;
                for (ms, n) in &self.samples {
                    seen += u64::from(*n);
                    if seen >= target {
                        return *ms;
                    }
                }
                self.samples.last().map_or(0, |s| s.0)
            })
            .collect()
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

pub fn produce(args: PerfProduceArgs) -> anyhow::Result<()> {
    let mut cfg = ProducerConfig::default();
    super::producer_props::apply(&mut cfg, &args.producer_props)?;
    if let Some(a) = args.acks {
        cfg.acks = acks(a);
    }
    let value_bytes = args.record_size as u64;
    let stats = Arc::new(Mutex::new(Stats::default()));
    let s = stats.clone();
    cfg.on_delivery = Some(Arc::new(move |r: &BatchReport<'_>| {
        s.lock()
            .unwrap_or_else(|p| p.into_inner())
            .add(r, value_bytes)
    }));

    let client = super::connect(&args.connect)?;
    let producer = client.producer(cfg);
    producer.prepare_topic(&args.topic)?;

    // Kafka's perf test sends random upper-case letters; one payload reused.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let payload: Vec<u8> = (0..args.record_size)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            b'A' + (seed % 26) as u8
        })
        .collect();
    let rec = ProducerRecord {
        topic: &args.topic,
        value: Some(&payload),
        ..ProducerRecord::default()
    };

    let mut out = stdout();
    let interval = Duration::from_millis(args.reporting_interval.max(100));
    let start = Instant::now();
    let mut window_start = start;
    let per_sec = (args.throughput > 0.0).then_some(args.throughput);
    for i in 0..args.num_records {
        producer.send(&rec)?;
        if let Some(rate) = per_sec {
            // Paced per record, as Kafka's ThroughputThrottler: sleep once
            // ahead of schedule by MIN_PACING_SLEEP. Checking only every
            // 1024 records sent them in 1 MiB bursts, and the latency
            // measured was that of a burst, not of a steady rate.
            let due = start + Duration::from_secs_f64((i + 1) as f64 / rate);
            let now = Instant::now();
            if due > now + MIN_PACING_SLEEP {
                std::thread::sleep(due - now);
            }
        }
        if i & 0x3ff == 0 && window_start.elapsed() >= interval {
            let w = {
                let mut st = stats.lock().unwrap_or_else(|p| p.into_inner());
                std::mem::take(&mut st.window)
            };
            let secs = window_start.elapsed().as_secs_f64();
            window_start = Instant::now();
            let avg = if w.records > 0 {
                w.latency_sum_ms / w.records as f64
            } else {
                0.0
            };
            writeln!(
                    out,
                    "{} records sent, {:.1} records/sec ({:.2} MB/sec), {:.1} ms avg latency, {:.1} ms max latency.",
                    w.records,
                    w.records as f64 / secs,
                    mb(w.bytes) / secs,
                    avg,
                    w.max_ms
                )?;
            out.flush()?;
        }
    }
    producer.flush();
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    producer.close();

    let mut st = stats.lock().unwrap_or_else(|p| p.into_inner());
    let pct = st.percentiles(&[0.5, 0.95, 0.99, 0.999]);
    let n = st.records;
    let avg = if n > 0 {
        st.latency_sum_ms / n as f64
    } else {
        0.0
    };
    writeln!(
        out,
        "{} records sent, {:.1} records/sec ({:.2} MB/sec), {:.2} ms avg latency, {:.2} ms max latency, {} ms 50th, {} ms 95th, {} ms 99th, {} ms 99.9th.",
        n,
        n as f64 / elapsed,
        mb(st.bytes) / elapsed,
        avg,
        st.max_ms,
        pct[0],
        pct[1],
        pct[2],
        pct[3]
    )?;
    out.flush()?;
    if st.failed > 0 {
        anyhow::bail!(
            "{} records failed delivery ({})",
            st.failed,
            st.first_error.clone().unwrap_or_default()
        );
    }
    Ok(())
}

/// `yyyy-MM-dd HH:mm:ss:SSS` in UTC, Kafka's perf-test time layout.
fn timestamp(t: SystemTime) -> String {
    let ms = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}:{:03}",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

pub fn consume(args: PerfConsumeArgs) -> anyhow::Result<()> {
    let client = super::connect(&args.connect)?;
    let fetch = i32::try_from(args.fetch_size.max(1024)).unwrap_or(i32::MAX);
    let mut consumer = client.consumer(ConsumerConfig {
        fetch_max_bytes: fetch.saturating_mul(4),
        partition_max_bytes: fetch,
        ..ConsumerConfig::default()
    });
    let start_at = if args.from_latest {
        StartOffset::Latest
    } else {
        StartOffset::Earliest
    };
    // With --group the same loop runs as a group member (join, commits,
    // leave), so the two figures compare directly.
    let mut group = match &args.group {
        None => {
            consumer.assign(&args.topic, None, start_at)?;
            None
        }
        Some(g) => {
            let mut config = crate::client::GroupConfig::new(g.as_str());
            config.auto_offset_reset = if args.from_latest {
                crate::client::OffsetReset::Latest
            } else {
                crate::client::OffsetReset::Earliest
            };
            let fetch_config = ConsumerConfig {
                fetch_max_bytes: fetch.saturating_mul(4),
                partition_max_bytes: fetch,
                ..ConsumerConfig::default()
            };
            Some(crate::client::BlockingGroupConsumer::new(
                &client,
                config,
                fetch_config,
                vec![args.topic.clone()],
            ))
        }
    };
    let stop = super::interrupt::stop_signal(client.runtime());

    let mut out = stdout();
    if args.show_detailed_stats && !args.hide_header {
        writeln!(out, "time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec")?;
    }
    let start_wall = SystemTime::now();
    let start = Instant::now();
    let timeout = Duration::from_millis(args.timeout);
    let interval = Duration::from_millis(args.reporting_interval.max(100));
    let (mut msgs, mut bytes) = (0u64, 0u64);
    let (mut last_msgs, mut last_bytes, mut last_report) = (0u64, 0u64, start);
    let mut last_data = Instant::now();
    let mut decoded = Vec::new();
    while msgs < args.messages {
        let polled = match group.as_mut() {
            Some(g) => g.poll_raw(Some(&stop))?,
            None => consumer.poll_raw(Some(&stop))?,
        };
        let Some(parts) = polled else {
            break;
        };
        for p in &parts {
            msgs += p.record_count();
            bytes += p.records.len() as u64;
            if args.decode {
                p.decode(&mut decoded)?;
                decoded.clear();
            }
        }
        if parts.is_empty() {
            if last_data.elapsed() >= timeout {
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "warning: no data for {} ms; read {msgs} of {} records",
                    args.timeout,
                    args.messages
                );
                break;
            }
        } else {
            last_data = Instant::now();
        }
        if args.show_detailed_stats && last_report.elapsed() >= interval {
            let secs = last_report.elapsed().as_secs_f64();
            let (dm, dn) = (mb(bytes - last_bytes), (msgs - last_msgs) as f64);
            writeln!(
                out,
                "{}, 0, {:.4}, {:.4}, {}, {:.4}, 0, {}, {:.4}, {:.4}",
                timestamp(SystemTime::now()),
                mb(bytes),
                dm / secs,
                msgs,
                dn / secs,
                (secs * 1000.0) as u64,
                dm / secs,
                dn / secs
            )?;
            out.flush()?;
            (last_msgs, last_bytes, last_report) = (msgs, bytes, Instant::now());
        }
    }
    let msgs = msgs.min(args.messages);
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    if !args.show_detailed_stats && !args.hide_header {
        writeln!(out, "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec")?;
    }
    if !args.show_detailed_stats {
        writeln!(
            out,
            "{}, {}, {:.4}, {:.4}, {}, {:.4}, 0, {}, {:.4}, {:.4}",
            timestamp(start_wall),
            timestamp(SystemTime::now()),
            mb(bytes),
            mb(bytes) / secs,
            msgs,
            msgs as f64 / secs,
            (secs * 1000.0) as u64,
            mb(bytes) / secs,
            msgs as f64 / secs
        )?;
    }
    out.flush()?;
    if let Some(g) = group.as_mut() {
        g.close()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_time_layout() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(timestamp(t), "2023-11-14 22:13:20:123");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01 00:00:00:000");
    }

    #[test]
    fn weighted_percentiles() {
        let mut s = Stats {
            samples: vec![(10, 98), (100, 1), (1000, 1)],
            ..Stats::default()
        };
        assert_eq!(s.percentiles(&[0.5, 0.99, 0.999]), vec![10, 100, 1000]);
    }
}
