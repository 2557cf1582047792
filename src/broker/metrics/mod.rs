//! Broker metrics for Prometheus (OpenMetrics text over HTTP, see
//! [`http`]). Off unless `strom serve --metrics` is given. Names follow
//! Kafka's JMX exporter where Kafka has the metric; each one is documented
//! in docs/operations.md.
//!
//! Hot paths only touch atomics: traffic and replication events are
//! per-partition atomics ([`counters`]), requests resolve their counter and
//! histogram once per API and keep the handles. State (log sizes, lag, ISR,
//! Raft) is read at scrape time by [`state::StateCollector`].
pub mod counters;
pub mod http;
pub mod state;

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

pub use counters::{FetchTally, FsyncHistogram, PartitionCounters};

/// Highest API key cached per protocol (Kafka's keys stay below 100).
const MAX_API_KEY: usize = 128;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    request: String,
    protocol: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    delayedoperation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListenerLabels {
    listener: &'static str,
}

/// The two protocols a broker speaks, as the `protocol` label says them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Kafka,
    Native,
}

/// What a deferred reply waits in (Kafka's purgatories).
#[derive(Clone, Copy, Debug)]
pub enum Waiting {
    Produce,
    Fetch,
}

/// Counter and latency histogram of one API, resolved once.
#[derive(Clone, Debug)]
pub struct RequestMeter {
    count: Counter,
    latency: Histogram,
}

/// The metrics that live outside partitions: one set per broker.
pub struct BrokerMetrics {
    requests: Family<RequestLabels, Counter>,
    request_latency: Family<RequestLabels, Histogram, fn() -> Histogram>,
    kafka_apis: Box<[OnceLock<RequestMeter>]>,
    native_apis: Box<[OnceLock<RequestMeter>]>,
    purgatory: Family<OperationLabels, Gauge>,
    /// The purgatory's two series, resolved once.
    produce_waiting: Gauge,
    fetch_waiting: Gauge,
    connections: Family<ListenerLabels, Gauge>,
    fsync: FsyncHistogram,
}

fn latency_histogram() -> Histogram {
    // 50 µs to ~6.5 s.
    Histogram::new(exponential_buckets(0.00005, 2.0, 18))
}

impl BrokerMetrics {
    pub fn new(fsync: FsyncHistogram) -> BrokerMetrics {
        let purgatory: Family<OperationLabels, Gauge> = Family::default();
        let series = |op| {
            purgatory
                .get_or_create(&OperationLabels {
                    delayedoperation: op,
                })
                .clone()
        };
        let (produce_waiting, fetch_waiting) = (series("Produce"), series("Fetch"));
        BrokerMetrics {
            produce_waiting,
            fetch_waiting,
            requests: Family::default(),
            request_latency: Family::new_with_constructor(latency_histogram),
            kafka_apis: (0..MAX_API_KEY).map(|_| OnceLock::new()).collect(),
            native_apis: (0..MAX_API_KEY).map(|_| OnceLock::new()).collect(),
            purgatory,
            connections: Family::default(),
            fsync,
        }
    }

    /// Registers everything a scrape shows; the state collector is added
    /// by the caller, which holds the broker.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "kafka_network_requestmetrics_requests",
            "Requests handled, per API and protocol",
            self.requests.clone(),
        );
        registry.register(
            "kafka_network_requestmetrics_totaltime_seconds",
            "Time from a request's arrival to its response being ready (waits included)",
            self.request_latency.clone(),
        );
        registry.register(
            "kafka_server_delayedoperationpurgatory_purgatorysize",
            "Produce requests waiting for durability or replication, and fetches waiting for data",
            self.purgatory.clone(),
        );
        registry.register(
            "kafka_server_socketservermetrics_connection_count",
            "Open client connections per listener",
            self.connections.clone(),
        );
        registry.register(
            "kafka_log_logflushstats_logflush_seconds",
            "fdatasync latency of partition logs",
            self.fsync.0.clone(),
        );
    }

    /// The counter and histogram of one API (resolved on its first use).
    pub fn request(&self, protocol: Protocol, key: i16, name: impl Fn() -> String) -> RequestMeter {
        let (slots, label) = match protocol {
            Protocol::Kafka => (&self.kafka_apis, "kafka"),
            Protocol::Native => (&self.native_apis, "native"),
        };
        let resolve = || {
            let labels = RequestLabels {
                request: name(),
                protocol: label,
            };
            RequestMeter {
                count: self.requests.get_or_create(&labels).clone(),
                latency: self.request_latency.get_or_create(&labels).clone(),
            }
        };
        match usize::try_from(key).ok().and_then(|k| slots.get(k)) {
            Some(slot) => slot.get_or_init(resolve).clone(),
            None => resolve(),
        }
    }

    /// Held while a produce or fetch waits (Kafka's purgatory size).
    pub fn waiting(&self, operation: Waiting) -> GaugeGuard {
        GaugeGuard::new(match operation {
            Waiting::Produce => self.produce_waiting.clone(),
            Waiting::Fetch => self.fetch_waiting.clone(),
        })
    }

    /// Held while a connection is open on `listener`.
    pub fn connection(&self, listener: &'static str) -> GaugeGuard {
        GaugeGuard::new(
            self.connections
                .get_or_create(&ListenerLabels { listener })
                .clone(),
        )
    }
}

impl RequestMeter {
    /// Counts a request that took from `started` until now.
    pub fn done(&self, started: Instant) {
        self.count.inc();
        self.latency.observe(started.elapsed().as_secs_f64());
    }
}

/// Increments a gauge for as long as it lives.
pub struct GaugeGuard(Gauge);

impl GaugeGuard {
    fn new(g: Gauge) -> GaugeGuard {
        g.inc();
        GaugeGuard(g)
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// A deferred reply whose latency (and wait, for produce and fetch) is
/// counted when it completes.
pub fn timed<T: 'static>(
    fut: Pin<Box<dyn Future<Output = T> + Send>>,
    meter: RequestMeter,
    started: Instant,
    waiting: Option<GaugeGuard>,
) -> Pin<Box<dyn Future<Output = T> + Send>> {
    Box::pin(async move {
        let out = fut.await;
        drop(waiting);
        meter.done(started);
        out
    })
}
