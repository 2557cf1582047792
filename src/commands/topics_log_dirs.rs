//! `strom topics describe --log-dirs` (kafka-log-dirs): every partition
//! replica, asked of the broker that stores it, with its size on disk, log
//! end and lag behind its leader.
use std::collections::HashMap;
use std::io::Write;

use serde::Serialize;

use super::output::{print_json, print_table, stdout};
use crate::cli::args::{TableOutput, TopicsDescribeArgs};

#[derive(Debug, Serialize)]
struct ReplicaRow {
    topic: String,
    partition: i32,
    broker: i32,
    leader: bool,
    log_dir: String,
    size_bytes: i64,
    log_end_offset: i64,
    /// Records behind the leader's log end (0 for the leader; None when
    /// the leader did not answer).
    lag: Option<i64>,
}

pub fn describe(args: TopicsDescribeArgs) -> anyhow::Result<()> {
    let name = args.name.clone().or(args.topic.clone());
    let client = super::connect(&args.connect)?;
    let admin = client.admin();
    let md = client.run(client.client().fetch_metadata(Some(Vec::new()), false))?;
    let mut ids: Vec<i32> = md.brokers.iter().map(|b| b.node_id).collect();
    ids.sort_unstable();
    let topics = name.clone().map(|n| vec![n]);
    let mut rows = Vec::new();
    let mut silent = Vec::new();
    for id in ids {
        match client.run(admin.describe_log_dirs(id, topics.clone())) {
            Ok(d) => rows.extend(d.replicas.into_iter().map(|r| ReplicaRow {
                topic: r.topic,
                partition: r.partition,
                broker: id,
                leader: r.leader,
                log_dir: d.log_dir.clone(),
                size_bytes: r.size_bytes,
                log_end_offset: r.log_end_offset,
                lag: None,
            })),
            Err(e) => {
                eprintln!("broker {id} did not answer: {e}");
                silent.push(id);
            }
        }
    }
    if let Some(n) = &name {
        if rows.is_empty() && silent.is_empty() {
            return Err(crate::client::ClientError::UnknownTopic(n.clone()).into());
        }
    }
    let leader_end: HashMap<(String, i32), i64> = rows
        .iter()
        .filter(|r| r.leader)
        .map(|r| ((r.topic.clone(), r.partition), r.log_end_offset))
        .collect();
    for r in &mut rows {
        r.lag = leader_end
            .get(&(r.topic.clone(), r.partition))
            .map(|end| (end - r.log_end_offset).max(0));
    }
    rows.sort_by(|a, b| (&a.topic, a.partition, a.broker).cmp(&(&b.topic, b.partition, b.broker)));

    let mut out = stdout();
    let cells = |r: &ReplicaRow| {
        vec![
            r.topic.clone(),
            r.partition.to_string(),
            format!("{}{}", r.broker, if r.leader { "*" } else { "" }),
            r.size_bytes.to_string(),
            r.log_end_offset.to_string(),
            r.lag.map_or_else(|| "-".into(), |l| l.to_string()),
            r.log_dir.clone(),
        ]
    };
    let header = [
        "TOPIC",
        "PARTITION",
        "BROKER",
        "SIZE",
        "LOG-END",
        "LAG",
        "LOG-DIR",
    ];
    match args.output {
        TableOutput::Json => print_json(&mut out, &rows)?,
        TableOutput::Table => print_table(&mut out, &header, rows.iter().map(cells).collect())?,
        TableOutput::Plain => {
            writeln!(out, "{}", header.join("\t"))?;
            for r in &rows {
                writeln!(out, "{}", cells(r).join("\t"))?;
            }
        }
    }
    out.flush()?;
    if !silent.is_empty() {
        anyhow::bail!("brokers {silent:?} did not answer; their replicas are missing above");
    }
    Ok(())
}
