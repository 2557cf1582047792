//! The library API of streams: a topology of operations from input topics
//! to an output topic, run per task (one input partition) by [`Task`],
//! on a broker through the stream runner or in memory through
//! [`TopologyTestDriver`].
//!
//! ```
//! use strom::stream::topology::{Topology, Window, Emit};
//! let t = Topology::from("clicks")
//!     .filter(|r| r.value.is_some())
//!     .key_by(|r| r.value.clone())
//!     .window(Window::tumbling(60_000).grace(5_000))
//!     .emit(Emit::Final)
//!     .count()
//!     .to("clicks-per-min");
//! assert_eq!(t.inputs(), ["clicks"]);
//! ```
//!
//! `count` and `aggregate` group by the record key (set it with `key_by`)
//! and keep their state in a named store of the task ([`state`]); custom
//! stateful steps implement [`Processor`] and reach their stores through
//! the [`Context`].
pub mod aggregate;
pub mod driver;
pub mod state;
pub mod task;
pub mod window;

pub use aggregate::{Agg, AggKind};
pub use driver::TopologyTestDriver;
pub use state::{KeyValueStore, StateValue, Store, TaskState};
pub use task::{Context, Task};
pub use window::{Emit, Window};

use std::sync::Arc;

use bytes::Bytes;

use super::Record;

/// A step that sees one record at a time, with the task's state.
pub trait Processor: Send {
    fn process(&mut self, record: Record, ctx: &mut Context<'_>);
}

type Pred = Arc<dyn Fn(&Record) -> bool + Send + Sync>;
type FlatMap = Arc<dyn Fn(Record) -> Vec<Record> + Send + Sync>;
type KeyFn = Arc<dyn Fn(&Record) -> Option<Bytes> + Send + Sync>;
type ProcessorFactory = Arc<dyn Fn() -> Box<dyn Processor> + Send + Sync>;

/// A grouped count/aggregation, per key and (optionally) window.
#[derive(Clone)]
pub struct Aggregation {
    pub store: String,
    pub window: Option<Window>,
    pub emit: Emit,
    pub aggs: Vec<Agg>,
}

#[derive(Clone)]
pub(crate) enum Op {
    Filter(Pred),
    FlatMap(FlatMap),
    KeyBy(KeyFn),
    Process(ProcessorFactory),
    Aggregate(Aggregation),
}

/// Where a topology is being built; ends with [`Builder::to`].
#[derive(Clone)]
pub struct Builder {
    inputs: Vec<String>,
    ops: Vec<Op>,
    window: Option<Window>,
    emit: Emit,
    store: Option<String>,
}

/// A built topology: run it with [`Task`] (one per input partition).
#[derive(Clone)]
pub struct Topology {
    inputs: Vec<String>,
    output: String,
    pub(crate) ops: Vec<Op>,
}

impl Topology {
    /// Starts a topology reading `input` (see [`Builder::also_from`]).
    #[allow(clippy::should_implement_trait)]
    pub fn from(input: &str) -> Builder {
        Builder {
            inputs: vec![input.to_string()],
            ops: Vec::new(),
            window: None,
            emit: Emit::Update,
            store: None,
        }
    }

    pub fn inputs(&self) -> &[String] {
        &self.inputs
    }

    /// The same operations, read from other topics.
    pub fn with_inputs(&self, inputs: Vec<String>) -> Topology {
        Topology {
            inputs,
            ..self.clone()
        }
    }

    pub fn output(&self) -> &str {
        &self.output
    }

    /// Whether a task of it keeps state (and so needs a state file).
    pub fn is_stateful(&self) -> bool {
        self.ops
            .iter()
            .any(|op| matches!(op, Op::Aggregate(_) | Op::Process(_)))
    }

    /// The names of its aggregation stores.
    pub fn stores(&self) -> Vec<&str> {
        self.ops
            .iter()
            .filter_map(|op| match op {
                Op::Aggregate(a) => Some(a.store.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Whether an aggregation groups records by a key other than the one
    /// they were read with (then keys must be repartitioned).
    pub fn rekeys_before_grouping(&self) -> bool {
        let mut rekeyed = false;
        for op in &self.ops {
            match op {
                Op::KeyBy(_) | Op::FlatMap(_) | Op::Process(_) => rekeyed = true,
                Op::Aggregate(_) if rekeyed => return true,
                _ => {}
            }
        }
        false
    }
}

impl Builder {
    /// Reads one more input topic.
    pub fn also_from(mut self, input: &str) -> Builder {
        self.inputs.push(input.to_string());
        self
    }

    /// Keeps the records for which `f` is true.
    pub fn filter(mut self, f: impl Fn(&Record) -> bool + Send + Sync + 'static) -> Builder {
        self.ops.push(Op::Filter(Arc::new(f)));
        self
    }

    /// One record in, one out.
    pub fn map(self, f: impl Fn(Record) -> Record + Send + Sync + 'static) -> Builder {
        self.flat_map(move |r| vec![f(r)])
    }

    /// One record in, any number out.
    pub fn flat_map(
        mut self,
        f: impl Fn(Record) -> Vec<Record> + Send + Sync + 'static,
    ) -> Builder {
        self.ops.push(Op::FlatMap(Arc::new(f)));
        self
    }

    /// Sets the key that `count` and `aggregate` group by.
    pub fn key_by(
        mut self,
        f: impl Fn(&Record) -> Option<Bytes> + Send + Sync + 'static,
    ) -> Builder {
        self.ops.push(Op::KeyBy(Arc::new(f)));
        self
    }

    /// A custom step; `make` builds one per task.
    pub fn process(
        mut self,
        make: impl Fn() -> Box<dyn Processor> + Send + Sync + 'static,
    ) -> Builder {
        self.ops.push(Op::Process(Arc::new(make)));
        self
    }

    /// Windows the next `count`/`aggregate`.
    pub fn window(mut self, w: Window) -> Builder {
        self.window = Some(w);
        self
    }

    /// When the next `count`/`aggregate` emits (default: every update).
    pub fn emit(mut self, e: Emit) -> Builder {
        self.emit = e;
        self
    }

    /// Names the next aggregation's store (default `aggregate-N`).
    pub fn store(mut self, name: &str) -> Builder {
        self.store = Some(name.to_string());
        self
    }

    /// Counts records per key (and window).
    pub fn count(self) -> Builder {
        self.aggregate(Vec::new())
    }

    /// Counts records per key (and window) and folds `aggs` over them;
    /// each result is a JSON object (see [`aggregate`]).
    pub fn aggregate(mut self, aggs: Vec<Agg>) -> Builder {
        let n = self.stores_so_far();
        let store = self
            .store
            .take()
            .unwrap_or_else(|| format!("aggregate-{n}"));
        self.ops.push(Op::Aggregate(Aggregation {
            store,
            window: self.window.take(),
            emit: std::mem::take(&mut self.emit),
            aggs,
        }));
        self
    }

    fn stores_so_far(&self) -> usize {
        self.ops
            .iter()
            .filter(|op| matches!(op, Op::Aggregate(_)))
            .count()
    }

    /// Ends the topology: what comes out goes to `output`.
    pub fn to(self, output: &str) -> Topology {
        Topology {
            inputs: self.inputs,
            output: output.to_string(),
            ops: self.ops,
        }
    }
}
