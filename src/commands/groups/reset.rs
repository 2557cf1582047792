//! `strom groups reset-offsets`: computes new committed offsets for a
//! group without active members and, with --execute, commits them as a
//! tool (generation -1). Prints kafka-consumer-groups' plan table.
use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use serde::Serialize;

use super::super::output::{print_json, print_table, stdout};
use crate::cli::args::TableOutput;
use crate::cli::groups_args::GroupsResetArgs;
use crate::client::blocking::BlockingClient;
use crate::client::group_admin::CommittedOffset;
use crate::client::{ClientError, OffsetSpec};

#[derive(Debug, Serialize)]
struct NewOffset {
    group: String,
    topic: String,
    partition: i32,
    new_offset: i64,
}

/// What the user asked the offsets to become.
enum Spec {
    Earliest,
    Latest,
    Offset(i64),
    ShiftBy(i64),
    Datetime(i64),
}

fn spec(args: &GroupsResetArgs) -> Spec {
    // clap's "spec" group guarantees exactly one of these.
    if args.to_earliest {
        Spec::Earliest
    } else if args.to_latest {
        Spec::Latest
    } else if let Some(n) = args.to_offset {
        Spec::Offset(n)
    } else if let Some(n) = args.shift_by {
        Spec::ShiftBy(n)
    } else if let Some(t) = args.to_datetime {
        Spec::Datetime(t)
    } else {
        Spec::Earliest
    }
}

pub fn run(args: GroupsResetArgs) -> anyhow::Result<()> {
    let client = super::super::connect(&args.connect)?;
    let admin = super::group_admin(&client);
    let group = args.group.as_str();
    let info = client.run(admin.describe_group(group))?;
    if info.exists() && info.state != "Empty" {
        anyhow::bail!(
            "Assignments can only be reset if the group '{group}' is inactive, but the current state is {}.",
            info.state
        );
    }
    let committed: HashMap<(String, i32), i64> = client
        .run(admin.committed_offsets(group, None))?
        .into_iter()
        .map(|(t, p, o)| ((t, p), o))
        .collect();
    let partitions = partitions_to_reset(&client, &args, &committed)?;
    let spec = spec(&args);
    let mut plan = Vec::new();
    for (topic, parts) in &partitions {
        let earliest = offsets(&client, topic, parts, OffsetSpec::Earliest)?;
        let latest = offsets(&client, topic, parts, OffsetSpec::Latest)?;
        let by_time = match spec {
            Spec::Datetime(t) => offsets(&client, topic, parts, OffsetSpec::Timestamp(t))?,
            _ => HashMap::new(),
        };
        for &p in parts {
            let (lo, hi) = (
                earliest.get(&p).copied().unwrap_or(0),
                latest.get(&p).copied().unwrap_or(0),
            );
            let clamp = |o: i64| o.clamp(lo, hi.max(lo));
            let new_offset = match spec {
                Spec::Earliest => lo,
                Spec::Latest => hi,
                Spec::Offset(n) => clamp(n),
                Spec::ShiftBy(n) => match committed.get(&(topic.clone(), p)) {
                    Some(&c) => clamp(c.saturating_add(n)),
                    None => anyhow::bail!(
                        "Cannot shift offset for partition {topic}-{p} since there is no current committed offset"
                    ),
                },
                // No record at or after the time: the end, as Kafka does.
                Spec::Datetime(_) => match by_time.get(&p) {
                    Some(&o) if o >= 0 => o,
                    _ => hi,
                },
            };
            plan.push(NewOffset {
                group: group.to_string(),
                topic: topic.clone(),
                partition: p,
                new_offset,
            });
        }
    }
    if args.execute && !plan.is_empty() {
        let commits: Vec<CommittedOffset<'_>> = plan
            .iter()
            .map(|n| CommittedOffset {
                topic: &n.topic,
                partition: n.partition,
                offset: n.new_offset,
            })
            .collect();
        client.run(admin.commit_offsets(group, &commits))?;
    }
    let mut out = stdout();
    print_plan(&mut out, &plan, args.output)?;
    out.flush()?;
    Ok(())
}

/// Topic → partitions, sorted, from --topic or (--all-topics) from what
/// the group has committed.
fn partitions_to_reset(
    client: &BlockingClient,
    args: &GroupsResetArgs,
    committed: &HashMap<(String, i32), i64>,
) -> anyhow::Result<BTreeMap<String, Vec<i32>>> {
    let mut out: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    if args.all_topics {
        for (t, p) in committed.keys() {
            out.entry(t.clone()).or_default().push(*p);
        }
    }
    for (topic, parts) in &args.topic {
        let info = client.run(client.client().refresh_topic(topic, false))?;
        let list = out.entry(topic.clone()).or_default();
        match parts {
            None => list.extend(info.partitions.iter().map(|p| p.partition)),
            Some(ps) => {
                for &p in ps {
                    if info.partition(p).is_none() {
                        return Err(ClientError::UnknownPartition {
                            topic: topic.clone(),
                            partition: p,
                        }
                        .into());
                    }
                    list.push(p);
                }
            }
        }
    }
    for v in out.values_mut() {
        v.sort_unstable();
        v.dedup();
    }
    out.retain(|_, v| !v.is_empty());
    Ok(out)
}

fn offsets(
    client: &BlockingClient,
    topic: &str,
    parts: &[i32],
    spec: OffsetSpec,
) -> anyhow::Result<HashMap<i32, i64>> {
    Ok(client
        .run(client.admin().list_offsets(topic, parts, spec))?
        .into_iter()
        .map(|p| (p.partition, p.offset))
        .collect())
}

fn print_plan(out: &mut impl Write, plan: &[NewOffset], output: TableOutput) -> anyhow::Result<()> {
    match output {
        TableOutput::Json => print_json(out, &plan),
        TableOutput::Table => print_table(
            out,
            &["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"],
            plan.iter()
                .map(|n| {
                    vec![
                        n.group.clone(),
                        n.topic.clone(),
                        n.partition.to_string(),
                        n.new_offset.to_string(),
                    ]
                })
                .collect(),
        ),
        TableOutput::Plain => {
            let gw = plan.iter().map(|n| n.group.len()).fold(15, usize::max);
            let tw = plan.iter().map(|n| n.topic.len()).fold(15, usize::max);
            if !plan.is_empty() {
                write!(
                    out,
                    "\n{:<gw$} {:<tw$} {:<10} NEW-OFFSET",
                    "GROUP", "TOPIC", "PARTITION"
                )?;
            }
            for n in plan {
                write!(
                    out,
                    "\n{:<gw$} {:<tw$} {:<10} {}",
                    n.group, n.topic, n.partition, n.new_offset
                )?;
            }
            writeln!(out)?;
            Ok(())
        }
    }
}
