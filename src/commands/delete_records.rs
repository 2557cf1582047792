//! `strom topics delete-records`: kafka-delete-records, from flags or from
//! its JSON offset file. Prints one line per partition, as Kafka does:
//! `partition: T-P  low_watermark: N` or `partition: T-P  error: ...`.
use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use serde::Deserialize;

use super::output::stdout;
use super::UsageError;
use crate::cli::args::TopicsDeleteRecordsArgs;
use crate::proto::messages::delete_records::TO_HIGH_WATERMARK;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OffsetFile {
    partitions: Vec<OffsetEntry>,
    #[serde(default)]
    #[allow(dead_code)]
    version: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OffsetEntry {
    topic: String,
    partition: i32,
    offset: i64,
}

fn check_offset(o: i64) -> Result<i64, UsageError> {
    if o < TO_HIGH_WATERMARK {
        return Err(UsageError::new(format!(
            "offset {o}: give 0 or more, or -1 for the high watermark"
        )));
    }
    Ok(o)
}

pub fn run(args: TopicsDeleteRecordsArgs) -> anyhow::Result<()> {
    // Topic → (partition, offset), all checked before anything is sent.
    let mut plan: BTreeMap<String, Vec<(i32, i64)>> = BTreeMap::new();
    let file_plan = match &args.offset_json_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let f: OffsetFile = serde_json::from_str(&text).map_err(|e| {
                UsageError::new(format!(
                    "{}: not a delete-records offset file: {e}",
                    path.display()
                ))
            })?;
            if f.partitions.is_empty() {
                return Err(
                    UsageError::new(format!("{}: no partitions listed", path.display())).into(),
                );
            }
            Some(f.partitions)
        }
        None => None,
    };
    let client = super::connect(&args.connect)?;
    match file_plan {
        Some(entries) => {
            for e in entries {
                crate::cli::args::topic_name(&e.topic).map_err(UsageError::new)?;
                if e.partition < 0 {
                    return Err(UsageError::new(format!(
                        "partition {} of {}",
                        e.partition, e.topic
                    ))
                    .into());
                }
                plan.entry(e.topic)
                    .or_default()
                    .push((e.partition, check_offset(e.offset)?));
            }
        }
        None => {
            // clap requires both with this form.
            let (Some(topic), Some(offset)) = (args.topic.clone(), args.offset) else {
                return Err(
                    UsageError::new("give TOPIC and --offset, or --offset-json-file").into(),
                );
            };
            let offset = check_offset(offset)?;
            let parts: Vec<i32> = if args.partition.is_empty() {
                let info = client.run(client.client().refresh_topic(&topic, false))?;
                info.partitions.iter().map(|p| p.partition).collect()
            } else {
                args.partition.clone()
            };
            plan.insert(topic, parts.into_iter().map(|p| (p, offset)).collect());
        }
    }
    if let Some(t) = plan
        .keys()
        .find(|t| crate::proto::internal_topic::is_internal_topic(t))
    {
        anyhow::bail!("cannot delete records of internal topic '{t}': strom keeps those itself");
    }
    let admin = client.admin();
    let mut out = stdout();
    let mut failed = 0;
    writeln!(out, "Records delete operation completed:")?;
    for (topic, targets) in &plan {
        for (p, result) in client.run(admin.delete_records(topic, targets))? {
            match result {
                Ok(low) => writeln!(out, "partition: {topic}-{p}\tlow_watermark: {low}")?,
                Err(e) => {
                    failed += 1;
                    writeln!(out, "partition: {topic}-{p}\terror: {e}")?
                }
            }
        }
    }
    out.flush()?;
    if failed > 0 {
        anyhow::bail!("{failed} partitions could not be truncated (see above)");
    }
    Ok(())
}
