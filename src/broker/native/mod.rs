//! The native protocol on one connection.
//!
//! The reader parses frames in order and starts each request at once, so
//! appends from one connection happen in the order they were sent. What a
//! request then waits for (an fdatasync, a long-poll, a rebalance) becomes a
//! [`Reply::Later`] future; the writer awaits replies in order and writes
//! them, so answers come back in request order while waits overlap.
pub(crate) mod admin;
pub(crate) mod broker_configs;
pub(crate) mod broker_info;
pub(crate) mod delete_offsets;
pub(crate) mod delete_records;
pub(crate) mod dispatch;
pub(crate) mod elect_leaders;
pub(crate) mod fetch;
pub(crate) mod groups;
pub(crate) mod list_offsets;
pub(crate) mod metadata;
pub(crate) mod produce;
pub(crate) mod transactions;
pub(crate) mod txn_markers;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::net::sendfile::send_file;
use super::shutdown::Shutdown;
use super::state::Broker;
use crate::log::FileSlice;
use crate::proto::frame::{
    check_frame, check_preamble, preamble_flags, ResponseHeader, FLAG_INTERNAL_WRITER,
    PREAMBLE_LEN, REFUSED_FRAME_ID,
};
use crate::proto::messages::Status;
use crate::proto::{ErrorCode, Wire};

/// How many requests one connection may have started but not answered.
const MAX_IN_FLIGHT: usize = 64;

pub enum Reply {
    Now(BytesMut),
    /// A frame made of encoded bytes and ranges of log files, sent with
    /// sendfile so record bytes never pass through user space.
    Parts(Vec<Chunk>),
    Later(Pin<Box<dyn Future<Output = Reply> + Send>>),
    /// acks=0 produce: nothing goes back.
    None,
}

pub enum Chunk {
    Bytes(BytesMut),
    File(FileSlice),
}

/// Builds a response frame of encoded fields interleaved with file ranges
/// (stored record batches sent with sendfile). The length prefix, which
/// covers the file ranges too, is filled in by [`PartsFrame::finish`].
pub struct PartsFrame {
    parts: Vec<Chunk>,
    cur: BytesMut,
}

impl PartsFrame {
    /// Starts a frame: response header, then a top-level OK status.
    pub fn begin(correlation_id: i32) -> PartsFrame {
        let mut cur = BytesMut::with_capacity(256);
        ResponseHeader { correlation_id }.begin(&mut cur);
        Status::ok().encode(&mut cur);
        PartsFrame {
            parts: Vec::new(),
            cur,
        }
    }

    /// Where the next encoded fields go.
    pub fn buf(&mut self) -> &mut BytesMut {
        &mut self.cur
    }

    /// Appends file ranges after the fields encoded so far.
    pub fn files(&mut self, slices: Vec<FileSlice>) {
        if slices.is_empty() {
            return;
        }
        self.parts.push(Chunk::Bytes(self.cur.split()));
        self.parts.extend(slices.into_iter().map(Chunk::File));
    }

    pub fn finish(mut self) -> Reply {
        self.parts.push(Chunk::Bytes(self.cur));
        let total: usize = self
            .parts
            .iter()
            .map(|c| match c {
                Chunk::Bytes(b) => b.len(),
                Chunk::File(f) => f.len,
            })
            .sum();
        let frame_len = (total - 4) as u32;
        if let Some(Chunk::Bytes(first)) = self.parts.first_mut() {
            first[..4].copy_from_slice(&frame_len.to_be_bytes());
        }
        Reply::Parts(self.parts)
    }
}

/// Encodes a whole response frame.
pub fn frame<T: Wire>(correlation_id: i32, body: &T) -> BytesMut {
    let mut out = BytesMut::with_capacity(128);
    let start = ResponseHeader { correlation_id }.begin(&mut out);
    body.encode(&mut out);
    ResponseHeader::finish(&mut out, start);
    out
}

/// A response that is only a status: every response body starts with one,
/// so any client can read it whatever it asked.
pub fn status_frame(correlation_id: i32, code: ErrorCode, message: impl Into<String>) -> BytesMut {
    frame(correlation_id, &Status::error(code, message))
}

pub async fn serve(
    broker: Arc<Broker>,
    socket: TcpStream,
    peer: SocketAddr,
    mut buf: BytesMut,
    mut shutdown: Shutdown,
) {
    let (mut rd, wr) = socket.into_split();
    let (tx, rx) = mpsc::channel::<Reply>(MAX_IN_FLIGHT);
    let writer = tokio::spawn(write_loop(wr, rx));
    let max = broker.config.max_frame_bytes;

    let mut kind = dispatch::ConnectionKind::default();
    'conn: loop {
        if buf.len() >= PREAMBLE_LEN {
            break;
        }
        tokio::select! {
            r = rd.read_buf(&mut buf) => match r { Ok(0) | Err(_) => break 'conn, Ok(_) => {} },
            _ = shutdown.recv() => break 'conn,
        }
    }
    if buf.len() >= PREAMBLE_LEN {
        match check_preamble(&buf[..PREAMBLE_LEN]) {
            Ok(_) => {
                kind.internal_writer =
                    preamble_flags(&buf[..PREAMBLE_LEN]) & FLAG_INTERNAL_WRITER != 0;
                buf.advance(PREAMBLE_LEN)
            }
            Err(e) => {
                tracing::info!(%peer, error = %e, "refused connection");
                let _ = tx
                    .send(Reply::Now(status_frame(
                        -1,
                        ErrorCode::UnsupportedVersion,
                        e.to_string(),
                    )))
                    .await;
                drop(tx);
                let _ = writer.await;
                return;
            }
        }
    }

    'conn: while !shutdown.is_shutdown() {
        loop {
            match check_frame(&buf, max) {
                Ok(Some(len)) => {
                    let mut body = buf.split_to(4 + len);
                    body.advance(4);
                    let reply = dispatch::dispatch(&broker, body, peer, kind).await;
                    if tx.send(reply).await.is_err() {
                        break 'conn;
                    }
                }
                Ok(None) => {
                    if buf.len() >= 4 {
                        let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
                        buf.reserve(4 + len - buf.len());
                    } else {
                        buf.reserve(64 * 1024);
                    }
                    break;
                }
                Err(e) => {
                    // The stream cannot be resynchronised past a frame we
                    // will not read: say why, then close.
                    tracing::info!(%peer, error = %e, "closing connection");
                    let _ = tx
                        .send(Reply::Now(status_frame(
                            REFUSED_FRAME_ID,
                            ErrorCode::InvalidRequest,
                            e.to_string(),
                        )))
                        .await;
                    break 'conn;
                }
            }
        }
        tokio::select! {
            r = rd.read_buf(&mut buf) => match r {
                Ok(0) => {
                    if !buf.is_empty() {
                        tracing::debug!(%peer, bytes = buf.len(), "connection closed inside a frame");
                    }
                    break 'conn;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "read failed");
                    break 'conn;
                }
            },
            _ = shutdown.recv() => break 'conn,
        }
    }
    drop(tx);
    let _ = writer.await;
}

async fn write_loop(wr: OwnedWriteHalf, mut rx: mpsc::Receiver<Reply>) {
    let mut wr = BufWriter::with_capacity(256 * 1024, wr);
    while let Some(mut reply) = rx.recv().await {
        // A Later resolves to another reply (bytes, parts or nothing).
        while let Reply::Later(f) = reply {
            reply = f.await;
        }
        let ok = match reply {
            Reply::Now(b) => wr.write_all(&b).await.is_ok(),
            Reply::Parts(parts) => write_parts(&mut wr, parts).await.is_ok(),
            Reply::None | Reply::Later(_) => continue,
        };
        // Flush when nothing else is queued, so pipelined answers share
        // one syscall.
        if !ok || (rx.is_empty() && wr.flush().await.is_err()) {
            return;
        }
    }
    let _ = wr.flush().await;
    let _ = wr.shutdown().await;
}

async fn write_parts(wr: &mut BufWriter<OwnedWriteHalf>, parts: Vec<Chunk>) -> std::io::Result<()> {
    for part in parts {
        match part {
            Chunk::Bytes(b) => wr.write_all(&b).await?,
            Chunk::File(slice) => {
                // Small ranges are cheaper copied than a flush plus a syscall.
                if slice.len < 16 * 1024 {
                    let mut buf = vec![0u8; slice.len];
                    std::os::unix::fs::FileExt::read_exact_at(
                        &*slice.file,
                        &mut buf,
                        slice.position,
                    )?;
                    wr.write_all(&buf).await?;
                } else {
                    wr.flush().await?;
                    send_file(wr.get_ref().as_ref(), &slice).await?;
                }
            }
        }
    }
    Ok(())
}
