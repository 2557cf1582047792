//! Zero-copy sends of stored record batches: the kernel moves bytes from the
//! page cache to the socket without a trip through user space.
use std::io;
use std::os::fd::AsRawFd;

use tokio::io::Interest;
use tokio::net::TcpStream;

use crate::log::FileSlice;

/// Sends `slice` in full, waiting for the socket to drain as needed.
///
/// A file truncated under us (retention, truncation) would make the frame
/// shorter than its length prefix said, so a short source is an error and
/// the caller drops the connection rather than send a corrupt frame.
pub async fn send_file(sock: &TcpStream, slice: &FileSlice) -> io::Result<()> {
    let mut offset = i64::try_from(slice.position)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file position too large"))?;
    let mut left = slice.len;
    let in_fd = slice.file.as_raw_fd();
    while left > 0 {
        sock.writable().await?;
        let sent = sock.try_io(Interest::WRITABLE, || {
            // SAFETY: both descriptors are open for the duration of the call
            // (the socket is borrowed, the file is held by `slice`), and
            // `offset` is a valid, exclusively borrowed i64.
            let n = unsafe { libc::sendfile(sock.as_raw_fd(), in_fd, &mut offset, left) };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        });
        match sent {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "log segment shrank while being sent",
                ))
            }
            Ok(n) => left -= n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
