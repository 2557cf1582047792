//! `strom topics offsets T`: one offset per partition, as kafka-get-offsets
//! (and `kcat -Q`) print it: the log start, the log end, or the first
//! record at or after a time.
use std::io::Write;

use serde::Serialize;

use super::output::{print_json, print_table, stdout};
use super::UsageError;
use crate::cli::args::{OffsetTime, TableOutput, TopicsOffsetsArgs};
use crate::client::admin::OffsetSpec;

#[derive(Debug, Serialize)]
struct Row {
    topic: String,
    partition: i32,
    offset: i64,
    /// The found record's timestamp for a by-time lookup; -1 otherwise.
    timestamp: i64,
}

pub fn offsets(args: TopicsOffsetsArgs) -> anyhow::Result<()> {
    let topic = args.topic.get().to_string();
    let spec = match args.time {
        OffsetTime::Earliest => OffsetSpec::Earliest,
        OffsetTime::Latest => OffsetSpec::Latest,
        OffsetTime::At(ms) => OffsetSpec::Timestamp(ms),
    };
    let client = super::connect(&args.connect)?;
    let admin = client.admin();
    let described = client.run(admin.describe_topics(Some(vec![topic.clone()])))?;
    let all: Vec<i32> = described
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| p.partition))
        .collect();
    let wanted = if args.partitions.is_empty() {
        all
    } else {
        if let Some(p) = args.partitions.iter().find(|p| !all.contains(p)) {
            return Err(UsageError::new(format!(
                "topic {topic} has no partition {p} (it has {})",
                all.len()
            ))
            .into());
        }
        args.partitions.clone()
    };
    let found = client.run(admin.list_offsets(&topic, &wanted, spec))?;
    let rows: Vec<Row> = found
        .into_iter()
        .map(|p| Row {
            topic: topic.clone(),
            partition: p.partition,
            offset: p.offset,
            timestamp: p.timestamp,
        })
        .collect();
    let mut out = stdout();
    match args.output {
        TableOutput::Plain => {
            for r in &rows {
                writeln!(out, "{}:{}:{}", r.topic, r.partition, r.offset)?;
            }
        }
        TableOutput::Table => print_table(
            &mut out,
            &["TOPIC", "PARTITION", "OFFSET", "TIMESTAMP"],
            rows.iter()
                .map(|r| {
                    vec![
                        r.topic.clone(),
                        r.partition.to_string(),
                        r.offset.to_string(),
                        r.timestamp.to_string(),
                    ]
                })
                .collect(),
        )?,
        TableOutput::Json => print_json(&mut out, &rows)?,
    }
    out.flush()?;
    Ok(())
}
