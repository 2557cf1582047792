//! Topic and group names for Tab completion, fetched from the broker in
//! the background and cached briefly. Completion runs while the user
//! waits on a key press, so it never waits for the broker for more than
//! [`WAIT`]: a slow or dead broker means no names, never a hang or an
//! error on screen.
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::client::{Admin, Client, ClientConfig};
use crate::proto::messages::groups::{ListGroupsRequest, ListGroupsResponse};
use crate::proto::ApiKey;

/// How long fetched names are trusted (a failed fetch too, so a dead
/// broker is not asked on every key press).
const TTL: Duration = Duration::from_secs(5);
/// The longest a Tab press waits for a fetch in flight.
const WAIT: Duration = Duration::from_millis(400);
/// The longest one fetch may take in the background.
const FETCH_LIMIT: Duration = Duration::from_secs(3);

#[derive(Default)]
struct Cache {
    addr: String,
    fetched: Option<Instant>,
    topics: Vec<String>,
    groups: Vec<String>,
    in_flight: bool,
}

pub struct Names {
    bootstrap: Mutex<String>,
    cache: Mutex<Cache>,
    changed: Condvar,
}

pub struct Fetched {
    pub topics: Vec<String>,
    pub groups: Vec<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Names {
    pub fn new(bootstrap: String) -> Arc<Names> {
        Arc::new(Names {
            bootstrap: Mutex::new(bootstrap),
            cache: Mutex::new(Cache::default()),
            changed: Condvar::new(),
        })
    }

    /// Points completion at another broker (after `connect`).
    pub fn set_bootstrap(&self, addr: String) {
        *lock(&self.bootstrap) = addr;
    }

    pub fn topics(self: &Arc<Self>) -> Vec<String> {
        self.get(|c| c.topics.clone())
    }

    pub fn groups(self: &Arc<Self>) -> Vec<String> {
        self.get(|c| c.groups.clone())
    }

    fn get(self: &Arc<Self>, pick: impl Fn(&Cache) -> Vec<String>) -> Vec<String> {
        let addr = lock(&self.bootstrap).clone();
        let mut cache = lock(&self.cache);
        let fresh = |c: &Cache| c.addr == addr && c.fetched.is_some_and(|t| t.elapsed() < TTL);
        if fresh(&cache) {
            return pick(&cache);
        }
        if !cache.in_flight {
            cache.in_flight = true;
            let me = self.clone();
            let a = addr.clone();
            let spawned = std::thread::Builder::new()
                .name("strom-complete".into())
                .spawn(move || {
                    let result = fetch(&a);
                    me.store(&a, result.ok());
                });
            if spawned.is_err() {
                cache.in_flight = false;
            }
        }
        let deadline = Instant::now() + WAIT;
        while cache.in_flight {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            cache = self
                .changed
                .wait_timeout(cache, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        if cache.addr == addr {
            pick(&cache)
        } else {
            Vec::new()
        }
    }

    fn store(&self, addr: &str, fetched: Option<Fetched>) {
        let mut cache = lock(&self.cache);
        cache.in_flight = false;
        cache.addr = addr.to_string();
        cache.fetched = Some(Instant::now());
        let f = fetched.unwrap_or(Fetched {
            topics: Vec::new(),
            groups: Vec::new(),
        });
        cache.topics = f.topics;
        cache.groups = f.groups;
        self.changed.notify_all();
    }

    /// Fetches now (for `connect`), filling the cache; the error says why
    /// the broker cannot be used.
    pub fn probe(&self, addr: &str) -> anyhow::Result<usize> {
        match fetch(addr) {
            Ok(f) => {
                let n = f.topics.len();
                self.store(addr, Some(f));
                Ok(n)
            }
            Err(e) => {
                self.store(addr, None);
                Err(e)
            }
        }
    }
}

/// One short-lived connection: topic names, and group names when the
/// broker can list them.
fn fetch(addr: &str) -> anyhow::Result<Fetched> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let work = async {
            let config = ClientConfig {
                connect_timeout: Duration::from_secs(1),
                request_timeout: Duration::from_secs(2),
                ..ClientConfig::new(addr)
            };
            let client = Client::connect(config).await?;
            let topics = Admin::new(client.clone()).list_topics(false).await?;
            let groups = list_groups(&client).await.unwrap_or_default();
            anyhow::Ok(Fetched { topics, groups })
        };
        match tokio::time::timeout(FETCH_LIMIT, work).await {
            Ok(r) => r,
            Err(_) => anyhow::bail!("no answer within {} s", FETCH_LIMIT.as_secs()),
        }
    })
}

async fn list_groups(client: &Client) -> anyhow::Result<Vec<String>> {
    let conn = client.bootstrap_connection().await?;
    let resp: ListGroupsResponse = conn
        .call(
            ApiKey::ListGroups,
            &ListGroupsRequest {},
            client.request_timeout(),
        )
        .await?;
    let mut names: Vec<String> = resp.groups.into_iter().map(|g| g.group_id).collect();
    names.sort();
    Ok(names)
}
