//! `strom brokers list|describe`: the brokers the metadata names, each
//! asked about itself (DescribeBroker), so a broker that is named but does
//! not answer shows up as unreachable.
use std::io::Write;

use serde::Serialize;

use super::output::{print_json, print_table, stdout};
use crate::cli::args::TableOutput;
use crate::cli::brokers_args::{BrokersCommand, BrokersDescribeArgs, BrokersListArgs};
use crate::client::blocking::BlockingClient;
use crate::client::ClientError;
use crate::proto::messages::broker_info::DescribeBrokerResponse;

/// Below this share of free disk a broker is reported as low on disk.
const LOW_DISK_SHARE: f64 = 0.05;

pub fn run(command: BrokersCommand) -> anyhow::Result<()> {
    match command {
        BrokersCommand::List(a) => list(a),
        BrokersCommand::Describe(a) => describe(a),
        BrokersCommand::Configs(a) => super::broker_configs::describe(a),
        BrokersCommand::AlterConfigs(a) => super::broker_configs::alter(a),
    }
}

#[derive(Debug, Serialize)]
struct BrokerView {
    id: i32,
    address: String,
    controller: bool,
    health: &'static str,
    /// Why it is not healthy, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    version: Option<String>,
    uptime_ms: Option<i64>,
    listener: Option<String>,
    kafka_listener: Option<String>,
    controller_listener: Option<String>,
    rack: Option<String>,
    clustered: Option<bool>,
    data_dir: Option<String>,
    disk_total_bytes: Option<i64>,
    disk_free_bytes: Option<i64>,
    partitions: Option<i32>,
    leaders: Option<i32>,
}

impl BrokerView {
    fn new(id: i32, address: String, controller: bool) -> BrokerView {
        BrokerView {
            id,
            address,
            controller,
            health: "unreachable",
            error: None,
            version: None,
            uptime_ms: None,
            listener: None,
            kafka_listener: None,
            controller_listener: None,
            rack: None,
            clustered: None,
            data_dir: None,
            disk_total_bytes: None,
            disk_free_bytes: None,
            partitions: None,
            leaders: None,
        }
    }

    fn answered(&mut self, d: DescribeBrokerResponse) {
        let low_disk = d.disk_total_bytes > 0
            && (d.disk_free_bytes as f64) < d.disk_total_bytes as f64 * LOW_DISK_SHARE;
        self.health = if low_disk { "low-disk" } else { "ok" };
        self.version = Some(d.version);
        self.uptime_ms = Some(d.uptime_ms);
        self.listener = Some(d.listener);
        self.kafka_listener = d.kafka_listener;
        self.controller_listener = d.controller_listener;
        self.rack = d.rack;
        self.clustered = Some(d.clustered);
        self.data_dir = Some(d.data_dir);
        self.disk_total_bytes = Some(d.disk_total_bytes);
        self.disk_free_bytes = Some(d.disk_free_bytes);
        self.partitions = Some(d.partitions);
        self.leaders = Some(d.leaders);
    }
}

/// Every broker of the metadata (or those in `only`), each asked directly.
fn gather(client: &BlockingClient, only: &[i32]) -> anyhow::Result<Vec<BrokerView>> {
    let md = client.run(client.client().fetch_metadata(Some(Vec::new()), false))?;
    let mut brokers: Vec<_> = md
        .brokers
        .iter()
        .filter(|b| only.is_empty() || only.contains(&b.node_id))
        .collect();
    brokers.sort_by_key(|b| b.node_id);
    if let Some(missing) = only
        .iter()
        .find(|id| !md.brokers.iter().any(|b| b.node_id == **id))
    {
        anyhow::bail!("no broker with id {missing} in the cluster's metadata");
    }
    let admin = client.admin();
    let mut views = Vec::with_capacity(brokers.len());
    for b in brokers {
        let mut v = BrokerView::new(
            b.node_id,
            format!("{}:{}", b.host, b.port),
            b.node_id == md.controller_id,
        );
        match client.run(admin.describe_broker(b.node_id)) {
            Ok(d) => v.answered(d),
            Err(e) => {
                // Answering, but not this question (an older strom, an error).
                if !matches!(
                    e,
                    ClientError::Unreachable { .. }
                        | ClientError::Disconnected { .. }
                        | ClientError::Timeout { .. }
                ) {
                    v.health = "error";
                }
                v.error = Some(e.to_string());
            }
        }
        views.push(v);
    }
    Ok(views)
}

fn or_dash<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "-".to_string(), T::to_string)
}

/// `1d 2h`, `3h 4m`, `5m 6s` or `7s`.
fn uptime(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "-".into();
    };
    let s = ms / 1000;
    let (d, h, m) = (s / 86_400, s / 3600 % 24, s / 60 % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m {}s", s % 60),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

fn gib(bytes: Option<i64>) -> String {
    bytes.filter(|b| *b >= 0).map_or_else(
        || "-".into(),
        |b| format!("{:.1} GiB", b as f64 / 1024f64.powi(3)),
    )
}

fn list(args: BrokersListArgs) -> anyhow::Result<()> {
    let client = super::connect(&args.connect)?;
    let views = gather(&client, &[])?;
    let mut out = stdout();
    let rows: Vec<Vec<String>> = views
        .iter()
        .map(|v| {
            vec![
                format!("{}{}", v.id, if v.controller { "*" } else { "" }),
                v.address.clone(),
                or_dash(&v.version),
                uptime(v.uptime_ms),
                v.health.to_string(),
            ]
        })
        .collect();
    let header = ["ID", "ADDRESS", "VERSION", "UPTIME", "HEALTH"];
    match args.output {
        TableOutput::Json => print_json(&mut out, &views)?,
        TableOutput::Table => print_table(&mut out, &header, rows)?,
        TableOutput::Plain => {
            writeln!(
                out,
                "{:<6} {:<22} {:<10} {:<10} HEALTH",
                "ID", "ADDRESS", "VERSION", "UPTIME"
            )?;
            for r in rows {
                writeln!(
                    out,
                    "{:<6} {:<22} {:<10} {:<10} {}",
                    r[0], r[1], r[2], r[3], r[4]
                )?;
            }
        }
    }
    out.flush()?;
    if views.iter().any(|v| v.health == "unreachable") {
        // The table is the answer; the exit status says it is not all well.
        anyhow::bail!("some brokers do not answer (HEALTH unreachable)");
    }
    Ok(())
}

fn describe(args: BrokersDescribeArgs) -> anyhow::Result<()> {
    let client = super::connect(&args.connect)?;
    let views = gather(&client, &args.id)?;
    let mut out = stdout();
    match args.output {
        TableOutput::Json => print_json(&mut out, &views)?,
        TableOutput::Plain | TableOutput::Table => {
            for (i, v) in views.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                let fields: [(&str, String); 14] = [
                    ("id", v.id.to_string()),
                    ("address", v.address.clone()),
                    ("controller", v.controller.to_string()),
                    ("health", v.health.to_string()),
                    ("version", or_dash(&v.version)),
                    ("uptime", uptime(v.uptime_ms)),
                    ("listener", or_dash(&v.listener)),
                    ("kafka listener", or_dash(&v.kafka_listener)),
                    ("controller listener", or_dash(&v.controller_listener)),
                    ("rack", or_dash(&v.rack)),
                    ("data dir", or_dash(&v.data_dir)),
                    (
                        "disk free",
                        format!("{} of {}", gib(v.disk_free_bytes), gib(v.disk_total_bytes)),
                    ),
                    ("partitions", or_dash(&v.partitions)),
                    ("leaders", or_dash(&v.leaders)),
                ];
                for (k, val) in fields {
                    writeln!(out, "{:<20} {val}", format!("{k}:"))?;
                }
                if let Some(e) = &v.error {
                    writeln!(out, "{:<20} {e}", "error:")?;
                }
            }
        }
    }
    out.flush()?;
    Ok(())
}
