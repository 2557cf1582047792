//! Where `-b/--bootstrap-server` and `--output` get their values, in one
//! place. Highest first:
//!
//! 1. the flag on the command line,
//! 2. in the REPL, `connect HOST:PORT` (or `strom repl -b`),
//! 3. the environment (`STROM_BOOTSTRAP_SERVER`, `STROM_OUTPUT`),
//! 4. the selected profile in `$XDG_CONFIG_HOME/strom/config.toml`,
//! 5. the built-in default.
//!
//! Levels 2 to 4 are applied by rewriting the parsed command's clap
//! defaults and parsing again, so every command (present and future) gets
//! them without knowing profiles exist, and clap still reports which level
//! won through `ValueSource`.
use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use clap::parser::ValueSource;
use clap::{ArgMatches, FromArgMatches};
use serde::{Deserialize, Serialize};

use super::Cli;
use crate::client::DEFAULT_BOOTSTRAP;
use crate::commands::UsageError;

pub const BOOTSTRAP_ID: &str = "bootstrap_server";
pub const OUTPUT_ID: &str = "output";
pub const BOOTSTRAP_ENV: &str = "STROM_BOOTSTRAP_SERVER";
pub const OUTPUT_ENV: &str = "STROM_OUTPUT";
pub const PROFILE_ENV: &str = "STROM_PROFILE";
const OUTPUT_VALUES: [&str; 3] = ["plain", "table", "json"];

/// What a REPL session adds on top of each line's own flags.
#[derive(Debug, Default, Clone)]
pub struct Session {
    /// From `connect HOST:PORT` or `strom repl -b`.
    pub bootstrap: Option<String>,
    /// From `strom --profile NAME` when the REPL started.
    pub profile: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ConfigFile {
    default_profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Profile {
    bootstrap_server: Option<String>,
    output: Option<String>,
}

/// Which level a setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag,
    Repl,
    Env(&'static str),
    Profile(String),
    /// The config file's `default-profile`.
    ConfigDefault,
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag => f.write_str("flag"),
            Source::Repl => f.write_str("repl connect"),
            Source::Env(name) => write!(f, "env {name}"),
            Source::Profile(name) => write!(f, "profile {name}"),
            Source::ConfigDefault => f.write_str("config default-profile"),
            Source::Default => f.write_str("default"),
        }
    }
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Setting {
    /// None: not set at any level (a profile only).
    pub value: Option<String>,
    pub source: Source,
}

/// The effective settings of one parsed command line.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub config_file: PathBuf,
    pub config_found: bool,
    pub profile: Setting,
    pub bootstrap_server: Setting,
    pub output: Setting,
}

/// Why a command line could not be turned into a [`Cli`].
pub enum ParseError {
    /// Bad flags, or `--help`/`--version`: clap prints it.
    Clap(clap::Error),
    /// A bad config file or profile (a usage error).
    Config(anyhow::Error),
}

impl From<clap::Error> for ParseError {
    fn from(e: clap::Error) -> Self {
        ParseError::Clap(e)
    }
}

/// `$XDG_CONFIG_HOME/strom/config.toml`, else `~/.config/strom/config.toml`.
pub fn config_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from(".config"));
    base.join("strom").join("config.toml")
}

fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn load(path: &PathBuf) -> anyhow::Result<Option<ConfigFile>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(UsageError::with_hint(
                format!("cannot read {}: {e}", path.display()),
                "Fix its permissions or remove it",
            )
            .into())
        }
    };
    toml::from_str(&text).map(Some).map_err(|e| {
        let why = e.message().to_string();
        UsageError::with_hint(
            format!("invalid config file {}: {why}", path.display()),
            "See `strom config show --help` for the format",
        )
        .into()
    })
}

fn check_output(value: &str, origin: &str) -> anyhow::Result<()> {
    if OUTPUT_VALUES.contains(&value) {
        return Ok(());
    }
    Err(UsageError::new(format!(
        "{origin} sets output to {value:?}; expected plain, table or json"
    ))
    .into())
}

/// The selected profile (name, where the name came from, its settings).
struct Selected {
    name: Option<(String, Source)>,
    profile: Profile,
    found: bool,
}

fn select(flag: Option<String>, session: &Session, path: &PathBuf) -> anyhow::Result<Selected> {
    let file = load(path)?;
    let found = file.is_some();
    let file = file.unwrap_or_default();
    let name = flag
        .map(|n| (n, Source::Flag))
        .or_else(|| session.profile.clone().map(|n| (n, Source::Repl)))
        .or_else(|| env_value(PROFILE_ENV).map(|n| (n, Source::Env(PROFILE_ENV))))
        .or_else(|| {
            file.default_profile
                .clone()
                .map(|n| (n, Source::ConfigDefault))
        });
    let profile = match &name {
        None => Profile::default(),
        Some((n, _)) => file.profiles.get(n).cloned().ok_or_else(|| {
            let where_ = if found {
                format!("in {}", path.display())
            } else {
                format!("({} does not exist)", path.display())
            };
            UsageError::with_hint(
                format!("profile {n:?} is not defined {where_}"),
                "Add a [profiles.NAME] table there or choose another --profile",
            )
        })?,
    };
    if let (Some(o), Some((n, _))) = (&profile.output, &name) {
        check_output(o, &format!("profile {n}"))?;
    }
    Ok(Selected {
        name,
        profile,
        found,
    })
}

/// clap wants `'static` defaults; each distinct value is leaked once.
fn intern(s: &str) -> &'static str {
    static SEEN: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(v) = seen.get(s) {
        return v;
    }
    let v: &'static str = Box::leak(s.to_owned().into_boxed_str());
    seen.insert(v);
    v
}

/// Names of the chosen subcommands, outermost first, and the innermost matches.
fn leaf(matches: &ArgMatches) -> (Vec<String>, &ArgMatches) {
    let mut path = Vec::new();
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        path.push(name.to_string());
        m = sub;
    }
    (path, m)
}

fn find_command<'a>(root: &'a clap::Command, path: &[String]) -> Option<&'a clap::Command> {
    path.iter()
        .try_fold(root, |cmd, name| cmd.find_subcommand(name))
}

fn arg<'a>(cmd: &'a clap::Command, id: &str) -> Option<&'a clap::Arg> {
    cmd.get_arguments().find(|a| a.get_id() == id)
}

fn source_of(cmd: &clap::Command, m: &ArgMatches, id: &str) -> Option<ValueSource> {
    arg(cmd, id).and_then(|_| m.value_source(id))
}

/// Applies `f` to the command at `path`.
fn edit_at(
    cmd: clap::Command,
    path: &[String],
    f: &dyn Fn(clap::Command) -> clap::Command,
) -> clap::Command {
    match path.split_first() {
        None => f(cmd),
        Some((first, rest)) => cmd.mut_subcommand(first, |c| edit_at(c, rest, f)),
    }
}

/// Parses a full argv (with `strom` first) and applies the precedence.
pub fn parse(argv: Vec<OsString>, session: &Session) -> Result<(Cli, Settings), ParseError> {
    let root = super::command();
    let matches = root.clone().try_get_matches_from(argv.clone())?;
    let (path, leaf_m) = leaf(&matches);
    let Some(leaf_cmd) = find_command(&root, &path) else {
        return Ok((Cli::from_arg_matches(&matches)?, plain_settings()));
    };
    let has_bootstrap = arg(leaf_cmd, BOOTSTRAP_ID).is_some();
    let output_arg = arg(leaf_cmd, OUTPUT_ID);
    if !has_bootstrap && output_arg.is_none() {
        // Nothing here depends on settings (serve, generate): leave a broken
        // config file alone.
        return Ok((Cli::from_arg_matches(&matches)?, plain_settings()));
    }

    let path_file = config_path();
    let flag_profile = match leaf_m.value_source("profile") {
        Some(ValueSource::CommandLine) => leaf_m.get_one::<String>("profile").cloned(),
        _ => None,
    };
    let selected = select(flag_profile, session, &path_file).map_err(ParseError::Config)?;
    let profile_name = selected.name.as_ref().map(|(n, _)| n.clone());

    // Level 2-4 default for -b. A `connect` must beat the environment, so it
    // also switches the env lookup off.
    let bootstrap_default: Option<(&'static str, Source, bool)> = match &session.bootstrap {
        Some(b) => Some((intern(b), Source::Repl, true)),
        None => selected
            .profile
            .bootstrap_server
            .as_deref()
            .zip(profile_name.clone())
            .map(|(b, n)| (intern(b), Source::Profile(n), false)),
    };

    // --output: the env var, then the profile, each only if this command
    // accepts that value, and never when -f/--property chose the layout.
    let env_output = env_value(OUTPUT_ENV);
    if let Some(o) = &env_output {
        check_output(o, OUTPUT_ENV).map_err(ParseError::Config)?;
    }
    let layout_chosen = ["format", "properties"]
        .iter()
        .any(|id| source_of(leaf_cmd, leaf_m, id) == Some(ValueSource::CommandLine));
    let accepts = |v: &str| {
        output_arg.is_some_and(|a| a.get_possible_values().iter().any(|p| p.matches(v, false)))
    };
    let output_default: Option<(&'static str, Source)> = if layout_chosen {
        None
    } else {
        env_output
            .as_deref()
            .filter(|v| accepts(v))
            .map(|v| (intern(v), Source::Env(OUTPUT_ENV)))
            .or_else(|| {
                selected
                    .profile
                    .output
                    .as_deref()
                    .filter(|v| accepts(v))
                    .zip(profile_name.clone())
                    .map(|(v, n)| (intern(v), Source::Profile(n)))
            })
    };

    let (cli, final_m) = if bootstrap_default.is_none() && output_default.is_none() {
        (Cli::from_arg_matches(&matches)?, matches.clone())
    } else {
        let bd = bootstrap_default.clone();
        let od = output_default.clone();
        let adjusted = edit_at(root.clone(), &path, &move |c| {
            let mut c = c;
            if let Some((value, _, no_env)) = bd.clone() {
                c = c.mut_arg(BOOTSTRAP_ID, |a| {
                    let a = a.default_value(value);
                    if no_env {
                        a.env(None::<&'static str>)
                    } else {
                        a
                    }
                });
            }
            if let Some((value, _)) = od.clone() {
                c = c.mut_arg(OUTPUT_ID, |a| a.default_value(value));
            }
            c
        });
        let m = adjusted.try_get_matches_from(argv)?;
        (Cli::from_arg_matches(&m)?, m)
    };

    let (_, final_leaf) = leaf(&final_m);
    let bootstrap_server = if has_bootstrap {
        let value = final_leaf.get_one::<String>(BOOTSTRAP_ID).cloned();
        let source = match final_leaf.value_source(BOOTSTRAP_ID) {
            Some(ValueSource::CommandLine) => Source::Flag,
            Some(ValueSource::EnvVariable) => Source::Env(BOOTSTRAP_ENV),
            _ => bootstrap_default
                .map(|(_, s, _)| s)
                .unwrap_or(Source::Default),
        };
        Setting { value, source }
    } else {
        default_bootstrap()
    };
    let output = match output_arg {
        Some(_) => Setting {
            value: final_leaf
                .get_raw(OUTPUT_ID)
                .and_then(|mut v| v.next())
                .map(|v| v.to_string_lossy().into_owned()),
            source: match final_leaf.value_source(OUTPUT_ID) {
                Some(ValueSource::CommandLine) => Source::Flag,
                _ => output_default.map(|(_, s)| s).unwrap_or(Source::Default),
            },
        },
        None => Setting {
            value: None,
            source: Source::Default,
        },
    };
    let profile = match selected.name {
        Some((n, s)) => Setting {
            value: Some(n),
            source: s,
        },
        None => Setting {
            value: None,
            source: Source::Default,
        },
    };
    Ok((
        cli,
        Settings {
            config_file: path_file,
            config_found: selected.found,
            profile,
            bootstrap_server,
            output,
        },
    ))
}

fn default_bootstrap() -> Setting {
    Setting {
        value: Some(DEFAULT_BOOTSTRAP.to_string()),
        source: Source::Default,
    }
}

fn plain_settings() -> Settings {
    Settings {
        config_file: config_path(),
        config_found: false,
        profile: Setting {
            value: None,
            source: Source::Default,
        },
        bootstrap_server: default_bootstrap(),
        output: Setting {
            value: None,
            source: Source::Default,
        },
    }
}

/// The broker a REPL line without -b would use (for Tab completion).
/// A broken config file counts as no profile here: completion never fails.
pub fn effective_bootstrap(session: &Session) -> String {
    if let Some(b) = &session.bootstrap {
        return b.clone();
    }
    if let Some(b) = env_value(BOOTSTRAP_ENV) {
        return b;
    }
    select(None, session, &config_path())
        .ok()
        .and_then(|s| s.profile.bootstrap_server)
        .unwrap_or_else(|| DEFAULT_BOOTSTRAP.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_format() {
        let f: ConfigFile = toml::from_str(
            "default-profile = \"a\"\n[profiles.a]\nbootstrap-server = \"h:1\"\noutput = \"json\"\n",
        )
        .unwrap();
        assert_eq!(f.default_profile.as_deref(), Some("a"));
        assert_eq!(f.profiles["a"].bootstrap_server.as_deref(), Some("h:1"));
        assert!(toml::from_str::<ConfigFile>("[profiles.a]\nbootstrap = \"x\"\n").is_err());
    }

    #[test]
    fn session_connect_beats_default_but_not_flag() {
        let s = Session {
            bootstrap: Some("repl:1".into()),
            profile: None,
        };
        let argv = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        let Ok((_, set)) = parse(argv(&["strom", "topics", "list"]), &s) else {
            panic!("parse failed")
        };
        assert_eq!(set.bootstrap_server.value.as_deref(), Some("repl:1"));
        assert_eq!(set.bootstrap_server.source, Source::Repl);
        let Ok((_, set)) = parse(argv(&["strom", "topics", "list", "-b", "f:2"]), &s) else {
            panic!("parse failed")
        };
        assert_eq!(set.bootstrap_server.value.as_deref(), Some("f:2"));
        assert_eq!(set.bootstrap_server.source, Source::Flag);
    }
}
