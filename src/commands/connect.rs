//! `strom connect`: checks the connector files, then runs them in this
//! process until SIGINT/SIGTERM (`standalone`).
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use super::UsageError;
use crate::cli::connect_args::{
    BenchSqliteInsertArgs, ConnectCommand, ControlArgs, ControlOutput, OffsetsArgs, StandaloneArgs,
};
use crate::connect::control;
use crate::connect::offsets_admin::OffsetsAdmin;
use crate::connect::target_state::TargetStateFile;
use crate::connect::{worker, StatusBoard, WorkerConfig};

pub fn run(command: ConnectCommand) -> anyhow::Result<()> {
    match command {
        ConnectCommand::Standalone(a) => standalone(a),
        ConnectCommand::BenchSqliteInsert(a) => bench_sqlite_insert(a),
        ConnectCommand::List(a) => control_command(&a, "list", None),
        ConnectCommand::Status(a) => control_command(&a.control, "status", a.name.as_deref()),
        ConnectCommand::Pause(a) => control_command(&a.control, "pause", a.name.as_deref()),
        ConnectCommand::Resume(a) => control_command(&a.control, "resume", a.name.as_deref()),
        ConnectCommand::Restart(a) => control_command(&a.control, "restart", a.name.as_deref()),
        ConnectCommand::Offsets(a) => offsets_command(&a),
    }
}

/// `strom connect offsets NAME [--reset]`: a connector's positions.
fn offsets_command(args: &OffsetsArgs) -> anyhow::Result<()> {
    let path = args
        .control
        .control
        .clone()
        .unwrap_or_else(control::default_path);
    let cmd = if args.reset {
        "reset-offsets"
    } else {
        "offsets"
    };
    let answer = control::request(&path, cmd, Some(&args.name))?;
    let o = &answer["offsets"];
    let mut out = std::io::stdout().lock();
    if args.control.output == ControlOutput::Json {
        writeln!(out, "{o}")?;
        return Ok(());
    }
    let empty = Vec::new();
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "-".to_string(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if o["role"] == "sink" {
        writeln!(
            out,
            "{:<24} {:>9} {:>12} {:>12}",
            "TOPIC", "PARTITION", "COMMITTED", "STORED"
        )?;
        for r in o["offsets"].as_array().unwrap_or(&empty) {
            writeln!(
                out,
                "{:<24} {:>9} {:>12} {:>12}",
                text(&r["topic"]),
                text(&r["partition"]),
                text(&r["committed"]),
                text(&r["stored"])
            )?;
        }
        return Ok(());
    }
    let rows = if args.reset {
        &o["reset"]
    } else {
        &o["offsets"]
    };
    if args.reset {
        writeln!(out, "forgot the offsets of {} source partitions of {}; it starts from the beginning on resume", rows.as_array().map_or(0, Vec::len), args.name)?;
    }
    writeln!(out, "{:<40}  OFFSET", "SOURCE PARTITION")?;
    for r in rows.as_array().unwrap_or(&empty) {
        writeln!(out, "{:<40}  {}", text(&r["source_partition"]), r["offset"])?;
    }
    Ok(())
}

/// One request to a running worker; its answer on stdout.
fn control_command(args: &ControlArgs, cmd: &str, name: Option<&str>) -> anyhow::Result<()> {
    if cmd != "list" && cmd != "status" && name.is_none() {
        return Err(UsageError::new(format!("strom connect {cmd} needs a connector NAME")).into());
    }
    let path = args.control.clone().unwrap_or_else(control::default_path);
    let answer = control::request(&path, cmd, name)?;
    let mut out = std::io::stdout().lock();
    let empty = Vec::new();
    let list = answer["connectors"].as_array().unwrap_or(&empty);
    match args.output {
        ControlOutput::Json => writeln!(out, "{}", serde_json::json!({"connectors": list}))?,
        ControlOutput::Text => {
            writeln!(
                out,
                "{:<24} {:<14} {:<11} {:>8}  LAST ERROR",
                "NAME", "TYPE", "STATE", "RESTARTS"
            )?;
            for c in list {
                writeln!(
                    out,
                    "{:<24} {:<14} {:<11} {:>8}  {}",
                    c["name"].as_str().unwrap_or(""),
                    c["type"].as_str().unwrap_or(""),
                    c["state"].as_str().unwrap_or(""),
                    c["restarts"].as_u64().unwrap_or(0),
                    c["last_error"].as_str().unwrap_or("-"),
                )?;
            }
        }
    }
    Ok(())
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
    let mut entries = std::collections::BTreeMap::new();
    let mut controls = std::collections::BTreeMap::new();
    for c in &connectors {
        let ctl = Arc::new(control::TaskControl::default());
        controls.insert(c.config.name.clone(), ctl.clone());
        entries.insert(
            c.config.name.clone(),
            control::Entry {
                kind: c.config.kind.clone(),
                control: ctl,
            },
        );
    }
    // An explicit --control must work; the default may be taken by
    // another worker, which leaves this one without a socket.
    let socket = args.control.clone().unwrap_or_else(control::default_path);
    // Connectors paused before the last stop stay paused.
    let state = Arc::new(TargetStateFile::new(
        args.state_file
            .clone()
            .unwrap_or_else(|| TargetStateFile::default_for(&socket)),
    ));
    for name in state.load()? {
        if let Some(e) = entries.get(&name) {
            e.control.pause();
            let _ = writeln!(
                std::io::stderr().lock(),
                "strom connect: {name} stays paused (paused before the last stop, as {} says; resume it with strom connect resume {name})",
                state.path().display()
            );
        }
    }
    let listener = match control::bind(&socket) {
        Ok(l) => Some(l),
        Err(e) if args.control.is_none() => {
            tracing::warn!("{e:#}; this worker runs without a control socket");
            None
        }
        Err(e) => return Err(e),
    };
    let bound = listener.is_some();
    if let Some(listener) = listener {
        let _ = writeln!(
            std::io::stderr().lock(),
            "strom connect: control socket {}",
            socket.display()
        );
        let board = board.clone();
        let entries = Arc::new(entries);
        let admin = Arc::new(OffsetsAdmin::new(
            client.clone(),
            args.offsets_topic.clone(),
            &connectors,
        ));
        std::thread::Builder::new()
            .name("connect-control".into())
            .spawn(move || control::serve(listener, entries, board, Some(admin), Some(state)))?;
    }
    worker::run(
        &client,
        connectors,
        WorkerConfig {
            offsets_topic: args.offsets_topic,
            controls,
        },
        &stop,
        &board,
    );
    if bound {
        let _ = std::fs::remove_file(&socket);
    }
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
