//! `strom groups delete-offsets`: kafka-consumer-groups --delete-offsets.
//! One row per partition with what happened to its offset.
use std::io::Write;

use super::super::output::{print_json, print_table, stdout};
use super::group_admin;
use crate::cli::args::TableOutput;
use crate::cli::groups_args::GroupsDeleteOffsetsArgs;

#[derive(serde::Serialize)]
struct Row {
    topic: String,
    partition: i32,
    /// `None`: deleted.
    error: Option<String>,
}

pub fn run(args: GroupsDeleteOffsetsArgs) -> anyhow::Result<()> {
    let client = super::super::connect(&args.connect)?;
    let admin = group_admin(&client);
    // TOPIC alone means each of its partitions, as in Kafka's tool.
    let mut partitions: Vec<(String, i32)> = Vec::new();
    for (topic, parts) in &args.topic {
        let parts = match parts {
            Some(p) => p.clone(),
            None => {
                let info = client.run(client.client().topic(topic, false))?;
                (0..info.partition_count()).collect()
            }
        };
        for p in parts {
            if !partitions.contains(&(topic.clone(), p)) {
                partitions.push((topic.clone(), p));
            }
        }
    }
    let results = client
        .run(admin.delete_offsets(&args.group, &partitions))
        .map_err(|e| {
            anyhow::Error::new(e).context(format!(
                "cannot delete offsets of consumer group '{}'",
                args.group
            ))
        })?;
    let mut rows: Vec<Row> = results
        .into_iter()
        .map(|(topic, partition, r)| Row {
            topic,
            partition,
            error: r.err().map(|e| e.to_string()),
        })
        .collect();
    rows.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    let failed = rows.iter().filter(|r| r.error.is_some()).count();
    let mut out = stdout();
    let status = |r: &Row| {
        r.error
            .as_ref()
            .map_or_else(|| "Successful".to_string(), |e| format!("Error: {e}"))
    };
    match args.output {
        TableOutput::Plain => {
            if failed == 0 {
                writeln!(
                    out,
                    "Request succeed for deleting offsets from group {}.\n",
                    args.group
                )?;
            }
            let w = rows.iter().map(|r| r.topic.len()).fold(5, usize::max);
            writeln!(out, "{:<w$} {:<10} STATUS", "TOPIC", "PARTITION")?;
            for r in &rows {
                writeln!(out, "{:<w$} {:<10} {}", r.topic, r.partition, status(r))?;
            }
        }
        TableOutput::Table => print_table(
            &mut out,
            &["TOPIC", "PARTITION", "STATUS"],
            rows.iter()
                .map(|r| vec![r.topic.clone(), r.partition.to_string(), status(r)])
                .collect(),
        )?,
        TableOutput::Json => print_json(&mut out, &rows)?,
    }
    out.flush()?;
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} partitions kept their offsets in group '{}'",
            rows.len(),
            args.group
        );
    }
    Ok(())
}
