//! Progress bars on stderr, shown only when stderr is a terminal so that
//! pipes and logs never see control sequences. The templates use no
//! colour, so NO_COLOR needs nothing more.
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new(total: Option<u64>, template: &str) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = match total {
            Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar: Some(bar) }
    }

    /// No bar at all, e.g. while the user types input on the terminal.
    pub fn hidden() -> Progress {
        Progress { bar: None }
    }

    /// Counts records, with a rate and (when the total is known) an ETA.
    pub fn records(total: Option<u64>) -> Progress {
        match total {
            Some(_) => Progress::new(
                total,
                "{bar:30} {human_pos}/{human_len} records {per_sec} {msg} ETA {eta}",
            ),
            None => Progress::new(None, "{spinner} {human_pos} records {per_sec} {msg}"),
        }
    }

    /// Counts input bytes (e.g. of a file), records in the message.
    pub fn bytes(total: Option<u64>) -> Progress {
        Progress::new(
            total,
            "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} {msg} ETA {eta}",
        )
    }

    /// A spinner with the time spent so far, for one request whose
    /// progress the broker does not report (it answers once, when done).
    pub fn waiting(what: String) -> Progress {
        let p = Progress::new(None, "{spinner} {msg} ({elapsed})");
        p.set_message(what);
        p
    }

    pub fn is_visible(&self) -> bool {
        self.bar.is_some()
    }

    pub fn set_position(&self, pos: u64) {
        if let Some(b) = &self.bar {
            b.set_position(pos);
        }
    }

    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    pub fn set_message(&self, msg: String) {
        if let Some(b) = &self.bar {
            b.set_message(msg);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
