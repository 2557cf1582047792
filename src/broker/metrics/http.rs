//! The `/metrics` endpoint: a minimal HTTP/1.1 server on tokio. One
//! request per connection (answered with `Connection: close`), a bounded
//! request head, a deadline to send it; anything else than `GET /metrics`
//! gets 404, 405 or 400 and never touches the broker.
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::state::StateCollector;
use crate::broker::state::Broker;

/// Longest request head accepted (request line and headers).
const MAX_REQUEST_BYTES: usize = 8 * 1024;
/// A client must send its request head within this.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Scrapes served at once; more wait for a turn.
const MAX_CONNECTIONS: usize = 16;

const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Binds the metrics listener (failing the start if it cannot) and
/// serves it until the task is aborted.
pub async fn start(addr: &str, broker: Arc<Broker>) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot serve metrics on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    let Some(metrics) = broker.metrics.clone() else {
        anyhow::bail!("metrics are off");
    };
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    registry.register_collector(Box::new(StateCollector { broker }));
    let registry = Arc::new(registry);
    // The line scripts and tests wait for.
    eprintln!("strom: metrics on http://{local}/metrics");
    Ok(tokio::spawn(serve(listener, registry)))
}

async fn serve(listener: TcpListener, registry: Arc<Registry>) {
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = limit.clone().acquire_owned().await else {
            return;
        };
        let socket = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::warn!(error = %e, "metrics accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let registry = registry.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(socket, &registry).await {
                tracing::debug!(error = %e, "metrics request failed");
            }
            drop(permit);
        });
    }
}

/// What a request head asks for.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    Metrics { head_only: bool },
    NotFound,
    MethodNotAllowed,
    Bad(&'static str),
}

/// Parses a request head (everything before the blank line).
fn parse(head: &[u8]) -> Request {
    let Ok(text) = std::str::from_utf8(head) else {
        return Request::Bad("request is not UTF-8");
    };
    let mut lines = text.split("\r\n");
    let line = lines.next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Request::Bad("malformed request line");
    };
    if !matches!(version, "HTTP/1.1" | "HTTP/1.0") {
        return Request::Bad("unsupported HTTP version");
    }
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Request::Bad("malformed method");
    }
    if !target.starts_with('/') {
        return Request::Bad("malformed request target");
    }
    for header in lines {
        if !header.contains(':') {
            return Request::Bad("malformed header line");
        }
    }
    let path = target.split('?').next().unwrap_or(target);
    match (method, path) {
        ("GET", "/metrics") => Request::Metrics { head_only: false },
        ("HEAD", "/metrics") => Request::Metrics { head_only: true },
        (_, "/metrics") => Request::MethodNotAllowed,
        _ => Request::NotFound,
    }
}

/// Reads until the end of the request head; `None` when the client sent
/// more than [`MAX_REQUEST_BYTES`] without ending it.
async fn read_head(socket: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.truncate(end);
            return Ok(Some(buf));
        }
        if buf.len() > MAX_REQUEST_BYTES {
            return Ok(None);
        }
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn answer(mut socket: TcpStream, registry: &Arc<Registry>) -> std::io::Result<()> {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut socket)).await {
        Ok(Ok(Some(head))) => head,
        Ok(Ok(None)) => {
            return respond(
                &mut socket,
                "431 Request Header Fields Too Large",
                "text/plain",
                b"request head too large\n",
                false,
            )
            .await;
        }
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            return respond(
                &mut socket,
                "408 Request Timeout",
                "text/plain",
                b"request timed out\n",
                false,
            )
            .await;
        }
    };
    match parse(&head) {
        Request::Metrics { head_only } => {
            let registry = registry.clone();
            let body = tokio::task::spawn_blocking(move || {
                let mut out = String::with_capacity(64 * 1024);
                prometheus_client::encoding::text::encode(&mut out, &registry).map(|()| out)
            })
            .await;
            match body {
                Ok(Ok(body)) => {
                    respond(
                        &mut socket,
                        "200 OK",
                        CONTENT_TYPE,
                        body.as_bytes(),
                        head_only,
                    )
                    .await
                }
                _ => {
                    respond(
                        &mut socket,
                        "500 Internal Server Error",
                        "text/plain",
                        b"encoding failed\n",
                        false,
                    )
                    .await
                }
            }
        }
        Request::NotFound => {
            respond(
                &mut socket,
                "404 Not Found",
                "text/plain",
                b"only /metrics is served here\n",
                false,
            )
            .await
        }
        Request::MethodNotAllowed => {
            respond(
                &mut socket,
                "405 Method Not Allowed",
                "text/plain",
                b"use GET\n",
                false,
            )
            .await
        }
        Request::Bad(why) => {
            let body = format!("bad request: {why}\n");
            respond(
                &mut socket,
                "400 Bad Request",
                "text/plain",
                body.as_bytes(),
                false,
            )
            .await
        }
    }
}

async fn respond(
    socket: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await?;
    if !head_only {
        socket.write_all(body).await?;
    }
    socket.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_told_apart() {
        assert_eq!(
            parse(b"GET /metrics HTTP/1.1\r\nHost: x"),
            Request::Metrics { head_only: false }
        );
        assert_eq!(
            parse(b"GET /metrics?x=1 HTTP/1.0"),
            Request::Metrics { head_only: false }
        );
        assert_eq!(
            parse(b"HEAD /metrics HTTP/1.1"),
            Request::Metrics { head_only: true }
        );
        assert_eq!(parse(b"GET / HTTP/1.1"), Request::NotFound);
        assert_eq!(parse(b"POST /metrics HTTP/1.1"), Request::MethodNotAllowed);
        assert!(matches!(parse(b"GARBAGE"), Request::Bad(_)));
        assert!(matches!(parse(b"GET /metrics HTTP/9"), Request::Bad(_)));
        assert!(matches!(
            parse(b"GET /metrics HTTP/1.1\r\nno colon"),
            Request::Bad(_)
        ));
        assert!(matches!(parse(&[0xff, 0xfe]), Request::Bad(_)));
    }
}
