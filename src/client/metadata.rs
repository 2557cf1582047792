//! The shared core of producer, consumer and admin: bootstrap, the cluster
//! metadata cache and one connection per broker node (per lane).
//!
//! Requests are routed by partition leader, so the same code serves a
//! single node today and a cluster later. The cache is refreshed when a
//! caller reports a stale leader or an unknown topic.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::backoff::{ReconnectBackoff, DEFAULT_RECONNECT_BACKOFF, DEFAULT_RECONNECT_BACKOFF_MAX};
use super::connection::{Connection, ConnectionConfig};
use super::error::{ClientError, Result};
use crate::proto::messages::metadata::{MetadataRequest, MetadataResponse, TopicMetadata};
use crate::proto::{ApiKey, ErrorCode};

/// Default bootstrap address, shared with the CLI's default.
pub const DEFAULT_BOOTSTRAP: &str = "localhost:9092";

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Comma-separated `HOST:PORT` list; the first reachable one is used.
    pub bootstrap: String,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub max_frame_bytes: usize,
    /// `reconnect.backoff.ms`: the first wait before connecting again to a
    /// broker address that refused or dropped us; doubles per failure
    /// (with jitter) up to `reconnect_backoff_max`.
    pub reconnect_backoff: Duration,
    /// `reconnect.backoff.max.ms`.
    pub reconnect_backoff_max: Duration,
    /// Mark every connection as strom's own connect runtime
    /// ([`crate::proto::frame::FLAG_INTERNAL_WRITER`]), which may write the
    /// internal topics it keeps. Only for that runtime.
    pub internal_writer: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            bootstrap: DEFAULT_BOOTSTRAP.to_string(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_frame_bytes: 256 * 1024 * 1024,
            reconnect_backoff: DEFAULT_RECONNECT_BACKOFF,
            reconnect_backoff_max: DEFAULT_RECONNECT_BACKOFF_MAX,
            internal_writer: false,
        }
    }
}

impl ClientConfig {
    pub fn new(bootstrap: impl Into<String>) -> ClientConfig {
        ClientConfig {
            bootstrap: bootstrap.into(),
            ..Default::default()
        }
    }
}

/// Which connection to a node: fetches long-poll, so they get their own
/// socket and never delay produce, admin or group requests behind them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    Default,
    Fetch,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    pub partition: i32,
    /// -1 when the partition has no leader right now.
    pub leader: i32,
    pub leader_epoch: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub error: ErrorCode,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    pub name: String,
    pub internal: bool,
    /// Sorted by partition id; index == partition id for healthy topics.
    pub partitions: Vec<PartitionInfo>,
}

impl TopicInfo {
    pub fn partition_count(&self) -> i32 {
        self.partitions.len() as i32
    }

    pub fn partition(&self, id: i32) -> Option<&PartitionInfo> {
        self.partitions.iter().find(|p| p.partition == id)
    }

    fn from_wire(t: &TopicMetadata) -> TopicInfo {
        let mut partitions: Vec<PartitionInfo> = t
            .partitions
            .iter()
            .map(|p| PartitionInfo {
                partition: p.partition,
                leader: p.leader,
                leader_epoch: p.leader_epoch,
                replicas: p.replicas.clone(),
                isr: p.isr.clone(),
                error: p.status.error_code(),
            })
            .collect();
        partitions.sort_by_key(|p| p.partition);
        TopicInfo {
            name: t.name.clone(),
            internal: t.internal,
            partitions,
        }
    }
}

#[derive(Default)]
struct State {
    brokers: HashMap<i32, String>,
    conns: HashMap<(i32, Lane), Arc<Connection>>,
    bootstrap_conn: Option<Arc<Connection>>,
    /// Which bootstrap address to try first: moves past one that stopped
    /// answering, so a dead or hung broker is not asked again and again.
    bootstrap_next: usize,
    topics: HashMap<String, Arc<TopicInfo>>,
}

struct Inner {
    config: ClientConfig,
    bootstrap: Vec<String>,
    conn_config: ConnectionConfig,
    state: Mutex<State>,
    backoff: Mutex<ReconnectBackoff>,
    /// Serialises connection attempts so concurrent callers share one.
    connecting: tokio::sync::Mutex<()>,
}

/// A handle to the cluster; cheap to clone, shared by every client object.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// Splits `a:1,b:2` into addresses; a bare host gets port 9092. Every
/// entry must be `HOST`, `HOST:PORT` or `[IPv6]:PORT` with a port from 1 to
/// 65535: a typo is reported here, not as a failed name lookup later.
pub fn parse_bootstrap(list: &str) -> Result<Vec<String>> {
    let bad = |why: String| ClientError::BadBootstrap(format!("{list:?}: {why}"));
    let mut addrs = Vec::new();
    for entry in list.split(',').map(str::trim) {
        if entry.is_empty() {
            continue;
        }
        let (host, port) = split_host_port(entry);
        if host.is_empty() || host == "[]" {
            return Err(bad(format!("{entry:?} has no host")));
        }
        if host.chars().any(char::is_whitespace) || host.contains('/') {
            return Err(bad(format!("{host:?} is not a host name or address")));
        }
        match port {
            None if host.contains(':') && !host.starts_with('[') => {
                addrs.push(format!("[{host}]:9092"))
            }
            None => addrs.push(format!("{host}:9092")),
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => addrs.push(format!("{host}:{n}")),
                _ => {
                    return Err(bad(format!(
                        "port {p:?} of {entry:?} is not a number from 1 to 65535"
                    )))
                }
            },
        }
    }
    if addrs.is_empty() {
        return Err(bad("no broker address given".into()));
    }
    Ok(addrs)
}

/// `host:port` → (host, Some(port)); `host` or a bare IPv6 → (host, None).
fn split_host_port(entry: &str) -> (&str, Option<&str>) {
    if entry.starts_with('[') {
        return match entry.rsplit_once("]:") {
            Some((h, p)) => (&entry[..h.len() + 1], Some(p)),
            None => (entry, None),
        };
    }
    match entry.rsplit_once(':') {
        // More than one colon without brackets: an IPv6 address, no port.
        Some((h, _)) if h.contains(':') => (entry, None),
        Some((h, p)) => (h, Some(p)),
        None => (entry, None),
    }
}

impl Client {
    /// Parses the bootstrap list and connects to the first reachable
    /// address, so an unreachable cluster is reported right away.
    pub async fn connect(config: ClientConfig) -> Result<Client> {
        let bootstrap = parse_bootstrap(&config.bootstrap)?;
        let conn_config = ConnectionConfig {
            connect_timeout: config.connect_timeout,
            max_frame_bytes: config.max_frame_bytes,
            internal_writer: config.internal_writer,
        };
        let backoff = ReconnectBackoff::new(config.reconnect_backoff, config.reconnect_backoff_max);
        let client = Client {
            inner: Arc::new(Inner {
                config,
                bootstrap,
                conn_config,
                backoff: Mutex::new(backoff),
                state: Mutex::new(State::default()),
                connecting: tokio::sync::Mutex::new(()),
            }),
        };
        client.bootstrap_connection().await?;
        Ok(client)
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    pub fn request_timeout(&self) -> Duration {
        self.inner.config.request_timeout
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves plain data behind; keep going.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A live connection to any bootstrap broker.
    pub async fn bootstrap_connection(&self) -> Result<Arc<Connection>> {
        if let Some(c) = self.state().bootstrap_conn.clone() {
            if !c.is_closed() {
                return Ok(c);
            }
        }
        let _guard = self.inner.connecting.lock().await;
        if let Some(c) = self.state().bootstrap_conn.clone() {
            if !c.is_closed() {
                return Ok(c);
            }
        }
        // The bootstrap list first (from the one that answered last), then
        // every broker the metadata named: a client keeps finding the
        // cluster while the brokers it was bootstrapped with are down, and
        // goes back to the bootstrap list when all the known ones are.
        let n = self.inner.bootstrap.len();
        let first = self.state().bootstrap_next;
        let mut candidates: Vec<(Option<usize>, String)> = (0..n)
            .map(|k| (first + k) % n.max(1))
            .map(|at| (Some(at), self.inner.bootstrap[at].clone()))
            .collect();
        let mut known: Vec<String> = self.state().brokers.values().cloned().collect();
        known.sort();
        for addr in known {
            if !candidates.iter().any(|(_, a)| *a == addr) {
                candidates.push((None, addr));
            }
        }
        // Those out of their reconnect backoff first.
        let now = tokio::time::Instant::now();
        candidates.sort_by_key(|(_, addr)| self.reconnect_wait(addr, now));
        let mut last = None;
        for (at, addr) in candidates {
            match self.connect_to(&addr).await {
                Ok(c) => {
                    let mut st = self.state();
                    st.bootstrap_conn = Some(c.clone());
                    if let Some(at) = at {
                        st.bootstrap_next = at;
                    }
                    return Ok(c);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            ClientError::BadBootstrap(format!("{:?}: no address", self.inner.config.bootstrap))
        }))
    }

    fn reconnect_wait(&self, addr: &str, now: tokio::time::Instant) -> Duration {
        self.inner
            .backoff
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .wait(addr, now)
    }

    /// Connects to `addr` once its reconnect backoff has passed, and keeps
    /// the backoff up to date. Losing a broker that was reached before is
    /// logged once per outage (and its return at info).
    async fn connect_to(&self, addr: &str) -> Result<Arc<Connection>> {
        let wait = self.reconnect_wait(addr, tokio::time::Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let result = Connection::connect(addr, &self.inner.conn_config).await;
        let mut backoff = self.inner.backoff.lock().unwrap_or_else(|p| p.into_inner());
        match &result {
            Ok(_) => {
                let failures = backoff.succeeded(addr);
                if failures > 0 {
                    tracing::info!(%addr, failures, "reconnected to the broker");
                }
            }
            Err(e) => {
                let failures = backoff.failed(addr, tokio::time::Instant::now());
                if failures == 1 && backoff.was_reached(addr) {
                    tracing::warn!(
                        "{e}; reconnecting (backoff {} ms, up to reconnect.backoff.max.ms {} ms)",
                        self.inner.config.reconnect_backoff.as_millis(),
                        self.inner.config.reconnect_backoff_max.as_millis()
                    );
                } else {
                    tracing::debug!(%addr, error = %e, failures, "connect failed");
                }
            }
        }
        result
    }

    /// A live connection to broker `node` on `lane`.
    pub async fn connection(&self, node: i32, lane: Lane) -> Result<Arc<Connection>> {
        if let Some(c) = self.state().conns.get(&(node, lane)).cloned() {
            if !c.is_closed() {
                return Ok(c);
            }
        }
        let (addr, single) = {
            let st = self.state();
            (st.brokers.get(&node).cloned(), st.brokers.len() <= 1)
        };
        // With a single broker the bootstrap socket already reaches it; reuse
        // it for the default lane so a mis-advertised address cannot hurt.
        if single && lane == Lane::Default {
            let c = self.bootstrap_connection().await?;
            self.state().conns.insert((node, lane), c.clone());
            return Ok(c);
        }
        let addr = match addr {
            Some(a) => a,
            None if single => self.inner.bootstrap.first().cloned().ok_or_else(|| {
                ClientError::BadBootstrap(format!("{:?}: no address", self.inner.config.bootstrap))
            })?,
            None => {
                return Err(ClientError::broker(
                    ErrorCode::LeaderNotAvailable,
                    Some(&format!("broker {node} is not in the cluster metadata")),
                ))
            }
        };
        let _guard = self.inner.connecting.lock().await;
        if let Some(c) = self.state().conns.get(&(node, lane)).cloned() {
            if !c.is_closed() {
                return Ok(c);
            }
        }
        let conn = match self.connect_to(&addr).await {
            Ok(c) => c,
            // An advertised address may not be routable from here; with one
            // broker the bootstrap address is known to work.
            Err(e) if single => {
                tracing::debug!(%addr, error = %e, "advertised address failed, using bootstrap");
                let mut last = e;
                let mut found = None;
                for b in &self.inner.bootstrap {
                    match self.connect_to(b).await {
                        Ok(c) => {
                            found = Some(c);
                            break;
                        }
                        Err(e) => last = e,
                    }
                }
                found.ok_or(last)?
            }
            Err(e) => return Err(e),
        };
        self.state().conns.insert((node, lane), conn.clone());
        Ok(conn)
    }

    /// Fetches metadata for `topics` (None: all) and updates the cache.
    pub async fn fetch_metadata(
        &self,
        topics: Option<Vec<String>>,
        allow_auto_create: bool,
    ) -> Result<MetadataResponse> {
        let conn = self.bootstrap_connection().await?;
        let req = MetadataRequest {
            topics: topics.clone(),
            allow_auto_create,
        };
        let resp: MetadataResponse = match conn
            .call(ApiKey::Metadata, &req, self.request_timeout())
            .await
        {
            Ok(r) => r,
            Err(e @ ClientError::Disconnected { .. }) => {
                // One reconnect: the broker may have restarted since.
                tracing::debug!(error = %e, "metadata connection lost, reconnecting");
                let conn = self.bootstrap_connection().await?;
                match conn
                    .call(ApiKey::Metadata, &req, self.request_timeout())
                    .await
                {
                    Ok(r) => r,
                    Err(e) => {
                        self.skip_bootstrap(&conn);
                        return Err(e);
                    }
                }
            }
            Err(e @ ClientError::Timeout { .. }) => {
                // A hung broker (paused, partitioned): ask another next time.
                self.skip_bootstrap(&conn);
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        if !resp.status.is_ok() {
            return Err(ClientError::broker(
                resp.status.error_code(),
                resp.status.message.as_deref(),
            ));
        }
        if tracing::enabled!(tracing::Level::INFO) {
            let brokers: Vec<String> = resp
                .brokers
                .iter()
                .map(|b| format!("{}={}:{}", b.node_id, b.host, b.port))
                .collect();
            let topics: Vec<String> = resp
                .topics
                .iter()
                .map(|t| format!("{}({} partitions)", t.name, t.partitions.len()))
                .collect();
            tracing::info!(
                from = %conn.addr(),
                brokers = %brokers.join(","),
                controller = resp.controller_id,
                topics = %topics.join(","),
                "metadata"
            );
        }
        let mut st = self.state();
        if !resp.brokers.is_empty() {
            st.brokers = resp
                .brokers
                .iter()
                .map(|b| (b.node_id, format!("{}:{}", b.host, b.port)))
                .collect();
        }
        if topics.is_none() {
            st.topics.clear();
        }
        for t in &resp.topics {
            if t.status.is_ok() && !t.partitions.is_empty() {
                st.topics
                    .insert(t.name.clone(), Arc::new(TopicInfo::from_wire(t)));
            } else {
                st.topics.remove(&t.name);
            }
        }
        Ok(resp)
    }

    /// Drops a bootstrap connection that failed and moves on to the next
    /// address for the following attempt.
    fn skip_bootstrap(&self, failed: &Arc<Connection>) {
        let mut st = self.state();
        if st
            .bootstrap_conn
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, failed))
        {
            st.bootstrap_conn = None;
            st.bootstrap_next = (st.bootstrap_next + 1) % self.inner.bootstrap.len().max(1);
        }
    }

    /// The cached topic, without any I/O.
    pub fn cached_topic(&self, name: &str) -> Option<Arc<TopicInfo>> {
        self.state().topics.get(name).cloned()
    }

    /// Forgets a topic so the next lookup asks the broker.
    pub fn invalidate(&self, name: &str) {
        self.state().topics.remove(name);
    }

    /// The topic's partitions, from the cache or the broker. Retries while
    /// the broker reports a retriable state (e.g. leader election right
    /// after auto-creation) until the request timeout.
    pub async fn topic(&self, name: &str, allow_auto_create: bool) -> Result<Arc<TopicInfo>> {
        if let Some(t) = self.cached_topic(name) {
            return Ok(t);
        }
        self.refresh_topic(name, allow_auto_create).await
    }

    /// Like [`Client::topic`] but always asks the broker.
    pub async fn refresh_topic(
        &self,
        name: &str,
        allow_auto_create: bool,
    ) -> Result<Arc<TopicInfo>> {
        let deadline = tokio::time::Instant::now() + self.request_timeout();
        let mut backoff = Duration::from_millis(20);
        loop {
            let resp = self
                .fetch_metadata(Some(vec![name.to_string()]), allow_auto_create)
                .await?;
            let t = resp.topics.iter().find(|t| t.name == name);
            let err = match t {
                None => ClientError::UnknownTopic(name.to_string()),
                Some(t) if t.status.error_code() == ErrorCode::UnknownTopicOrPartition => {
                    ClientError::UnknownTopic(name.to_string())
                }
                Some(t) if !t.status.is_ok() => {
                    ClientError::broker(t.status.error_code(), t.status.message.as_deref())
                }
                Some(t) => {
                    let info = TopicInfo::from_wire(t);
                    let leaderless = info.partitions.iter().any(|p| p.leader < 0);
                    if !info.partitions.is_empty() && !leaderless {
                        return Ok(Arc::new(info));
                    }
                    ClientError::broker(
                        ErrorCode::LeaderNotAvailable,
                        Some(&format!("topic {name} has partitions without a leader")),
                    )
                }
            };
            // An unknown topic stays unknown unless the broker is creating it.
            let retry = err.is_retriable() && !matches!(err, ClientError::UnknownTopic(_));
            if !retry || tokio::time::Instant::now() + backoff > deadline {
                return Err(err);
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_millis(500));
        }
    }

    /// The leader node of a partition, from the cache or the broker.
    pub async fn leader(&self, topic: &str, partition: i32) -> Result<i32> {
        let t = self.topic(topic, false).await?;
        match t.partition(partition) {
            Some(p) if p.leader >= 0 => Ok(p.leader),
            Some(_) => Err(ClientError::broker(
                ErrorCode::LeaderNotAvailable,
                Some(&format!("{topic}-{partition} has no leader")),
            )),
            None => Err(ClientError::UnknownPartition {
                topic: topic.to_string(),
                partition,
            }),
        }
    }

    /// Known broker addresses by node id.
    pub fn brokers(&self) -> HashMap<i32, String> {
        self.state().brokers.clone()
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn bootstrap_list_parsing() {
        assert_eq!(
            parse_bootstrap("a:1, b ,c:3").unwrap(),
            vec!["a:1", "b:9092", "c:3"]
        );
        assert!(parse_bootstrap(" , ").is_err());
        assert_eq!(parse_bootstrap("[::1]:9000").unwrap(), vec!["[::1]:9000"]);
        assert_eq!(parse_bootstrap("::1").unwrap(), vec!["[::1]:9092"]);
        for bad in [
            "",
            "127.0.0.1:99999",
            "host:abc",
            "host:0",
            ":9092",
            "a b:1",
        ] {
            assert!(parse_bootstrap(bad).is_err(), "{bad:?} accepted");
        }
    }
}
