//! `strom topics elect-leaders`: kafka-leader-election. Prints Kafka's
//! lines: which partitions got their leader, which had it already, and
//! each one that could not, with why.
use std::io::Write;

use anyhow::Context;
use serde::Deserialize;

use super::output::stdout;
use super::UsageError;
use crate::cli::elect_leaders_args::{ElectLeadersArgs, ElectionKind};
use crate::client::ClientError;
use crate::proto::ErrorCode;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartitionsFile {
    partitions: Vec<FileEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    topic: String,
    partition: i32,
}

fn read_file(path: &std::path::Path) -> anyhow::Result<Vec<(String, i32)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let f: PartitionsFile = serde_json::from_str(&text).map_err(|e| {
        UsageError::new(format!(
            "{}: not a leader-election partitions file: {e}",
            path.display()
        ))
    })?;
    if f.partitions.is_empty() {
        return Err(UsageError::new(format!("{}: no partitions listed", path.display())).into());
    }
    let mut out = Vec::with_capacity(f.partitions.len());
    for e in f.partitions {
        crate::cli::args::topic_name(&e.topic).map_err(UsageError::new)?;
        if e.partition < 0 {
            return Err(
                UsageError::new(format!("partition {} of {}", e.partition, e.topic)).into(),
            );
        }
        out.push((e.topic, e.partition));
    }
    Ok(out)
}

pub fn run(args: ElectLeadersArgs) -> anyhow::Result<()> {
    let file = args
        .path_to_json_file
        .as_deref()
        .map(read_file)
        .transpose()?;
    let client = super::connect(&args.connect)?;
    let partitions: Option<Vec<(String, i32)>> = match (file, &args.topic) {
        (Some(f), _) => Some(f),
        (None, Some(topic)) => {
            let parts: Vec<i32> = if args.partition.is_empty() {
                let info = client.run(client.client().refresh_topic(topic, false))?;
                info.partitions.iter().map(|p| p.partition).collect()
            } else {
                args.partition.clone()
            };
            Some(parts.into_iter().map(|p| (topic.clone(), p)).collect())
        }
        (None, None) => None, // --all-topic-partitions
    };
    let unclean = args.election_type == ElectionKind::Unclean;
    let kind = if unclean { "UNCLEAN" } else { "PREFERRED" };
    let mut results = client.run(client.admin().elect_leaders(unclean, partitions.as_deref()))?;
    results.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let (mut elected, mut not_needed, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for (topic, p, r) in results {
        let name = format!("{topic}-{p}");
        match r {
            Ok(()) => elected.push(name),
            Err(ClientError::Broker {
                code: ErrorCode::ElectionNotNeeded,
                ..
            }) => not_needed.push(name),
            Err(e) => failed.push((name, e)),
        }
    }
    let mut out = stdout();
    if !elected.is_empty() {
        writeln!(
            out,
            "Successfully completed leader election ({kind}) for partitions {}",
            elected.join(", ")
        )?;
    }
    if !not_needed.is_empty() {
        writeln!(
            out,
            "Valid replica already elected for partitions {}",
            not_needed.join(", ")
        )?;
    }
    if elected.is_empty() && not_needed.is_empty() && failed.is_empty() {
        writeln!(out, "No partition needed a leader election ({kind}).")?;
    }
    for (name, e) in &failed {
        writeln!(
            out,
            "Error completing leader election ({kind}) for partition: {name}: {e}"
        )?;
    }
    out.flush()?;
    if !failed.is_empty() {
        anyhow::bail!(
            "{} partitions did not get the leader asked for (see above)",
            failed.len()
        );
    }
    Ok(())
}
