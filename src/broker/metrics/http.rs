//! The `/metrics` endpoint, on the broker's small HTTP server
//! (`broker::http`): anything else than `GET /metrics` gets 404, 405 or
//! 400 and never touches the broker.
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::registry::Registry;
use tokio::net::{TcpListener, TcpStream};

use super::state::StateCollector;
use crate::broker::http;
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
    Ok(tokio::spawn(http::serve(
        listener,
        MAX_CONNECTIONS,
        "metrics",
        move |socket| {
            let registry = registry.clone();
            async move { answer(socket, &registry).await }
        },
    )))
}

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Metrics { head_only: bool },
    NotFound,
    MethodNotAllowed,
}

fn route(head: &http::Head) -> Route {
    match (head.method.as_str(), head.path.as_str()) {
        ("GET", "/metrics") => Route::Metrics { head_only: false },
        ("HEAD", "/metrics") => Route::Metrics { head_only: true },
        (_, "/metrics") => Route::MethodNotAllowed,
        _ => Route::NotFound,
    }
}

async fn answer(mut socket: TcpStream, registry: &Arc<Registry>) -> std::io::Result<()> {
    let req = match http::read_request(&mut socket, MAX_REQUEST_BYTES, 0, READ_TIMEOUT).await {
        Ok(r) => r,
        Err(e) => return http::refuse(&mut socket, &e).await,
    };
    match route(&req.head) {
        Route::Metrics { head_only } => {
            let registry = registry.clone();
            let body = tokio::task::spawn_blocking(move || {
                let mut out = String::with_capacity(64 * 1024);
                prometheus_client::encoding::text::encode(&mut out, &registry).map(|()| out)
            })
            .await;
            match body {
                Ok(Ok(body)) => {
                    http::respond(
                        &mut socket,
                        "200 OK",
                        CONTENT_TYPE,
                        body.as_bytes(),
                        head_only,
                    )
                    .await
                }
                _ => {
                    http::respond(
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
        Route::NotFound => {
            http::respond(
                &mut socket,
                "404 Not Found",
                "text/plain",
                b"only /metrics is served here\n",
                false,
            )
            .await
        }
        Route::MethodNotAllowed => {
            http::respond(
                &mut socket,
                "405 Method Not Allowed",
                "text/plain",
                b"use GET\n",
                false,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(head: &[u8]) -> Result<Route, &'static str> {
        http::parse_head(head).map(|h| route(&h))
    }

    #[test]
    fn requests_are_told_apart() {
        assert_eq!(
            parse(b"GET /metrics HTTP/1.1\r\nHost: x"),
            Ok(Route::Metrics { head_only: false })
        );
        assert_eq!(
            parse(b"GET /metrics?x=1 HTTP/1.0"),
            Ok(Route::Metrics { head_only: false })
        );
        assert_eq!(
            parse(b"HEAD /metrics HTTP/1.1"),
            Ok(Route::Metrics { head_only: true })
        );
        assert_eq!(parse(b"GET / HTTP/1.1"), Ok(Route::NotFound));
        assert_eq!(
            parse(b"POST /metrics HTTP/1.1"),
            Ok(Route::MethodNotAllowed)
        );
        assert!(parse(b"GARBAGE").is_err());
        assert!(parse(b"GET /metrics HTTP/9").is_err());
    }
}
