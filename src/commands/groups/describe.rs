//! `strom groups describe`: offsets and lag (default), `--members` or
//! `--state`, laid out exactly as kafka-consumer-groups lays them out
//! (left-aligned columns at least 15 wide, each line preceded by a newline).
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use serde::Serialize;

use super::super::output::{print_json, print_table, stdout};
use crate::cli::args::TableOutput;
use crate::cli::groups_args::GroupsDescribeArgs;
use crate::client::blocking::BlockingClient;
use crate::client::{ClientError, GroupInfo, OffsetSpec};

const MISSING: &str = "-";

/// One line of the offsets view.
#[derive(Debug, Serialize)]
struct OffsetRow {
    group: String,
    topic: String,
    partition: i32,
    current_offset: Option<i64>,
    log_end_offset: Option<i64>,
    lag: Option<i64>,
    consumer_id: Option<String>,
    host: Option<String>,
    client_id: Option<String>,
}

#[derive(Debug, Serialize)]
struct GroupOffsets {
    group: String,
    state: String,
    partitions: Vec<OffsetRow>,
}

#[derive(Debug, Serialize)]
struct MemberRow {
    consumer_id: String,
    group_instance_id: Option<String>,
    host: String,
    client_id: String,
    partitions: usize,
    assignment: Vec<TopicPartitionJson>,
}

#[derive(Debug, Serialize)]
struct TopicPartitionJson {
    topic: String,
    partition: i32,
}

#[derive(Debug, Serialize)]
struct GroupMembers {
    group: String,
    state: String,
    members: Vec<MemberRow>,
}

#[derive(Debug, Serialize)]
struct GroupState {
    group: String,
    coordinator: crate::client::group_admin::Coordinator,
    assignment_strategy: String,
    state: String,
    members: usize,
}

pub fn run(args: GroupsDescribeArgs) -> anyhow::Result<()> {
    let client = super::super::connect(&args.connect)?;
    let admin = super::group_admin(&client);
    let names: Vec<String> = if args.all_groups {
        client
            .run(admin.list_groups())?
            .into_iter()
            .map(|g| g.group)
            .collect()
    } else {
        args.group.clone()
    };
    // Sorted by name, as Kafka's TreeMap prints them.
    let mut infos = BTreeMap::new();
    let mut missing = None;
    for name in names {
        let info = client.run(admin.describe_group(&name))?;
        if info.exists() {
            infos.insert(name, info);
        } else if missing.is_none() {
            missing = Some(name);
        }
    }
    let mut out = stdout();
    if args.state {
        print_states(&mut out, &infos, args.output)?;
    } else if args.members {
        print_members(&mut out, &infos, args.output)?;
    } else {
        let mut all = Vec::new();
        for info in infos.values() {
            all.push(offsets_of(&client, info)?);
        }
        print_offsets(&mut out, &all, args.output)?;
    }
    out.flush()?;
    match missing {
        Some(g) => anyhow::bail!("consumer group '{g}' does not exist"),
        None => Ok(()),
    }
}

/// Kafka's notes on stderr about a group that is not simply Stable.
fn state_note(group: &str, state: &str) {
    let note = match state {
        "Empty" => format!("\nConsumer group '{group}' has no active members."),
        "PreparingRebalance" | "CompletingRebalance" => {
            format!("\nWarning: Consumer group '{group}' is rebalancing.")
        }
        _ => return,
    };
    let _ = writeln!(io::stderr().lock(), "{note}");
}

/// Rows as Kafka builds them: members with partitions (most partitions
/// first), each one's partitions by topic and number, then committed
/// partitions no member owns, with `-` for the consumer columns.
fn offsets_of(client: &BlockingClient, info: &GroupInfo) -> anyhow::Result<GroupOffsets> {
    let admin = super::group_admin(client);
    let committed: HashMap<(String, i32), i64> = client
        .run(admin.committed_offsets(&info.group, None))?
        .into_iter()
        .map(|(t, p, o)| ((t, p), o))
        .collect();
    let mut members: Vec<_> = info
        .members
        .iter()
        .filter(|m| !m.assignment.is_empty())
        .collect();
    members.sort_by_key(|m| std::cmp::Reverse(m.assignment.len()));
    let mut rows = Vec::new();
    let mut owned = std::collections::HashSet::new();
    for m in members {
        let mut parts = m.assignment.clone();
        parts.sort();
        for (topic, partition) in parts {
            owned.insert((topic.clone(), partition));
            rows.push(OffsetRow {
                group: info.group.clone(),
                current_offset: committed.get(&(topic.clone(), partition)).copied(),
                topic,
                partition,
                log_end_offset: None,
                lag: None,
                consumer_id: Some(m.member_id.clone()),
                host: Some(m.client_host.clone()),
                client_id: Some(m.client_id.clone()),
            });
        }
    }
    let mut orphans: Vec<_> = committed
        .iter()
        .filter(|(tp, _)| !owned.contains(*tp))
        .collect();
    orphans.sort();
    for ((topic, partition), offset) in orphans {
        rows.push(OffsetRow {
            group: info.group.clone(),
            topic: topic.clone(),
            partition: *partition,
            current_offset: Some(*offset),
            log_end_offset: None,
            lag: None,
            consumer_id: None,
            host: None,
            client_id: None,
        });
    }
    let ends = log_end_offsets(client, &rows)?;
    for r in &mut rows {
        r.log_end_offset = ends.get(&(r.topic.clone(), r.partition)).copied();
        r.lag = match (r.current_offset, r.log_end_offset) {
            (Some(c), Some(e)) => Some(e - c),
            _ => None,
        };
    }
    Ok(GroupOffsets {
        group: info.group.clone(),
        state: info.state.clone(),
        partitions: rows,
    })
}

/// High watermarks of the rows' partitions; a deleted topic's are unknown.
fn log_end_offsets(
    client: &BlockingClient,
    rows: &[OffsetRow],
) -> anyhow::Result<HashMap<(String, i32), i64>> {
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for r in rows {
        by_topic.entry(&r.topic).or_default().push(r.partition);
    }
    let admin = client.admin();
    let mut out = HashMap::new();
    for (topic, parts) in by_topic {
        // Partitions that no longer exist cannot be looked up; leave them out.
        let existing = match client.run(client.client().topic(topic, false)) {
            Ok(t) => parts
                .into_iter()
                .filter(|p| t.partition(*p).is_some())
                .collect::<Vec<_>>(),
            Err(ClientError::UnknownTopic(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        if existing.is_empty() {
            continue;
        }
        for p in client.run(admin.list_offsets(topic, &existing, OffsetSpec::Latest))? {
            out.insert((topic.to_string(), p.partition), p.offset);
        }
    }
    Ok(out)
}

fn opt(v: Option<i64>) -> String {
    v.map_or_else(|| MISSING.to_string(), |n| n.to_string())
}

fn opt_str(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or(MISSING)
}

fn width(min: usize, values: impl Iterator<Item = usize>) -> usize {
    values.fold(min, usize::max)
}

fn print_offsets(
    out: &mut impl Write,
    groups: &[GroupOffsets],
    output: TableOutput,
) -> anyhow::Result<()> {
    match output {
        TableOutput::Json => return print_json(out, &groups),
        TableOutput::Table => {
            let rows = groups
                .iter()
                .flat_map(|g| g.partitions.iter())
                .map(|r| {
                    vec![
                        r.group.clone(),
                        r.topic.clone(),
                        r.partition.to_string(),
                        opt(r.current_offset),
                        opt(r.log_end_offset),
                        opt(r.lag),
                        opt_str(&r.consumer_id).to_string(),
                        opt_str(&r.host).to_string(),
                        opt_str(&r.client_id).to_string(),
                    ]
                })
                .collect();
            return print_table(out, &HEADER, rows);
        }
        TableOutput::Plain => {}
    }
    for g in groups {
        out.flush()?;
        state_note(&g.group, &g.state);
        if g.partitions.is_empty() {
            continue;
        }
        let rows = &g.partitions;
        let gw = width(15, rows.iter().map(|r| r.group.len()));
        let tw = width(15, rows.iter().map(|r| r.topic.len()));
        let cw = width(15, rows.iter().map(|r| opt_str(&r.consumer_id).len()));
        let hw = width(15, rows.iter().map(|r| opt_str(&r.host).len()));
        let line = |out: &mut dyn Write, c: [&str; 9]| {
            write!(
                out,
                "\n{:<gw$} {:<tw$} {:<10} {:<15} {:<15} {:<15} {:<cw$} {:<hw$} {}",
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
            )
        };
        line(out, HEADER)?;
        for r in rows {
            let (p, cur, end, lag) = (
                r.partition.to_string(),
                opt(r.current_offset),
                opt(r.log_end_offset),
                opt(r.lag),
            );
            line(
                out,
                [
                    &r.group,
                    &r.topic,
                    &p,
                    &cur,
                    &end,
                    &lag,
                    opt_str(&r.consumer_id),
                    opt_str(&r.host),
                    opt_str(&r.client_id),
                ],
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

const HEADER: [&str; 9] = [
    "GROUP",
    "TOPIC",
    "PARTITION",
    "CURRENT-OFFSET",
    "LOG-END-OFFSET",
    "LAG",
    "CONSUMER-ID",
    "HOST",
    "CLIENT-ID",
];

fn member_rows(info: &GroupInfo) -> Vec<MemberRow> {
    let mut rows: Vec<MemberRow> = info
        .members
        .iter()
        .map(|m| {
            let mut a = m.assignment.clone();
            a.sort();
            MemberRow {
                consumer_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                host: m.client_host.clone(),
                client_id: m.client_id.clone(),
                partitions: a.len(),
                assignment: a
                    .into_iter()
                    .map(|(topic, partition)| TopicPartitionJson { topic, partition })
                    .collect(),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.consumer_id.cmp(&b.consumer_id));
    rows
}

fn print_members(
    out: &mut impl Write,
    infos: &BTreeMap<String, GroupInfo>,
    output: TableOutput,
) -> anyhow::Result<()> {
    let groups: Vec<GroupMembers> = infos
        .values()
        .map(|i| GroupMembers {
            group: i.group.clone(),
            state: i.state.clone(),
            members: member_rows(i),
        })
        .collect();
    match output {
        TableOutput::Json => return print_json(out, &groups),
        TableOutput::Table => {
            let rows = groups
                .iter()
                .flat_map(|g| {
                    g.members.iter().map(move |m| {
                        vec![
                            g.group.clone(),
                            m.consumer_id.clone(),
                            m.host.clone(),
                            m.client_id.clone(),
                            m.partitions.to_string(),
                        ]
                    })
                })
                .collect();
            return print_table(
                out,
                &["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"],
                rows,
            );
        }
        TableOutput::Plain => {}
    }
    for (g, info) in groups.iter().zip(infos.values()) {
        out.flush()?;
        state_note(&info.group, &info.state);
        let m = &g.members;
        let gw = width(15, m.iter().map(|_| g.group.len()));
        let cw = width(15, m.iter().map(|r| r.consumer_id.len()));
        let iw = width(
            17,
            m.iter()
                .map(|r| r.group_instance_id.as_deref().unwrap_or("").len()),
        );
        let hw = width(15, m.iter().map(|r| r.host.len()));
        let lw = width(15, m.iter().map(|r| r.client_id.len()));
        let with_instance = m.iter().any(|r| r.group_instance_id.is_some());
        // Kafka pads #PARTITIONS to 15 and follows it with a space.
        let line = |out: &mut dyn Write, c: [&str; 6]| {
            if with_instance {
                write!(
                    out,
                    "{:<gw$} {:<cw$} {:<iw$} {:<hw$} {:<lw$} {:<15} ",
                    c[0], c[1], c[2], c[3], c[4], c[5]
                )
            } else {
                write!(
                    out,
                    "{:<gw$} {:<cw$} {:<hw$} {:<lw$} {:<15} ",
                    c[0], c[1], c[3], c[4], c[5]
                )
            }
        };
        writeln!(out)?;
        line(
            out,
            [
                "GROUP",
                "CONSUMER-ID",
                "GROUP-INSTANCE-ID",
                "HOST",
                "CLIENT-ID",
                "#PARTITIONS",
            ],
        )?;
        writeln!(out)?;
        for r in m {
            let n = r.partitions.to_string();
            line(
                out,
                [
                    &g.group,
                    &r.consumer_id,
                    r.group_instance_id.as_deref().unwrap_or(""),
                    &r.host,
                    &r.client_id,
                    &n,
                ],
            )?;
            writeln!(out)?;
        }
    }
    Ok(())
}

fn print_states(
    out: &mut impl Write,
    infos: &BTreeMap<String, GroupInfo>,
    output: TableOutput,
) -> anyhow::Result<()> {
    let states: Vec<GroupState> = infos
        .values()
        .map(|i| GroupState {
            group: i.group.clone(),
            coordinator: i.coordinator.clone(),
            assignment_strategy: if i.protocol.is_empty() {
                MISSING.to_string()
            } else {
                i.protocol.clone()
            },
            state: i.state.clone(),
            members: i.members.len(),
        })
        .collect();
    let coord = |s: &GroupState| {
        format!(
            "{}:{}  ({})",
            s.coordinator.host, s.coordinator.port, s.coordinator.node_id
        )
    };
    match output {
        TableOutput::Json => return print_json(out, &states),
        TableOutput::Table => {
            let rows = states
                .iter()
                .map(|s| {
                    vec![
                        s.group.clone(),
                        coord(s),
                        s.assignment_strategy.clone(),
                        s.state.clone(),
                        s.members.to_string(),
                    ]
                })
                .collect();
            return print_table(
                out,
                &[
                    "GROUP",
                    "COORDINATOR (ID)",
                    "ASSIGNMENT-STRATEGY",
                    "STATE",
                    "#MEMBERS",
                ],
                rows,
            );
        }
        TableOutput::Plain => {}
    }
    for (s, info) in states.iter().zip(infos.values()) {
        out.flush()?;
        state_note(&info.group, &info.state);
        let c = coord(s);
        let gw = s.group.len().max(15);
        let cw = c.len().max(25);
        let line = |out: &mut dyn Write, v: [&str; 5]| {
            write!(
                out,
                "\n{:<gw$} {:<cw$} {:<20} {:<20} {}",
                v[0], v[1], v[2], v[3], v[4]
            )
        };
        line(
            out,
            [
                "GROUP",
                "COORDINATOR (ID)",
                "ASSIGNMENT-STRATEGY",
                "STATE",
                "#MEMBERS",
            ],
        )?;
        let n = s.members.to_string();
        line(out, [&s.group, &c, &s.assignment_strategy, &s.state, &n])?;
        writeln!(out)?;
    }
    Ok(())
}
