//! One TCP connection to a broker, pipelined.
//!
//! Callers enqueue requests without waiting; a writer task writes them in
//! order and a reader task matches responses to the requests in the same
//! order (the broker answers in request order), checking correlation ids.
//! Enqueueing is synchronous, so the order in which callers call
//! [`Connection::send`] is the order on the wire, which lets a producer keep
//! several requests in flight without reordering them.
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use super::error::{ClientError, Result};
use crate::proto::frame::{
    check_frame, preamble, FLAG_INTERNAL_WRITER, REFUSED_FRAME_ID, REQUEST_HEADER_LEN,
};
use crate::proto::messages::Status;
use crate::proto::{ApiKey, Decoder, ResponseHeader, Wire};

/// Settings for one connection.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    pub connect_timeout: Duration,
    /// Largest response frame accepted; checked from the length prefix
    /// before any buffer is allocated for the frame.
    pub max_frame_bytes: usize,
    /// Send [`crate::proto::frame::FLAG_INTERNAL_WRITER`] in the preamble.
    pub internal_writer: bool,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            connect_timeout: Duration::from_secs(10),
            max_frame_bytes: 256 * 1024 * 1024,
            internal_writer: false,
        }
    }
}

/// What the writer does once a frame is on the wire.
enum Reply {
    /// Wait for the response with this correlation id.
    Response(i32, oneshot::Sender<Result<BytesMut>>),
    /// No response will come (Produce with acks=0): report when written.
    Written(oneshot::Sender<Result<BytesMut>>),
}

struct Outgoing {
    frame: BytesMut,
    reply: Reply,
}

struct Pending {
    correlation_id: i32,
    reply: oneshot::Sender<Result<BytesMut>>,
}

pub struct Connection {
    addr: String,
    tx: mpsc::UnboundedSender<Outgoing>,
    next_id: AtomicI32,
    closed: Arc<Closed>,
}

/// Whether the connection is done, and why: a request made after the end
/// gets the reason the reader saw (say, "an HTTP server"), not a bare
/// "connection closed", however the two tasks raced.
#[derive(Default)]
struct Closed {
    flag: AtomicBool,
    why: std::sync::OnceLock<ClientError>,
}

impl Closed {
    fn close(&self, why: ClientError) {
        let _ = self.why.set(why);
        self.flag.store(true, Ordering::Release);
    }

    fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    fn why_or(&self, fallback: ClientError) -> ClientError {
        self.why.get().cloned().unwrap_or(fallback)
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("addr", &self.addr)
            .finish()
    }
}

/// Resolves to the raw response body (after the correlation id).
pub struct ResponseFuture {
    addr: Arc<str>,
    rx: Option<oneshot::Receiver<Result<BytesMut>>>,
    early: Option<ClientError>,
}

impl Future for ResponseFuture {
    type Output = Result<BytesMut>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(e) = self.early.take() {
            return Poll::Ready(Err(e));
        }
        let addr = self.addr.clone();
        match self.rx.as_mut() {
            None => Poll::Ready(Err(ClientError::Closed)),
            Some(rx) => Pin::new(rx).poll(cx).map(|r| {
                r.unwrap_or_else(|_| {
                    Err(ClientError::Disconnected {
                        addr: addr.to_string(),
                        cause: "connection closed".into(),
                    })
                })
            }),
        }
    }
}

fn describe_io(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset".into(),
        io::ErrorKind::UnexpectedEof => "closed by the broker".into(),
        _ => e.to_string(),
    }
}

impl Connection {
    /// Connects, sends the preamble and starts the reader and writer tasks.
    /// Must be called inside a tokio runtime.
    pub async fn connect(addr: &str, config: &ConnectionConfig) -> Result<Arc<Connection>> {
        let unreachable = |cause: String| ClientError::Unreachable {
            addr: addr.to_string(),
            cause,
        };
        let stream =
            match tokio::time::timeout(config.connect_timeout, TcpStream::connect(addr)).await {
                Err(_) => {
                    return Err(unreachable(format!(
                        "no answer within {} ms",
                        config.connect_timeout.as_millis()
                    )))
                }
                Ok(Err(e)) => return Err(unreachable(describe_io(&e))),
                Ok(Ok(s)) => s,
            };
        // Small requests (metadata, heartbeats) must not wait for Nagle.
        stream
            .set_nodelay(true)
            .map_err(|e| unreachable(describe_io(&e)))?;
        let (read, mut write) = stream.into_split();
        write
            .write_all(&preamble(if config.internal_writer {
                FLAG_INTERNAL_WRITER
            } else {
                0
            }))
            .await
            .map_err(|e| unreachable(describe_io(&e)))?;

        let (tx, rx) = mpsc::unbounded_channel();
        let (pending_tx, pending_rx) = mpsc::unbounded_channel();
        let closed = Arc::new(Closed::default());
        let addr_arc: Arc<str> = Arc::from(addr);
        tokio::spawn(write_loop(
            write,
            rx,
            pending_tx,
            addr_arc.clone(),
            closed.clone(),
        ));
        tokio::spawn(read_loop(
            read,
            pending_rx,
            addr_arc,
            config.max_frame_bytes,
            closed.clone(),
        ));
        tracing::info!(%addr, internal_writer = config.internal_writer, "connected");
        Ok(Arc::new(Connection {
            addr: addr.to_string(),
            tx,
            next_id: AtomicI32::new(1),
            closed,
        }))
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// True once either direction failed; a new connection is needed.
    pub fn is_closed(&self) -> bool {
        self.closed.is_set() || self.tx.is_closed()
    }

    /// Enqueues a request whose body is written by `encode` straight into
    /// the frame buffer (one copy of large record batches, no more).
    /// With `expect_response == false` the future resolves, with an empty
    /// body, once the frame has been written.
    pub fn send_with(
        &self,
        api: ApiKey,
        expect_response: bool,
        size_hint: usize,
        encode: impl FnOnce(&mut BytesMut),
    ) -> ResponseFuture {
        let correlation_id = self.next_id.fetch_add(1, Ordering::Relaxed);
        // -v shows the control requests; the data path (one per batch) -vv.
        if matches!(api, ApiKey::Produce | ApiKey::Fetch) {
            tracing::debug!(addr = %self.addr, %api, correlation_id, "request");
        } else {
            tracing::info!(addr = %self.addr, %api, correlation_id, "request");
        }
        let mut frame = BytesMut::with_capacity(4 + REQUEST_HEADER_LEN + size_hint);
        frame.put_u32(0);
        frame.put_u16(api as u16);
        frame.put_u16(api.max_version());
        frame.put_i32(correlation_id);
        encode(&mut frame);
        let len = (frame.len() - 4) as u32;
        frame[..4].copy_from_slice(&len.to_be_bytes());

        let (reply_tx, reply_rx) = oneshot::channel();
        let reply = if expect_response {
            Reply::Response(correlation_id, reply_tx)
        } else {
            Reply::Written(reply_tx)
        };
        let addr: Arc<str> = Arc::from(self.addr.as_str());
        if self.closed.is_set() || self.tx.send(Outgoing { frame, reply }).is_err() {
            return ResponseFuture {
                addr,
                rx: None,
                early: Some(self.closed.why_or(ClientError::Disconnected {
                    addr: self.addr.clone(),
                    cause: "connection closed".into(),
                })),
            };
        }
        ResponseFuture {
            addr,
            rx: Some(reply_rx),
            early: None,
        }
    }

    /// Enqueues a typed request.
    pub fn send<Req: Wire>(&self, api: ApiKey, req: &Req) -> ResponseFuture {
        self.send_with(api, true, 256, |buf| req.encode(buf))
    }

    /// Sends a typed request and decodes the typed response.
    pub async fn call<Req: Wire, Resp: Wire>(
        &self,
        api: ApiKey,
        req: &Req,
        timeout: Duration,
    ) -> Result<Resp> {
        let fut = self.send(api, req);
        let body = match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(ClientError::Timeout {
                    what: format!("{api} request to {}", self.addr),
                    after: timeout,
                })
            }
        };
        self.decode(body)
    }

    /// Decodes a response body, attributing errors to this broker.
    pub fn decode<Resp: Wire>(&self, body: BytesMut) -> Result<Resp> {
        crate::proto::codec::from_bytes(body).map_err(|source| ClientError::Protocol {
            addr: self.addr.clone(),
            source: Arc::new(source),
        })
    }
}

async fn write_loop(
    write: OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    pending: mpsc::UnboundedSender<Pending>,
    addr: Arc<str>,
    closed: Arc<Closed>,
) {
    // Big frames (record batches) bypass the buffer; small ones coalesce.
    let mut out = BufWriter::with_capacity(64 * 1024, write);
    let mut written: Vec<oneshot::Sender<Result<BytesMut>>> = Vec::new();
    let fail = |cause: String| ClientError::Disconnected {
        addr: addr.to_string(),
        cause,
    };
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let mut result: io::Result<()> = Ok(());
        while let Some(msg) = next.take() {
            match msg.reply {
                Reply::Response(correlation_id, reply) => {
                    // Registered before the write so the reader always finds it.
                    if let Err(mpsc::error::SendError(p)) = pending.send(Pending {
                        correlation_id,
                        reply,
                    }) {
                        let _ = p
                            .reply
                            .send(Err(closed.why_or(fail("connection closed".into()))));
                        result = Err(io::ErrorKind::BrokenPipe.into());
                        break;
                    }
                }
                Reply::Written(reply) => written.push(reply),
            }
            if let Err(e) = out.write_all(&msg.frame).await {
                result = Err(e);
                break;
            }
            next = rx.try_recv().ok();
        }
        if result.is_ok() {
            result = out.flush().await;
        }
        match result {
            Ok(()) => {
                for w in written.drain(..) {
                    let _ = w.send(Ok(BytesMut::new()));
                }
            }
            Err(e) => {
                let cause = describe_io(&e);
                closed.close(fail(cause.clone()));
                for w in written.drain(..) {
                    let _ = w.send(Err(fail(cause.clone())));
                }
                rx.close();
                while let Ok(msg) = rx.try_recv() {
                    let tx = match msg.reply {
                        Reply::Response(_, tx) | Reply::Written(tx) => tx,
                    };
                    let _ = tx.send(Err(fail(cause.clone())));
                }
                return;
            }
        }
    }
    // All senders dropped: the connection is no longer wanted.
    let _ = out.shutdown().await;
}

async fn read_loop(
    mut read: OwnedReadHalf,
    mut pending: mpsc::UnboundedReceiver<Pending>,
    addr: Arc<str>,
    max_frame: usize,
    closed: Arc<Closed>,
) {
    let err = read_frames(&mut read, &mut pending, &addr, max_frame).await;
    closed.close(err.clone());
    pending.close();
    while let Ok(p) = pending.try_recv() {
        let _ = p.reply.send(Err(err.clone()));
    }
}

/// Reads frames until the connection fails; returns why.
async fn read_frames(
    read: &mut OwnedReadHalf,
    pending: &mut mpsc::UnboundedReceiver<Pending>,
    addr: &Arc<str>,
    max_frame: usize,
) -> ClientError {
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut first = true;
    loop {
        if first && buf.len() >= 4 {
            first = false;
            // A web server answers our preamble with an HTTP status line,
            // whose first bytes would read as a 1.2 GB frame length.
            if buf.starts_with(b"HTTP") {
                return ClientError::NotABroker {
                    addr: addr.to_string(),
                    what: "an HTTP server",
                };
            }
        }
        let len = match check_frame(&buf, max_frame) {
            Err(source) => {
                return ClientError::Protocol {
                    addr: addr.to_string(),
                    source: Arc::new(source),
                }
            }
            Ok(Some(len)) => len,
            Ok(None) => {
                // The length is known (and bounded) once 4 bytes are in:
                // reserve the whole frame so big fetches read in one buffer.
                if buf.len() >= 4 {
                    let want = 4 + u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
                    buf.reserve(want.saturating_sub(buf.len()));
                } else if buf.capacity() - buf.len() < 4096 {
                    buf.reserve(64 * 1024);
                }
                match read.read_buf(&mut buf).await {
                    Ok(0) => {
                        return ClientError::Disconnected {
                            addr: addr.to_string(),
                            cause: "closed by the broker".into(),
                        }
                    }
                    Ok(_) => continue,
                    Err(e) => {
                        return ClientError::Disconnected {
                            addr: addr.to_string(),
                            cause: describe_io(&e),
                        }
                    }
                }
            }
        };
        let mut body = buf.split_to(4 + len);
        let _ = body.split_to(4);
        let header = match ResponseHeader::parse(&mut body) {
            Ok(h) => h,
            Err(source) => {
                return ClientError::Protocol {
                    addr: addr.to_string(),
                    source: Arc::new(source),
                }
            }
        };
        if header.correlation_id == REFUSED_FRAME_ID {
            // The broker could not read our frame (over its --max-frame-bytes)
            // and says why before it closes: that is the error, not the id.
            let status = Status::decode(&mut Decoder::new(body));
            return match status {
                Ok(s) if !s.is_ok() => ClientError::broker(s.error_code(), s.message.as_deref()),
                _ => ClientError::Protocol {
                    addr: addr.to_string(),
                    source: Arc::new(crate::proto::ProtoError::InvalidValue {
                        what: "response to a refused frame",
                        value: i64::from(REFUSED_FRAME_ID),
                    }),
                },
            };
        }
        let Ok(p) = pending.try_recv() else {
            return ClientError::Protocol {
                addr: addr.to_string(),
                source: Arc::new(crate::proto::ProtoError::InvalidValue {
                    what: "unsolicited response correlation id",
                    value: header.correlation_id as i64,
                }),
            };
        };
        if p.correlation_id != header.correlation_id {
            let e = ClientError::CorrelationMismatch {
                addr: addr.to_string(),
                expected: p.correlation_id,
                got: header.correlation_id,
            };
            let _ = p.reply.send(Err(e.clone()));
            return e;
        }
        // The waiter may have given up (timeout); that is not an error here.
        let _ = p.reply.send(Ok(body));
    }
}
