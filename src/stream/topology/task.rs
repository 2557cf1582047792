//! One task of a topology: the state of one input partition, and the
//! operations applied to each of its records in order.
//!
//! Exactly-once state: a record whose input offset is at or below the
//! offset stored with the state was already folded in (the state was
//! saved after its outputs were acknowledged, but its commit was lost in
//! a crash), so it is skipped whole, and the state never counts it twice.
use bytes::Bytes;

use super::aggregate::{fold, initial, result};
use super::state::{StateValue, Store, TaskState};
use super::{Aggregation, Emit, Op, Processor, Topology};
use crate::stream::Record;

/// What a [`Processor`] sees besides its record.
pub struct Context<'a> {
    state: &'a mut TaskState,
    forwarded: &'a mut Vec<Record>,
}

impl Context<'_> {
    /// The task's store `name`, holding values of type `V`.
    pub fn store<V: StateValue>(&mut self, name: &str) -> Store<'_, V> {
        self.state.typed(name)
    }

    /// Sends `r` on to the next step.
    pub fn forward(&mut self, r: Record) {
        self.forwarded.push(r);
    }

    /// The largest record timestamp the task has seen.
    pub fn stream_time(&self) -> i64 {
        self.state.stream_time
    }
}

pub struct Task {
    ops: Vec<Op>,
    processors: Vec<Option<Box<dyn Processor>>>,
    pub state: TaskState,
    /// Records that came after their window closed, dropped.
    pub late: u64,
    /// Records skipped because the state already held them.
    pub replayed: u64,
}

/// A store key: the window start (sign flipped, big-endian, so keys sort
/// by start), then whether there is a key, then the key.
fn store_key(window_start: Option<i64>, key: Option<&[u8]>) -> Vec<u8> {
    let mut k = Vec::with_capacity(9 + key.map_or(0, <[u8]>::len));
    if let Some(s) = window_start {
        k.extend_from_slice(&((s as u64) ^ (1 << 63)).to_be_bytes());
    }
    k.push(u8::from(key.is_some()));
    k.extend_from_slice(key.unwrap_or_default());
    k
}

fn split_key(windowed: bool, k: &[u8]) -> Option<(Option<i64>, Option<&[u8]>)> {
    let (start, rest) = if windowed {
        let (s, rest) = k.split_at_checked(8)?;
        let s = u64::from_be_bytes(s.try_into().ok()?) ^ (1 << 63);
        (Some(s as i64), rest)
    } else {
        (None, k)
    };
    let (flag, key) = rest.split_first()?;
    Some((start, (*flag == 1).then_some(key)))
}

impl Task {
    pub fn new(topology: &Topology, state: TaskState) -> Task {
        Task {
            ops: topology.ops.clone(),
            processors: topology
                .ops
                .iter()
                .map(|op| match op {
                    Op::Process(make) => Some(make()),
                    _ => None,
                })
                .collect(),
            state,
            late: 0,
            replayed: 0,
        }
    }

    /// Runs `r` through the topology, appending what reaches the end to
    /// `out`. False when the state already held it (a replay).
    pub fn process(&mut self, r: Record, out: &mut Vec<Record>) -> bool {
        let offset = r.source.as_ref().map(|s| s.offset);
        if let Some(o) = offset {
            if o <= self.state.offset {
                self.replayed += 1;
                return false;
            }
        }
        self.apply(r, out);
        if let Some(o) = offset {
            self.state.offset = o;
        }
        true
    }

    /// Runs `r` through the topology with no offset check (for outputs of
    /// a step before the topology, whose inputs were checked).
    pub fn apply(&mut self, r: Record, out: &mut Vec<Record>) {
        if let Some(ts) = r.timestamp {
            self.state.stream_time = self.state.stream_time.max(ts);
        }
        self.run(0, r, out);
        self.close_windows(out);
    }

    /// The wall-clock fallback for a quiet task: stream time moves to
    /// `now_ms`, and windows that closed by then are emitted.
    pub fn advance_to(&mut self, now_ms: i64, out: &mut Vec<Record>) {
        self.state.stream_time = self.state.stream_time.max(now_ms);
        self.close_windows(out);
    }

    fn run(&mut self, from: usize, r: Record, out: &mut Vec<Record>) {
        let mut work = vec![(from, r)];
        while let Some((i, mut r)) = work.pop() {
            let Some(op) = self.ops.get(i) else {
                out.push(r);
                continue;
            };
            match op {
                Op::Filter(f) => {
                    if f(&r) {
                        work.push((i + 1, r));
                    }
                }
                Op::FlatMap(f) => {
                    // Reversed onto the stack, so they come out in order.
                    let mut many = f(r);
                    many.reverse();
                    work.extend(many.into_iter().map(|r| (i + 1, r)));
                }
                Op::KeyBy(f) => {
                    r.key = f(&r);
                    work.push((i + 1, r));
                }
                Op::Process(_) => {
                    let mut forwarded = Vec::new();
                    if let Some(Some(p)) = self.processors.get_mut(i) {
                        let mut ctx = Context {
                            state: &mut self.state,
                            forwarded: &mut forwarded,
                        };
                        p.process(r, &mut ctx);
                    }
                    forwarded.reverse();
                    work.extend(forwarded.into_iter().map(|r| (i + 1, r)));
                }
                Op::Aggregate(a) => {
                    let a = a.clone();
                    let mut results = self.aggregate(&a, &r);
                    results.reverse();
                    work.extend(results.into_iter().map(|r| (i + 1, r)));
                }
            }
        }
    }

    /// Folds `r` into its groups; returns the updates to emit.
    fn aggregate(&mut self, a: &Aggregation, r: &Record) -> Vec<Record> {
        let ts = r.timestamp.unwrap_or(self.state.stream_time);
        let starts: Vec<Option<i64>> = match a.window {
            None => vec![None],
            Some(w) => w.starts(ts).map(Some).collect(),
        };
        let now = self.state.stream_time;
        let key = r.key.as_deref();
        let mut updates = Vec::new();
        for start in starts {
            if let (Some(w), Some(s)) = (a.window, start) {
                if w.closes_at(s) <= now {
                    self.late += 1;
                    continue;
                }
            }
            let sk = store_key(start, key);
            let mut store = self.state.typed::<Vec<f64>>(&a.store);
            let mut st = store.get(&sk).unwrap_or_else(|| initial(&a.aggs));
            fold(&a.aggs, &mut st, r);
            store.put(&sk, &st);
            if a.emit == Emit::Update || a.window.is_none() {
                let window = a.window.zip(start);
                updates.push(Record {
                    key: r.key.clone(),
                    value: Some(Bytes::from(result(&a.aggs, key, window, &st))),
                    timestamp: Some(ts),
                    source: r.source.clone(),
                    ..Record::default()
                });
            }
        }
        updates
    }

    /// Drops every window closed at stream time, emitting it if `final`.
    fn close_windows(&mut self, out: &mut Vec<Record>) {
        let now = self.state.stream_time;
        for i in 0..self.ops.len() {
            let Some(Op::Aggregate(a)) = self.ops.get(i) else {
                continue;
            };
            let Some(w) = a.window else { continue };
            let a = a.clone();
            loop {
                let store = self.state.store_mut(&a.store);
                let Some((k, v)) = store.first() else { break };
                let Some((Some(start), key)) = split_key(true, k) else {
                    // Not a key this store writes; drop it rather than spin.
                    let k = k.to_vec();
                    store.delete(&k);
                    continue;
                };
                if w.closes_at(start) > now {
                    break;
                }
                let key = key.map(Bytes::copy_from_slice);
                let st = <Vec<f64>>::decode(v).unwrap_or_default();
                let k = k.to_vec();
                store.delete(&k);
                if a.emit == Emit::Final {
                    let r = Record {
                        value: Some(Bytes::from(result(
                            &a.aggs,
                            key.as_deref(),
                            Some((w, start)),
                            &st,
                        ))),
                        key,
                        timestamp: Some(start + w.size_ms - 1),
                        ..Record::default()
                    };
                    self.run(i + 1, r, out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_keys_sort_by_window_start_and_split_back() {
        let a = store_key(Some(-5), Some(b"z"));
        let b = store_key(Some(3), None);
        let c = store_key(Some(3), Some(b""));
        assert!(a < b && b < c);
        assert_eq!(split_key(true, &a), Some((Some(-5), Some(&b"z"[..]))));
        assert_eq!(split_key(true, &b), Some((Some(3), None)));
        assert_eq!(
            split_key(false, &store_key(None, Some(b"k"))),
            Some((None, Some(&b"k"[..])))
        );
    }
}
