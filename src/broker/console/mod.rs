//! The web console (`strom serve --ui ADDR`): a static page embedded in the
//! binary and the small JSON API it reads (documented in docs/console.md),
//! served in process from the broker's own state, on the broker's small
//! HTTP server. Opt-in, loopback by default; every request is bounded
//! before it is read (head, body, time) and a bad one gets a 4xx without
//! touching the broker.
mod api;
mod browse;
mod events;
mod groups;
mod topics;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};

use crate::broker::http::{self, Request};
use crate::broker::state::Broker;

/// Longest request head accepted.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Longest request body (topic creation, config edits, resets).
const MAX_BODY_BYTES: usize = 64 * 1024;
/// A client must send its request within this.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once (event streams included); more wait.
const MAX_CONNECTIONS: usize = 64;

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");

/// An API answer: a status line and a JSON body.
pub(crate) struct Answer {
    status: &'static str,
    body: Value,
}

impl Answer {
    pub(crate) fn ok(body: Value) -> Answer {
        Answer {
            status: "200 OK",
            body,
        }
    }

    pub(crate) fn error(status: &'static str, message: impl Into<String>) -> Answer {
        Answer {
            status,
            body: json!({ "error": message.into() }),
        }
    }

    pub(crate) fn bad(message: impl Into<String>) -> Answer {
        Answer::error("400 Bad Request", message)
    }
}

/// Binds the console listener (failing the start if it cannot) and
/// serves it until the task is aborted.
pub async fn start(addr: &str, broker: Arc<Broker>) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot serve the console on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    // The line scripts and tests wait for.
    eprintln!("strom: console on http://{local}/");
    Ok(tokio::spawn(http::serve(
        listener,
        MAX_CONNECTIONS,
        "console",
        move |socket| {
            let broker = broker.clone();
            async move { answer(socket, &broker).await }
        },
    )))
}

async fn answer(mut socket: TcpStream, broker: &Arc<Broker>) -> std::io::Result<()> {
    let req =
        match http::read_request(&mut socket, MAX_HEAD_BYTES, MAX_BODY_BYTES, READ_TIMEOUT).await {
            Ok(r) => r,
            Err(e) => return http::refuse(&mut socket, &e).await,
        };
    let path = req.head.path.clone();
    let method = req.head.method.as_str();
    match (method, path.as_str()) {
        ("GET", "/") | ("GET", "/index.html") => {
            return page(&mut socket, "text/html; charset=utf-8", INDEX_HTML).await
        }
        ("GET", "/app.js") => {
            return page(&mut socket, "text/javascript; charset=utf-8", APP_JS).await
        }
        ("GET", "/style.css") => {
            return page(&mut socket, "text/css; charset=utf-8", STYLE_CSS).await
        }
        ("GET", "/api/events") => return events::stream(socket, broker.clone()).await,
        _ => {}
    }
    let answer = if let Some(rest) = path.strip_prefix("/api/") {
        route(broker, &req, rest).await
    } else {
        Answer::error("404 Not Found", format!("nothing at {path}"))
    };
    let body = serde_json::to_vec(&answer.body).unwrap_or_default();
    http::respond(&mut socket, answer.status, "application/json", &body, false).await
}

async fn page(socket: &mut TcpStream, content_type: &str, body: &str) -> std::io::Result<()> {
    http::respond(socket, "200 OK", content_type, body.as_bytes(), false).await
}

/// Path segments, percent-decoded (topic and group names may hold `.`).
fn segments(rest: &str) -> Option<Vec<String>> {
    rest.split('/')
        .filter(|s| !s.is_empty())
        .map(http::percent_decode)
        .collect()
}

async fn route(broker: &Arc<Broker>, req: &Request, rest: &str) -> Answer {
    let Some(seg) = segments(rest) else {
        return Answer::bad("malformed path");
    };
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    let method = req.head.method.as_str();
    let body = || -> Result<Value, Answer> {
        if req.body.is_empty() {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_slice(&req.body)
            .map_err(|e| Answer::bad(format!("the body is not JSON: {e}")))
    };
    match (method, seg.as_slice()) {
        ("GET", ["cluster"]) => api::cluster(broker),
        ("GET", ["topics"]) => topics::list(broker),
        ("POST", ["topics"]) => match body() {
            Ok(v) => topics::create(broker, v).await,
            Err(a) => a,
        },
        ("GET", ["topics", t]) => topics::describe(broker, t),
        ("DELETE", ["topics", t]) => topics::delete(broker, t, &req.head).await,
        ("PUT", ["topics", t, "configs"]) => match body() {
            Ok(v) => topics::alter_configs(broker, t, v).await,
            Err(a) => a,
        },
        ("GET", ["topics", t, "partitions", p, "messages"]) => {
            browse::messages(broker, t, p, &req.head)
        }
        ("GET", ["groups"]) => groups::list(broker),
        ("GET", ["groups", g]) => groups::describe(broker, g).await,
        ("POST", ["groups", g, "reset-offsets"]) => match body() {
            Ok(v) => groups::reset_offsets(broker, g, v).await,
            Err(a) => a,
        },
        ("GET", ["rates"]) => Answer::ok(events::snapshot(broker)),
        (_, ["cluster" | "topics" | "groups" | "rates", ..]) => Answer::error(
            "405 Method Not Allowed",
            format!("{method} is not served at /api/{rest}"),
        ),
        _ => Answer::error("404 Not Found", format!("no API at /api/{rest}")),
    }
}
