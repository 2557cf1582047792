//! The listener: accepts connections up to a limit, runs background duties
//! (retention, interval flushes) and shuts down in a fixed order: stop
//! accepting, let connections finish what they read, flush every log.
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, Semaphore};

use super::config::BrokerConfig;
use super::connection;
use super::shutdown::Shutdown;
use super::state::Broker;

/// Requested socket send buffer for client connections.
const SEND_BUFFER_BYTES: usize = 8 << 20;

/// How long a stopping cluster broker waits for its partitions to get new
/// leaders before it stops regardless (the session timeout then fences it).
const CONTROLLED_SHUTDOWN_LIMIT: Duration = Duration::from_secs(10);

/// Runs a broker until SIGINT or SIGTERM.
pub fn run_blocking(config: BrokerConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("strom-broker")
        .build()?;
    runtime.block_on(run(config, shutdown_signal()))
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

fn split_host_port(addr: &str) -> anyhow::Result<(String, i32)> {
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| anyhow::anyhow!("advertised listener '{addr}' must be HOST:PORT"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| anyhow::anyhow!("advertised listener '{addr}': bad port"))?;
    Ok((host.trim_matches(['[', ']']).to_string(), port as i32))
}

async fn bind(addr: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
}

pub async fn run(config: BrokerConfig, shutdown: impl Future) -> anyhow::Result<()> {
    let listener = bind(&config.listen).await?;
    let local = listener.local_addr()?;
    let extra = match &config.kafka_listen {
        Some(a) => Some(bind(a).await?),
        None => None,
    };
    let advertised = match &config.advertised_listener {
        Some(a) => split_host_port(a)?,
        None => (local.ip().to_string(), local.port() as i32),
    };
    // From here on the config says where the broker really listens (a
    // port 0 becomes the port the system chose), for DescribeBroker.
    let mut config = config;
    config.listen = local.to_string();
    if let Some(l) = &extra {
        config.kafka_listen = Some(l.local_addr()?.to_string());
    }
    let broker = Broker::open(config.clone(), advertised)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open data dir {}: {e}", config.data_dir.display()))?;

    let (notify_shutdown, _) = broadcast::channel::<()>(1);
    let (shutdown_complete_tx, mut shutdown_complete_rx) = mpsc::channel::<()>(1);
    let limit = Arc::new(Semaphore::new(config.max_connections.max(1)));

    let mut listening = format!("{local}");
    if let Some(l) = &extra {
        listening.push_str(&format!(" and {}", l.local_addr()?));
    }
    tracing::info!(data_dir = %config.data_dir.display(), "broker ready");
    // The one line scripts and tests wait for.
    eprintln!("strom: listening on {listening} (native and kafka)");

    // In a cluster, the local topics follow the committed metadata.
    let cluster_sync = broker
        .cluster
        .as_ref()
        .map(|_| tokio::spawn(crate::cluster::sync::run(broker.clone())));
    // In a cluster, partitions lead or follow as the metadata says.
    let replication = broker.cluster.clone().map(|c| {
        crate::broker::replication::quorum::start(
            &broker,
            c,
            crate::broker::replication::ReplicationConfig {
                replica_lag_time_max: config.replica_lag_time_max,
                ..Default::default()
            },
        )
    });
    let housekeeping = tokio::spawn(housekeeping(
        broker.clone(),
        Shutdown::new(notify_shutdown.subscribe()),
        shutdown_complete_tx.clone(),
    ));
    let cleaner = tokio::spawn(super::log_cleaner::run(
        broker.clone(),
        Shutdown::new(notify_shutdown.subscribe()),
        shutdown_complete_tx.clone(),
    ));
    let metrics_server = match &config.metrics_listen {
        Some(addr) => Some(super::metrics::http::start(addr, broker.clone()).await?),
        None => None,
    };
    let console_server = match &config.console_listen {
        Some(addr) => Some(super::console::start(addr, broker.clone()).await?),
        None => None,
    };
    let mut accepts = vec![tokio::spawn(accept_loop(
        listener,
        "main",
        broker.clone(),
        limit.clone(),
        notify_shutdown.clone(),
        shutdown_complete_tx.clone(),
    ))];
    if let Some(l) = extra {
        accepts.push(tokio::spawn(accept_loop(
            l,
            "kafka",
            broker.clone(),
            limit.clone(),
            notify_shutdown.clone(),
            shutdown_complete_tx.clone(),
        )));
    }

    // A learner the quorum refused for good (see `ClusterHandle::failed`)
    // stops as if signalled, then reports why.
    let refused = async {
        match &broker.cluster {
            Some(c) => c.failed().await,
            None => std::future::pending().await,
        }
    };
    let refused = tokio::select! {
        _ = shutdown => None,
        why = refused => Some(why),
    };
    // Hand partition leadership over while this broker still serves:
    // clients then move to the new leaders at once instead of waiting for
    // the controller to notice the silence (the session timeout). A
    // refused learner never registered, so it has nothing to hand over.
    if let (Some(cluster), None) = (&broker.cluster, &refused) {
        controlled_shutdown(cluster).await;
    }
    tracing::info!("shutting down: finishing requests in flight");
    for a in &accepts {
        a.abort();
    }
    if let Some(m) = &metrics_server {
        m.abort();
    }
    if let Some(c) = &console_server {
        c.abort();
    }
    drop(notify_shutdown);
    drop(shutdown_complete_tx);
    // Every connection and task holds a sender; recv returns None once all
    // of them finished their in-flight work and dropped it.
    let _ = tokio::time::timeout(Duration::from_secs(30), shutdown_complete_rx.recv()).await;
    let _ = housekeeping.await;
    let _ = cleaner.await;
    if let Some(r) = &replication {
        r.stop();
    }
    if let Some(sync) = cluster_sync {
        sync.abort();
    }
    if let Some(cluster) = &broker.cluster {
        cluster.shutdown().await;
    }
    broker.close();
    tracing::info!("shut down cleanly");
    match refused {
        Some(why) => Err(why.into()),
        None => Ok(()),
    }
}

async fn controlled_shutdown(cluster: &crate::cluster::ClusterHandle) {
    use crate::cluster::handle::Handover;
    tracing::info!("controlled shutdown: handing partition leadership to other replicas");
    let started = tokio::time::Instant::now();
    match cluster.controlled_shutdown(CONTROLLED_SHUTDOWN_LIMIT).await {
        Ok(Handover::HandedOver) => tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            "controlled shutdown: leadership handed over"
        ),
        Ok(Handover::NothingToHandOver) => tracing::info!(
            "controlled shutdown: no other live in-sync replica could take over; nothing to hand over"
        ),
        Err(e) => tracing::warn!(
            error = %e,
            "controlled shutdown failed; stopping anyway (partitions move when the session times out)"
        ),
    }
}

async fn accept_loop(
    listener: TcpListener,
    listener_name: &'static str,
    broker: Arc<Broker>,
    limit: Arc<Semaphore>,
    notify_shutdown: broadcast::Sender<()>,
    shutdown_complete: mpsc::Sender<()>,
) {
    let mut backoff = Duration::from_millis(10);
    loop {
        let permit = match limit.clone().acquire_owned().await {
            Ok(p) => p,
            Err(_) => return,
        };
        let (socket, peer): (TcpStream, SocketAddr) = match listener.accept().await {
            Ok(s) => {
                backoff = Duration::from_millis(10);
                s
            }
            Err(e) => {
                // Out of file descriptors and the like: back off, keep serving.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        // A fetch answers with megabytes at once; a send buffer above the
        // kernel's autotuning ceiling (4 MiB by default) lets sendfile run
        // ahead of the reader instead of stalling on every window. The
        // kernel caps it at net.core.wmem_max; failure only costs speed.
        let _ = socket2::SockRef::from(&socket).set_send_buffer_size(SEND_BUFFER_BYTES);
        let broker = broker.clone();
        let shutdown = Shutdown::new(notify_shutdown.subscribe());
        let done = shutdown_complete.clone();
        let open = broker.metrics.as_ref().map(|m| m.connection(listener_name));
        tokio::spawn(async move {
            connection::handle(broker, socket, peer, shutdown).await;
            drop(open);
            drop(permit);
            drop(done);
        });
    }
}

/// Retention, time-based rolls and interval flushes.
async fn housekeeping(broker: Arc<Broker>, mut shutdown: Shutdown, _done: mpsc::Sender<()>) {
    let mut retention = tokio::time::interval(broker.config.retention_check_interval);
    let mut flush = tokio::time::interval(Duration::from_millis(100));
    retention.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.recv() => return,
            _ = retention.tick() => {
                let topics = broker.topics.clone();
                let now = now_ms();
                let _ = tokio::task::spawn_blocking(move || topics.enforce_retention(now)).await;
            }
            _ = flush.tick() => {
                let topics = broker.topics.clone();
                let now = now_ms();
                let _ = tokio::task::spawn_blocking(move || topics.flush_due(now)).await;
            }
        }
    }
}

/// Wall-clock milliseconds, for record timestamps and retention (not for
/// timeouts, which use tokio's clock).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
