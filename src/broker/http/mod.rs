//! A minimal HTTP/1.1 server side on tokio for the broker's opt-in
//! listeners (`/metrics`, the web console): one request per connection
//! (answered with `Connection: close`, except event streams), a bounded
//! request head and body checked before anything is allocated for them, a
//! deadline to send them. No framework: the broker serves a handful of
//! routes to loopback by default.
mod request;

pub use request::{parse_head, read_request, Head, ReadError, Request};

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Accepts connections until the task is aborted, at most `max` served at
/// once (more wait for a turn), each answered by `handle` on its own task.
/// `what` names the listener in logs.
pub async fn serve<F, Fut>(listener: TcpListener, max: usize, what: &'static str, handle: F)
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = std::io::Result<()>> + Send + 'static,
{
    let limit = Arc::new(Semaphore::new(max));
    loop {
        let Ok(permit) = limit.clone().acquire_owned().await else {
            return;
        };
        let socket = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::warn!(error = %e, listener = what, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let answer = handle(socket);
        tokio::spawn(async move {
            if let Err(e) = answer.await {
                tracing::debug!(error = %e, listener = what, "request failed");
            }
            drop(permit);
        });
    }
}

/// Writes a whole response and closes the write side.
pub async fn respond(
    socket: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await?;
    if !head_only {
        socket.write_all(body).await?;
    }
    socket.shutdown().await
}

/// The answer to a request that could not be read.
pub async fn refuse(socket: &mut TcpStream, e: &ReadError) -> std::io::Result<()> {
    let (status, why) = match e {
        ReadError::HeadTooLarge => (
            "431 Request Header Fields Too Large",
            "request head too large".to_string(),
        ),
        ReadError::BodyTooLarge(max) => (
            "413 Content Too Large",
            format!("request body over {max} bytes"),
        ),
        ReadError::Timeout => ("408 Request Timeout", "request timed out".to_string()),
        ReadError::Bad(why) => ("400 Bad Request", format!("bad request: {why}")),
        ReadError::Io(_) => return Ok(()),
    };
    respond(
        socket,
        status,
        "text/plain",
        format!("{why}\n").as_bytes(),
        false,
    )
    .await
}

/// `%XX` and `+` decoding of a query component; None when malformed or
/// not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_components_decode() {
        assert_eq!(percent_decode("a+b%20c").as_deref(), Some("a b c"));
        assert_eq!(percent_decode(".value%7C.n").as_deref(), Some(".value|.n"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%ff"), None);
    }
}
