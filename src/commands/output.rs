//! Shared output helpers: a buffered stdout that treats a closed pipe as a
//! normal end, and the plain/table/JSON renderers.
use std::io::{self, BufWriter, IsTerminal, StdoutLock, Write};

use serde::Serialize;

/// Buffered stdout. Write errors propagate as `io::Error`, so a closed
/// pipe (`| head`) surfaces as `BrokenPipe` and `cli` exits 0 quietly.
/// (Rust ignores SIGPIPE, so the write fails instead of killing us before
/// we can print a summary.)
pub fn stdout() -> BufWriter<StdoutLock<'static>> {
    BufWriter::with_capacity(64 * 1024, io::stdout().lock())
}

pub fn stdout_is_tty() -> bool {
    io::stdout().is_terminal()
}

/// Whether stdout is a pipe whose reader has gone (`| head` exited). A
/// writer learns that only on its next write, which for a consumer waiting
/// on a quiet topic may be never; this asks the kernel without writing.
pub fn stdout_closed() -> bool {
    let mut pfd = libc::pollfd {
        fd: libc::STDOUT_FILENO,
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd, count 1, no wait.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n > 0 && pfd.revents & (libc::POLLERR | libc::POLLHUP) != 0
}

/// Writes all of `buf`, returning how many bytes went out before an error,
/// so a caller can tell which records reached the reader.
pub fn write_counted(out: &mut impl Write, buf: &[u8]) -> (usize, io::Result<()>) {
    let mut pos = 0;
    while pos < buf.len() {
        match out.write(&buf[pos..]) {
            Ok(0) => return (pos, Err(io::ErrorKind::WriteZero.into())),
            Ok(n) => pos += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (pos, Err(e)),
        }
    }
    (pos, out.flush())
}

/// True when the error (anywhere in its chain) is a closed output pipe.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Prints any serialisable value as pretty JSON plus newline.
pub fn print_json<T: Serialize>(out: &mut impl Write, value: &T) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Prints rows as an aligned table with a header.
pub fn print_table(
    out: &mut impl Write,
    header: &[&str],
    rows: Vec<Vec<String>>,
) -> anyhow::Result<()> {
    let mut b = tabled::builder::Builder::default();
    b.push_record(header.iter().map(|h| h.to_string()));
    for r in rows {
        b.push_record(r);
    }
    let mut table = b.build();
    table.with(tabled::settings::Style::sharp());
    writeln!(out, "{table}")?;
    Ok(())
}
