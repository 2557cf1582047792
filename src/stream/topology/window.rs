//! Time windows of a grouped aggregation: which windows a record falls in,
//! when a window closes (its end plus the grace), and what is emitted.

/// Tumbling (hop = size) or hopping (hop < size) windows aligned to the
/// epoch, in milliseconds of record (event) time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub size_ms: i64,
    pub hop_ms: i64,
    /// How long after its end a window still takes late records.
    pub grace_ms: i64,
}

/// When a window's result goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Emit {
    /// Every change of a window (or running count) is emitted at once.
    #[default]
    Update,
    /// Once per window, when stream time passes its end plus the grace.
    Final,
}

impl Window {
    pub fn tumbling(size_ms: i64) -> Window {
        Window {
            size_ms,
            hop_ms: size_ms,
            grace_ms: 0,
        }
    }

    pub fn hop(mut self, hop_ms: i64) -> Window {
        self.hop_ms = hop_ms;
        self
    }

    pub fn grace(mut self, grace_ms: i64) -> Window {
        self.grace_ms = grace_ms;
        self
    }

    /// Checks what the constructors cannot: sizes positive, hop ≤ size.
    pub fn validate(&self) -> Result<(), String> {
        if self.size_ms <= 0 || self.hop_ms <= 0 || self.grace_ms < 0 {
            return Err("window size and hop must be positive, grace not negative".into());
        }
        if self.hop_ms > self.size_ms {
            return Err(format!(
                "the hop ({} ms) must not exceed the window size ({} ms)",
                self.hop_ms, self.size_ms
            ));
        }
        Ok(())
    }

    /// The starts of every window holding `ts`, oldest first.
    pub fn starts(&self, ts: i64) -> impl Iterator<Item = i64> {
        let hop = self.hop_ms;
        let last = ts.div_euclid(hop) * hop;
        let first = last - (self.size_ms - 1).div_euclid(hop) * hop;
        let size = self.size_ms;
        (0..)
            .map(move |i| first + i * hop)
            .take_while(move |s| *s <= last)
            .filter(move |s| ts < s + size)
    }

    /// Stream time at which the window starting at `start` closes.
    pub fn closes_at(&self, start: i64) -> i64 {
        start
            .saturating_add(self.size_ms)
            .saturating_add(self.grace_ms)
    }
}

/// `tumbling:1m` → a window of that size.
pub fn parse_window(s: &str) -> Result<Window, String> {
    match s.split_once(':') {
        Some(("tumbling", size)) => Ok(Window::tumbling(parse_duration_ms(size)?)),
        _ => Err(format!(
            "expected tumbling:DURATION (e.g. tumbling:1m; add --hop for hopping windows), got {s:?}"
        )),
    }
}

/// `500ms`, `10s`, `1m`, `2h`, `1d`, or plain milliseconds.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    let (digits, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, ""), |i| s.split_at(i));
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("expected a duration like 500ms, 10s, 1m or 2h, got {s:?}"))?;
    let scale = match unit {
        "" | "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("unknown duration unit {unit:?} in {s:?}")),
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("duration {s:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tumbling_has_one_window() {
        let w = Window::tumbling(60_000);
        assert_eq!(w.starts(59_999).collect::<Vec<_>>(), vec![0]);
        assert_eq!(w.starts(60_000).collect::<Vec<_>>(), vec![60_000]);
        assert_eq!(w.starts(-1).collect::<Vec<_>>(), vec![-60_000]);
    }

    #[test]
    fn hopping_has_size_over_hop_windows() {
        let w = Window::tumbling(60_000).hop(10_000);
        let s: Vec<_> = w.starts(65_000).collect();
        assert_eq!(s, vec![10_000, 20_000, 30_000, 40_000, 50_000, 60_000]);
        let w = Window::tumbling(25).hop(10);
        assert_eq!(w.starts(30).collect::<Vec<_>>(), vec![10, 20, 30]);
        assert_eq!(w.starts(35).collect::<Vec<_>>(), vec![20, 30]);
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration_ms("1m"), Ok(60_000));
        assert_eq!(parse_duration_ms("250ms"), Ok(250));
        assert_eq!(parse_duration_ms("5"), Ok(5));
        assert!(parse_duration_ms("5x").is_err());
        assert!(parse_duration_ms("m").is_err());
        assert_eq!(parse_window("tumbling:10s"), Ok(Window::tumbling(10_000)));
        assert!(parse_window("sliding:1m").is_err());
        assert!(Window::tumbling(10).hop(20).validate().is_err());
    }
}
