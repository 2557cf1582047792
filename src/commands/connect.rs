//! `strom connect`: checks the connector files, then runs them in this
//! process until SIGINT/SIGTERM (`standalone`).
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use super::UsageError;
use crate::cli::connect_args::{BenchSqliteInsertArgs, ConnectCommand, StandaloneArgs};
use crate::connect::{worker, StatusBoard, WorkerConfig};

pub fn run(command: ConnectCommand) -> anyhow::Result<()> {
    match command {
        ConnectCommand::Standalone(a) => standalone(a),
        ConnectCommand::BenchSqliteInsert(a) => bench_sqlite_insert(a),
    }
}

fn standalone(args: StandaloneArgs) -> anyhow::Result<()> {
    // Every file is checked before anything starts or connects.
    let connectors = worker::load(&args.files).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        UsageError::new(format!("{}\nno connector was started", lines.join("\n")))
    })?;
    let client = super::connect(&args.connect)?;
    let stop = super::interrupt::stop_signal(client.runtime());
    // SIGTERM stops as cleanly as Ctrl-C.
    let s = stop.clone();
    client.runtime().handle().spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            if term.recv().await.is_some() {
                s.trigger();
            }
        }
    });
    let names: Vec<String> = connectors
        .iter()
        .map(|c| format!("{} ({})", c.config.name, c.config.kind))
        .collect();
    let _ = writeln!(
        std::io::stderr().lock(),
        "strom connect: running {}",
        names.join(", ")
    );
    let board = Arc::new(StatusBoard::default());
    worker::run(
        &client,
        connectors,
        WorkerConfig {
            offsets_topic: args.offsets_topic,
        },
        &stop,
        &board,
    );
    let _ = writeln!(std::io::stderr().lock(), "strom connect: stopped");
    Ok(())
}

/// The baseline for scripts/bench-connect.sh: the same rows the bench
/// sink load writes, by a plain loop of batched INSERTs in transactions,
/// with the sink's journal settings.
fn bench_sqlite_insert(args: BenchSqliteInsertArgs) -> anyhow::Result<()> {
    if args.batch == 0 {
        return Err(UsageError::new("--batch must be at least 1").into());
    }
    let mut conn = crate::connect::sqlite::open(&args.path)?;
    conn.execute_batch(
        "DROP TABLE IF EXISTS bench; CREATE TABLE bench (id NOT NULL PRIMARY KEY, name, amount)",
    )?;
    let started = Instant::now();
    let mut i = 0u64;
    while i < args.records {
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO bench (id, name, amount) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, amount = excluded.amount",
            )?;
            let end = (i + args.batch).min(args.records);
            while i < end {
                stmt.execute(rusqlite::params![
                    i as i64,
                    format!("item-{i}"),
                    i as i64 * 3
                ])?;
                i += 1;
            }
        }
        tx.commit()?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} rows in {:.3} s: {:.0} rows/s",
        args.records,
        secs,
        args.records as f64 / secs.max(1e-9)
    );
    Ok(())
}
