//! Controlled shutdown with real processes: three `strom serve` brokers on
//! 127.0.0.1, a topic with replication factor 3 and min.insync.replicas=2,
//! and an idempotent acks=all producer sending numbered records. The leader
//! of partition 0 gets SIGTERM. Before it stops it must hand its partitions
//! over (new leaders and an ISR without it, far sooner than the session
//! timeout would fence it), the producer must see no error, and every
//! acknowledged record must be read back exactly once, in send order.
//! Restarted, the broker must rejoin every ISR through the usual catch-up.
//! The other two brokers then get the same in turn (a rolling restart, so
//! the metadata quorum's Raft leader is stopped too).
//!
//! All waits are deadlines on observed state (metadata, process exit, log
//! lines), never fixed sleeps; the producer is paced, which is load, not
//! waiting.
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::cluster::{self, connect, runtime, Cluster, Deadline, Numbered, Sent};
use strom::client::{Acks, Client, ProducerConfig, TopicInfo};

const TOPIC: &str = "handover";
const PARTITIONS: i32 = 3;
/// Long on purpose: leadership moving before this could only be the
/// controlled shutdown's doing, not the controller fencing a silent broker.
const SESSION_TIMEOUT_MS: u64 = 10_000;
/// The whole test, start to finish, stays within this.
const BUDGET: Duration = Duration::from_secs(55);

/// Three brokers; every wait of the test gives up at `deadline`.
fn start(deadline: Instant, extra: &[&str]) -> Cluster {
    let session_timeout = SESSION_TIMEOUT_MS.to_string();
    let mut flags = vec![
        "--broker-session-timeout-ms",
        &session_timeout,
        "--replica-lag-time-max-ms",
        "5000",
    ];
    flags.extend_from_slice(extra);
    Cluster::new(3, Deadline::At(deadline))
        .flags(&flags)
        .start()
}

/// Polls the topic's metadata until `f` holds; panics at `deadline`.
async fn until_metadata(
    client: &Client,
    what: &str,
    deadline: Instant,
    f: impl Fn(&TopicInfo) -> bool,
) {
    let poll = Duration::from_millis(20);
    cluster::until_metadata(client, TOPIC, what, deadline, poll, f).await;
}

fn full_isr(t: &TopicInfo) -> bool {
    t.partitions.len() == PARTITIONS as usize
        && t.partitions
            .iter()
            .all(|p| p.leader >= 0 && p.isr.len() == 3)
}

async fn create_topic(c: &Cluster) {
    cluster::create_topic(c, TOPIC, PARTITIONS, &[]).await;
    let client = connect(&c.bootstrap()).await;
    until_metadata(&client, "a full ISR", c.deadline.starting_now(), full_isr).await;
}

/// Sends numbered records with acks=all until `stop`.
async fn produce(bootstrap: String, stop: Arc<AtomicBool>) -> Sent {
    let client = connect(&bootstrap).await;
    // The default retry budget (10 retries, 100 ms doubling to 1 s: about
    // 7.5 s) is shorter than the session timeout: without a handover a
    // partition of the stopped broker would stay leaderless for longer,
    // and its records would fail.
    let cfg = ProducerConfig {
        acks: Acks::All,
        linger: Duration::from_millis(2),
        request_timeout: Duration::from_secs(10),
        ..ProducerConfig::default()
    };
    cluster::produce_numbered(client, cfg, TOPIC, PARTITIONS, stop).await
}

/// Reads every partition from the start to its high watermark.
async fn read_all(c: &Cluster) -> Numbered {
    let client = connect(&c.bootstrap()).await;
    cluster::read_numbered(client, TOPIC, c.deadline.starting_now()).await
}

/// Every acknowledged record exactly once, at its acknowledged offset;
/// each partition in send order.
fn verify(sent: &Sent, read: &Numbered) {
    let seen = cluster::locate("controlled shutdown", read);
    let duplicates: Vec<_> = seen.iter().filter(|(_, v)| v.len() > 1).collect();
    let lost: Vec<_> = sent
        .acked
        .iter()
        .filter(|(n, at)| !seen.get(n).is_some_and(|v| v.contains(at)))
        .collect();
    println!(
        "controlled shutdown: sent {}, acked {}, errors {}, lost {}, duplicates {}",
        sent.total,
        sent.acked.len(),
        sent.errors.len(),
        lost.len(),
        duplicates.len()
    );
    assert!(
        sent.errors.is_empty(),
        "the producer saw errors: {:?}",
        &sent.errors[..sent.errors.len().min(5)]
    );
    assert_eq!(sent.acked.len() as u64, sent.total);
    assert!(
        lost.is_empty(),
        "acknowledged records missing or moved (record, where acked): {:?}",
        &lost[..lost.len().min(5)]
    );
    assert!(
        duplicates.is_empty(),
        "records written twice: {:?}",
        &duplicates[..duplicates.len().min(5)]
    );
}

/// SIGTERMs `victim`, checks that it handed everything over quickly and
/// exited cleanly, lets the others carry the load for a moment, restarts
/// it and waits until it is back in every ISR.
fn stop_and_restart(rt: &tokio::runtime::Runtime, cluster: &mut Cluster, victim: i32, why: &str) {
    let i = cluster.index(victim);
    let deadline = cluster.deadline.starting_now();
    // The broker stays up while it hands over, so the others' metadata
    // must show the move before (or as) it exits.
    let survivors = rt.block_on(connect(&cluster.bootstrap_except(victim)));
    let sigterm = Instant::now();
    cluster.signal(i, "-TERM");
    rt.block_on(until_metadata(
        &survivors,
        "the stopping broker to lead nothing and leave every ISR",
        deadline,
        |t| {
            t.partitions
                .iter()
                .all(|p| p.leader >= 0 && p.leader != victim && !p.isr.contains(&victim))
        },
    ));
    let handed_over = sigterm.elapsed();
    let status = cluster.wait_exit(i);
    let exited = sigterm.elapsed();
    println!(
        "controlled shutdown: broker {victim} ({why}): leadership moved {} ms after SIGTERM \
         (session timeout {SESSION_TIMEOUT_MS} ms); the process exited after {} ms",
        handed_over.as_millis(),
        exited.as_millis()
    );
    let log = cluster.nodes[i].log();
    assert_eq!(
        status.map(|s| s.success()),
        Some(true),
        "broker {victim} did not exit cleanly after SIGTERM:\n{log}"
    );
    assert_eq!(
        log.matches("controlled shutdown: leadership handed over")
            .count(),
        cluster.nodes[i].lives,
        "broker {victim} did not report its handover:\n{log}"
    );
    assert!(
        handed_over < Duration::from_millis(SESSION_TIMEOUT_MS / 2),
        "leadership took {handed_over:?} to move: no faster than fencing"
    );

    // The others carry the load; then the broker returns and catches up.
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(1000)).await });
    cluster.restart(i);
    let restarted = Instant::now();
    rt.block_on(until_metadata(
        &survivors,
        "the restarted broker back in every ISR",
        deadline,
        |t| t.partitions.iter().all(|p| p.isr.contains(&victim)),
    ));
    println!(
        "controlled shutdown: broker {victim} rejoined every ISR {} ms after its restart",
        restarted.elapsed().as_millis()
    );
}

#[test]
fn sigterm_hands_leadership_over_before_the_broker_stops() {
    let started = Instant::now();
    let deadline = started + BUDGET;
    let rt = runtime();
    let mut cluster = start(deadline, &[]);
    rt.block_on(create_topic(&cluster));
    let stop = Arc::new(AtomicBool::new(false));
    let producing = rt.spawn(produce(cluster.bootstrap(), stop.clone()));

    // Let the producer run against the full cluster, then stop the leader
    // of partition 0.
    let first = rt.block_on(async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let client = connect(&cluster.bootstrap()).await;
        let info = client.refresh_topic(TOPIC, false).await.expect("metadata");
        info.partitions[0].leader
    });
    stop_and_restart(&rt, &mut cluster, first, "the leader of partition 0");
    // A rolling restart of the other two: one of the three is the Raft
    // leader of the metadata quorum, whose successor is elected only once
    // it has stopped.
    let others: Vec<i32> = cluster
        .nodes
        .iter()
        .map(|n| n.id)
        .filter(|id| *id != first)
        .collect();
    for id in others {
        stop_and_restart(&rt, &mut cluster, id, "rolling restart");
    }

    stop.store(true, Ordering::SeqCst);
    let sent = rt.block_on(producing).expect("producer task");
    let read = rt.block_on(read_all(&cluster));
    cluster.keep_if_asked();
    verify(&sent, &read);

    // The leaders never asked to put a fenced broker back into an ISR
    // (the controller would refuse, and the high watermark would stall on
    // it while they waited for the answer).
    for n in &cluster.nodes {
        let log = n.log();
        assert!(
            !log.contains("is fenced and cannot join the ISR"),
            "broker {} proposed a fenced broker for an ISR:\n{log}",
            n.id
        );
    }
    println!(
        "controlled shutdown: test took {} ms",
        started.elapsed().as_millis()
    );
    assert!(started.elapsed() < BUDGET, "took {:?}", started.elapsed());
}

/// Kafka's automatic leader rebalance: once a restarted broker is back in
/// the ISR of the partitions it prefers to lead (first replica), the
/// controller gives them back, so a rolling restart does not leave one
/// broker leading everything. Under an acks=all producer, which must see
/// no error, lose nothing and write nothing twice.
#[test]
fn leadership_returns_to_preferred_replicas_after_a_restart() {
    let started = Instant::now();
    let deadline = started + BUDGET;
    let rt = runtime();
    let mut cluster = start(deadline, &["--leader-imbalance-check-interval-ms", "500"]);
    rt.block_on(create_topic(&cluster));
    let client = rt.block_on(connect(&cluster.bootstrap()));
    let preferred = |t: &TopicInfo| {
        t.partitions
            .iter()
            .all(|p| p.replicas.first() == Some(&p.leader) && p.isr.len() == 3)
    };
    rt.block_on(until_metadata(
        &client,
        "every partition led by its preferred replica",
        deadline,
        preferred,
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let producing = rt.spawn(produce(cluster.bootstrap(), stop.clone()));
    let victim = rt
        .block_on(client.refresh_topic(TOPIC, false))
        .expect("metadata")
        .partitions[0]
        .leader;

    // Stops it (its partitions move to the others), restarts it, and
    // waits until it is back in every ISR.
    stop_and_restart(&rt, &mut cluster, victim, "preferred leader");
    let back_in_isr = Instant::now();
    let survivors = rt.block_on(connect(&cluster.bootstrap_except(victim)));
    rt.block_on(until_metadata(
        &survivors,
        "leadership back on the preferred replicas",
        deadline,
        preferred,
    ));
    println!(
        "preferred leader election: broker {victim} led its partitions again {} ms after it \
         rejoined the ISR (check interval 500 ms)",
        back_in_isr.elapsed().as_millis()
    );

    stop.store(true, Ordering::SeqCst);
    let sent = rt.block_on(producing).expect("producer task");
    let read = rt.block_on(read_all(&cluster));
    verify(&sent, &read);
    assert!(started.elapsed() < BUDGET, "took {:?}", started.elapsed());
}
