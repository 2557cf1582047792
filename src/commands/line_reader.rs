//! Input lines for `produce` that never block past a stop request.
//!
//! `read_until` on stdin blocks until a newline arrives, so a producer fed
//! by `tail -f` could not notice SIGTERM or Ctrl-C until the next line, and
//! a reader thread would swallow the next line of the REPL after the
//! command ended. Instead, before each read this waits for input with
//! `poll(2)` in short slices and checks the stop signal in between; a read
//! only happens when data is ready, and takes whatever is there.
use std::io::{self, Read};
use std::os::fd::RawFd;

use crate::client::blocking::StopSignal;

/// How long one wait for input lasts before the stop signal is checked.
const WAIT_SLICE_MS: i32 = 100;

/// What [`LineReader::next_line`] found.
pub enum Next<'a> {
    /// One line, without its `\n` (or `\r\n`), and its 1-based number.
    Line(&'a [u8], u64),
    /// The input ended.
    Eof,
    /// The stop signal fired while waiting for input.
    Stopped,
}

pub struct LineReader<R> {
    inner: R,
    /// Waited on with poll(2) before each read; None reads at once (files).
    fd: Option<RawFd>,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    line_no: u64,
    bytes_read: u64,
}

impl<R: Read> LineReader<R> {
    pub fn new(inner: R, fd: Option<RawFd>) -> LineReader<R> {
        LineReader {
            inner,
            fd,
            buf: vec![0; 256 * 1024],
            start: 0,
            end: 0,
            eof: false,
            line_no: 0,
            bytes_read: 0,
        }
    }

    /// Bytes consumed from the input so far (for a progress bar).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Whether unconsumed input is buffered (an interactive prompt is due
    /// only when nothing is).
    pub fn has_buffered(&self) -> bool {
        self.start < self.end
    }

    pub fn next_line(&mut self, stop: Option<&StopSignal>) -> io::Result<Next<'_>> {
        // Bytes after `start` already known to hold no newline.
        let mut searched = 0;
        loop {
            let from = self.start + searched;
            if let Some(i) = self.buf[from..self.end].iter().position(|&b| b == b'\n') {
                let (s, nl) = (self.start, from + i);
                self.start = nl + 1;
                self.bytes_read += (nl + 1 - s) as u64;
                return Ok(self.line(s, nl));
            }
            searched = self.end - self.start;
            if self.eof {
                if self.start == self.end {
                    return Ok(Next::Eof);
                }
                // A last line without a newline.
                let (s, e) = (self.start, self.end);
                self.start = e;
                self.bytes_read += (e - s) as u64;
                return Ok(self.line(s, e));
            }
            if stop.is_some_and(StopSignal::is_set) {
                return Ok(Next::Stopped);
            }
            if let Some(fd) = self.fd {
                if !wait_readable(fd)? {
                    continue;
                }
            }
            self.make_room();
            let end = self.end;
            match self.inner.read(&mut self.buf[end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn line(&mut self, s: usize, mut e: usize) -> Next<'_> {
        if e > s && self.buf[e - 1] == b'\r' {
            e -= 1;
        }
        self.line_no += 1;
        Next::Line(&self.buf[s..e], self.line_no)
    }

    /// Moves the unconsumed bytes to the front, and grows the buffer when a
    /// single line fills it.
    fn make_room(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let len = self.buf.len();
            self.buf.resize(len * 2, 0);
        }
    }
}

/// Waits up to one slice for `fd` to become readable (or hung up, which a
/// read then reports as the end).
fn wait_readable(fd: RawFd) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, and its count is 1.
    let n = unsafe { libc::poll(&mut pfd, 1, WAIT_SLICE_MS) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(e)
        };
    }
    Ok(n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], cap: usize) -> Vec<(Vec<u8>, u64)> {
        let mut r = LineReader::new(input, None);
        r.buf = vec![0; cap];
        let mut out = Vec::new();
        loop {
            match r.next_line(None).unwrap() {
                Next::Line(l, n) => out.push((l.to_vec(), n)),
                Next::Eof => break,
                Next::Stopped => unreachable!(),
            }
        }
        assert_eq!(r.bytes_read(), input.len() as u64);
        out
    }

    #[test]
    fn splits_lines_across_reads_and_growth() {
        let input = b"a\r\nbbbbbbbbbb\n\nlast";
        for cap in [1, 2, 3, 7, 64] {
            let got = lines(input, cap);
            let want: Vec<(Vec<u8>, u64)> = vec![
                (b"a".to_vec(), 1),
                (b"bbbbbbbbbb".to_vec(), 2),
                (b"".to_vec(), 3),
                (b"last".to_vec(), 4),
            ];
            assert_eq!(got, want, "buffer of {cap}");
        }
    }

    #[test]
    fn stops_while_waiting() {
        let stop = StopSignal::default();
        stop.trigger();
        let (rd, _wr) = std::os::unix::net::UnixStream::pair().unwrap();
        use std::os::fd::AsRawFd;
        let fd = rd.as_raw_fd();
        let mut r = LineReader::new(rd, Some(fd));
        assert!(matches!(r.next_line(Some(&stop)).unwrap(), Next::Stopped));
    }
}
