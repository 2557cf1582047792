//! Runs a topology on in-memory records, with no broker: one [`Task`] per
//! (input topic, partition), offsets assigned in order, outputs collected.
use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use super::{KeyValueStore, Task, TaskState, Topology};
use crate::stream::{Record, Source};

pub struct TopologyTestDriver {
    topology: Topology,
    tasks: HashMap<(Arc<str>, i32), Task>,
    next_offset: HashMap<(Arc<str>, i32), i64>,
    outputs: Vec<Record>,
}

impl TopologyTestDriver {
    pub fn new(topology: Topology) -> TopologyTestDriver {
        TopologyTestDriver {
            topology,
            tasks: HashMap::new(),
            next_offset: HashMap::new(),
            outputs: Vec::new(),
        }
    }

    /// One record into partition 0 of `topic`.
    pub fn pipe(&mut self, topic: &str, key: Option<&str>, value: &str, timestamp: i64) {
        self.pipe_record(
            topic,
            0,
            Record {
                key: key.map(|k| Bytes::copy_from_slice(k.as_bytes())),
                value: Some(Bytes::copy_from_slice(value.as_bytes())),
                timestamp: Some(timestamp),
                ..Record::default()
            },
        );
    }

    /// `r` into `partition` of `topic`, at the partition's next offset.
    pub fn pipe_record(&mut self, topic: &str, partition: i32, mut r: Record) {
        let tp: (Arc<str>, i32) = (topic.into(), partition);
        let next = self.next_offset.entry(tp.clone()).or_insert(0);
        r.source = Some(Source {
            topic: tp.0.clone(),
            partition,
            offset: *next,
        });
        *next += 1;
        self.deliver(tp, r);
    }

    /// Delivers `r` as read at its own `source` (to replay records).
    pub fn replay(&mut self, r: Record) {
        let Some(s) = &r.source else { return };
        let tp = (s.topic.clone(), s.partition);
        self.deliver(tp, r);
    }

    fn deliver(&mut self, tp: (Arc<str>, i32), r: Record) {
        let topology = &self.topology;
        let task = self
            .tasks
            .entry(tp)
            .or_insert_with(|| Task::new(topology, TaskState::new()));
        task.process(r, &mut self.outputs);
    }

    /// Moves every task's stream time to `now_ms` (the idle fallback).
    pub fn advance_wall_clock(&mut self, now_ms: i64) {
        for task in self.tasks.values_mut() {
            task.advance_to(now_ms, &mut self.outputs);
        }
    }

    /// Takes the outputs so far.
    pub fn read_output(&mut self) -> Vec<Record> {
        std::mem::take(&mut self.outputs)
    }

    /// The outputs' values as text, taken.
    pub fn read_values(&mut self) -> Vec<String> {
        self.read_output()
            .into_iter()
            .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned())
            .collect()
    }

    pub fn store(&self, topic: &str, partition: i32, name: &str) -> Option<&KeyValueStore> {
        let task = self.tasks.get(&(Arc::from(topic), partition))?;
        task.state.stores.get(name)
    }

    /// Replaces a task's state, as a restore from a state file would.
    pub fn restore(&mut self, topic: &str, partition: i32, state: TaskState) {
        let task = Task::new(&self.topology, state);
        self.tasks.insert((topic.into(), partition), task);
    }

    pub fn task_state(&self, topic: &str, partition: i32) -> Option<&TaskState> {
        Some(&self.tasks.get(&(Arc::from(topic), partition))?.state)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Agg, AggKind, Context, Emit, Processor, Window};
    use super::*;

    fn page(r: &Record) -> Option<Bytes> {
        let v: serde_json::Value = serde_json::from_slice(r.value.as_deref()?).ok()?;
        Some(Bytes::from(v.get("page")?.as_str()?.to_string()))
    }

    fn ms(r: &Record) -> Option<f64> {
        let v: serde_json::Value = serde_json::from_slice(r.value.as_deref()?).ok()?;
        v.get("ms")?.as_f64()
    }

    #[test]
    fn stateless_steps_run_in_order() {
        let t = Topology::from("in")
            .filter(|r| r.value.as_deref() != Some(b"drop"))
            .flat_map(|r| vec![r.clone(), r])
            .map(|mut r| {
                r.value = r.value.map(|v| Bytes::from(v.to_ascii_uppercase()));
                r
            })
            .to("out");
        assert!(!t.is_stateful());
        let mut d = TopologyTestDriver::new(t);
        d.pipe("in", None, "a", 1);
        d.pipe("in", None, "drop", 2);
        d.pipe("in", None, "b", 3);
        assert_eq!(d.read_values(), ["A", "A", "B", "B"]);
    }

    #[test]
    fn running_count_per_key_emits_every_update() {
        let t = Topology::from("in").key_by(page).count().to("out");
        assert!(t.rekeys_before_grouping());
        let mut d = TopologyTestDriver::new(t);
        for p in ["/a", "/b", "/a"] {
            d.pipe("in", None, &format!(r#"{{"page":"{p}"}}"#), 1);
        }
        assert_eq!(
            d.read_values(),
            [
                r#"{"key":"/a","count":1}"#,
                r#"{"key":"/b","count":1}"#,
                r#"{"key":"/a","count":2}"#
            ]
        );
        assert_eq!(d.store("in", 0, "aggregate-0").map(|s| s.len()), Some(2));
    }

    #[test]
    fn final_emit_waits_for_window_end_plus_grace_and_drops_late_records() {
        let t = Topology::from("in")
            .window(Window::tumbling(1000).grace(500))
            .emit(Emit::Final)
            .aggregate(vec![Agg::new("max(.ms)", AggKind::Max, ms)])
            .to("out");
        let mut d = TopologyTestDriver::new(t);
        d.pipe("in", Some("k"), r#"{"ms":5}"#, 100);
        d.pipe("in", Some("k"), r#"{"ms":9}"#, 900);
        d.pipe("in", Some("k"), r#"{"ms":1}"#, 1200);
        // Stream time 1200 < 1000 + 500: the first window is still open.
        d.pipe("in", Some("k"), r#"{"ms":7}"#, 999);
        assert!(d.read_values().is_empty());
        d.pipe("in", Some("k"), r#"{}"#, 1500);
        assert_eq!(
            d.read_values(),
            [r#"{"key":"k","window_start":0,"window_end":1000,"count":3,"max(.ms)":9}"#]
        );
        // Window [0, 1000) closed: a record for it now is late.
        d.pipe("in", Some("k"), r#"{"ms":100}"#, 10);
        let late = d.tasks.values().map(|t| t.late).sum::<u64>();
        assert_eq!(late, 1);
        d.advance_wall_clock(10_000);
        assert_eq!(
            d.read_values(),
            [r#"{"key":"k","window_start":1000,"window_end":2000,"count":2,"max(.ms)":1}"#]
        );
        assert_eq!(d.store("in", 0, "aggregate-0").map(|s| s.len()), Some(0));
    }

    #[test]
    fn hopping_windows_count_each_record_in_every_window() {
        let t = Topology::from("in")
            .window(Window::tumbling(30).hop(10))
            .count()
            .to("out");
        let mut d = TopologyTestDriver::new(t);
        d.pipe("in", Some("k"), "x", 25);
        let starts: Vec<i64> = d
            .read_values()
            .iter()
            .map(|v| {
                serde_json::from_str::<serde_json::Value>(v).unwrap()["window_start"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        assert_eq!(starts, [0, 10, 20]);
    }

    #[test]
    fn a_replayed_record_is_not_counted_twice() {
        let t = Topology::from("in")
            .aggregate(vec![Agg::new("sum", AggKind::Sum, |_| Some(2.0))])
            .to("out");
        let mut d = TopologyTestDriver::new(t);
        d.pipe("in", Some("k"), "x", 1);
        d.pipe("in", Some("k"), "y", 2);
        let outs = d.read_output();
        // A crash after the state was saved, before the commit: the new
        // owner restores the state and reads both records again.
        let saved = d.task_state("in", 0).cloned().unwrap();
        d.restore("in", 0, saved);
        for r in outs {
            let mut again = r.clone();
            again.key = Some(Bytes::from_static(b"k"));
            d.replay(again);
        }
        assert!(d.read_output().is_empty());
        d.pipe("in", Some("k"), "z", 3);
        assert_eq!(d.read_values(), [r#"{"key":"k","count":3,"sum":6}"#]);
    }

    struct Dedup;
    impl Processor for Dedup {
        fn process(&mut self, r: Record, ctx: &mut Context<'_>) {
            let k = r.value.clone().unwrap_or_default();
            let mut seen = ctx.store::<i64>("seen");
            if seen.get(&k).is_none() {
                seen.put(&k, &1);
                ctx.forward(r);
            }
        }
    }

    #[test]
    fn a_custom_processor_keeps_typed_state() {
        let t = Topology::from("in").process(|| Box::new(Dedup)).to("out");
        assert!(t.is_stateful());
        let mut d = TopologyTestDriver::new(t);
        for v in ["a", "b", "a", "c", "b"] {
            d.pipe("in", None, v, 0);
        }
        assert_eq!(d.read_values(), ["a", "b", "c"]);
        assert_eq!(d.store("in", 0, "seen").map(|s| s.len()), Some(3));
    }
}
