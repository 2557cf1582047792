//! `strom groups list|describe|reset-offsets|delete`, printing what
//! kafka-consumer-groups prints.
mod delete_offsets;
mod describe;
mod plan_csv;
mod reset;

use std::io::Write;

use super::output::{print_json, print_table, stdout};
use crate::cli::args::TableOutput;
use crate::cli::groups_args::{GroupsCommand, GroupsDeleteArgs, GroupsListArgs};
use crate::client::blocking::BlockingClient;
use crate::client::GroupAdmin;

pub fn run(command: GroupsCommand) -> anyhow::Result<()> {
    match command {
        GroupsCommand::List(a) => list(a),
        GroupsCommand::Describe(a) => describe::run(a),
        GroupsCommand::ResetOffsets(a) => reset::run(a),
        GroupsCommand::Delete(a) => delete(a),
        GroupsCommand::DeleteOffsets(a) => delete_offsets::run(a),
    }
}

fn group_admin(client: &BlockingClient) -> GroupAdmin {
    GroupAdmin::new(client.client().clone())
}

fn list(args: GroupsListArgs) -> anyhow::Result<()> {
    let client = super::connect(&args.connect)?;
    let mut groups = client.run(group_admin(&client).list_groups())?;
    // kafka-consumer-groups --list --state [STATE,...]: the states asked
    // for, any case (clap gave the canonical names); none asked: all.
    if let Some(states) = args.state.as_ref().filter(|s| !s.is_empty()) {
        groups.retain(|g| states.iter().any(|s| s.eq_ignore_ascii_case(&g.state)));
    }
    let mut out = stdout();
    match args.output {
        TableOutput::Plain if args.state.is_some() => {
            let w = groups.iter().map(|g| g.group.len()).fold(15, usize::max);
            writeln!(out, "{:<w$} STATE", "GROUP")?;
            for g in &groups {
                writeln!(out, "{:<w$} {}", g.group, g.state)?;
            }
        }
        TableOutput::Plain => {
            for g in &groups {
                writeln!(out, "{}", g.group)?;
            }
        }
        TableOutput::Table => print_table(
            &mut out,
            &["GROUP", "STATE"],
            groups
                .iter()
                .map(|g| vec![g.group.clone(), g.state.clone()])
                .collect(),
        )?,
        TableOutput::Json => print_json(&mut out, &groups)?,
    }
    out.flush()?;
    Ok(())
}

fn quoted(groups: &[&String]) -> String {
    groups
        .iter()
        .map(|g| format!("'{g}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn delete(args: GroupsDeleteArgs) -> anyhow::Result<()> {
    let client = super::connect(&args.connect)?;
    let admin = group_admin(&client);
    let groups: Vec<String> = if args.all_groups {
        client
            .run(admin.list_groups())?
            .into_iter()
            .map(|g| g.group)
            .collect()
    } else {
        args.group.clone()
    };
    let mut deleted = Vec::new();
    let mut failed = Vec::new();
    for g in &groups {
        match client.run(admin.delete_group(g)) {
            Ok(()) => deleted.push(g),
            Err(e) => failed.push((g, e)),
        }
    }
    let mut out = stdout();
    if !deleted.is_empty() {
        writeln!(
            out,
            "Deletion of requested consumer groups ({}) was successful.",
            quoted(&deleted)
        )?;
    } else if groups.is_empty() {
        let _ = writeln!(
            std::io::stderr().lock(),
            "There are no consumer groups to delete."
        );
    }
    out.flush()?;
    // Every group was tried; one error line names each that failed.
    if failed.len() > 1 {
        anyhow::bail!(
            "cannot delete {} consumer groups: {}",
            failed.len(),
            failed
                .iter()
                .map(|(g, e)| format!("'{g}' ({e})"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    match failed.into_iter().next() {
        None => Ok(()),
        Some((g, e)) => {
            Err(anyhow::Error::new(e).context(format!("cannot delete consumer group '{g}'")))
        }
    }
}
