//! `strom brokers configs|alter-configs`: the broker-wide defaults of topic
//! configs (Kafka's dynamic broker configs), read per broker or for the
//! cluster, and changed at run time.
use std::io::Write;

use serde::Serialize;

use super::output::{print_json, print_table, stdout};
use super::UsageError;
use crate::cli::args::TableOutput;
use crate::cli::brokers_args::{BrokersAlterConfigsArgs, BrokersConfigsArgs};
use crate::client::broker_configs::{BrokerConfigSetting, BrokerScope};

/// One row: whose value (a node id, or null for the cluster default).
#[derive(Debug, Serialize)]
struct Row {
    broker: Option<i32>,
    #[serde(flatten)]
    setting: BrokerConfigSetting,
}

pub fn describe(args: BrokersConfigsArgs) -> anyhow::Result<()> {
    let client = super::connect(&args.connect)?;
    let admin = client.admin();
    let scopes: Vec<BrokerScope> = if args.cluster_default {
        vec![BrokerScope::ClusterDefault]
    } else if !args.id.is_empty() {
        args.id.iter().map(|&id| BrokerScope::Broker(id)).collect()
    } else {
        let md = client.run(client.client().fetch_metadata(Some(Vec::new()), false))?;
        let mut ids: Vec<i32> = md.brokers.iter().map(|b| b.node_id).collect();
        ids.sort_unstable();
        ids.into_iter().map(BrokerScope::Broker).collect()
    };
    let mut rows = Vec::new();
    for scope in scopes {
        let broker = match scope {
            BrokerScope::Broker(id) => Some(id),
            BrokerScope::ClusterDefault => None,
        };
        for setting in client.run(admin.describe_broker_configs(scope))? {
            rows.push(Row { broker, setting });
        }
    }
    let mut out = stdout();
    let show_broker = !args.cluster_default;
    let cells = |r: &Row| {
        let mut c = Vec::with_capacity(4);
        if show_broker {
            c.push(r.broker.map_or_else(|| "-".into(), |b| b.to_string()));
        }
        c.extend([
            r.setting.name.clone(),
            r.setting.value.clone(),
            r.setting.source.to_string(),
        ]);
        c
    };
    let header: &[&str] = if show_broker {
        &["BROKER", "NAME", "VALUE", "SOURCE"]
    } else {
        &["NAME", "VALUE", "SOURCE"]
    };
    match args.output {
        TableOutput::Json => print_json(&mut out, &rows)?,
        TableOutput::Table => print_table(&mut out, header, rows.iter().map(cells).collect())?,
        TableOutput::Plain => {
            for r in &rows {
                writeln!(out, "{}", cells(r).join("\t"))?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

pub fn alter(args: BrokersAlterConfigsArgs) -> anyhow::Result<()> {
    if args.configs.is_empty() && args.delete_configs.is_empty() {
        return Err(
            UsageError::with_hint("nothing to change", "Give --config or --delete-config").into(),
        );
    }
    let scope = args
        .id
        .map_or(BrokerScope::ClusterDefault, BrokerScope::Broker);
    let client = super::connect(&args.connect)?;
    let admin = client.admin();
    client.run(admin.alter_broker_configs(
        scope,
        args.configs,
        args.delete_configs,
        args.validate_only,
    ))?;
    if args.validate_only {
        eprintln!("the change is valid; nothing was changed (--validate-only)");
    }
    Ok(())
}
