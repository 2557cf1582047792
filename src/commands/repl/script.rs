//! Script mode: stdin is not a terminal, so each line of it is a command.
//! No prompt, no colour. A failing line is reported as `error: line N:
//! ...` and the script goes on (like a shell without `set -e`, so one bad
//! line does not hide the results of the rest); the exit status is 1 when
//! any line failed. Ctrl-C stops the running command and the script.
use std::io::{self, BufRead, Write};

use anyhow::Context;

use super::{fail, words, Shell, Step};
use crate::commands::interrupt::{self, Mode, EXIT_INTERRUPTED};

pub fn run(mut shell: Shell) -> anyhow::Result<()> {
    interrupt::install(Mode::Script).context("cannot catch Ctrl-C")?;
    let stdin = io::stdin();
    let mut buf = Vec::with_capacity(256);
    let (mut line_no, mut ran, mut failed) = (0u64, 0u64, 0u64);
    loop {
        buf.clear();
        // Locked per line only: a command may need stdin's lock meanwhile.
        let n = stdin
            .lock()
            .read_until(b'\n', &mut buf)
            .context("cannot read the script from stdin")?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let context = format!("line {line_no}");
        let words = match std::str::from_utf8(&buf)
            .map_err(|_| "not valid UTF-8".to_string())
            .and_then(words::split)
        {
            Ok(w) => w,
            Err(e) => {
                fail(Some(&context), &e);
                ran += 1;
                failed += 1;
                continue;
            }
        };
        if words.is_empty() {
            continue;
        }
        ran += 1;
        match shell.execute(words, Some(&context)) {
            Step::Exit => break,
            Step::Done(0) => {}
            Step::Done(_) => failed += 1,
        }
        if interrupt::take_interrupted() {
            let _ = io::stdout().lock().flush();
            let _ = writeln!(io::stderr().lock(), "strom: interrupted at line {line_no}");
            std::process::exit(EXIT_INTERRUPTED);
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {ran} script lines failed");
    }
    Ok(())
}
