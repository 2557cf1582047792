//! Flags of `strom groups`, kept beside `args.rs` (which names the command)
//! so the consumer-group tool reads as one unit. Flag names follow
//! kafka-consumer-groups.
use std::path::PathBuf;

use clap::{ArgGroup, Args, Subcommand};

use super::args::{ConnectArgs, TableOutput};

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List consumer groups, one per line
    List(GroupsListArgs),
    /// Show a group's committed offsets and lag, its members (--members) or
    /// its state (--state)
    #[command(
        after_help = "Examples:\n  strom groups describe --group billing\n  strom groups describe --all-groups --members\n  strom groups describe --group billing --state --output json"
    )]
    Describe(GroupsDescribeArgs),
    /// Move a group's committed offsets (a dry run unless --execute)
    ResetOffsets(GroupsResetArgs),
    /// Delete consumer groups that have no active members
    Delete(GroupsDeleteArgs),
    /// Delete a group's committed offsets of some topics or partitions
    DeleteOffsets(GroupsDeleteOffsetsArgs),
}

#[derive(Debug, Args)]
#[command(after_long_help = "\
--state alone adds a STATE column; with state names (comma-separated or repeated, any case) \
only groups in those states are listed. States: Stable, Empty, PreparingRebalance, \
CompletingRebalance, Dead.

Examples:
  strom groups list
  strom groups list --state
  strom groups list --state stable,empty")]
pub struct GroupsListArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Show GROUP and STATE; with STATEs, only groups in those states
    #[arg(
        long,
        num_args = 0..,
        value_delimiter = ',',
        value_name = "STATE",
        value_parser = group_state
    )]
    pub state: Option<Vec<&'static str>>,
    #[arg(long, value_enum, default_value_t)]
    pub output: TableOutput,
}

/// The classic group protocol's states, as ListGroups names them.
pub const GROUP_STATES: [&str; 5] = [
    "Stable",
    "Empty",
    "PreparingRebalance",
    "CompletingRebalance",
    "Dead",
];

/// A group state name in any case → its canonical spelling.
pub fn group_state(s: &str) -> Result<&'static str, String> {
    GROUP_STATES
        .into_iter()
        .find(|g| g.eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| {
            format!(
                "unknown group state {s:?}; the states are {}",
                GROUP_STATES.join(", ")
            )
        })
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["group", "all_groups"])))]
pub struct GroupsDescribeArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Group to describe (repeatable)
    #[arg(long, value_name = "GROUP")]
    pub group: Vec<String>,
    /// Describe every group
    #[arg(long)]
    pub all_groups: bool,
    /// Show members: GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS
    #[arg(long, conflicts_with = "state")]
    pub members: bool,
    /// Show state: GROUP COORDINATOR (ID) ASSIGNMENT-STRATEGY STATE #MEMBERS
    #[arg(long)]
    pub state: bool,
    #[arg(long, value_enum, default_value_t)]
    pub output: TableOutput,
}

#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("scope").required(true).args(["topic", "all_topics", "from_file"])),
    group(ArgGroup::new("spec").required(true).args([
        "to_earliest", "to_latest", "to_current", "to_offset", "shift_by", "to_datetime",
        "by_duration", "from_file"
    ])),
    after_long_help = RESET_HELP
)]
pub struct GroupsResetArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Group whose offsets to move
    #[arg(long, value_name = "GROUP")]
    pub group: String,
    /// Topic, or topic:P,P,... for some partitions (repeatable)
    #[arg(long, value_name = "TOPIC[:P,...]", value_parser = topic_partitions)]
    pub topic: Vec<(String, Option<Vec<i32>>)>,
    /// Every topic the group has committed offsets for
    #[arg(long)]
    pub all_topics: bool,
    /// To the oldest offset still in the log
    #[arg(long)]
    pub to_earliest: bool,
    /// To the end of the log
    #[arg(long)]
    pub to_latest: bool,
    /// To the committed offset (unchanged); the end of the log where nothing is committed
    #[arg(long)]
    pub to_current: bool,
    /// To this offset
    #[arg(long, value_name = "N")]
    pub to_offset: Option<i64>,
    /// Move the committed offset by N (negative moves back)
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub shift_by: Option<i64>,
    /// To the first record at or after this UTC time, YYYY-MM-DDTHH:mm:SS.sss
    #[arg(long, value_name = "DATETIME", value_parser = datetime_ms)]
    pub to_datetime: Option<i64>,
    /// To the first record at or after now minus this ISO-8601 duration, PnDTnHnMnS
    #[arg(long, value_name = "DURATION", value_parser = iso_duration_ms)]
    pub by_duration: Option<i64>,
    /// The plan from a CSV file of topic,partition,offset lines (what --export writes)
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<PathBuf>,
    /// Only show the new offsets (the default)
    #[arg(long, conflicts_with = "execute")]
    pub dry_run: bool,
    /// Commit the new offsets
    #[arg(long)]
    pub execute: bool,
    /// Print the plan as CSV topic,partition,offset lines (for --from-file) instead of a table
    #[arg(long, conflicts_with = "output")]
    pub export: bool,
    #[arg(long, value_enum, default_value_t)]
    pub output: TableOutput,
}

const RESET_HELP: &str = "\
Only a group without active members can be reset. Without --execute this is a dry run: \
the plan is printed and stderr says that nothing was changed. --to-offset, --shift-by and \
--from-file offsets outside a partition's earliest..latest range are clamped to it, with a \
warning on stderr naming the partition, the asked and the used offset. --to-datetime is UTC; \
it and --by-duration pick the first record at or after that time (the end of the partition \
if there is none). --from-file takes the partitions from the file, not from --topic.

Examples:
  strom groups reset-offsets --group billing --topic orders --to-earliest
  strom groups reset-offsets --group billing --topic orders:0,2 --shift-by -100 --execute
  strom groups reset-offsets --group billing --all-topics --by-duration PT1H30M --execute
  strom groups reset-offsets --group billing --all-topics --to-current --export > plan.csv
  strom groups reset-offsets --group billing --from-file plan.csv --execute";

#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("which").required(true).args(["group", "all_groups"])),
    after_long_help = "\
A group with active members cannot be deleted. Every group is tried; the ones that could \
not be deleted are named with the reason, and the exit status is then 1.

Examples:
  strom groups delete --group billing
  strom groups delete --group billing --group audit
  strom groups delete --all-groups"
)]
pub struct GroupsDeleteArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Group to delete (repeatable)
    #[arg(long, value_name = "GROUP")]
    pub group: Vec<String>,
    /// Delete every group (those with active members are reported, not deleted)
    #[arg(long)]
    pub all_groups: bool,
}

#[derive(Debug, Args)]
#[command(after_long_help = "\
Offsets of a topic that the group's active members subscribe to are kept (GROUP_SUBSCRIBED_TO_TOPIC); \
stop the consumers first, or delete the offsets of topics they no longer read. A group with members \
of another protocol than consumer is refused whole. One line per partition says what happened; \
the exit status is 1 if any partition failed.

Examples:
  strom groups delete-offsets --group billing --topic orders
  strom groups delete-offsets --group billing --topic orders:0,2 --topic refunds")]
pub struct GroupsDeleteOffsetsArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// The group whose offsets go
    #[arg(long, value_name = "GROUP", required = true)]
    pub group: String,
    /// TOPIC (every partition) or TOPIC:P,P (those partitions); repeatable
    #[arg(long, value_name = "TOPIC[:PARTITIONS]", required = true, value_parser = topic_partitions)]
    pub topic: Vec<(String, Option<Vec<i32>>)>,
    #[arg(long, value_enum, default_value_t)]
    pub output: TableOutput,
}

/// `topic` or `topic:0,2`.
pub fn topic_partitions(s: &str) -> Result<(String, Option<Vec<i32>>), String> {
    let (topic, parts) = match s.split_once(':') {
        None => (s, None),
        Some((t, p)) => (t, Some(p)),
    };
    let topic = super::args::topic_name(topic)?;
    let parts = match parts {
        None => None,
        Some(p) => {
            let mut v = Vec::new();
            for n in p.split(',') {
                match n.trim().parse::<i32>() {
                    Ok(n) if n >= 0 => v.push(n),
                    _ => return Err(format!("invalid partition {n:?} in {s:?}")),
                }
            }
            Some(v)
        }
    };
    Ok((topic, parts))
}

/// `YYYY-MM-DDTHH:mm:SS[.sss][Z]` in UTC → milliseconds since the epoch.
pub fn datetime_ms(s: &str) -> Result<i64, String> {
    let bad = || format!("expected YYYY-MM-DDTHH:mm:SS.sss (UTC), got {s:?}");
    let t = s.strip_suffix('Z').unwrap_or(s);
    let (date, time) = t.split_once('T').ok_or_else(bad)?;
    let num = |x: &str, len: usize| -> Result<i64, String> {
        if x.len() != len || !x.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        x.parse::<i64>().map_err(|_| bad())
    };
    let d: Vec<&str> = date.split('-').collect();
    let [y, mo, da] = d[..] else {
        return Err(bad());
    };
    let (y, mo, da) = (num(y, 4)?, num(mo, 2)?, num(da, 2)?);
    let (hms, frac) = match time.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (time, None),
    };
    let h: Vec<&str> = hms.split(':').collect();
    let [hh, mi, ss] = h[..] else {
        return Err(bad());
    };
    let (hh, mi, ss) = (num(hh, 2)?, num(mi, 2)?, num(ss, 2)?);
    let ms = match frac {
        None => 0,
        Some(f) => num(f, 3)?,
    };
    let days_in_month = [
        31,
        28 + i64::from(leap(y)),
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo)
        || da < 1
        || da > days_in_month[(mo - 1) as usize]
        || hh > 23
        || mi > 59
        || ss > 59
    {
        return Err(bad());
    }
    Ok(((days_from_civil(y, mo, da) * 24 + hh) * 60 + mi) * 60_000 + ss * 1000 + ms)
}

/// Kafka's `--by-duration`: an ISO-8601 duration as Java's `Duration.parse`
/// reads it, `PnDTnHnMn.nS` (case-insensitive; every part optional, at
/// least one given), → milliseconds. Negative durations (the future) are
/// refused.
pub fn iso_duration_ms(s: &str) -> Result<i64, String> {
    let bad = || {
        format!("expected an ISO-8601 duration PnDTnHnMnS (e.g. P1D, PT1H30M, PT0.5S), got {s:?}")
    };
    let upper = s.trim().to_ascii_uppercase();
    if upper.starts_with('-') {
        return Err(format!(
            "the duration {s:?} is negative: it must point into the past"
        ));
    }
    let rest = upper.strip_prefix('+').unwrap_or(&upper);
    let rest = rest.strip_prefix('P').ok_or_else(bad)?;
    let (days, time) = match rest.split_once('T') {
        Some((_, "")) => return Err(bad()),
        Some((d, t)) => (d, t),
        None => (rest, ""),
    };
    let mut ms: i64 = 0;
    let mut parts = 0;
    let mut add = |n: i64, unit_ms: i64| -> Result<(), String> {
        parts += 1;
        ms = n
            .checked_mul(unit_ms)
            .and_then(|v| ms.checked_add(v))
            .ok_or_else(|| format!("the duration {s:?} is too long"))?;
        Ok(())
    };
    let whole = |x: &str| -> Result<i64, String> {
        if x.is_empty() || !x.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        x.parse::<i64>()
            .map_err(|_| format!("the duration {s:?} is too long"))
    };
    if !days.is_empty() {
        let n = days.strip_suffix('D').ok_or_else(bad)?;
        add(whole(n)?, 86_400_000)?;
    }
    let mut t = time;
    for (unit, unit_ms) in [('H', 3_600_000), ('M', 60_000)] {
        if let Some(i) = t.find(unit) {
            add(whole(&t[..i])?, unit_ms)?;
            t = &t[i + 1..];
        }
    }
    if !t.is_empty() {
        let n = t.strip_suffix('S').ok_or_else(bad)?;
        let (secs, frac) = match n.split_once(['.', ',']) {
            Some((a, f)) if f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => (a, f),
            Some(_) => return Err(bad()),
            None => (n, ""),
        };
        add(whole(secs)?, 1000)?;
        // Milliseconds are the finest the broker's timestamps resolve.
        let frac_ms = format!("{frac:0<3}")[..3]
            .parse::<i64>()
            .map_err(|_| bad())?;
        ms = ms.checked_add(frac_ms).ok_or_else(bad)?;
    }
    if parts == 0 {
        return Err(bad());
    }
    Ok(ms)
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_are_utc_milliseconds() {
        assert_eq!(datetime_ms("1970-01-01T00:00:00.000"), Ok(0));
        assert_eq!(
            datetime_ms("2023-11-14T22:13:20.123"),
            Ok(1_700_000_000_123)
        );
        assert_eq!(datetime_ms("2000-02-29T00:00:00Z"), Ok(951_782_400_000));
        for bad in [
            "2023-02-29T00:00:00",
            "2023-11-14 22:13:20",
            "2023-1-14T00:00:00",
            "x",
        ] {
            assert!(datetime_ms(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn topic_partition_lists() {
        assert_eq!(topic_partitions("t"), Ok(("t".into(), None)));
        assert_eq!(
            topic_partitions("t:0,2"),
            Ok(("t".into(), Some(vec![0, 2])))
        );
        assert!(topic_partitions("t:x").is_err());
        assert!(topic_partitions("t:-1").is_err());
    }

    #[test]
    fn group_states_in_any_case() {
        assert_eq!(group_state("stable"), Ok("Stable"));
        assert_eq!(group_state("PREPARINGREBALANCE"), Ok("PreparingRebalance"));
        assert!(group_state("running").unwrap_err().contains("Empty"));
    }

    #[test]
    fn iso_durations_as_java_reads_them() {
        assert_eq!(iso_duration_ms("PT1H"), Ok(3_600_000));
        assert_eq!(iso_duration_ms("pt30m"), Ok(1_800_000));
        assert_eq!(iso_duration_ms("P1DT2H3M4.5S"), Ok(93_784_500));
        assert_eq!(iso_duration_ms("P2D"), Ok(172_800_000));
        assert_eq!(iso_duration_ms("PT0,25S"), Ok(250));
        assert_eq!(iso_duration_ms("PT10S"), Ok(10_000));
        for bad in [
            "", "P", "PT", "P1DT", "1H", "PT1", "PT5M1H", "P1W", "PT.5S", "PTxS",
        ] {
            assert!(iso_duration_ms(bad).is_err(), "{bad:?}");
        }
        assert!(iso_duration_ms("-PT1H").unwrap_err().contains("negative"));
    }
}
