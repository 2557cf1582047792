//! What a grouped aggregation folds: a count always, plus any sums, maxima
//! and minima of a number taken from each record. The state of one group
//! (key, window) is `[count, slot...]` as `Vec<f64>`; a max or min slot
//! is NaN until the first record with a number.
use std::sync::Arc;

use serde_json::Value;

use super::Window;
use crate::stream::Record;

type NumFn = Arc<dyn Fn(&Record) -> Option<f64> + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggKind {
    Sum,
    Max,
    Min,
}

/// One folded number: `kind` of what `field` takes from each record
/// (records where it gives `None` only count).
#[derive(Clone)]
pub struct Agg {
    /// The field of the result object, e.g. `sum(.amount)`.
    pub name: String,
    pub kind: AggKind,
    pub field: NumFn,
}

impl Agg {
    pub fn new(
        name: &str,
        kind: AggKind,
        field: impl Fn(&Record) -> Option<f64> + Send + Sync + 'static,
    ) -> Agg {
        Agg {
            name: name.to_string(),
            kind,
            field: Arc::new(field),
        }
    }
}

/// A fresh group's state.
pub fn initial(aggs: &[Agg]) -> Vec<f64> {
    let mut s = vec![0.0];
    s.extend(aggs.iter().map(|a| match a.kind {
        AggKind::Sum => 0.0,
        AggKind::Max | AggKind::Min => f64::NAN,
    }));
    s
}

/// Folds `r` into `state` (made by [`initial`] for the same `aggs`).
pub fn fold(aggs: &[Agg], state: &mut [f64], r: &Record) {
    if let Some(c) = state.first_mut() {
        *c += 1.0;
    }
    for (a, slot) in aggs.iter().zip(state.iter_mut().skip(1)) {
        let Some(x) = (a.field)(r) else { continue };
        *slot = match a.kind {
            AggKind::Sum => *slot + x,
            AggKind::Max if slot.is_nan() || x > *slot => x,
            AggKind::Min if slot.is_nan() || x < *slot => x,
            _ => *slot,
        };
    }
}

fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// The result record's value: `{"key", ["window_start", "window_end",]
/// "count", <agg name>...}`, fields in that order.
pub fn result(
    aggs: &[Agg],
    key: Option<&[u8]>,
    window: Option<(Window, i64)>,
    state: &[f64],
) -> Vec<u8> {
    let key = key.map_or(Value::Null, |k| {
        Value::from(String::from_utf8_lossy(k).into_owned())
    });
    let mut out = format!("{{\"key\":{key}");
    if let Some((w, start)) = window {
        out.push_str(&format!(
            ",\"window_start\":{start},\"window_end\":{}",
            start.saturating_add(w.size_ms)
        ));
    }
    let count = number(state.first().copied().unwrap_or(0.0));
    out.push_str(&format!(",\"count\":{count}"));
    for (a, x) in aggs.iter().zip(state.iter().skip(1)) {
        let v = if x.is_nan() { Value::Null } else { number(*x) };
        out.push_str(&format!(",{}:{v}", Value::from(a.name.as_str())));
    }
    out.push('}');
    out.into_bytes()
}
