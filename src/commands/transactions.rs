//! `strom transactions list|describe`: what the transaction coordinator
//! knows of each transactional id (kafka-transactions' list and describe).
use std::io::Write;

use serde::Serialize;

use super::output::{print_json, print_table, stdout};
use crate::cli::args::TableOutput;
use crate::cli::transactions_args::{
    TransactionsCommand, TransactionsDescribeArgs, TransactionsDescribeProducersArgs,
    TransactionsListArgs,
};
use crate::client::transaction::{
    describe_producers as ask_producers, describe_transactions, list_transactions,
};

pub fn run(command: TransactionsCommand) -> anyhow::Result<()> {
    match command {
        TransactionsCommand::List(a) => list(a),
        TransactionsCommand::Describe(a) => describe(a),
        TransactionsCommand::DescribeProducers(a) => describe_producers(a),
    }
}

#[derive(Serialize)]
struct Listed {
    transactional_id: String,
    producer_id: i64,
    state: String,
}

#[derive(Serialize)]
struct Described {
    transactional_id: String,
    state: String,
    producer_id: i64,
    producer_epoch: i16,
    timeout_ms: i32,
    /// Null when no transaction is open.
    start_time_ms: Option<i64>,
    partitions: Vec<String>,
}

/// Whitespace-aligned columns, kafka-transactions' layout.
fn print_plain(out: &mut impl Write, header: &[&str], rows: &[Vec<String>]) -> anyhow::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let line = |out: &mut dyn Write, cells: Vec<&str>| -> std::io::Result<()> {
        let last = cells.len().saturating_sub(1);
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i == last {
                writeln!(out, "{c}")?;
            } else {
                write!(out, "{c:<w$} ")?;
            }
        }
        Ok(())
    };
    line(out, header.to_vec())?;
    for r in rows {
        line(out, r.iter().map(String::as_str).collect())?;
    }
    Ok(())
}

fn list(args: TransactionsListArgs) -> anyhow::Result<()> {
    let client = super::connect(&args.connect)?;
    let states: Vec<String> = args.state.iter().map(|s| s.to_string()).collect();
    let listed: Vec<Listed> = client
        .run(list_transactions(client.client(), &states))?
        .into_iter()
        .map(|t| Listed {
            transactional_id: t.transactional_id,
            producer_id: t.producer_id,
            state: t.state,
        })
        .collect();
    let header = ["TRANSACTIONAL-ID", "PRODUCER-ID", "STATE"];
    let rows: Vec<Vec<String>> = listed
        .iter()
        .map(|t| {
            vec![
                t.transactional_id.clone(),
                t.producer_id.to_string(),
                t.state.clone(),
            ]
        })
        .collect();
    let mut out = stdout();
    match args.output {
        TableOutput::Plain => print_plain(&mut out, &header, &rows)?,
        TableOutput::Table => print_table(&mut out, &header, rows)?,
        TableOutput::Json => print_json(&mut out, &listed)?,
    }
    out.flush()?;
    Ok(())
}

fn describe(args: TransactionsDescribeArgs) -> anyhow::Result<()> {
    let client = super::connect(&args.connect)?;
    let found = client.run(describe_transactions(
        client.client(),
        &args.transactional_id,
    ))?;
    let mut described = Vec::new();
    let mut missing = Vec::new();
    for t in found {
        if !t.status.is_ok() {
            missing.push(format!("{} ({})", t.transactional_id, t.status));
            continue;
        }
        described.push(Described {
            transactional_id: t.transactional_id,
            state: t.state,
            producer_id: t.producer_id,
            producer_epoch: t.producer_epoch,
            timeout_ms: t.timeout_ms,
            start_time_ms: (t.start_time_ms >= 0).then_some(t.start_time_ms),
            partitions: t
                .partitions
                .iter()
                .map(|p| format!("{}-{}", p.topic, p.partition))
                .collect(),
        });
    }
    let header = [
        "TRANSACTIONAL-ID",
        "STATE",
        "PRODUCER-ID",
        "EPOCH",
        "TIMEOUT-MS",
        "START-TIME-MS",
        "PARTITIONS",
    ];
    let rows: Vec<Vec<String>> = described
        .iter()
        .map(|t| {
            vec![
                t.transactional_id.clone(),
                t.state.clone(),
                t.producer_id.to_string(),
                t.producer_epoch.to_string(),
                t.timeout_ms.to_string(),
                t.start_time_ms.map_or("-".into(), |ms| ms.to_string()),
                if t.partitions.is_empty() {
                    "-".into()
                } else {
                    t.partitions.join(",")
                },
            ]
        })
        .collect();
    let mut out = stdout();
    match args.output {
        TableOutput::Plain => print_plain(&mut out, &header, &rows)?,
        TableOutput::Table => print_table(&mut out, &header, rows)?,
        TableOutput::Json => print_json(&mut out, &described)?,
    }
    out.flush()?;
    if !missing.is_empty() {
        anyhow::bail!("cannot describe {}", missing.join(", "));
    }
    Ok(())
}

#[derive(Serialize)]
struct ProducerRow {
    partition: i32,
    producer_id: i64,
    producer_epoch: i16,
    last_sequence: i32,
    last_timestamp: i64,
    /// None: no open transaction on the partition.
    current_txn_start_offset: Option<i64>,
}

fn describe_producers(args: TransactionsDescribeProducersArgs) -> anyhow::Result<()> {
    let topic = args.topic.get().to_string();
    let client = super::connect(&args.connect)?;
    let info = client.run(client.client().topic(&topic, false))?;
    let partitions: Vec<i32> = if args.partition.is_empty() {
        (0..info.partition_count()).collect()
    } else {
        args.partition.clone()
    };
    let mut rows = Vec::new();
    for p in partitions {
        for s in client.run(ask_producers(client.client(), &topic, p))? {
            rows.push(ProducerRow {
                partition: p,
                producer_id: s.producer_id,
                producer_epoch: s.producer_epoch,
                last_sequence: s.last_sequence,
                last_timestamp: s.last_timestamp,
                current_txn_start_offset: (s.current_txn_start_offset >= 0)
                    .then_some(s.current_txn_start_offset),
            });
        }
    }
    let header = [
        "PARTITION",
        "PRODUCER-ID",
        "EPOCH",
        "LAST-SEQUENCE",
        "LAST-TIMESTAMP",
        "TXN-START-OFFSET",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.partition.to_string(),
                r.producer_id.to_string(),
                r.producer_epoch.to_string(),
                r.last_sequence.to_string(),
                r.last_timestamp.to_string(),
                r.current_txn_start_offset
                    .map_or("-".into(), |o| o.to_string()),
            ]
        })
        .collect();
    let mut out = stdout();
    match args.output {
        TableOutput::Plain => print_plain(&mut out, &header, &cells)?,
        TableOutput::Table => print_table(&mut out, &header, cells)?,
        TableOutput::Json => print_json(&mut out, &rows)?,
    }
    out.flush()?;
    Ok(())
}
