//! What `strom top` shows, built from the samples of every endpoint:
//! per-topic rates (from counter deltas between scrapes) with a history
//! for sparklines, partitions, groups and brokers.
use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use super::scrape::Sample;

/// Points kept per sparkline (one per refresh).
pub const HISTORY: usize = 120;

#[derive(Debug, Default, Clone)]
pub struct TopicRow {
    pub name: String,
    /// Totals: bytes in, records in, bytes out, records out.
    totals: [f64; 4],
    /// Per second over the last interval, same order.
    pub rates: [f64; 4],
    /// Records-in and records-out rates, oldest first.
    pub history_in: VecDeque<u64>,
    pub history_out: VecDeque<u64>,
    pub partitions: usize,
    pub size: f64,
}

#[derive(Debug, Default, Clone)]
pub struct PartitionRow {
    pub topic: String,
    pub partition: i64,
    pub leader: Option<i64>,
    pub replicas: Option<i64>,
    pub isr: Option<i64>,
    pub log_start: f64,
    pub log_end: f64,
    pub size: f64,
    /// Summed over the groups that committed offsets for it.
    pub lag: f64,
}

#[derive(Debug, Default, Clone)]
pub struct GroupRow {
    pub group: String,
    pub lag: f64,
    pub partitions: usize,
}

#[derive(Debug, Clone)]
pub struct BrokerRow {
    pub endpoint: String,
    /// `Err`: why the endpoint could not be read.
    pub health: Result<(), String>,
    pub controller: bool,
    pub raft: Option<String>,
    pub leaders: f64,
    pub partitions: f64,
    pub under_replicated: f64,
    pub connections: f64,
    pub requests_per_sec: f64,
}

#[derive(Debug, Default)]
pub struct Model {
    pub topics: Vec<TopicRow>,
    pub partitions: Vec<PartitionRow>,
    pub groups: Vec<GroupRow>,
    pub brokers: Vec<BrokerRow>,
    /// Cluster members as the metadata says: (id, up).
    pub members: Vec<(String, bool)>,
    last: Option<Instant>,
    requests: BTreeMap<String, f64>,
}

fn sum(samples: &[Sample], name: &str) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .map(|s| s.value)
        .sum()
}

impl Model {
    /// Folds in one round of scrapes taken at `now`.
    pub fn update(&mut self, scrapes: Vec<(String, Result<Vec<Sample>, String>)>, now: Instant) {
        let elapsed = self.last.map(|t| now.duration_since(t).as_secs_f64());
        self.last = Some(now);
        let mut topics: BTreeMap<String, TopicRow> =
            self.topics.drain(..).map(|t| (t.name.clone(), t)).collect();
        let mut seen: BTreeMap<String, [f64; 4]> = BTreeMap::new();
        let mut partitions: BTreeMap<(String, i64), PartitionRow> = BTreeMap::new();
        let mut groups: BTreeMap<String, GroupRow> = BTreeMap::new();
        let mut members: BTreeMap<String, bool> = BTreeMap::new();
        self.brokers.clear();
        for (endpoint, result) in scrapes {
            let samples = match result {
                Ok(s) => s,
                Err(why) => {
                    self.brokers.push(BrokerRow {
                        endpoint,
                        health: Err(why),
                        controller: false,
                        raft: None,
                        leaders: 0.0,
                        partitions: 0.0,
                        under_replicated: 0.0,
                        connections: 0.0,
                        requests_per_sec: 0.0,
                    });
                    continue;
                }
            };
            let requests = sum(&samples, "kafka_network_requestmetrics_requests_total");
            let before = self.requests.insert(endpoint.clone(), requests);
            let requests_per_sec = match (before, elapsed) {
                (Some(b), Some(dt)) if dt > 0.0 => ((requests - b) / dt).max(0.0),
                _ => 0.0,
            };
            self.brokers.push(BrokerRow {
                controller: sum(
                    &samples,
                    "kafka_controller_kafkacontroller_activecontrollercount",
                ) > 0.0,
                raft: samples
                    .iter()
                    .find(|s| s.name == "strom_raft_state" && s.value > 0.0)
                    .and_then(|s| s.label("state").map(str::to_string)),
                leaders: sum(&samples, "kafka_server_replicamanager_leadercount"),
                partitions: sum(&samples, "kafka_server_replicamanager_partitioncount"),
                under_replicated: sum(
                    &samples,
                    "kafka_server_replicamanager_underreplicatedpartitions",
                ),
                connections: sum(
                    &samples,
                    "kafka_server_socketservermetrics_connection_count",
                ),
                requests_per_sec,
                endpoint,
                health: Ok(()),
            });
            for s in &samples {
                let topic = s.label("topic").unwrap_or_default().to_string();
                let slot = match s.name.as_str() {
                    "kafka_server_brokertopicmetrics_bytesin_total" => Some(0),
                    "kafka_server_brokertopicmetrics_messagesin_total" => Some(1),
                    "kafka_server_brokertopicmetrics_bytesout_total" => Some(2),
                    "strom_topic_records_out_total" => Some(3),
                    _ => None,
                };
                if let Some(i) = slot {
                    seen.entry(topic).or_default()[i] += s.value;
                    continue;
                }
                if s.name == "strom_broker_up" {
                    if let Some(b) = s.label("broker") {
                        *members.entry(b.to_string()).or_default() |= s.value > 0.0;
                    }
                    continue;
                }
                if s.name == "kafka_consumergroup_lag" {
                    let group = s.label("group").unwrap_or_default().to_string();
                    let g = groups.entry(group.clone()).or_insert_with(|| GroupRow {
                        group,
                        ..Default::default()
                    });
                    g.lag += s.value;
                    g.partitions += 1;
                }
                let Some(p) = s.label("partition").and_then(|p| p.parse::<i64>().ok()) else {
                    continue;
                };
                let row = partitions
                    .entry((topic.clone(), p))
                    .or_insert_with(|| PartitionRow {
                        topic,
                        partition: p,
                        ..Default::default()
                    });
                match s.name.as_str() {
                    "strom_partition_leader" => row.leader = Some(s.value as i64),
                    "kafka_cluster_partition_replicascount" => row.replicas = Some(s.value as i64),
                    "kafka_cluster_partition_insyncreplicascount" => row.isr = Some(s.value as i64),
                    // Followers report their logs too: the leader's count.
                    "kafka_log_log_logstartoffset" => row.log_start = row.log_start.max(s.value),
                    "kafka_log_log_logendoffset" => row.log_end = row.log_end.max(s.value),
                    "kafka_log_log_size" => row.size = row.size.max(s.value),
                    "kafka_consumergroup_lag" => row.lag += s.value,
                    _ => {}
                }
            }
        }
        for (name, totals) in seen {
            let t = topics.entry(name.clone()).or_insert_with(|| TopicRow {
                name,
                totals,
                ..Default::default()
            });
            if let Some(dt) = elapsed.filter(|dt| *dt > 0.0) {
                for ((rate, now), before) in t.rates.iter_mut().zip(totals).zip(t.totals) {
                    // A restarted broker starts from zero: no negative rate.
                    *rate = ((now - before) / dt).max(0.0);
                }
                push(&mut t.history_in, t.rates[1]);
                push(&mut t.history_out, t.rates[3]);
            }
            t.totals = totals;
        }
        // Topics no endpoint reports any more are gone.
        let live: Vec<TopicRow> = topics
            .into_values()
            .filter(|t| partitions.keys().any(|(topic, _)| *topic == t.name))
            .map(|mut t| {
                let parts = partitions.values().filter(|p| p.topic == t.name);
                t.partitions = parts.clone().count();
                t.size = parts.map(|p| p.size).sum();
                t
            })
            .collect();
        self.topics = live;
        self.partitions = partitions.into_values().collect();
        self.groups = groups.into_values().collect();
        self.members = members.into_iter().collect();
    }
}

fn push(h: &mut VecDeque<u64>, v: f64) {
    if h.len() == HISTORY {
        h.pop_front();
    }
    h.push_back(v.round() as u64);
}

#[cfg(test)]
mod tests {
    use super::super::scrape::parse;
    use super::*;
    use std::time::Duration;

    fn text(records: u64) -> String {
        format!(
            "kafka_server_brokertopicmetrics_messagesin_total{{topic=\"t\"}} {records}\n\
             kafka_log_log_size{{topic=\"t\",partition=\"0\"}} 10\n\
             strom_partition_leader{{topic=\"t\",partition=\"0\"}} 1\n\
             kafka_consumergroup_lag{{group=\"g\",topic=\"t\",partition=\"0\"}} 7\n"
        )
    }

    #[test]
    fn rates_come_from_counter_deltas() {
        let mut m = Model::default();
        let t0 = Instant::now();
        m.update(vec![("a".into(), Ok(parse(&text(100))))], t0);
        assert_eq!(m.topics[0].rates[1], 0.0);
        m.update(
            vec![("a".into(), Ok(parse(&text(300))))],
            t0 + Duration::from_secs(2),
        );
        assert_eq!(m.topics[0].rates[1], 100.0);
        assert_eq!(m.topics[0].history_in.back(), Some(&100));
        assert_eq!(m.partitions[0].leader, Some(1));
        assert_eq!(m.partitions[0].lag, 7.0);
        assert_eq!(m.groups[0].lag, 7.0);
        m.update(
            vec![("a".into(), Err("down".into()))],
            t0 + Duration::from_secs(3),
        );
        assert!(m.brokers[0].health.is_err());
        assert!(m.topics.is_empty());
    }
}
