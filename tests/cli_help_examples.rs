//! Every command a user can run (each leaf of the clap tree from
//! `strom::cli::command()`) shows examples in its `--help`, so nobody has
//! to guess an invocation. Fails naming each leaf without an
//! "Examples:" section in `after_help` or `after_long_help`.

/// Both `-h` (after_help, else after_long_help) and `--help` (the
/// reverse) must show an "Examples:" heading followed by a `strom` line.
fn has_examples(cmd: &clap::Command) -> bool {
    let short = cmd.get_after_help().or(cmd.get_after_long_help());
    let long = cmd.get_after_long_help().or(cmd.get_after_help());
    [short, long].into_iter().all(|text| {
        text.is_some_and(|text| {
            text.to_string()
                .split_once("Examples:")
                .is_some_and(|(_, rest)| rest.contains("strom "))
        })
    })
}

fn leaves_without_examples(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
    let subs: Vec<&clap::Command> = cmd
        .get_subcommands()
        // Hidden commands (benchmark baselines) are not for users.
        .filter(|c| c.get_name() != "help" && !c.is_hide_set())
        .collect();
    if subs.is_empty() {
        if !has_examples(cmd) {
            out.push(path.to_string());
        }
        return;
    }
    for sub in subs {
        leaves_without_examples(sub, &format!("{path} {}", sub.get_name()), out);
    }
}

#[test]
fn every_leaf_command_has_examples() {
    let root = strom::cli::command();
    let mut missing = Vec::new();
    leaves_without_examples(&root, "strom", &mut missing);
    assert!(
        missing.is_empty(),
        "commands without an Examples section in --help: {missing:#?}"
    );
}

#[test]
fn the_walk_sees_every_top_level_command() {
    // Guards the walk itself: if it stopped descending, the test above
    // would pass vacuously.
    let root = strom::cli::command();
    let names: Vec<&str> = root.get_subcommands().map(|c| c.get_name()).collect();
    for expected in ["topics", "groups", "produce", "consume", "serve", "repl"] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
}
