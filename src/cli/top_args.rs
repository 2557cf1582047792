//! Flags of `strom top`.
use clap::Args;

#[derive(Debug, Args)]
#[command(
    after_long_help = "Examples:\n  strom serve --metrics 127.0.0.1:9644 &\n  \
    strom top\n  \
    strom top --metrics 10.0.0.1:9644,10.0.0.2:9644,10.0.0.3:9644\n\n\
    Keys: q (or Ctrl-C) quits; Tab moves between the topics, partitions and groups tables; \
    Up/Down select; s cycles the sort column, r reverses it; / starts a filter on names \
    (Enter keeps it, Esc clears it); p pauses.\n\n\
    strom top reads the brokers' /metrics endpoints (strom serve --metrics). It needs a \
    terminal: without one it exits with status 1 (scrape /metrics directly instead)."
)]
pub struct TopArgs {
    /// The brokers' metrics endpoints (their `serve --metrics`), comma-separated: one
    /// broker or a whole cluster
    #[arg(
        long,
        env = "STROM_METRICS",
        value_name = "HOST:PORT[,HOST:PORT...]",
        default_value = "127.0.0.1:9644",
        value_delimiter = ','
    )]
    pub metrics: Vec<String>,
    /// Milliseconds between refreshes
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub interval: u64,
}
