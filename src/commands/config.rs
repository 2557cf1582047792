//! `strom config show`: the effective client settings and the level each
//! came from (see `cli::profile` for the precedence).
use std::io::Write;

use super::output::{print_json, print_table, stdout};
use crate::cli::args::{ConfigShowArgs, TableOutput};
use crate::cli::profile::{Setting, Settings};

fn value(s: &Setting) -> String {
    s.value.clone().unwrap_or_else(|| "-".into())
}

fn rows(settings: &Settings) -> Vec<Vec<String>> {
    let file_state = if settings.config_found {
        "found"
    } else {
        "not found"
    };
    vec![
        vec![
            "bootstrap-server".into(),
            value(&settings.bootstrap_server),
            settings.bootstrap_server.source.to_string(),
        ],
        vec![
            "output".into(),
            value(&settings.output),
            settings.output.source.to_string(),
        ],
        vec![
            "profile".into(),
            value(&settings.profile),
            settings.profile.source.to_string(),
        ],
        vec![
            "config-file".into(),
            settings.config_file.display().to_string(),
            file_state.into(),
        ],
    ]
}

pub fn show(args: ConfigShowArgs, settings: &Settings) -> anyhow::Result<()> {
    let mut out = stdout();
    match args.output {
        TableOutput::Plain => {
            for r in rows(settings) {
                writeln!(out, "{}={} ({})", r[0], r[1], r[2])?;
            }
        }
        TableOutput::Table => {
            print_table(&mut out, &["SETTING", "VALUE", "SOURCE"], rows(settings))?
        }
        TableOutput::Json => print_json(&mut out, settings)?,
    }
    out.flush()?;
    Ok(())
}
