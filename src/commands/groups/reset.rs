//! `strom groups reset-offsets`: computes new committed offsets for a
//! group without active members and, with --execute, commits them as a
//! tool (generation -1). Prints kafka-consumer-groups' plan table.
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::super::output::{print_json, print_table, stdout};
use super::plan_csv::{self, PlanLine};
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
    /// The committed offset; the end where nothing is committed (Kafka).
    Current,
    Offset(i64),
    ShiftBy(i64),
    /// The first record at or after this time (ms), the end if none.
    Datetime(i64),
    /// Offsets read from a plan file, clamped like --to-offset.
    FromFile(HashMap<(String, i32), i64>),
}

fn spec(args: &GroupsResetArgs, from_file: Option<&[PlanLine]>) -> Spec {
    // clap's "spec" group guarantees exactly one of these.
    if let Some(lines) = from_file {
        Spec::FromFile(
            lines
                .iter()
                .map(|l| ((l.topic.clone(), l.partition), l.offset))
                .collect(),
        )
    } else if args.to_latest {
        Spec::Latest
    } else if args.to_current {
        Spec::Current
    } else if let Some(n) = args.to_offset {
        Spec::Offset(n)
    } else if let Some(n) = args.shift_by {
        Spec::ShiftBy(n)
    } else if let Some(t) = args.to_datetime {
        Spec::Datetime(t)
    } else if let Some(d) = args.by_duration {
        Spec::Datetime(now_ms().saturating_sub(d))
    } else {
        Spec::Earliest
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Kafka's range check: an asked offset outside earliest..latest is moved
/// to the nearer end, with a warning naming the partition and both offsets.
fn clamped(topic: &str, partition: i32, asked: i64, lo: i64, hi: i64) -> i64 {
    let (bound, side, word) = if asked > hi {
        (hi, "higher", "latest")
    } else if asked < lo {
        (lo, "lower", "earliest")
    } else {
        return asked;
    };
    let _ = writeln!(
        io::stderr().lock(),
        "Warning: New offset ({asked}) is {side} than {word} offset for topic partition \
         {topic}-{partition}. Value will be set to {bound}."
    );
    bound
}

/// Reads and checks `--from-file`; errors name the file and the line.
fn read_plan(path: &Path, group: &str) -> anyhow::Result<Vec<PlanLine>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    plan_csv::parse(&text, group).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub fn run(args: GroupsResetArgs) -> anyhow::Result<()> {
    let from_file = match &args.from_file {
        Some(path) => Some(read_plan(path, &args.group)?),
        None => None,
    };
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
    let partitions = match (&from_file, &args.from_file) {
        (Some(lines), Some(path)) => partitions_in_file(&client, path, lines)?,
        _ => partitions_to_reset(&client, &args, &committed)?,
    };
    let spec = spec(&args, from_file.as_deref());
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
            let hi = hi.max(lo);
            let key = (topic.clone(), p);
            let new_offset = match &spec {
                Spec::Earliest => lo,
                Spec::Latest => hi,
                Spec::Current => committed.get(&key).copied().unwrap_or(hi),
                Spec::Offset(n) => clamped(topic, p, *n, lo, hi),
                Spec::ShiftBy(n) => match committed.get(&key) {
                    Some(&c) => clamped(topic, p, c.saturating_add(*n), lo, hi),
                    None => anyhow::bail!(
                        "Cannot shift offset for partition {topic}-{p} since there is no current committed offset"
                    ),
                },
                // No record at or after the time: the end, as Kafka does.
                Spec::Datetime(_) => match by_time.get(&p) {
                    Some(&o) if o >= 0 => o,
                    _ => hi,
                },
                Spec::FromFile(asked) => match asked.get(&key) {
                    Some(&o) => clamped(topic, p, o, lo, hi),
                    None => continue,
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
    if args.export {
        plan_csv::write(
            &mut out,
            plan.iter()
                .map(|n| (n.topic.as_str(), n.partition, n.new_offset)),
        )?;
    } else {
        print_plan(&mut out, &plan, args.output)?;
    }
    out.flush()?;
    if !args.execute {
        let _ = writeln!(
            io::stderr().lock(),
            "This was a dry run: no offsets were changed. Add --execute to commit the new offsets."
        );
    }
    Ok(())
}

/// Topic → partitions of a plan file, each checked to exist; an error
/// names the file and the line.
fn partitions_in_file(
    client: &BlockingClient,
    path: &Path,
    lines: &[PlanLine],
) -> anyhow::Result<BTreeMap<String, Vec<i32>>> {
    let mut out: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    let mut known: HashMap<String, Vec<i32>> = HashMap::new();
    for l in lines {
        let parts = match known.entry(l.topic.clone()) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let info = client
                    .run(client.client().refresh_topic(&l.topic, false))
                    .map_err(|err| anyhow::anyhow!("{}: line {}: {err}", path.display(), l.line))?;
                e.insert(info.partitions.iter().map(|p| p.partition).collect())
            }
        };
        if !parts.contains(&l.partition) {
            anyhow::bail!(
                "{}: line {}: topic '{}' has no partition {}",
                path.display(),
                l.line,
                l.topic,
                l.partition
            );
        }
        out.entry(l.topic.clone()).or_default().push(l.partition);
    }
    for v in out.values_mut() {
        v.sort_unstable();
    }
    Ok(out)
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
